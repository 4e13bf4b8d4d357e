"""Every way a record arrives ends in the same raw rows: a simulated store read by bulk
operations, by paged queries and as REST webhook payloads (all over HTTP) flattens into
identical rows of every raw table."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from core.settings import Settings, get_settings
from ingestion.bulk import BulkOperations
from ingestion.flatten import flatten
from ingestion.graphql import ShopifyGraphQL
from ingestion.lines import page_lines, webhook_lines, write_lines
from ingestion.queries import RESOURCES
from tests.ingestion.conftest import shopify_settings

# raw resource -> (REST list, its parameters): the webhook payloads of the same records
REST = {
    "customers": ("customers", {}),
    "products": ("products", {}),
    "orders": ("orders", {"status": "any"}),
    "abandoned_checkouts": ("checkouts", {}),
}


@pytest.fixture
def settings(ingestion_env: dict) -> Settings:
    return shopify_settings(get_settings(), bulk_poll_seconds=0.05)


def raw_rows(resource: str, paths: list[Path]) -> dict[str, list[dict]]:
    """Every raw table's rows of the lines, in `_dlt_id` order."""
    found: dict[str, list[pa.RecordBatch]] = {}
    for table, batch in flatten(resource, paths):
        found.setdefault(table, []).append(batch)
    return {
        table: sorted(pa.Table.from_batches(b).to_pylist(), key=lambda r: r["_dlt_id"])
        for table, b in found.items()
    }


def bulk_files(shop: dict, settings: Settings, folder: Path) -> dict[str, Path]:
    """Each resource's bulk operation result, and the shop's line, as JSONL files."""
    client = ShopifyGraphQL(shop["domain"], shop["token"], settings)
    files = {}
    with BulkOperations(client, folder, settings) as bulk:
        handles = bulk.start_many({r.name: r.bulk_query() for r in RESOURCES})
        for handle, status in bulk.completed(handles):
            files[handle.resource] = bulk.download(
                handle, status, folder / f"{handle.resource}.jsonl"
            )
    with client:
        files["shop"] = folder / "shop.jsonl"
        write_lines(page_lines("shop", [client.shop()]), files["shop"])
    return files


def test_webhook_payloads_and_bulk_lines_give_the_same_raw_rows(sim, settings, tmp_path):
    shop = sim.shop(orders=80, rate_limit=False)
    bulk = bulk_files(shop, settings, tmp_path)
    for resource, (path, params) in REST.items():
        payloads = sim.records(shop, path, **params)
        webhook = tmp_path / f"{resource}.webhooks.jsonl"
        write_lines((line for p in payloads for line in webhook_lines(resource, p)), webhook)
        from_bulk, from_webhooks = (
            raw_rows(resource, [bulk[resource]]),
            raw_rows(resource, [webhook]),
        )
        assert list(from_bulk) == list(from_webhooks)
        for table, rows in from_bulk.items():
            assert rows == from_webhooks[table], table
    # the store has every kind of child row, so every table was compared
    assert set(raw_rows("orders", [bulk["orders"]])) == {
        "orders",
        "orders__line_items",
        "orders__line_items__discount_allocations",
        "orders__shipping_lines",
        "orders__discount_codes",
        "orders__refunds",
        "orders__refunds__transactions",
    }


def test_paged_nodes_give_the_same_raw_rows_as_bulk_lines(sim, settings, tmp_path):
    shop = sim.shop(orders=60, rate_limit=False)
    bulk = bulk_files(shop, settings, tmp_path)
    with ShopifyGraphQL(shop["domain"], shop["token"], settings) as client:
        for resource in RESOURCES:
            paged = tmp_path / f"{resource.name}.pages.jsonl"
            for nodes in client.pages(resource):
                write_lines(page_lines(resource.name, nodes), paged)
            assert raw_rows(resource.name, [paged]) == raw_rows(
                resource.name, [bulk[resource.name]]
            )


def test_page_lines_take_nested_connections_out_and_keep_lists_inline():
    node = {
        "id": "gid://shopify/Order/1",
        "refunds": [{"id": "gid://shopify/Refund/2", "transactions": {"edges": []}}],
        "lineItems": {"edges": [{"node": {"id": "gid://shopify/LineItem/3", "quantity": 1}}]},
        "shippingLines": {"nodes": [{"id": "gid://shopify/ShippingLine/4"}]},
    }
    assert list(page_lines("orders", [node])) == [
        {
            "id": "gid://shopify/Order/1",
            "refunds": [{"id": "gid://shopify/Refund/2", "transactions": {"edges": []}}],
        },
        {"id": "gid://shopify/LineItem/3", "quantity": 1, "__parentId": "gid://shopify/Order/1"},
        {"id": "gid://shopify/ShippingLine/4", "__parentId": "gid://shopify/Order/1"},
    ]
