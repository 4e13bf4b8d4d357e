"""The GraphQL Admin client against the simulator over HTTP: retries, exact THROTTLED
waits, one-line errors that hold no secret, and cursor paging that misses nothing."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from core.settings import Settings, get_settings
from ingestion.graphql import ShopifyAuthError, ShopifyError, ShopifyGraphQL, fetch_shop
from ingestion.queries import CUSTOMERS, ORDERS
from tests.ingestion.conftest import shopify_settings


@pytest.fixture
def settings(ingestion_env: dict) -> Settings:
    return get_settings()


class RecordingSleep:
    """Sleeps for real and remembers each wait (and the bucket the pacer saw then)."""

    def __init__(self) -> None:
        self.waits: list[float] = []
        self.client: ShopifyGraphQL | None = None
        self.seen: list[tuple[float, float]] = []  # (available, restore rate) at each wait

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        if self.client is not None:
            stats = self.client.pacer.stats
            self.seen.append((stats.available, stats.restore_rate))
        time.sleep(seconds)


def _client(shop: dict, settings: Settings, sleep: RecordingSleep | None = None):
    client = ShopifyGraphQL(shop["domain"], shop["token"], settings, sleep=sleep or time.sleep)
    if sleep is not None:
        sleep.client = client
    return client


def test_shop_counts_and_the_token_check(sim, settings):
    shop = sim.shop(orders=30, rate_limit=False)
    with _client(shop, settings) as client:
        assert client.shop()["myshopifyDomain"] == shop["domain"]
        assert client.count(ORDERS) == shop["counts"]["orders"]
        assert client.pacer.stats.maximum == 2000  # the store's reported Standard bucket
    assert fetch_shop(shop["domain"], shop["token"], settings)["currencyCode"] == "USD"


def test_a_rejected_token_is_an_auth_error_that_does_not_print_it(sim, settings):
    shop = sim.shop(orders=1, rate_limit=False)
    with pytest.raises(ShopifyAuthError) as info:
        fetch_shop(shop["domain"], "shpat_not_the_token", settings)
    message = str(info.value)
    assert message.startswith(f"Shop (POST /{shop['domain']}/admin/api/2026-10/graphql.json)")
    assert "shpat_not_the_token" not in message and shop["token"] not in message


def test_server_errors_and_dropped_connections_are_retried(sim, settings):
    shop = sim.shop(orders=0, customers=90, rate_limit=False)
    truth = {c["id"] for c in sim.records(shop, "customers")}
    sim.configure(shop["domain"], "faults", error_rate=0.2, drop_rate=0.2, seed=11)
    sleep = RecordingSleep()
    try:
        with _client(shop, settings, sleep) as client:
            found = [n["id"] for page in client.pages(CUSTOMERS, page_size=10) for n in page]
    finally:
        sim.configure(shop["domain"], "faults", error_rate=0.0, drop_rate=0.0)
    assert sorted(int(gid.rsplit("/", 1)[1]) for gid in found) == sorted(truth)
    assert sleep.waits  # some calls failed and were retried after a backoff


def test_persistent_server_errors_fail_with_one_line_naming_the_call(sim, settings):
    shop = sim.shop(orders=5, rate_limit=False)
    sim.configure(shop["domain"], "faults", error_rate=1.0)
    try:
        with _client(shop, settings) as client, pytest.raises(ShopifyError) as info:
            client.count(ORDERS)
    finally:
        sim.configure(shop["domain"], "faults", error_rate=0.0)
    message = str(info.value)
    assert message.startswith(f"Count (POST /{shop['domain']}/admin/api/2026-10/graphql.json)")
    assert "HTTP 50" in message and "after 9 attempts" in message
    assert "\n" not in message and shop["token"] not in message


def test_a_throttled_query_waits_exactly_what_the_bucket_needs(sim, settings):
    shop = sim.shop(orders=0, customers=400)  # Standard: 2,000 points, 100 a second
    # Another app empties the bucket (until it is refused): our fresh client knows nothing.
    url = f"{sim.url}/{shop['domain']}/admin/api/2026-10/graphql.json"
    body = {"query": CUSTOMERS.page_query(), "variables": {"first": 50}}
    headers = {"X-Shopify-Access-Token": shop["token"]}
    while "errors" not in sim.http.post(url, json=body, headers=headers).json():
        pass  # each costs 252 points; THROTTLED once fewer are left
    sleep = RecordingSleep()
    with _client(shop, settings, sleep) as client:
        page = next(client.pages(CUSTOMERS, page_size=60))  # 302 points: more than is left
        requested = client.requested_cost(CUSTOMERS.page_query(), {"first": 60})
        assert len(page) == 60
        assert client.pacer.stats.throttled == 1
        [wait] = sleep.waits  # one wait, no second THROTTLED
        available, rate = sleep.seen[0]
        assert wait == pytest.approx((requested - available) / rate, abs=0.05)


def test_graphql_errors_end_with_one_clear_line(sim, settings):
    shop = sim.shop(orders=1, rate_limit=False)
    with _client(shop, settings) as client:
        with pytest.raises(ShopifyError) as info:
            client.query("query Broken { shop { noSuchField } }")
        assert str(info.value).startswith("Broken (POST /")
        assert "noSuchField" in str(info.value)
        dear = "query Dear { products(first: 250) { edges { node { id "
        dear += "variants(first: 250) { edges { node { id } } } } } } }"
        with pytest.raises(ShopifyError, match="MAX_COST_EXCEEDED") as info:
            client.query(dear)
        assert "\n" not in str(info.value)


def test_user_errors_end_with_one_clear_line(sim, settings):
    shop = sim.shop(orders=1, rate_limit=False)
    run = (
        "mutation Run($query: String!) { bulkOperationRunQuery(query: $query) { "
        "bulkOperation { id } userErrors { field message code } } }"
    )
    with _client(shop, settings) as client, pytest.raises(ShopifyError) as info:
        client.query(run, {"query": "{ shop { id } }"})
    message = str(info.value)
    assert message.startswith("Run (POST /")
    assert "bulkOperationRunQuery refused: query: " in message
    assert "connection" in message and "\n" not in message


def test_pages_read_every_record_with_changes_between_pages(sim, settings):
    shop = sim.shop(orders=0, customers=60, rate_limit=False)
    domain = shop["domain"]
    before = sorted(c["id"] for c in sim.records(shop, "customers"))
    changed: dict[int, str] = {}
    created: list[int] = []
    seen: list[int] = []
    last_name: dict[int, str] = {}
    with _client(shop, settings) as client:
        for number, page in enumerate(client.pages(CUSTOMERS, page_size=7)):
            for node in page:
                rid = int(node["id"].rsplit("/", 1)[1])
                seen.append(rid)
                last_name[rid] = node["firstName"]
            if number in (1, 3, 5):  # one already read, one not yet read, one new
                for rid in (seen[0 + number], before[-1 - number]):
                    changed[rid] = f"Changed{number}"
                    sim.update(domain, "customers", rid, {"first_name": changed[rid]})
                created.append(
                    sim.create(domain, "customers", {"first_name": "New"})["customer"]["id"]
                )
    assert set(seen) == set(before) | set(created)
    # A record changed after it was read is read again (it moved past the cursor); every
    # other record exactly once; and each one's last reading is its latest state.
    read_twice = {rid for rid in seen if seen.count(rid) > 1}
    assert read_twice and read_twice <= set(changed)
    assert all(last_name[rid] == name for rid, name in changed.items())


ACCESS_DENIED = {
    "errors": [
        {
            "message": "Access denied for orders field. Required access: `read_orders` access "
            "scope.",
            "extensions": {
                "code": "ACCESS_DENIED",
                "documentation": "https://shopify.dev/api/usage/access-scopes",
                "requiredAccess": "`read_orders` access scope.",
            },
            "path": ["ordersCount"],
        }
    ],
    "data": None,
    "extensions": {
        "cost": {
            "requestedQueryCost": 1,
            "actualQueryCost": 1,
            "throttleStatus": {
                "maximumAvailable": 2000.0,
                "currentlyAvailable": 1999,
                "restoreRate": 100.0,
            },
        }
    },
}


class ScopelessStore(BaseHTTPRequestHandler):
    """A store whose token lacks `read_orders`: Shopify's ACCESS_DENIED answer, verbatim.

    (The simulator grants every scope to every token.)
    """

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        body = json.dumps(ACCESS_DENIED).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_a_token_without_the_needed_scope_is_one_clear_auth_error(settings):
    server = ThreadingHTTPServer(("127.0.0.1", 0), ScopelessStore)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        template = f"http://127.0.0.1:{server.server_port}/{{shop}}"
        scoped = shopify_settings(settings, endpoint_template=template)
        client = ShopifyGraphQL("scopeless.myshopify.com", "shpat_secret", scoped)
        with client, pytest.raises(ShopifyAuthError) as info:
            client.count(ORDERS)
    finally:
        server.shutdown()
        server.server_close()
    assert str(info.value) == (
        "Count (POST /scopeless.myshopify.com/admin/api/2026-10/graphql.json): the access "
        "token lacks a needed scope (ACCESS_DENIED): Access denied for orders field. "
        "Required access: `read_orders` access scope."
    )


def test_each_page_is_the_largest_the_store_accepts_in_one_query(sim, settings):
    shop = sim.shop(orders=40, rate_limit=False)
    with _client(shop, settings) as client:
        for resource in (CUSTOMERS, ORDERS):
            size = client.page_size(resource)
            first_page = next(client.pages(resource))
            document = resource.page_query()
            priced = client.requested_cost(document, {"first": size})  # the store's figure
            assert len(first_page) == min(size, client.count(resource))
            assert priced <= 1000 < client.requested_cost(document, {"first": size + 1})
            assert client.page_size(resource) == size  # the store's price confirms it
