"""The browser side: the docs pages and the dashboard page load every script,
stylesheet and icon from Xeno itself; tests/browser renders them in Chromium."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.anyio

DOCS_PAGES = ("/schema", "/schema/swagger")
_REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")


async def test_docs_pages_reference_only_local_assets_that_serve(client):
    for page in DOCS_PAGES:
        response = await client.get(page)
        assert response.status_code == 200, page
        assert "SwaggerUIBundle" in response.text
        references = _REFERENCE.findall(response.text)
        assert len(references) >= 4, references  # css, bundle, preset, icon
        for reference in references:
            parts = urlsplit(reference)
            assert not parts.scheme and not parts.netloc, f"{page} loads {reference}"
            asset = await client.get(reference)
            assert asset.status_code == 200, reference
            assert asset.headers["content-type"].startswith(("text/", "image/")), reference
            assert asset.content, reference


async def test_assets_are_allow_listed_compressed_and_revalidated(client):
    missing = await client.get("/assets/..%2Fapp.py")
    assert missing.status_code == 404 and missing.json()["error"]
    assert (await client.get("/assets/nothing.js")).status_code == 404
    bundle = await client.get("/assets/swagger-ui-bundle.js", headers={"accept-encoding": "gzip"})
    assert bundle.status_code == 200 and bundle.headers["content-encoding"] == "gzip"
    assert "max-age" in bundle.headers["cache-control"]
    again = await client.get(
        "/assets/swagger-ui-bundle.js", headers={"if-none-match": bundle.headers["etag"]}
    )
    assert again.status_code == 304


async def test_old_docs_addresses_lead_to_the_local_swagger_ui(client):
    for old in ("/schema/elements", "/schema/redoc"):
        response = await client.get(old, follow_redirects=False)
        assert response.status_code in (301, 302, 307, 308), old
        assert response.headers["location"] == "/schema/swagger"
    assert (await client.get("/schema/openapi.json")).json()["paths"]


async def test_dashboard_page_loads_only_same_origin_assets(client):
    response = await client.get("/app")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "connect-src 'self'" in csp
    references = [r for r in _REFERENCE.findall(response.text) if not r.startswith("#")]
    assert {"/assets/app.js", "/assets/app.css"} <= set(references)
    for reference in [*references, "/assets/plotly.min.js"]:  # app.js loads plotly.js
        assert reference.startswith("/"), reference
        assert (await client.get(reference)).status_code == 200, reference
    assert (await client.get("/app/some/deep/link")).text == response.text
