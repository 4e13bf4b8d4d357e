"""`xeno transform` as users run it, concurrent first builds, dbt docs and unit tests."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from decimal import Decimal

import pytest

from core import migrate
from core.settings import get_settings
from dbt_project import runner
from tests.transforms.helpers import corrupt_money, load_raw, query

pytestmark = pytest.mark.slow


def xeno(url: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "core.cli", "transform", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "DATABASE_URL": url},
    )


def order(order_id: int, total: str) -> dict:
    return {
        "id": order_id,
        "created_at": "2024-05-01T10:00:00Z",
        "test": False,
        "total_price": total,
        "line_items": [{"id": order_id * 10, "price": "5.00", "quantity": 2, "product_id": 9}],
    }


@pytest.fixture(scope="module")
def fresh(make_database, make_tenant):
    """A database without marts yet, two good tenants and one whose raw data is broken."""
    url = make_database()
    migrate.upgrade(url)
    good = [make_tenant(url=url), make_tenant(url=url)]
    for n, tenant in enumerate(good, start=1):
        load_raw(url, tenant.raw_schema, {"orders": [order(n, f"{n}0.00")]})
    broken = make_tenant(url=url)
    load_raw(url, broken.raw_schema, {"orders": [order(3, "30.00")]})
    corrupt_money(url, broken.raw_schema)
    return url, good, broken


def test_concurrent_first_builds_of_two_tenants(fresh):
    url, good, _ = fresh
    assert runner.missing_marts(get_settings().on_database(url)) == list(runner.MART_MODELS)
    processes = [xeno(url, str(tenant.id)) for tenant in good]
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
        assert out.strip().splitlines()[-1].startswith("transformed 1 of 1 tenant(s)")
    for n, tenant in enumerate(good, start=1):
        rows = query(
            url, "select total_revenue from marts.fct_orders where tenant_id = %s", tenant.id
        )
        assert [r["total_revenue"] for r in rows] == [Decimal(f"{n}0.00")]


def test_transform_all_reports_a_failed_tenant_and_builds_the_others(fresh):
    url, good, broken = fresh
    process = xeno(url)
    out, err = process.communicate(timeout=600)
    assert process.returncode == 1
    assert f"{broken.id}: FAILED" in out
    assert all(f"{tenant.id}: ok" in out for tenant in good)
    assert "transformed 2 of 3 tenant(s)" in err
    assert "Traceback" not in err


def test_unknown_tenant_fails_cleanly(fresh):
    url, _, _ = fresh
    process = xeno(url, str(uuid.uuid4()))
    _, err = process.communicate(timeout=120)
    assert process.returncode == 1
    assert err.startswith("Error: no tenant with id")


def test_dbt_docs_generate(fresh, transforms_data_dir):
    url, good, _ = fresh
    work = transforms_data_dir / "docs"
    result = runner.invoke(
        ["docs", "generate", "--vars", runner.tenant_vars(good[0].id, good[0].raw_schema)],
        url=url,
        work_dir=work,
    )
    assert result.success, result.exception
    assert (work / "target" / "catalog.json").is_file()
    assert (work / "target" / "index.html").is_file()


def test_dbt_unit_tests(fresh, transforms_data_dir):
    url, good, _ = fresh
    result = runner.invoke(
        [
            "test",
            "--select",
            "test_type:unit",
            "--vars",
            runner.tenant_vars(good[0].id, good[0].raw_schema),
        ],
        url=url,
        work_dir=transforms_data_dir / "unit",
    )
    assert result.success, runner.failures(result)
