"""Insight bodies, in the seed's shapes. Money is a JSON number rounded to the cent."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from api.schemas import Response


class DayFigures(Response, frozen=True):
    date: date
    orders: int
    revenue: float


class TopCustomer(Response, frozen=True):
    first_name: str | None
    last_name: str | None
    email: str | None
    total_spent: float
    orders_count: int


class ProductRevenue(Response, frozen=True):
    """`name` repeats `product`: the seed's frontend reads `name`."""

    product: str
    name: str
    revenue: float
    quantity: int


class Dashboard(Response, frozen=True):
    """Seed fields first; `newCustomers`, `startDate`, `endDate`, `timeZone` are additions.

    `currency` (ISO 4217, null before the store's first sync) is the unit of every amount;
    `timeZone` (IANA) is where the dates are days."""

    total_customers: int
    total_orders: int
    total_revenue: float
    currency: str | None
    orders_by_date: list[DayFigures]
    top_customers: list[TopCustomer]
    revenue_by_product: list[ProductRevenue]
    abandoned_carts: int
    new_customers: int
    start_date: date
    end_date: date
    time_zone: str


class CartCustomer(Response, frozen=True):
    first_name: str | None
    last_name: str | None
    email: str | None


class CartData(Response, frozen=True):
    cart: Any
    abandoned_at: datetime


class AbandonedCart(Response, frozen=True):
    id: int
    type: Literal["cart_abandoned"]
    customer: CartCustomer | None
    data: CartData
    created_at: datetime
