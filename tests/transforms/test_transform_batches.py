"""Batches: several tenants built by one dbt invocation, each exactly as if built alone."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.settings import get_settings
from dbt_project import runner
from simulator.shop import ShopSpec
from tests.transforms.helpers import (
    corrupt_money,
    mart_figures,
    mart_snapshot,
    query,
    truth_figures,
)

pytestmark = pytest.mark.slow

# Different currencies (JPY without minor unit) and time zones (Kolkata +05:30, Los
# Angeles with daylight saving, Tokyo), so a tenant's local dates never leak into another's.
BATCH = (
    ShopSpec(name="tx-batch-jpy", seed=61, currency="JPY", orders=150, days=60),
    ShopSpec(name="tx-batch-inr", seed=62, currency="INR", orders=150, days=90),
    ShopSpec(
        name="tx-batch-eur", seed=63, currency="EUR", timezone="America/Los_Angeles", orders=150
    ),
)


def line_order(order_id: int, price: str) -> dict:
    return {
        "id": order_id,
        "created_at": "2024-05-01T10:00:00Z",
        "test": False,
        "total_price": price,
        "customer": {"id": 5, "email": "same@example.com"},
        "line_items": [{"id": order_id * 10, "price": price, "quantity": 1, "product_id": 9}],
    }


def assert_one_invocation(results: list[runner.BuildResult]) -> None:
    """The batch was built by its first dbt run, not rescued by the retry in halves: the
    tenants of one run share its time, the halves' would differ."""
    assert len({r.seconds for r in results}) == 1, [r.seconds for r in results]


@pytest.fixture(scope="module")
def batch(make_tenant):
    """Three stores loaded, then built together in one dbt invocation."""
    tenants = [make_tenant(spec) for spec in BATCH]
    for tenant in tenants:
        tenant.load_store()
    results = runner.build_tenants(
        get_settings().on_database(tenants[0].url), [(t.id, t.raw_schema) for t in tenants]
    )
    assert [(r.tenant_id, r.success, r.failures) for r in results] == [
        (t.id, True, []) for t in tenants
    ]
    assert_one_invocation(results)
    return tenants


def test_each_tenant_of_a_batch_equals_its_truth(batch):
    for tenant in batch:
        assert mart_figures(tenant.url, tenant.id) == truth_figures(tenant.truth()), tenant.shop


def test_a_batch_build_equals_building_each_tenant_alone(batch):
    together = {tenant.id: mart_snapshot(tenant.url, tenant.id) for tenant in batch}
    for tenant in batch:
        tenant.build(full_refresh=True)
    assert {tenant.id: mart_snapshot(tenant.url, tenant.id) for tenant in batch} == together


def test_tenants_sharing_shopify_ids_stay_apart(make_tenant):
    """Shopify ids are unique per shop only: the same order, line and customer ids in two
    tenants of one batch never mix."""
    first, second = make_tenant(), make_tenant()
    first.load(orders=[line_order(1, "10.00")])
    second.load(orders=[line_order(1, "25.00")])
    results = runner.build_tenants(
        get_settings().on_database(first.url),
        [(first.id, first.raw_schema), (second.id, second.raw_schema)],
    )
    assert all(r.success for r in results), [r.failures for r in results]
    assert_one_invocation(results)
    for tenant, spend in ((first, "10.00"), (second, "25.00")):
        rows = query(
            tenant.url,
            "select c.orders_count, c.lifetime_spend, p.revenue from marts.dim_customers c "
            "join marts.agg_product_revenue p using (tenant_id) where tenant_id = %s",
            tenant.id,
        )
        assert [(r["orders_count"], r["lifetime_spend"], r["revenue"]) for r in rows] == [
            (1, Decimal(spend), Decimal(spend))
        ]


def test_a_broken_tenant_does_not_stop_its_batch(make_tenant):
    good = [make_tenant(), make_tenant(), make_tenant()]
    broken = make_tenant()
    for n, tenant in enumerate(good, start=1):
        tenant.load(orders=[line_order(n, f"{n}.00")])
    broken.load(orders=[line_order(4, "4.00")])
    corrupt_money(broken.url, broken.raw_schema)
    batch = [good[0], broken, good[1], good[2]]
    results = runner.build_tenants(
        get_settings().on_database(broken.url), [(t.id, t.raw_schema) for t in batch]
    )
    assert [r.tenant_id for r in results] == [t.id for t in batch]
    outcome = {r.tenant_id: r for r in results}
    assert not outcome[broken.id].success
    assert any("not money" in failure for failure in outcome[broken.id].failures)
    for n, tenant in enumerate(good, start=1):
        assert outcome[tenant.id].success and not outcome[tenant.id].failures
        rows = query(
            tenant.url, "select total_revenue from marts.fct_orders where tenant_id = %s", tenant.id
        )
        assert [r["total_revenue"] for r in rows] == [Decimal(f"{n}.00")]
    built = query(
        broken.url,
        "select tenant_id from app.mart_builds where tenant_id = any(%s)",
        [t.id for t in batch],
    )
    assert {r["tenant_id"] for r in built} == {t.id for t in good}
