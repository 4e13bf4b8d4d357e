"""Bulk operations against the simulator over HTTP: complete runs to files, several at
once, failures that never pass for data, dropped and expired downloads, timeouts, and
operations picked up again by a later process."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from core.settings import Settings, get_settings
from ingestion.bulk import BulkError, BulkHandle, BulkOperations, BulkStatus
from ingestion.graphql import ShopifyGraphQL
from ingestion.queries import CUSTOMERS, ORDERS, RESOURCES
from tests.ingestion.conftest import shopify_settings


@pytest.fixture
def settings(ingestion_env: dict) -> Settings:
    return shopify_settings(get_settings(), bulk_poll_seconds=0.05)


def _bulk(shop: dict, settings: Settings, work: Path, **kwargs) -> BulkOperations:
    client = ShopifyGraphQL(shop["domain"], shop["token"], settings)
    return BulkOperations(client, work, settings, **kwargs)


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_bytes().splitlines()]


def test_a_completed_operation_is_downloaded_whole(sim, settings, tmp_path):
    shop = sim.shop(orders=40, rate_limit=False)
    seen: list[tuple[BulkHandle, BulkStatus]] = []
    with _bulk(shop, settings, tmp_path, on_status=lambda h, s: seen.append((h, s))) as bulk:
        handle = bulk.start("orders", ORDERS.bulk_query())
        status = bulk.wait_and_download(handle, tmp_path / "orders.jsonl")
    lines = _lines(tmp_path / "orders.jsonl")
    assert status.status == "COMPLETED" and not handle.resumed
    assert status.completed_at is not None and status.created_at <= status.completed_at
    assert status.created_at.tzinfo is not None
    assert len(lines) == status.object_count == seen[-1][1].object_count
    roots = [line for line in lines if "__parentId" not in line]
    assert len(roots) == status.root_object_count == shop["counts"]["orders"]
    assert (tmp_path / "orders.jsonl").stat().st_size == status.file_size
    assert {s.status for _, s in seen} <= {"CREATED", "RUNNING", "COMPLETED"}
    assert list(tmp_path.glob("*.part")) == []


def test_every_resource_at_once_each_taken_as_it_completes(sim, settings, tmp_path):
    shop = sim.shop(orders=30, rate_limit=False)
    with _bulk(shop, settings, tmp_path) as bulk:
        handles = bulk.start_many({r.name: r.bulk_query() for r in RESOURCES})
        assert len({h.operation_id for h in handles}) == 4  # four operations ran together
        done = {}
        for handle, status in bulk.completed(handles):
            bulk.download(handle, status, tmp_path / f"{handle.resource}.jsonl")
            done[handle.resource] = status
    assert set(done) == {r.name for r in RESOURCES}
    assert done["orders"].root_object_count == shop["counts"]["orders"]
    for name, status in done.items():
        assert len(_lines(tmp_path / f"{name}.jsonl")) == status.object_count


def test_an_operation_that_finds_nothing_gives_an_empty_file(sim, settings, tmp_path):
    shop = sim.shop(orders=5, rate_limit=False)
    with _bulk(shop, settings, tmp_path) as bulk:
        handle = bulk.start("orders", ORDERS.bulk_query("created_at:<'2001-01-01'"))
        status = bulk.wait_and_download(handle, tmp_path / "orders.jsonl")
    assert status.object_count == 0  # Shopify answers url null here; either way, no lines
    assert (tmp_path / "orders.jsonl").read_bytes() == b""


def test_a_failed_operation_with_partial_data_is_an_error(sim, settings, tmp_path):
    shop = sim.shop(orders=40, rate_limit=False)
    sim.configure(shop["domain"], "faults", bulk_fail_rate=1.0, bulk_fail_after=6)
    try:
        with _bulk(shop, settings, tmp_path) as bulk, pytest.raises(BulkError) as info:
            bulk.wait_and_download(bulk.start("orders", ORDERS.bulk_query()), tmp_path / "o")
    finally:
        sim.configure(shop["domain"], "faults", bulk_fail_rate=0.0)
    message = str(info.value)
    assert "(orders backfill) failed (INTERNAL_SERVER_ERROR)" in message
    assert "partial data exists and was not loaded" in message and "\n" not in message
    assert not (tmp_path / "o").exists()


def test_a_dropped_download_resumes_with_range_to_an_identical_file(sim, settings, tmp_path):
    shop = sim.shop(orders=60, rate_limit=False)
    with _bulk(shop, settings, tmp_path) as bulk:
        handle = bulk.start("orders", ORDERS.bulk_query())
        status = bulk.wait(handle)
        clean = httpx.get(status.url).content
        # Every response breaks off halfway: only Range requests can ever finish the file.
        sim.configure(shop["domain"], "faults", download_drop_rate=1.0)
        try:
            bulk.download(handle, status, tmp_path / "orders.jsonl")
        finally:
            sim.configure(shop["domain"], "faults", download_drop_rate=0.0)
    assert (tmp_path / "orders.jsonl").read_bytes() == clean


def test_an_operation_that_never_finishes_is_cancelled_after_the_timeout(sim, settings, tmp_path):
    shop = sim.shop(orders=10, rate_limit=False)
    sim.configure(shop["domain"], "faults", bulk_stall_rate=1.0)
    quick = shopify_settings(settings, bulk_timeout_seconds=1)
    try:
        with _bulk(shop, quick, tmp_path) as bulk:
            handle = bulk.start("customers", CUSTOMERS.bulk_query())
            with pytest.raises(BulkError, match="not finished after 1 s") as info:
                bulk.wait(handle)
            after = bulk.status_of(handle.operation_id)
    finally:
        sim.configure(shop["domain"], "faults", bulk_stall_rate=0.0)
    assert "cancelled" in str(info.value)
    assert after is not None and after.status in ("CANCELING", "CANCELED")
    assert list((tmp_path / "bulk").iterdir()) == []  # a cancelled operation is forgotten


def test_an_expired_link_is_asked_for_again_then_a_clear_error(sim, settings, tmp_path):
    shop = sim.shop(orders=5, rate_limit=False)
    sim.configure(shop["domain"], "bulk", url_ttl_s=0.2)
    with _bulk(shop, settings, tmp_path) as bulk:
        handle = bulk.start("customers", CUSTOMERS.bulk_query())
        status = bulk.wait(handle)
        assert httpx.get(status.url).status_code == 200
        time.sleep(0.3)
        with pytest.raises(BulkError, match="result link expired and the operation is EXPIRED"):
            bulk.download(handle, status, tmp_path / "customers.jsonl")
        # An expired operation is not picked up again: the next start runs a new one.
        sim.configure(shop["domain"], "bulk", url_ttl_s=600)
        again = bulk.start("customers", CUSTOMERS.bulk_query())
        assert not again.resumed and again.operation_id != handle.operation_id


def test_a_later_process_picks_up_the_operation_and_the_partial_download(sim, settings, tmp_path):
    shop = sim.shop(orders=60, rate_limit=False)
    sim.configure(shop["domain"], "faults", bulk_slow_ms=200)
    with _bulk(shop, settings, tmp_path) as first:
        started = first.start("orders", ORDERS.bulk_query())
    # Killed while the operation runs: the next process finds it again.
    with _bulk(shop, settings, tmp_path) as second:
        running = second.start("orders", ORDERS.bulk_query())
        assert running.resumed and running.operation_id == started.operation_id
        status = second.wait(running)
    sim.configure(shop["domain"], "faults", bulk_slow_ms=0, download_drop_rate=1.0)
    impatient = shopify_settings(settings, max_retries=0)
    try:
        with _bulk(shop, impatient, tmp_path) as third, pytest.raises(BulkError):
            third.download(running, status, tmp_path / "orders.jsonl")
    finally:
        sim.configure(shop["domain"], "faults", download_drop_rate=0.0)
    [part] = tmp_path.glob("orders.jsonl.*.part")
    assert 0 < part.stat().st_size < status.file_size
    # Killed mid-download: the next process continues the same file from where it stopped.
    with _bulk(shop, settings, tmp_path) as fourth:
        completed = fourth.start("orders", ORDERS.bulk_query())
        assert completed.resumed and completed.operation_id == started.operation_id
        fourth.wait_and_download(completed, tmp_path / "orders.jsonl")
        fourth.finish(completed)
        fresh = fourth.start("orders", ORDERS.bulk_query())
    assert (tmp_path / "orders.jsonl").read_bytes() == httpx.get(status.url).content
    assert not fresh.resumed and fresh.operation_id != started.operation_id


def test_an_operation_for_an_older_query_is_cancelled_not_left_running(sim, settings, tmp_path):
    shop = sim.shop(orders=10, rate_limit=False)
    sim.configure(shop["domain"], "faults", bulk_stall_rate=1.0)
    try:
        with _bulk(shop, settings, tmp_path) as bulk:
            old = bulk.start("customers", CUSTOMERS.bulk_query("updated_at:>='2024-01-01'"))
            new = bulk.start("customers", CUSTOMERS.bulk_query("updated_at:>='2024-02-01'"))
            assert not new.resumed and new.operation_id != old.operation_id
            superseded = bulk.status_of(old.operation_id)
            bulk.cancel(new)
    finally:
        sim.configure(shop["domain"], "faults", bulk_stall_rate=0.0)
    assert superseded is not None and superseded.status in ("CANCELING", "CANCELED")
