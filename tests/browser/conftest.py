"""Headless Chromium (Debian's `/usr/bin/chromium`, installed by `.ci/run`) driven through
Playwright's Python API; no browser is ever downloaded. A failing test leaves a
screenshot in `BROWSER_ARTIFACTS` (default `artifacts/browser/`, kept by CI)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.ingestion.conftest import ingestion_env, sim, simulator_url
from tests.webhooks.conftest import server_factory, wh_database, worker_factory

__all__ = [
    "ingestion_env",
    "server_factory",
    "sim",
    "simulator_url",
    "wh_database",
    "worker_factory",
]

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# As root, in a closed network: no sandbox, no GPU, and nothing that phones home.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(os.environ.get("BROWSER_ARTIFACTS", "artifacts/browser"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if shutil.which(CHROMIUM) is None:
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh tab that records every request leaving 127.0.0.1 in `page.outside` (the
    machine has no internet; the tests assert that nothing even tried); a screenshot is
    saved when the test fails. Requests are observed, not intercepted: interception would
    buffer the event stream."""
    tab = browser.new_page()
    tab.outside = []
    tab.on(
        "request",
        lambda req: (
            None
            if req.url.startswith(("http://127.0.0.1", "data:", "blob:"))
            else tab.outside.append(req.url)
        ),
    )
    try:
        yield tab
    finally:
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            tab.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
        tab.close()
