"""Benchmark of the transforms: full build of a 1,000,000-order tenant, then rebuilds
after 1% new and updated orders (three rounds, the median against the full build); and a
batch of small tenants built by one dbt invocation against the same tenants built one by
one.

Raw data is generated set-based in SQL (`generate_series`) straight into the shapes dlt
gives the Shopify REST JSON (money as varchar, nested lists as child tables linked by
`_dlt_root_id`/`_dlt_parent_id`): generating and normalising a million orders through
the simulator and dlt would take many minutes and measure dlt, not dbt.

    uv run python -m bench.transform [--orders 1000000] [--tenants 50 --tenant-orders 300]
        [--only large|batch]

Prints JSON lines {"bench": "transform", "metric": ..., "value": ..., "unit": ...}.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import uuid

import psycopg

from core import db, migrate
from core.settings import get_settings
from dbt_project import runner

LOAD_1 = "1717200000.000001"
ANCHOR = "2024-06-01T00:00:00Z"

SCHEMA_SQL = """
create schema {raw};
create table {raw}.shop (id bigint, name varchar, domain varchar, myshopify_domain varchar,
    currency varchar, iana_timezone varchar, _dlt_load_id varchar not null,
    _dlt_id varchar not null unique);
create table {raw}.customers (id bigint, email varchar, first_name varchar, last_name varchar,
    state varchar, created_at timestamptz, updated_at timestamptz, _dlt_load_id varchar not null,
    _dlt_id varchar not null unique);
create table {raw}.products (id bigint, title varchar, handle varchar, vendor varchar,
    product_type varchar, status varchar, created_at timestamptz, updated_at timestamptz,
    _dlt_load_id varchar not null, _dlt_id varchar not null unique);
create table {raw}.products__variants (id bigint, product_id bigint, title varchar,
    price varchar, _dlt_root_id varchar not null, _dlt_parent_id varchar not null,
    _dlt_list_idx bigint not null, _dlt_id varchar not null unique);
create table {raw}.orders (id bigint, name varchar, email varchar, created_at timestamptz,
    updated_at timestamptz, cancelled_at timestamptz, test boolean, financial_status varchar,
    currency varchar, total_line_items_price varchar, total_discounts varchar,
    subtotal_price varchar, total_tax varchar, total_price varchar,
    total_shipping_price_set__shop_money__amount varchar, customer__id bigint,
    customer__email varchar, customer__first_name varchar, customer__last_name varchar,
    _dlt_load_id varchar not null, _dlt_id varchar not null unique);
create table {raw}.orders__line_items (id bigint, product_id bigint, variant_id bigint,
    title varchar, price varchar, quantity bigint, _dlt_root_id varchar not null,
    _dlt_parent_id varchar not null, _dlt_list_idx bigint not null,
    _dlt_id varchar not null unique);
create table {raw}.orders__line_items__discount_allocations (amount varchar,
    discount_application_index bigint, _dlt_root_id varchar not null,
    _dlt_parent_id varchar not null, _dlt_list_idx bigint not null,
    _dlt_id varchar not null unique);
create table {raw}.orders__refunds__transactions (id bigint, order_id bigint, kind varchar,
    status varchar, amount varchar, created_at timestamptz, _dlt_root_id varchar not null,
    _dlt_parent_id varchar not null, _dlt_list_idx bigint not null,
    _dlt_id varchar not null unique);
create table {raw}.abandoned_checkouts (id bigint, token varchar, email varchar,
    created_at timestamptz, updated_at timestamptz, completed_at timestamptz, currency varchar,
    total_price varchar,
    subtotal_price varchar, customer__id bigint, customer__email varchar,
    customer__first_name varchar, customer__last_name varchar, _dlt_load_id varchar not null,
    _dlt_id varchar not null unique);
create table {raw}.abandoned_checkouts__line_items (product_id bigint, variant_id bigint,
    title varchar, price varchar, quantity bigint, _dlt_root_id varchar not null,
    _dlt_parent_id varchar not null, _dlt_list_idx bigint not null,
    _dlt_id varchar not null unique);
"""

# Orders first..last of one load: lines, discounts on every 6th order, a refund on every
# 20th, cancellations (every 33rd) and test orders (every 67th), guests (every 8th).
ORDERS_SQL = """
create temporary table batch on commit drop as
select i, 'o' || i || '-' || %(load)s as dlt_id,
    %(anchor)s::timestamptz - ((i * 7919) %% (365 * 86400)) * interval '1 second' as created_at
from generate_series(%(first)s::bigint, %(last)s::bigint) as i;

insert into {raw}.orders__line_items
select i * 10 + j, case when (i + j) %% 25 = 0 then null else 1 + (i * 13 + j) %% 1000 end,
    i * 10 + j, 'Product ' || (1 + (i * 13 + j) %% 1000), (5 + (i * j) %% 50) || '.99',
    1 + (i + j) %% 3, dlt_id, dlt_id, j, dlt_id || '-l' || j
from batch, generate_series(0, i %% 3) as j;

insert into {raw}.orders__line_items__discount_allocations
select '1.00', 0, b.dlt_id, l._dlt_id, 0, l._dlt_id || '-d'
from batch b join {raw}.orders__line_items l on l._dlt_root_id = b.dlt_id
where b.i %% 6 = 0;

insert into {raw}.orders__refunds__transactions
select i * 10, i, 'refund', 'success', '2.00', created_at + interval '2 days', dlt_id, dlt_id,
    0, dlt_id || '-r'
from batch where i %% 20 = 0;

insert into {raw}.orders
select b.i, '#' || b.i, 'buyer' || b.i || '@example.com', b.created_at, b.created_at,
    case when b.i %% 33 = 0 then b.created_at + interval '1 hour' end, b.i %% 67 = 0, 'paid',
    'USD', l.gross::text, l.discount::text, (l.gross - l.discount)::text, '0.00',
    (l.gross - l.discount + 5)::text, '5.00',
    case when b.i %% 8 = 0 then null else 1 + (b.i * 31) %% %(customers)s end,
    'c' || (1 + (b.i * 31) %% %(customers)s) || '@example.com', 'First', 'Last', %(load)s,
    b.dlt_id
from batch b
join (
    select _dlt_root_id, sum(price::numeric * quantity) as gross,
        case when min(id) / 10 %% 6 = 0 then count(*) * 1.00 else 0 end as discount
    from {raw}.orders__line_items
    where _dlt_root_id in (select dlt_id from batch)
    group by _dlt_root_id
) l on l._dlt_root_id = b.dlt_id;
"""

STATIC_SQL = """
insert into {raw}.shop values (1, 'Bench', 'bench.myshopify.com', 'bench.myshopify.com', 'USD',
    'America/New_York', %(load)s, 'shop');
insert into {raw}.customers
select c, 'c' || c || '@example.com', 'First', 'Last' || c, 'enabled',
    %(anchor)s::timestamptz - interval '400 days', %(anchor)s::timestamptz - interval '400 days',
    %(load)s, 'c' || c
from generate_series(1, %(customers)s) as c;
insert into {raw}.products
select p, 'Product ' || p, 'product-' || p, 'Vendor', 'Thing', 'active',
    %(anchor)s::timestamptz - interval '500 days', %(anchor)s::timestamptz - interval '500 days',
    %(load)s, 'p' || p
from generate_series(1, 1000) as p;
insert into {raw}.products__variants
select p, p, 'Default Title', (5 + p %% 50) || '.99', 'p' || p, 'p' || p, 0, 'v' || p
from generate_series(1, 1000) as p;
insert into {raw}.abandoned_checkouts
select k, md5(k::text), 'k' || k || '@example.com',
    %(anchor)s::timestamptz - ((k * 104729) %% (365 * 86400)) * interval '1 second',
    %(anchor)s::timestamptz - ((k * 104729) %% (365 * 86400)) * interval '1 second',
    case when k %% 7 = 0 then %(anchor)s::timestamptz - ((k * 104729) %% (365 * 86400))
        * interval '1 second' + interval '1 day' end,
    'USD', '20.00', '20.00', case when k %% 2 = 0 then 1 + k %% %(customers)s end,
    'c' || k || '@example.com', 'First', 'Last', %(load)s, 'k' || k
from generate_series(1::bigint, %(checkouts)s::bigint) as k;
insert into {raw}.abandoned_checkouts__line_items
select 1 + (k + j) %% 1000, 1 + (k + j) %% 1000, 'Product ' || (1 + (k + j) %% 1000), '10.00',
    2, 'k' || k, 'k' || k, j, 'k' || k || '-' || j
from generate_series(1::bigint, %(checkouts)s::bigint) as k, generate_series(0, k %% 2) as j;
"""

# 1% changes in a second load, as dlt's merge writes them: changed orders are replaced
# (root and children get the new load id), new orders are appended.
UPDATE_SQL = """
create temporary table changed on commit drop as
select id, _dlt_id from {raw}.orders where id %% 200 = %(residue)s and not test;
update {raw}.orders o set cancelled_at = o.created_at + interval '3 days',
    updated_at = %(anchor)s, _dlt_load_id = %(load)s
from changed c where o.id = c.id and c.id %% 400 = %(residue)s;
insert into {raw}.orders__refunds__transactions
select id * 10 + 1, id, 'refund', 'success', '1.50', %(anchor)s, _dlt_id, _dlt_id, 1,
    _dlt_id || '-r2'
from changed where id %% 400 = %(residue)s + 200;
update {raw}.orders o set updated_at = %(anchor)s, _dlt_load_id = %(load)s
from changed c where o.id = c.id and c.id %% 400 = %(residue)s + 200;
"""
# Rebuild rounds, each after its own 1% of changes (other orders); the median is reported.
ROUNDS = 3


def emit(metric: str, value: float | int, unit: str) -> None:
    print(json.dumps({"bench": "transform", "metric": metric, "value": value, "unit": unit}))


def timed(conn: psycopg.Connection, sql: str, **params: object) -> float:
    started = time.monotonic()
    with conn.transaction():
        conn.execute(sql, params)
    return time.monotonic() - started


def generate(conn: psycopg.Connection, raw: str, orders: int) -> float:
    """A tenant's raw schema with `orders` orders (a third as many customers); seconds."""
    anchor = ANCHOR
    customers = max(orders // 3, 1)
    conn.execute(SCHEMA_SQL.format(raw=raw))
    seconds = timed(
        conn,
        STATIC_SQL.format(raw=raw),
        load=LOAD_1,
        anchor=anchor,
        checkouts=orders // 4,
        customers=customers,
    )
    return seconds + timed(
        conn,
        ORDERS_SQL.format(raw=raw),
        load=LOAD_1,
        anchor=anchor,
        first=1,
        last=orders,
        customers=customers,
    )


def large(url: str, orders: int) -> None:
    """Full build of one large tenant, then rebuilds after 1% new and updated orders."""
    tenant = uuid.uuid4()
    raw = f"shopify_{tenant.hex}"
    with psycopg.connect(url, autocommit=True, cursor_factory=psycopg.ClientCursor) as conn:
        seconds = generate(conn, raw, orders)
        conn.execute("vacuum analyze")
    emit("raw_generate", round(seconds, 1), "s")
    emit("orders", orders, "count")

    full = runner.build_tenant(get_settings().on_database(url), tenant, raw)
    assert full.success, full.failures
    emit("full_build", round(full.seconds, 2), "s")
    # Same-run yardstick of the machine's speed: generating the raw data is set-based SQL
    # writing about as many rows as the build does, so this ratio compares across
    # machines where the absolute seconds do not.
    emit("full_build_to_raw_generate", round(full.seconds / seconds, 2), "ratio")

    # The next day's rebuild meets settled tables: autovacuum has long since processed
    # the first build's millions of rows (measured right away, it competes with it).
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("vacuum analyze")
    new = orders // 200
    rebuilds = []
    for round_ in range(ROUNDS):
        load = f"{1717286400 + round_ * 86400}.000002"
        first = orders + round_ * new + 1
        with psycopg.connect(url, autocommit=True, cursor_factory=psycopg.ClientCursor) as conn:
            timed(conn, UPDATE_SQL.format(raw=raw), load=load, anchor=ANCHOR, residue=7 + round_)
            timed(
                conn,
                ORDERS_SQL.format(raw=raw),
                load=load,
                anchor=ANCHOR,
                first=first,
                last=first + new - 1,
                customers=max(orders // 3, 1),
            )
            conn.execute("analyze")
        rebuild = runner.build_tenant(get_settings().on_database(url), tenant, raw)
        assert rebuild.success, rebuild.failures
        rebuilds.append(rebuild.seconds)
        emit(f"rebuild_after_1pct_round_{round_ + 1}", round(rebuild.seconds, 2), "s")
    emit("changed_orders", new * 2, "count")
    median = statistics.median(rebuilds)
    emit("rebuild_after_1pct", round(median, 2), "s")
    emit("rebuild_to_full_ratio", round(median / full.seconds, 3), "ratio")


def batch(url: str, tenants: int, orders: int, alone: int = 5) -> None:
    """`tenants` small tenants built by one dbt invocation (first build, then a rebuild
    without new data, as a daily cycle of quiet stores), against `alone` of them built
    one by one."""
    batch = [(tenant, f"shopify_{tenant.hex}") for tenant in (uuid.uuid4() for _ in range(tenants))]
    with psycopg.connect(url, autocommit=True, cursor_factory=psycopg.ClientCursor) as conn:
        for _, raw in batch:
            generate(conn, raw, orders)
        conn.execute("vacuum analyze")
    emit("batch_tenants", tenants, "count")
    emit("batch_tenant_orders", orders, "count")
    for phase in ("first", "again"):
        started = time.monotonic()
        results = runner.build_tenants(get_settings().on_database(url), batch)
        seconds = time.monotonic() - started
        assert all(r.success for r in results), [r.failures for r in results if not r.success]
        emit(f"batch_build_{phase}", round(seconds, 2), "s")
        emit(f"batch_seconds_per_tenant_{phase}", round(seconds / tenants, 3), "s")
    started = time.monotonic()
    for tenant, raw in batch[:alone]:
        result = runner.build_tenant(get_settings().on_database(url), tenant, raw)
        assert result.success, result.failures
    single = (time.monotonic() - started) / alone
    emit("single_seconds_per_tenant_again", round(single, 3), "s")
    emit("batch_speedup", round(single * tenants / seconds, 1), "ratio")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--tenants", type=int, default=50)
    parser.add_argument("--tenant-orders", type=int, default=300)
    parser.add_argument("--only", choices=("large", "batch"))
    args = parser.parse_args()
    admin = db.local_admin_url()
    if admin is None:
        raise SystemExit("needs a local PostgreSQL on 127.0.0.1:5432")
    url = db.create_database(admin, "xeno_bench_transform", drop_first=True)
    migrate.upgrade(url)  # the marts' post-hook secures them with the app schema's function
    runner.ensure_marts(
        get_settings().on_database(url)
    )  # first creation of the shared tables, not part of a build
    if args.only != "batch":
        large(url, args.orders)
    if args.only != "large":
        batch(url, args.tenants, args.tenant_orders)


if __name__ == "__main__":
    main()
