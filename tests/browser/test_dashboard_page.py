"""The dashboard page (`/app`) and the API docs in a real browser, against real `xeno api`
and `xeno worker` processes, the simulator and PostgreSQL.

The page's figures must be the API's: the test reads the revenue the page shows for a
store and range and compares it with `GET /api/insights/dashboard` for the same range.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import httpx

from tests.api.conftest import PASSWORD

TIMEOUT_MS = 180_000


def _shown(page: Any) -> dict[str, Any]:
    """The range and figures the page shows (each KPI keeps its number in data-value)."""
    return page.evaluate(
        """() => ({
            tenant: document.getElementById('dashboard').dataset.tenant,
            range: document.getElementById('dashboard').dataset.range,
            revenue: Number(document.getElementById('kpi-revenue').dataset.value),
            revenueText: document.getElementById('kpi-revenue').textContent,
            orders: Number(document.getElementById('kpi-orders').dataset.value),
            customers: Number(document.getElementById('kpi-customers').dataset.value),
            abandoned: Number(document.getElementById('kpi-abandoned').dataset.value),
        })"""
    )


def _api_dashboard(api: httpx.Client, token: str, tenant: str, range_: str) -> dict[str, Any]:
    start, end = range_.split("/")
    response = api.get(
        "/api/insights/dashboard",
        params={"startDate": start, "endDate": end},
        headers={"Authorization": f"Bearer {token}", "x-tenant-id": tenant},
    )
    assert response.status_code == 200, response.text
    return response.json()


def _matches(page: Any, api: httpx.Client, token: str) -> dict[str, Any]:
    shown = _shown(page)
    board = _api_dashboard(api, token, shown["tenant"], shown["range"])
    assert shown["revenue"] == board["totalRevenue"], (shown, board["totalRevenue"])
    assert shown["orders"] == board["totalOrders"]
    assert shown["customers"] == board["totalCustomers"]
    assert shown["abandoned"] == board["abandonedCarts"]
    return board


def test_dashboard_page_shows_the_api_figures_syncs_and_goes_live(
    page: Any, sim: Any, server_factory: Any, worker_factory: Any
) -> None:
    shop = sim.shop(orders=60, days=40, currency="GBP", timezone="Europe/London")
    server = server_factory()
    worker_factory()
    email = f"browser-{shop['name']}@example.com"
    with httpx.Client(base_url=server.url, timeout=60) as api:
        registered = api.post("/api/auth/register", json={"email": email, "password": PASSWORD})
        assert registered.status_code == 201, registered.text
        token = registered.json()["token"]

        # log in through the page; no store yet: the page offers to connect one
        page.goto(f"{server.url}/app")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_selector("#connect[open]")

        # connect the store through the page's form
        page.get_by_label("Name").fill("London Shop")
        page.get_by_label("Shop domain").fill(shop["domain"])
        page.get_by_label("Admin API access token").fill(shop["token"])
        page.get_by_label("Webhook signing secret (optional)").fill(shop["webhook_secret"])
        page.get_by_role("button", name="Connect").click()
        page.wait_for_selector("#dashboard:not([hidden])[data-range]", timeout=TIMEOUT_MS)
        tenant = _shown(page)["tenant"]
        headers = {"Authorization": f"Bearer {token}", "x-tenant-id": tenant}
        hooks = api.post("/api/shopify/webhooks/register", headers=headers)
        assert hooks.status_code == 200, hooks.text

        # request a sync and watch it to the end
        page.get_by_role("button", name="Sync now").click()
        # (no wait_for_function: the page's CSP forbids the eval it uses)
        page.locator("#sync-status", has_text="Sync done").wait_for(timeout=TIMEOUT_MS)
        page.wait_for_selector("#kpi-orders:not([data-value='0'])", timeout=30_000)
        board = _matches(page, api, token)
        assert board["currency"] == "GBP" and "£" in _shown(page)["revenueText"]
        page.wait_for_selector("#chart-days .main-svg", timeout=30_000)  # plotly drew it
        assert page.locator("#top-customers tbody tr").count() == len(board["topCustomers"])

        # change the range: a week ending on the range's last day
        end = _shown(page)["range"].split("/")[1]
        start = (date.fromisoformat(end) - timedelta(days=6)).isoformat()
        page.get_by_label("From", exact=True).fill(start)
        page.get_by_role("button", name="Show").click()
        page.wait_for_selector(f"#dashboard[data-range='{start}/{end}']")
        _matches(page, api, token)

        # a new order in the store reaches the page through the event stream, no reload
        page.locator("#live-state", has_text="Listening").wait_for(timeout=30_000)
        created = sim.create(shop["domain"], "orders", {})
        order_id = str(created.get("id") or created.get("order", {}).get("id"))
        page.wait_for_selector(f"#live-orders li[data-order-id='{order_id}']", timeout=TIMEOUT_MS)

        # the filled dashboard on a phone: nothing overflows the screen sideways
        page.set_viewport_size({"width": 375, "height": 740})
        page.wait_for_timeout(500)  # plotly redraws on resize
        assert page.evaluate("document.documentElement.scrollWidth") <= 375

    assert page.outside == [], page.outside


def test_dashboard_page_is_usable_on_a_phone_with_the_keyboard(page: Any, server_factory: Any):
    server = server_factory()
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(f"{server.url}/app")
    page.keyboard.press("Tab")  # the skip link, then the form in order
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "login-email"
    for field in ("login-email", "login-password"):  # every input has a label
        assert page.locator(f"label[for='{field}']").count() == 1
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, width  # nothing overflows sideways
    assert page.outside == []


def test_swagger_ui_renders_every_path_with_no_network(page: Any, server_factory: Any) -> None:
    server = server_factory()
    schema = httpx.get(f"{server.url}/schema/openapi.json", timeout=30).json()
    operations = sum(
        1
        for item in schema["paths"].values()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    )
    page.goto(f"{server.url}/schema")
    page.wait_for_selector(".opblock", timeout=30_000)
    assert page.locator(".opblock").count() == operations
    assert page.outside == [], page.outside


def test_dashboard_page_refreshes_its_token_before_it_expires(page: Any, server_factory: Any):
    """With 15-second access tokens the page stays logged in: it refreshes in time."""
    server = server_factory(ACCESS_TOKEN_TTL_SECONDS="15")
    email = f"refresh-{uuid.uuid4().hex[:8]}@example.com"
    page.goto(f"{server.url}/app")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_selector("#connect[open]")
    first = page.evaluate("JSON.parse(sessionStorage.getItem('xeno.session')).token")
    page.wait_for_timeout(18_000)  # past the first token's expiry
    second = page.evaluate("JSON.parse(sessionStorage.getItem('xeno.session')).token")
    assert second != first
    assert page.locator("#login-view").is_hidden()
    with httpx.Client(base_url=server.url, timeout=30) as api:
        headers = {"Authorization": f"Bearer {second}"}
        assert api.get("/api/tenant", headers=headers).status_code == 200
