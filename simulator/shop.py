"""One simulated shop: its records, rate limiter, fault injector and webhook hub."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

import msgspec

from simulator import generator as gen
from simulator import money
from simulator.faults import FaultInjector
from simulator.graphql.bulk import BulkOperations
from simulator.ratelimit import PLANS, LeakyBucket, PointBucket, QueryCostLimit, RateLimit
from simulator.store import ShopStore
from simulator.timeutil import now
from simulator.webhooks import WebhookHub

DEFAULT_VERSION = "2024-10"
NAME_PATTERN = r"^[a-z0-9][a-z0-9-]*$"


class ShopSpec(msgspec.Struct, kw_only=True):
    """How to build a shop. ``anchor`` ends the generated history (default: today 00:00 UTC,
    so a given seed gives identical data all day); ``days`` is the history's length."""

    name: str = msgspec.field(default="demo-1")
    orders: int = 500
    seed: int = 42
    currency: str = "USD"
    timezone: str | None = None  # default: the currency's usual zone
    bucket: int = 40
    leak: float = 2.0
    rate_limit: bool = True
    plan: str = "standard"  # GraphQL cost bucket: standard, advanced, plus, enterprise
    days: int = 730
    anchor: datetime | None = None
    customers: int | None = None
    products: int | None = None
    checkouts: int | None = None

    def __post_init__(self) -> None:
        if not re.match(NAME_PATTERN, self.name):
            raise msgspec.ValidationError(f"name must match {NAME_PATTERN}")
        if not 0 <= self.orders <= 10_000_000:
            raise msgspec.ValidationError("orders must be between 0 and 10,000,000")
        if self.currency not in money.CURRENCIES:
            raise msgspec.ValidationError(
                f"currency must be one of {', '.join(sorted(money.CURRENCIES))}"
            )
        if self.plan not in PLANS:
            raise msgspec.ValidationError(f"plan must be one of {', '.join(PLANS)}")
        if self.bucket < 1 or self.leak <= 0 or self.days < 1:
            raise msgspec.ValidationError("bucket, leak and days must be positive")


def default_anchor() -> int:
    """Midnight UTC today: recent enough to look live, stable within a day."""
    return now() // 86400 * 86400


class Shop:
    """Everything the simulator keeps for one shop."""

    def __init__(self, spec: ShopSpec, *, rate_limit: bool = True) -> None:
        anchor = default_anchor()
        if spec.anchor is not None:
            moment = spec.anchor if spec.anchor.tzinfo else spec.anchor.replace(tzinfo=UTC)
            anchor = int(moment.timestamp())
        timezone = spec.timezone or money.CURRENCIES[spec.currency][2]
        try:
            self.profile = gen.ShopProfile(
                name=spec.name,
                seed=spec.seed,
                currency=spec.currency,
                timezone=timezone,
                anchor=anchor,
                days=spec.days,
                orders=spec.orders,
                customers=spec.customers,
                products=spec.products,
                checkouts=spec.checkouts,
            )
        except (ValueError, KeyError) as exc:  # ZoneInfoNotFoundError is a KeyError
            raise ValueError(f"invalid shop {spec.name!r}: {exc}") from exc
        self.spec = spec
        self.store = ShopStore(self.profile)
        self.bucket = LeakyBucket(
            RateLimit(
                enabled=rate_limit and spec.rate_limit,
                bucket=spec.bucket,
                leak_per_second=spec.leak,
            )
        )
        self.points = PointBucket(QueryCostLimit(plan=spec.plan))
        self.faults = FaultInjector()
        self.hooks = WebhookHub(
            self.profile.domain, self.profile.webhook_secret, self.profile.clock
        )
        self.bulk = BulkOperations(self.store, self.hooks, self.faults)
        self.read_ahead: dict[tuple, tuple[int, tuple]] = {}  # see SimulatorApp._read_ahead
        self.page_key = hashlib.sha256(f"page:{self.profile.token}".encode()).digest()

    @property
    def domain(self) -> str:
        return self.profile.domain

    def mutate(
        self, action: str, resource: str, record_id: int | None = None, fields: dict | None = None
    ) -> dict | None:
        """Create, update or delete a record and deliver the matching webhooks.

        Returns the record as the REST API shows it now (None after a delete).
        """
        if action == "create":
            rec, events = self.store.create(resource, fields or {})
        elif action == "update" and record_id is not None:
            rec, events = self.store.update(resource, record_id, fields or {})
        elif action == "delete" and record_id is not None:
            rec, events = None, self.store.delete(resource, record_id)
        else:
            raise ValueError(f"unknown mutation {action!r}")
        for topic, payload in events:
            self.hooks.emit(topic, payload)
        return rec

    def info(self, base_url: str) -> dict:
        """The ``/_sim/shops`` entry: credentials, settings and sizes."""
        p = self.profile
        return {
            "name": p.name,
            "domain": p.domain,
            "token": p.token,
            "webhook_secret": p.webhook_secret,
            "shop_id": p.shop_id,
            "seed": p.seed,
            "currency": p.currency,
            "timezone": p.timezone,
            "endpoint_template": f"{base_url}/{{shop}}",
            "admin_url": f"{base_url}/{p.domain}/admin/api/{DEFAULT_VERSION}",
            "counts": {name: t.live for name, t in self.store.tables.items()},
            "rate_limit": msgspec.to_builtins(self.bucket.config),
            "query_cost": msgspec.to_builtins(self.points.config),
        }

    def shop_json(self) -> dict:
        """``shop.json``."""
        p = self.profile
        offset = p.clock.offset(now())[1]
        plus = self.bucket.config.bucket > 40
        city, province, province_code, zip_code = p.places[0]
        symbol = {"USD": "$", "EUR": "€", "GBP": "£", "INR": "₹", "JPY": "¥"}.get(p.currency, "$")
        stamp = p.clock.fmt(p.start - 400 * 86400)
        return {
            "id": p.shop_id,
            "name": p.name.replace("-", " ").title(),
            "email": f"owner@{p.name}.example.com",
            "domain": p.domain,
            "province": province,
            "country": p.country_code,
            "address1": "1 Commerce Way",
            "zip": zip_code,
            "city": city,
            "source": None,
            "phone": None,
            "latitude": None,
            "longitude": None,
            "primary_locale": "en",
            "address2": "",
            "created_at": stamp,
            "updated_at": stamp,
            "country_code": p.country_code,
            "country_name": p.country,
            "currency": p.currency,
            "customer_email": f"support@{p.name}.example.com",
            "timezone": f"(GMT{offset}) {p.timezone}",
            "iana_timezone": p.timezone,
            "shop_owner": "Sim Owner",
            "money_format": f"{symbol}{{{{amount}}}}",
            "money_with_currency_format": f"{symbol}{{{{amount}}}} {p.currency}",
            "weight_unit": "kg",
            "province_code": province_code,
            "taxes_included": False,
            "auto_configure_tax_inclusivity": None,
            "tax_shipping": False,
            "county_taxes": True,
            "plan_display_name": "Shopify Plus" if plus else "Basic",
            "plan_name": "shopify_plus" if plus else "basic",
            "has_discounts": True,
            "has_gift_cards": False,
            "myshopify_domain": p.domain,
            "google_apps_domain": None,
            "google_apps_login_enabled": None,
            "money_in_emails_format": f"{symbol}{{{{amount}}}}",
            "money_with_currency_in_emails_format": f"{symbol}{{{{amount}}}} {p.currency}",
            "eligible_for_payments": True,
            "requires_extra_payments_agreement": False,
            "password_enabled": False,
            "has_storefront": True,
            "finances": True,
            "primary_location_id": p.id_of("misc", 1),
            "checkout_api_supported": True,
            "multi_location_enabled": True,
            "setup_required": False,
            "pre_launch_enabled": False,
            "enabled_presentment_currencies": [p.currency],
            "transactional_sms_disabled": False,
            "marketing_sms_consent_enabled_at_checkout": False,
        }
