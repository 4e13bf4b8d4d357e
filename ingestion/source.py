"""The Shopify source: one dlt resource per Admin REST list endpoint, plus the shop.

Every list resource pages through Shopify's `Link` cursors 250 records at a time and is
incremental on `updated_at` (`dlt.sources.incremental` with a `lag` of
SYNC_LOOKBACK_SECONDS, so records committed late around the previous cursor are read
again) and merged on `id`: a re-delivered record replaces its row and, with the
delete-insert strategy, all of its nested child rows. A sync may cap a resource at an
`updated_at_max` to load a long backfill in committed windows (see `ingestion.sync`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import dlt
from dlt.common.schema.typing import TSimpleRegex
from dlt.sources import DltResource

from ingestion.client import PAGE_SIZE

SOURCE_NAME = "shopify"
CURSOR = "updated_at"
# Deeper lists (e.g. the tax lines of the line item copied into a refund line item) stay
# JSON columns: every line a report needs is at most two levels below its resource.
MAX_TABLE_NESTING = 2
# Shopify sends money as decimal strings; these columns (at any nesting level, including
# the `*_set__shop_money__amount` pairs) are typed numeric so no amount passes a float.
MONEY_COLUMNS = (
    "amount|tax_amount|price|subtotal|discounted_price|compare_at_price|line_price"
    "|total_spent|total_discount|total_discounts|total_tax|total_price|subtotal_price"
    "|total_line_items_price|total_outstanding|total_tip_received|total_duties"
    "|current_total_price|current_subtotal_price|current_total_tax|current_total_discounts"
    "|current_total_duties"
)
MONEY_TYPE_HINT = TSimpleRegex(f"re:(^|__)({MONEY_COLUMNS})$")

OnPage = Callable[[str, int], None]


class StoreReader(Protocol):
    """What the source reads records through: a store (`ingestion.client.ShopifyClient`)
    or stored webhook payloads (`ingestion.webhooks.PayloadClient`)."""

    def paginate(
        self, path: str, *, params: dict[str, Any] | None = ..., data_selector: str | None = ...
    ) -> Iterator[list[Any]]: ...

    def get_json(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Endpoint:
    """A Shopify list endpoint loaded as one resource (and its nested tables)."""

    resource: str
    path: str
    key: str
    params: Mapping[str, str] = field(default_factory=dict)

    @property
    def count_path(self) -> str:
        return self.path.removesuffix(".json") + "/count.json"


ENDPOINTS = (
    Endpoint("customers", "customers.json", "customers"),
    Endpoint("products", "products.json", "products"),
    # Shopify lists only open orders unless asked: cancelled and closed ones count too.
    Endpoint("orders", "orders.json", "orders", {"status": "any"}),
    Endpoint("abandoned_checkouts", "checkouts.json", "checkouts"),
)


def shopify_time(value: datetime) -> str:
    """ISO 8601 with offset, as Shopify's `updated_at_min`/`_max` expect."""
    return value.isoformat(timespec="seconds")


def _with_parsed_cursor(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Parse `updated_at` so the cursor compares as time: Shopify writes shop-local
    offsets, which change with daylight saving, so the strings do not sort."""
    for record in records:
        record[CURSOR] = datetime.fromisoformat(record[CURSOR])
    return records


def list_resource(
    client: StoreReader,
    endpoint: Endpoint,
    *,
    lookback_seconds: int,
    updated_before: datetime | None = None,
    on_page: OnPage | None = None,
) -> DltResource:
    """One list endpoint as an incremental, merged, paginated dlt resource."""

    @dlt.resource(
        name=endpoint.resource,
        primary_key="id",
        write_disposition={"disposition": "merge", "strategy": "delete-insert"},
        parallelized=True,
    )
    def records(
        # dlt binds an incremental declared as an argument default to the resource's state.
        updated_at: dlt.sources.incremental[datetime] = dlt.sources.incremental(  # noqa: B008
            CURSOR, lag=lookback_seconds
        ),
    ) -> Iterator[list[dict[str, Any]]]:
        params: dict[str, Any] = {**endpoint.params, "limit": PAGE_SIZE}
        if updated_at.start_value is not None:
            params["updated_at_min"] = shopify_time(updated_at.start_value)
        if updated_before is not None:
            params["updated_at_max"] = shopify_time(updated_before)
        for page in client.paginate(endpoint.path, params=params, data_selector=endpoint.key):
            if on_page is not None:
                on_page(endpoint.resource, len(page))
            yield _with_parsed_cursor(page)

    return records


def shop_resource(client: StoreReader, on_page: OnPage | None = None) -> DltResource:
    """The store itself: currency, IANA time zone, plan; one row, replaced each sync."""

    @dlt.resource(name="shop", primary_key="id", write_disposition="merge")
    def shop() -> Iterator[dict[str, Any]]:
        record = client.get_json("shop.json")["shop"]
        if on_page is not None:
            on_page("shop", 1)
        yield record

    return shop


@dlt.source(name=SOURCE_NAME, max_table_nesting=MAX_TABLE_NESTING)
def shopify_source(
    client: StoreReader,
    lookback_seconds: int,
    updated_before: Mapping[str, datetime] | None = None,
    on_page: OnPage | None = None,
) -> list[DltResource]:
    """The shop and every list endpoint; `updated_before` caps resources to a window."""
    dlt.current.source_schema().update_preferred_types({MONEY_TYPE_HINT: "decimal"})
    caps = updated_before or {}
    return [
        shop_resource(client, on_page),
        *(
            list_resource(
                client,
                endpoint,
                lookback_seconds=lookback_seconds,
                updated_before=caps.get(endpoint.resource),
                on_page=on_page,
            )
            for endpoint in ENDPOINTS
        ),
    ]
