"""The raw tables, declared: every table, column and type Xeno loads into a tenant's raw schema.

Bulk operations, paged queries and webhooks all end here (`ingestion.flatten` produces these
columns, in this order, with these types; `ingestion.source` declares them to dlt). The names
are the ones the REST-era tables had, so dbt staging (`raw_select`), the webhook apply and
the privacy code read them unchanged; only what they read is kept.

Link columns keep dlt's names but are deterministic, so a record loads into the same rows
whichever way it arrives:

- `_dlt_id`: a root's GID (`gid://shopify/Order/123`); a child's own GID when it has one;
  else `<parent _dlt_id>#<position>`;
- `_dlt_parent_id`: the parent row's `_dlt_id`; `_dlt_root_id`: the root record's GID;
- `_dlt_list_idx`: the position among its siblings (from 0, in Shopify's order);
- `_dlt_load_id`: added by dlt at load (increasing: the incremental marts rely on it);
- `_xeno_deleted_at` (roots): set when a record is deleted (webhook or id reconciliation).

Bump `CONTRACT_VERSION` whenever a table or column changes: tenants loaded under another
version get one automatic full refresh (`ingestion.pipeline.needs_full_refresh`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

CONTRACT_VERSION = 2

ID = "BIGINT"
TEXT = "VARCHAR"
MONEY = "DECIMAL(18,3)"  # exact; Shopify amounts have at most three decimals
COUNT = "BIGINT"
TIME = "TIMESTAMPTZ"
FLAG = "BOOLEAN"

DLT_ID = "_dlt_id"
DLT_PARENT_ID = "_dlt_parent_id"
DLT_ROOT_ID = "_dlt_root_id"
DLT_LIST_IDX = "_dlt_list_idx"
DLT_LOAD_ID = "_dlt_load_id"
DELETED_AT = "_xeno_deleted_at"

ROOT_LINKS = {DLT_ID: TEXT, DELETED_AT: TIME}
CHILD_LINKS = {DLT_ID: TEXT, DLT_PARENT_ID: TEXT, DLT_ROOT_ID: TEXT, DLT_LIST_IDX: COUNT}


@dataclass(frozen=True)
class RawTable:
    """One raw table: its name, its parent table (None for a root) and its columns."""

    name: str
    parent: str | None
    data: tuple[tuple[str, str], ...]  # (column, DuckDB type), without the link columns

    @property
    def resource(self) -> str:
        """The dlt resource (root table) the table belongs to."""
        return self.name.split("__")[0]

    @property
    def columns(self) -> dict[str, str]:
        """Every column in table order: data columns, then the link columns."""
        return {**dict(self.data), **(CHILD_LINKS if self.parent else ROOT_LINKS)}


def _table(table: str, parent: str | None, /, **columns: str) -> RawTable:
    return RawTable(table, parent, tuple(columns.items()))


CUSTOMER_REF = {
    "customer__id": ID,
    "customer__email": TEXT,
    "customer__first_name": TEXT,
    "customer__last_name": TEXT,
}

TABLES: tuple[RawTable, ...] = (
    _table(
        "shop",
        None,
        id=ID,
        name=TEXT,
        domain=TEXT,
        myshopify_domain=TEXT,
        email=TEXT,
        currency=TEXT,
        iana_timezone=TEXT,
        plan_display_name=TEXT,
        created_at=TIME,
        updated_at=TIME,
    ),
    _table(
        "customers",
        None,
        id=ID,
        email=TEXT,
        first_name=TEXT,
        last_name=TEXT,
        phone=TEXT,
        state=TEXT,
        tags=TEXT,
        verified_email=FLAG,
        created_at=TIME,
        updated_at=TIME,
        default_address__city=TEXT,
        default_address__province=TEXT,
        default_address__country=TEXT,
        default_address__country_code=TEXT,
        email_marketing_consent__state=TEXT,
    ),
    _table(
        "products",
        None,
        id=ID,
        title=TEXT,
        handle=TEXT,
        vendor=TEXT,
        product_type=TEXT,
        status=TEXT,
        tags=TEXT,
        created_at=TIME,
        updated_at=TIME,
        published_at=TIME,
    ),
    _table(
        "products__variants",
        "products",
        id=ID,
        product_id=ID,
        title=TEXT,
        sku=TEXT,
        price=MONEY,
        compare_at_price=MONEY,
        position=COUNT,
        inventory_quantity=COUNT,
    ),
    _table(
        "orders",
        None,
        id=ID,
        name=TEXT,
        order_number=COUNT,
        email=TEXT,
        created_at=TIME,
        updated_at=TIME,
        processed_at=TIME,
        cancelled_at=TIME,
        cancel_reason=TEXT,
        closed_at=TIME,
        test=FLAG,
        financial_status=TEXT,
        fulfillment_status=TEXT,
        currency=TEXT,
        total_line_items_price=MONEY,
        total_discounts=MONEY,
        subtotal_price=MONEY,
        total_shipping_price_set__shop_money__amount=MONEY,
        total_tax=MONEY,
        total_price=MONEY,
        **CUSTOMER_REF,
    ),
    _table(
        "orders__line_items",
        "orders",
        id=ID,
        order_id=ID,
        product_id=ID,
        variant_id=ID,
        title=TEXT,
        variant_title=TEXT,
        name=TEXT,
        sku=TEXT,
        vendor=TEXT,
        price=MONEY,
        quantity=COUNT,
        gift_card=FLAG,
    ),
    _table(
        "orders__line_items__discount_allocations",
        "orders__line_items",
        amount=MONEY,
        discount_application_index=COUNT,
    ),
    _table(
        "orders__shipping_lines",
        "orders",
        id=ID,
        title=TEXT,
        code=TEXT,
        price=MONEY,
    ),
    _table("orders__discount_codes", "orders", code=TEXT),
    _table("orders__refunds", "orders", id=ID, order_id=ID, created_at=TIME),
    _table(
        "orders__refunds__transactions",
        "orders__refunds",
        id=ID,
        order_id=ID,
        kind=TEXT,
        status=TEXT,
        amount=MONEY,
        gateway=TEXT,
        created_at=TIME,
        processed_at=TIME,
    ),
    _table(
        "abandoned_checkouts",
        None,
        id=ID,
        name=TEXT,
        email=TEXT,
        created_at=TIME,
        updated_at=TIME,
        completed_at=TIME,
        currency=TEXT,
        subtotal_price=MONEY,
        total_discounts=MONEY,
        total_tax=MONEY,
        total_price=MONEY,
        abandoned_checkout_url=TEXT,
        **CUSTOMER_REF,
    ),
    _table(
        "abandoned_checkouts__line_items",
        "abandoned_checkouts",
        product_id=ID,
        variant_id=ID,
        title=TEXT,
        variant_title=TEXT,
        sku=TEXT,
        price=MONEY,
        quantity=COUNT,
        line_price=MONEY,
    ),
)

BY_NAME = {table.name: table for table in TABLES}
RESOURCES = ("shop", "customers", "products", "orders", "abandoned_checkouts")
"""The dlt resources, one per root table (the names Dagster's assets and the sync use)."""


def tables_of(resource: str) -> tuple[RawTable, ...]:
    """A resource's tables, root first, each after its parent."""
    return tuple(table for table in TABLES if table.resource == resource)


def new_load_id() -> str:
    """A `_dlt_load_id` in dlt's format (unix time), newer than any earlier load: what a
    change made in the warehouse (a deletion, a redaction) sets so incremental marts see it."""
    return f"{time.time():.6f}"
