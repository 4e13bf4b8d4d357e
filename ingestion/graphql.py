"""One store's GraphQL Admin API: paced by query cost, retried, safe to put in error messages.

Every call is a `POST .../admin/api/{version}/graphql.json`. Before it starts, the call
waits until the store's point bucket (see `pacing.CostPacer`) holds its requested cost:
the cost the store reported for the same document last time, or an estimate from the
document itself (Shopify's rules: an object costs 1, a connection 2 plus its page size
times its node's cost). A `THROTTLED` answer waits exactly as long as the bucket needs;
5xx answers, timeouts, dropped connections and truncated bodies are retried with
exponential backoff and full jitter, a bounded number of times. Any other GraphQL error
or a mutation's `userErrors` ends the call with one line naming the operation; a token
the store rejects (401/403) or one without the scope a field needs (`ACCESS_DENIED`)
raises `ShopifyAuthError`. Messages name the operation and the URL path only: the token
travels in a header and is never printed.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import orjson
import requests
from graphql import FieldNode, OperationDefinitionNode, SelectionSetNode, parse
from graphql.language import IntValueNode, VariableNode

from core.settings import Settings
from core.tenants import validate_shop_domain
from ingestion.pacing import CostPacer
from ingestion.queries import SHOP, Resource

MAX_PAGE_SIZE = 250  # Shopify's largest `first`
MAX_QUERY_COST = 1_000  # Shopify refuses a single query dearer than this (MAX_COST_EXCEEDED)
MUTATION_COST = 10  # Shopify's flat cost of a mutation
MAX_BACKOFF_SECONDS = 30.0
MAX_THROTTLED_WAIT_SECONDS = 300.0  # THROTTLED answers for longer than this fail the call
# Dropped connections surface as ConnectionError before a response and as
# ChunkedEncodingError (or a truncated body, i.e. invalid JSON) during one.
RETRYABLE_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)
AUTH_CODES = {"ACCESS_DENIED", "UNAUTHORIZED", "FORBIDDEN"}


class ShopifyError(RuntimeError):
    """A call to the store failed; the message names the call but holds no secret."""


class ShopifyAuthError(ShopifyError):
    """The store rejected the token (401/403) or it lacks a scope: retrying cannot help."""


def store_api_url(shop_domain: str, settings: Settings) -> str:
    """The Admin API base URL of a store: the configured endpoint, never user input.

    Only a validated `*.myshopify.com` domain is substituted into the template.
    """
    base = settings.shopify.endpoint_template.format(shop=validate_shop_domain(shop_domain))
    return f"{base}/admin/api/{settings.shopify.api_version}"


def operation_name(document: str) -> str:
    """`query Page(...)` -> "Page"; an anonymous document -> its first root field."""
    match = re.search(r"\b(?:query|mutation)\s+(\w+)", document) or re.search(
        r"{\s*(\w+)", document
    )
    return match.group(1) if match else "query"


def estimate_cost(document: str, variables: dict[str, Any] | None = None) -> int:
    """The requested cost Shopify will calculate for `document`, from its text alone.

    An object field costs 1, a scalar 0, a connection (a field with `first`/`last`) 2
    plus its page size times the cost of one node, a mutation 10. Without the schema this
    is an estimate: the store's own `requestedQueryCost` replaces it after one call.
    """
    variables = variables or {}
    operation = next(
        d for d in parse(document).definitions if isinstance(d, OperationDefinitionNode)
    )
    if operation.operation.value == "mutation":
        return MUTATION_COST
    return _selection_cost(operation.selection_set, variables)


@lru_cache(maxsize=64)
def _estimate(document: str, first: int) -> int:
    """`estimate_cost` of a page document for a page size (parsed once per size)."""
    return estimate_cost(document, {"first": first})


def _selection_cost(selection: SelectionSetNode | None, variables: dict[str, Any]) -> int:
    if selection is None:
        return 0
    total = 0
    for node in selection.selections:
        if isinstance(node, FieldNode):
            total += _field_cost(node, variables)
        else:  # inline fragment or fragment spread: counted as its fields
            total += _selection_cost(getattr(node, "selection_set", None), variables)
    return total


def _field_cost(field: FieldNode, variables: dict[str, Any]) -> int:
    if field.selection_set is None or field.name.value == "pageInfo":
        return 0
    size = _page_size_argument(field, variables)
    if size is None:
        return 1 + _selection_cost(field.selection_set, variables)
    per_node = 0
    for item in field.selection_set.selections:
        if not isinstance(item, FieldNode) or item.selection_set is None:
            continue
        if item.name.value == "edges":
            per_node += _selection_cost(item.selection_set, variables)
        elif item.name.value == "nodes":
            per_node += 1 + _selection_cost(item.selection_set, variables)
    return 2 + size * per_node


def _page_size_argument(field: FieldNode, variables: dict[str, Any]) -> int | None:
    for argument in field.arguments:
        if argument.name.value not in ("first", "last"):
            continue
        value = argument.value
        if isinstance(value, IntValueNode):
            return int(value.value)
        if isinstance(value, VariableNode):
            found = variables.get(value.name.value)
            return int(found) if found is not None else None
    return None


class ShopifyGraphQL:
    """A client for one store's GraphQL Admin API. Thread-safe; close it (or use `with`)."""

    def __init__(
        self,
        shop_domain: str,
        access_token: str,
        settings: Settings,
        *,
        pacer: CostPacer | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.shop_domain = validate_shop_domain(shop_domain)
        self.url = f"{store_api_url(shop_domain, settings)}/graphql.json"
        self.pacer = pacer or CostPacer(sleep=sleep)
        self.max_retries = settings.shopify.max_retries
        self.backoff_seconds = settings.shopify.retry_backoff_ms / 1000
        self.timeout_seconds = settings.shopify.timeout_seconds
        self._sleep = sleep
        self._session = requests.Session()
        self._session.headers.update(
            {
                "X-Shopify-Access-Token": access_token,
                "Content-Type": "application/json",
                "Accept": "application/json",
            }
        )
        self._known_costs: dict[tuple[str, Any], int] = {}  # (document, first) -> requested
        self._last_page_cost: dict[str, tuple[int, int]] = {}  # document -> (first, requested)
        self._costs_lock = threading.Lock()

    def __enter__(self) -> ShopifyGraphQL:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._session.close()

    def describe(self, document: str) -> str:
        """How errors name a call: the operation and the URL path (no token, no query)."""
        return f"{operation_name(document)} (POST {urlsplit(self.url).path})"

    def requested_cost(self, document: str, variables: dict[str, Any] | None = None) -> int:
        """What the call will ask of the bucket: the store's last figure, else an estimate."""
        key = (document, (variables or {}).get("first"))
        with self._costs_lock:
            known = self._known_costs.get(key)
        if known is not None:
            return known
        return estimate_cost(document, variables)

    def query(self, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run one query or mutation; returns its `data` (ShopifyError on any failure)."""
        what = self.describe(document)
        body = orjson.dumps({"query": document, "variables": variables or {}})
        cost = self.requested_cost(document, variables)
        failures = 0
        throttled_since: float | None = None
        while True:
            ticket = self.pacer.acquire(cost)
            try:
                response = self._session.post(self.url, data=body, timeout=self.timeout_seconds)
                status = response.status_code
                payload = _json_or_none(response.content) if status < 500 else None
            except RETRYABLE_ERRORS as exc:
                self.pacer.release(ticket, None)
                problem = type(exc).__name__
            except BaseException:
                self.pacer.release(ticket, None)
                raise
            else:
                cost_report = ((payload or {}).get("extensions") or {}).get("cost")
                throttled = status == 429 or _has_code(payload, "THROTTLED")
                self.pacer.release(ticket, cost_report, throttled=throttled)
                if cost_report and cost_report.get("requestedQueryCost") is not None:
                    cost = int(cost_report["requestedQueryCost"])
                    self._remember_cost(document, variables, cost)
                if throttled:
                    throttled_since = throttled_since or time.monotonic()
                    if time.monotonic() - throttled_since > MAX_THROTTLED_WAIT_SECONDS:
                        raise ShopifyError(
                            f"{what}: still THROTTLED after {MAX_THROTTLED_WAIT_SECONDS:.0f} s"
                        )
                    if not cost_report:  # no bucket to go by: honour Retry-After
                        self._sleep(_retry_after(response))
                    continue
                if status in (401, 403):
                    raise ShopifyAuthError(
                        f"{what}: the store rejected the access token ({status})"
                    )
                if status >= 500:
                    problem = f"HTTP {status}"
                elif status == 200 and payload is None:
                    problem = "truncated or invalid JSON body"
                else:
                    return _data_or_raise(what, status, payload)
            failures += 1
            if failures > self.max_retries:
                raise ShopifyError(f"{what}: {problem} after {failures} attempts")
            self._backoff(failures - 1)

    def _remember_cost(self, document: str, variables: dict[str, Any] | None, cost: int) -> None:
        with self._costs_lock:
            first = (variables or {}).get("first")
            self._known_costs[(document, first)] = cost
            if isinstance(first, int):
                self._last_page_cost[document] = (first, cost)

    def _backoff(self, attempt: int) -> None:
        cap = min(MAX_BACKOFF_SECONDS, self.backoff_seconds * 2**attempt)
        self._sleep(random.uniform(0, cap))

    def shop(self) -> dict[str, Any]:
        """The store's `shop` object (name, myshopifyDomain, currencyCode, ianaTimezone...)."""
        return self.query(SHOP)["shop"]  # type: ignore[no-any-return]

    def count(self, resource: Resource, search: str | None = None) -> int:
        """How many records of `resource` match `search` (all, without one)."""
        data = self.query(resource.count_query(), {"query": search})
        return int(data[f"{resource.field}Count"]["count"])

    def page_size(self, resource: Resource) -> int:
        """The largest page (<= 250) whose requested cost fits one query and the bucket.

        A page costs a fixed part plus a part per node. Both are estimated from the
        document; once the store has priced a page of this document, its figure sets the
        per-node part, so a store that prices differently still gets pages that fit.
        """
        document = resource.page_query()
        limit = min(MAX_QUERY_COST, self.pacer.stats.maximum)
        one, two = (_estimate(document, n) for n in (1, 2))
        per_node: float = max(1, two - one)
        fixed = one - per_node
        with self._costs_lock:
            priced = self._last_page_cost.get(document)
        if priced is not None and priced[0] > 0:
            per_node = max(1.0, (priced[1] - fixed) / priced[0])
        return max(1, min(MAX_PAGE_SIZE, int((limit - fixed) // per_node)))

    def pages(
        self, resource: Resource, search: str | None = None, page_size: int | None = None
    ) -> Iterator[list[dict[str, Any]]]:
        """Every node matching `search`, a page at a time, oldest change first.

        Follows Relay `after` cursors over `sortKey: UPDATED_AT` until `hasNextPage` is
        false. Without `page_size`, each page is as large as fits one query and the bucket.
        """
        document = resource.page_query()
        after: str | None = None
        while True:
            first = page_size or self.page_size(resource)
            data = self.query(document, {"first": first, "after": after, "query": search})
            connection = data[resource.field]
            nodes = [edge["node"] for edge in connection["edges"]]
            if nodes:
                yield nodes
            info = connection["pageInfo"]
            if not info["hasNextPage"]:
                return
            after = info["endCursor"]


def _json_or_none(content: bytes) -> Any:
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return None


def _has_code(payload: Any, code: str) -> bool:
    errors = payload.get("errors") if isinstance(payload, dict) else None
    return isinstance(errors, list) and any(_error_code(e) == code for e in errors)


def _error_code(error: Any) -> str | None:
    if isinstance(error, dict):
        return (error.get("extensions") or {}).get("code")
    return None


def _data_or_raise(what: str, status: int, payload: Any) -> dict[str, Any]:
    """The `data` of a 2xx/4xx answer, or one clear line for its errors and userErrors."""
    errors = payload.get("errors") if isinstance(payload, dict) else None
    if errors:
        if isinstance(errors, str):  # Shopify's shape for some 4xx: {"errors": "..."}
            errors = [{"message": errors}]
        first = errors[0] if isinstance(errors[0], dict) else {"message": str(errors[0])}
        code = _error_code(first)
        message = (str(first.get("message") or "error").strip().splitlines() or ["error"])[0]
        more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
        if code in AUTH_CODES:
            raise ShopifyAuthError(
                f"{what}: the access token lacks a needed scope ({code}): {message}{more}"
            )
        raise ShopifyError(f"{what}: {message}{f' ({code})' if code else ''}{more}")
    if status >= 400 or not isinstance(payload, dict) or payload.get("data") is None:
        raise ShopifyError(f"{what}: HTTP {status}" + ("" if status >= 400 else " without data"))
    data: dict[str, Any] = payload["data"]
    for field, value in data.items():
        user_errors = value.get("userErrors") if isinstance(value, dict) else None
        if user_errors:
            messages = "; ".join(
                f"{'.'.join(e.get('field') or []) or field}: {e.get('message')}"
                for e in user_errors
            )
            raise ShopifyError(f"{what}: {field} refused: {messages}")
    return data


def _retry_after(response: requests.Response) -> float:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "1")))
    except ValueError:
        return 1.0


def connect(shop_domain: str, access_token: str, settings: Settings) -> ShopifyGraphQL:
    """A client for one store, configured from settings."""
    return ShopifyGraphQL(shop_domain, access_token, settings)


def fetch_shop(shop_domain: str, access_token: str, settings: Settings) -> dict[str, Any]:
    """The store's `shop`: proves the token works for that store (ShopifyAuthError if not)."""
    with connect(shop_domain, access_token, settings) as client:
        return client.shop()
