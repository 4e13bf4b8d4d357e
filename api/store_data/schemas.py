"""Store records as the warehouse holds them (marts dimensions and facts)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Generic, TypeVar

from api.schemas import Response

T = TypeVar("T")


class Product(Response, frozen=True):
    id: int
    title: str | None
    handle: str | None
    vendor: str | None
    product_type: str | None
    status: str | None
    variant_count: int
    min_price: float | None
    max_price: float | None
    created_at: datetime | None
    updated_at: datetime | None


class Customer(Response, frozen=True):
    id: int
    email: str | None
    first_name: str | None
    last_name: str | None
    state: str | None
    city: str | None
    country: str | None
    orders_count: int
    total_spent: float
    first_order_date: date | None
    last_order_date: date | None
    created_at: datetime | None
    updated_at: datetime | None


class Order(Response, frozen=True):
    id: int
    name: str | None
    order_number: int | None
    customer_id: int | None
    email: str | None
    created_at: datetime
    order_date: date
    financial_status: str | None
    fulfillment_status: str | None
    currency: str | None
    cancelled: bool
    test: bool
    line_count: int
    item_quantity: int
    subtotal_price: float
    total_discounts: float
    total_tax: float
    total_price: float
    refunds: float
    net_revenue: float


class Page(Response, Generic[T], frozen=True):
    """`count` is the total number of records of the resource; `nextCursor` is null on
    the last page."""

    data: list[T]
    count: int
    next_cursor: str | None
