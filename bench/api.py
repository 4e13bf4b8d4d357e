"""Benchmark of the API's dashboard on a 1,000,000-order tenant.

Mart rows are generated set-based in SQL (`generate_series`: ~2 years of orders, ~5k
products, ~100k customers, ~2 lines per order), then the per-day marts are aggregated
from them as dbt would. `xeno api` is started on loopback and the dashboard (default
range: last 30 days) is requested at a fixed arrival rate;
latency is measured from each request's scheduled start (no coordinated omission), and
the generator's own lateness in starting requests is reported apart. (The generator,
`bench.common.open_loop`, is a minimal keep-alive HTTP/1.1 client on uvloop: on two
cores it must leave the CPU to the server.) The same dashboard computed from the order
and line facts on every request (what the
original service did) is timed in the same run, and the ratio printed.

    uv run python -m bench.api [--orders 1000000] [--rate 1000] [--seconds 20]

Prints JSON lines {"bench": "api", "metric": ..., "value": ..., "unit": ...}.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from contextlib import redirect_stdout, suppress

import httpx
import psycopg
from passlib.context import CryptContext

from bench.common import CpuMeter, bench_database, free_port, percentile, run_open_loop
from core import db, tenants
from core.settings import get_settings
from dbt_project.runner import ensure_marts

PASSWORD = "bench-password-1"  # noqa: S105 - a throw-away benchmark database
START = "2023-07-01"
# The 30 days ending at the generated history's last day (the default range, "the last
# 30 days", would be empty on this fixed dataset).
CONNECTIONS = 64
RANGE = {"startDate": "2025-05-31", "endDate": "2025-06-29"}

GENERATE = """
insert into marts.fct_orders (tenant_id, order_id, order_name, order_number, customer_id,
    is_guest, email, created_at, order_date, currency, is_test, is_cancelled, is_counted,
    line_count, item_quantity, gross_sales, discounts, subtotal_price, shipping, tax,
    total_revenue, refunds, net_revenue)
select %(t)s, i, '#' || i, i, case when i %% 10 = 0 then null else 1 + (i * 7919) %% 100000 end,
    i %% 10 = 0, 'buyer' || i || '@example.com',
    %(start)s::timestamptz + (i::float8 / %(n)s) * interval '730 days',
    (%(start)s::timestamptz + (i::float8 / %(n)s) * interval '730 days')::date, 'USD',
    i %% 97 = 0, i %% 89 = 0, i %% 97 <> 0 and i %% 89 <> 0, 2, 3,
    v, 0, v, 5, round(v * 0.08, 2), round(v * 1.08 + 5, 2),
    r, round(v * 1.08 + 5, 2) - r
from generate_series(1::bigint, %(n)s) as i,
    lateral (select (10 + (i * 31) %% 190)::numeric as v,
                    case when i %% 50 = 0 then 10 else 0 end as r) as m;

insert into marts.fct_order_lines (tenant_id, order_line_id, order_id, line_position,
    created_at, order_date, is_counted, product_id, product_key, is_custom_item, title,
    price, quantity, gross_amount, discount_amount, net_amount)
select o.tenant_id, o.order_id * 2 + l, o.order_id, l, o.created_at, o.order_date, o.is_counted,
    p, p, false, 'Product ' || p, price, 1 + l, price * (1 + l), 0, price * (1 + l)
from marts.fct_orders o, generate_series(0, 1) as l,
    lateral (select 1 + (o.order_id * 13 + l * 4999) %% 5000 as p) as k,
    lateral (select 5 + k.p %% 40 as price) as c
where o.tenant_id = %(t)s;

insert into marts.dim_products (tenant_id, product_key, product_id, title, vendor, status,
    variant_count, min_price, max_price, is_listed, is_custom, created_at)
select %(t)s, p, p, 'Product ' || p, 'Vendor ' || p %% 50, 'active', 1, 5 + p %% 40,
    5 + p %% 40, true, false, %(start)s::timestamptz
from generate_series(1, 5000) as p;

insert into marts.agg_revenue_daily (tenant_id, date, order_count, guest_order_count,
    customer_count, new_customer_count, gross_sales, discounts, shipping, tax, total_revenue,
    refunds, net_revenue)
select %(t)s, d::date, coalesce(x.orders, 0), coalesce(x.guests, 0), coalesce(x.customers, 0),
    0, coalesce(x.gross, 0), 0, coalesce(x.shipping, 0), coalesce(x.tax, 0),
    coalesce(x.total, 0), coalesce(x.refunds, 0), coalesce(x.net, 0)
from generate_series(%(start)s::date, %(start)s::date + 730, interval '1 day') as d
left join (
    select order_date, count(*) as orders, count(*) filter (where is_guest) as guests,
        count(distinct customer_id) as customers, sum(gross_sales) as gross,
        sum(shipping) as shipping, sum(tax) as tax, sum(total_revenue) as total,
        sum(refunds) as refunds, sum(net_revenue) as net
    from marts.fct_orders where tenant_id = %(t)s and is_counted group by order_date
) as x on x.order_date = d::date;

insert into marts.agg_customer_revenue_daily (tenant_id, customer_id, order_date, order_count,
    gross_sales, discounts, total_revenue, refunds, net_revenue)
select %(t)s, customer_id, order_date, count(*), sum(gross_sales), 0, sum(total_revenue),
    sum(refunds), sum(net_revenue)
from marts.fct_orders
where tenant_id = %(t)s and is_counted and customer_id is not null
group by customer_id, order_date;

insert into marts.agg_product_revenue_daily (tenant_id, product_key, order_date, order_count,
    quantity, gross_sales, discounts, revenue)
select %(t)s, product_key, order_date, count(distinct order_id), sum(quantity),
    sum(gross_amount), 0, sum(net_amount)
from marts.fct_order_lines
where tenant_id = %(t)s and is_counted
group by product_key, order_date;

insert into marts.dim_customers (tenant_id, customer_id, email, first_name, last_name,
    is_listed, created_at, orders_count, total_revenue, refunds, lifetime_spend,
    first_order_date, last_order_date)
select %(t)s, customer_id, 'customer' || customer_id || '@example.com', 'First' || customer_id,
    'Last' || customer_id, true, min(created_at), count(*), sum(total_revenue), sum(refunds),
    sum(net_revenue), min(order_date), max(order_date)
from marts.fct_orders
where tenant_id = %(t)s and is_counted and customer_id is not null
group by customer_id;

update marts.agg_revenue_daily r set new_customer_count = c.n
from (select first_order_date, count(*) as n from marts.dim_customers
      where tenant_id = %(t)s group by 1) as c
where r.tenant_id = %(t)s and r.date = c.first_order_date;

insert into marts.fct_abandoned_checkouts (tenant_id, checkout_id, token, created_at,
    created_date, abandoned_at, is_abandoned, is_recovered, email, customer_id, cart,
    line_count, item_quantity, currency, total_price)
select %(t)s, i, md5(i::text), %(start)s::timestamptz + (i::float8 / 50000) * interval '730 days',
    (%(start)s::timestamptz + (i::float8 / 50000) * interval '730 days')::date,
    %(start)s::timestamptz + (i::float8 / 50000) * interval '730 days', i %% 5 <> 0, i %% 5 = 0,
    'cart' || i || '@example.com', 1 + i %% 100000, '[{"title": "Mug", "quantity": 1}]', 1, 1,
    'USD', 20
from generate_series(1, 50000) as i;
"""

# The original service's way: aggregate the order and line facts on every request.
RAW_DASHBOARD = [
    """select d::date, count(o.order_id), coalesce(sum(o.total_revenue), 0)
       from generate_series(%(s)s::date, %(e)s::date, interval '1 day') as d
       left join marts.fct_orders o on o.tenant_id = %(t)s and o.is_counted
            and o.created_at >= d and o.created_at < d + interval '1 day'
       group by 1 order by 1""",
    """select c.first_name, c.last_name, c.email, x.spent, x.orders, x.customers from (
           select customer_id, sum(net_revenue) as spent, count(*) as orders,
                  count(*) over () as customers
           from marts.fct_orders
           where tenant_id = %(t)s and is_counted and customer_id is not null
             and created_at >= %(s)s::date and created_at < %(e)s::date + 1
           group by customer_id order by spent desc, customer_id limit 5) as x
       left join marts.dim_customers c on c.tenant_id = %(t)s and c.customer_id = x.customer_id""",
    """select p.title, sum(l.net_amount) as revenue, sum(l.quantity)
       from marts.fct_order_lines l
       join marts.fct_orders o on o.tenant_id = l.tenant_id and o.order_id = l.order_id
       left join marts.dim_products p on p.tenant_id = l.tenant_id and p.product_key = l.product_key
       where l.tenant_id = %(t)s and o.is_counted
         and o.created_at >= %(s)s::date and o.created_at < %(e)s::date + 1
       group by p.title order by revenue desc limit 10""",
    """select count(*) from marts.fct_abandoned_checkouts
       where tenant_id = %(t)s and completed_at is null
         and created_at >= %(s)s::date and created_at < %(e)s::date + 1""",
]


def emit(metric: str, value: float, unit: str) -> None:
    print(json.dumps({"bench": "api", "metric": metric, "value": round(value, 3), "unit": unit}))
    sys.stdout.flush()


def prepare(orders: int) -> tuple[str, uuid.UUID, str]:
    url = bench_database("xeno_bench_api")
    with redirect_stdout(sys.stderr):  # dbt's log: stdout stays JSON lines
        ensure_marts(get_settings().on_database(url))
    email = "bench@example.com"
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        user_id = conn.execute(
            "insert into app.users (email, password_hash) values (%s, %s) returning id",
            (email, CryptContext(schemes=["argon2"]).hash(PASSWORD)),
        ).fetchone()[0]
        tenant = tenants.create(
            conn,
            name="Bench shop",
            shop_domain="bench-shop.myshopify.com",
            access_token="shpat_bench",  # noqa: S106 - never used
            owner_id=user_id,
            settings=get_settings(),
        )
        for statement in GENERATE.split(";\n\n"):
            conn.execute(statement, {"t": tenant.id, "n": orders, "start": START})
        conn.execute("vacuum analyze")
        conn.execute("select app.ensure_api_role()")
    emit("generate_marts_seconds", time.perf_counter() - started, "s")
    return url, tenant.id, email


def reuse() -> tuple[str, uuid.UUID, str]:
    admin = db.local_admin_url() or ""
    url = db.with_database(admin, "xeno_bench_api", user=db.DEV_ROLE, password=db.DEV_PASSWORD)
    with psycopg.connect(url) as conn:
        tenant_id, email = conn.execute(
            "select m.tenant_id, u.email from app.memberships m "
            "join app.users u on u.id = m.user_id"
        ).fetchone()
    return url, tenant_id, email


def start_api(url: str, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "API_WORKERS": os.environ.get("API_WORKERS", "2"),
        "LOG_LEVEL": "WARNING",
        "XENO_ENV": "test",
        "AUTH_RATE_LIMIT_PER_MINUTE": "1000",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "core.cli", "api", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
    )


def load(
    port: int, headers: dict[str, str], rate: int, seconds: int, server_pid: int
) -> list[float]:
    """The dashboard at a fixed arrival rate; latencies (ms) from each scheduled start."""
    query = "&".join(f"{k}={v}" for k, v in RANGE.items())
    request = (
        f"GET /api/v1/insights/dashboard?{query} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        + "\r\n"
    ).encode()
    meter = CpuMeter(server_pid)
    meter.start()
    run = run_open_loop(port, lambda _: request, rate, rate * seconds, CONNECTIONS)
    for metric, value in meter.report(rate * seconds, run.seconds).items():
        emit(metric, value, "cores" if metric.endswith("cores") else "ms")
    emit("generator_lateness_p50", percentile(run.lateness_ms, 0.50), "ms")
    emit("generator_lateness_p99", percentile(run.lateness_ms, 0.99), "ms")
    emit("generator_lateness_max", max(run.lateness_ms), "ms")
    emit("dashboard_errors", run.errors, "requests")
    emit("dashboard_throughput", run.throughput, "requests/s")
    return run.latencies_ms


def raw_dashboard_ms(url: str, tenant_id: uuid.UUID, runs: int = 5) -> float:
    params = {"t": tenant_id, "s": RANGE["startDate"], "e": RANGE["endDate"]}
    timings = []
    with psycopg.connect(url) as conn:
        for _ in range(runs):
            started = time.perf_counter()
            for query in RAW_DASHBOARD:
                conn.execute(query, params).fetchall()
            timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def uncached_dashboard_ms(base: str, headers: dict[str, str], runs: int = 20) -> float:
    """Mart path without the cache: every request a different range (30 days each)."""
    timings = []
    with httpx.Client(base_url=base, headers=headers) as client:
        for day in range(runs):
            params = {"startDate": f"2025-04-{day + 1:02d}", "endDate": f"2025-05-{day + 1:02d}"}
            started = time.perf_counter()
            assert client.get("/api/v1/insights/dashboard", params=params).status_code == 200
            timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--reuse", action="store_true", help="keep the last run's database")
    args = parser.parse_args()
    url, tenant_id, email = reuse() if args.reuse else prepare(args.orders)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_api(url, port)
    try:
        for _ in range(100):
            with suppress(httpx.HTTPError):
                if httpx.get(f"{base}/ready").status_code == 200:
                    break
            time.sleep(0.2)
        token = httpx.post(
            f"{base}/api/auth/login", json={"email": email, "password": PASSWORD}
        ).json()["token"]
        headers = {"Authorization": f"Bearer {token}", "x-tenant-id": str(tenant_id)}
        emit("dashboard_uncached_p50", uncached_dashboard_ms(base, headers), "ms")
        for _ in range(50):  # a new connection each, so every worker fills its cache
            httpx.get(f"{base}/api/v1/insights/dashboard", params=RANGE, headers=headers)
        latencies = load(port, headers, args.rate, args.seconds, server.pid)
        p50, p99 = percentile(latencies, 0.50), percentile(latencies, 0.99)
        emit("dashboard_p50", p50, "ms")
        emit("dashboard_p99", p99, "ms")
        raw = raw_dashboard_ms(url, tenant_id)
        emit("raw_dashboard_p50", raw, "ms")
        emit("speedup_vs_raw_p50", raw / p50, "x")
        emit("speedup_vs_raw_at_p99", raw / p99, "x")
    finally:
        server.terminate()
        server.wait(timeout=20)


if __name__ == "__main__":
    main()
