"""Bulk operations: one asynchronous query per resource, its JSONL result streamed to disk.

The flow is Shopify's: `bulkOperationRunQuery` starts the operation, `node(id:)` is
polled (the first wait `SHOPIFY_BULK_POLL_SECONDS`, each further one half as long again,
up to ten times that) and every poll's status and object count goes to a callback for
live progress. A completed operation's `url` is downloaded as a stream; a dropped
connection resumes with an HTTP `Range` request, a bounded number of times; an expired
link (403/404 from the file server) is replaced once by asking the operation for a fresh
one. Whatever does not end in a complete file raises `BulkError` with one clear line: a
failed operation (its `partialDataUrl` is never loaded as if it were the data), a
cancelled or expired one, one that outlives `SHOPIFY_BULK_TIMEOUT_SECONDS` (cancelled
first).

Operations survive the process: the id of each is kept in the tenant's working folder
per (resource, purpose), so a sync killed midway picks up the same operation, still
running or completed and partly downloaded, instead of starting over. API 2026-01 and
later run up to five bulk queries of a shop at once: `start` each resource, then take
the results with `completed` (as each finishes) or `wait_and_download` (one at a time).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import requests
import urllib3

from core.settings import Settings
from ingestion.graphql import MAX_BACKOFF_SECONDS, RETRYABLE_ERRORS, ShopifyError, ShopifyGraphQL

OPERATION_FIELDS = (
    "id status errorCode objectCount rootObjectCount fileSize url partialDataUrl "
    "createdAt completedAt"
)
RUN = (
    "mutation RunBulkQuery($query: String!) { bulkOperationRunQuery(query: $query) { "
    f"bulkOperation {{ {OPERATION_FIELDS} }} userErrors {{ field message code }} }} }}"
)
POLL = (
    "query PollBulkOperation($id: ID!) { node(id: $id) { "
    f"... on BulkOperation {{ {OPERATION_FIELDS} }} }} }}"
)
CANCEL = (
    "mutation CancelBulkOperation($id: ID!) { bulkOperationCancel(id: $id) { "
    "bulkOperation { id status } userErrors { field message } } }"
)
RUNNING = frozenset({"CREATED", "RUNNING"})
REUSABLE = RUNNING | {"COMPLETED"}  # a persisted operation in these states is picked up again
CHUNK_BYTES = 1 << 20  # large reads keep a multi-gigabyte download cheap on the CPU
POLL_GROWTH = 1.5
POLL_MAX_FACTOR = 10
EXPIRED_LINK = (403, 404, 410)


class BulkError(ShopifyError):
    """A bulk operation did not end in a complete result file; the message says why."""


@dataclass(frozen=True)
class BulkStatus:
    """One poll of a bulk operation."""

    id: str
    status: str  # CREATED, RUNNING, COMPLETED, FAILED, CANCELING, CANCELED, EXPIRED
    error_code: str | None
    object_count: int  # every node so far, nested ones included
    root_object_count: int  # root nodes so far (records of the resource)
    file_size: int | None
    url: str | None
    partial_data_url: str | None
    created_at: datetime  # when the store started it: the query sees the store as of then
    completed_at: datetime | None

    @classmethod
    def from_node(cls, node: Mapping[str, Any]) -> BulkStatus:
        return cls(
            id=node["id"],
            status=node["status"],
            error_code=node.get("errorCode"),
            object_count=int(node.get("objectCount") or 0),
            root_object_count=int(node.get("rootObjectCount") or 0),
            file_size=int(node["fileSize"]) if node.get("fileSize") is not None else None,
            url=node.get("url"),
            partial_data_url=node.get("partialDataUrl"),
            created_at=datetime.fromisoformat(node["createdAt"]),
            completed_at=(
                datetime.fromisoformat(node["completedAt"]) if node.get("completedAt") else None
            ),
        )

    @property
    def running(self) -> bool:
        return self.status in RUNNING


@dataclass(frozen=True)
class BulkHandle:
    """A started (or picked up) bulk operation of one resource of one tenant."""

    resource: str
    purpose: str  # e.g. "backfill" or "ids": one operation per (resource, purpose)
    operation_id: str
    resumed: bool  # True when a persisted operation of an earlier process was picked up

    def describe(self) -> str:
        return f"bulk operation {self.operation_id} ({self.resource} {self.purpose})"


StatusCallback = Callable[[BulkHandle, BulkStatus], None]


class BulkOperations:
    """Runs bulk operations of one store, keeping their ids in the tenant's working folder.

    `work_dir` must be the tenant's own folder: the ids kept there are found again by
    the next process syncing the same tenant.
    """

    def __init__(
        self,
        client: ShopifyGraphQL,
        work_dir: Path,
        settings: Settings,
        *,
        on_status: StatusCallback | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.state_dir = work_dir / "bulk"
        self.poll_seconds = settings.shopify.bulk_poll_seconds
        self.timeout_seconds = settings.shopify.bulk_timeout_seconds
        self.max_retries = settings.shopify.max_retries
        self.backoff_seconds = settings.shopify.retry_backoff_ms / 1000
        self.http_timeout = settings.shopify.timeout_seconds
        self._on_status = on_status
        self._sleep = sleep
        self._clock = clock
        # Result links are signed URLs: fetched without the store's token.
        self._files = requests.Session()
        self._files.headers["Accept-Encoding"] = "identity"  # Range offsets are file bytes

    def close(self) -> None:
        self._files.close()

    def __enter__(self) -> BulkOperations:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- starting -------------------------------------------------------------------

    def start(self, resource: str, query: str, purpose: str = "backfill") -> BulkHandle:
        """Start a bulk query, or pick up the one an earlier process started for the same
        resource, purpose and query that is still running or completed.

        An earlier operation for another query (the cursor moved) that still runs is
        cancelled: it would only hold one of the shop's concurrent operations.
        """
        state_path = self._state_path(resource, purpose)
        digest = hashlib.sha256(query.encode()).hexdigest()
        saved = _read_json(state_path)
        if saved:
            status = self.status_of(saved["id"])
            if status is not None and status.status in REUSABLE:
                if saved.get("query_sha256") == digest:
                    return BulkHandle(resource, purpose, saved["id"], resumed=True)
                if status.running:
                    with contextlib.suppress(ShopifyError):
                        self.client.query(CANCEL, {"id": saved["id"]})
        data = self.client.query(RUN, {"query": query})
        operation = data["bulkOperationRunQuery"]["bulkOperation"]
        if not operation:
            raise BulkError(f"bulkOperationRunQuery for {resource} returned no operation")
        state_path.parent.mkdir(parents=True, exist_ok=True)
        temporary = state_path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"id": operation["id"], "query_sha256": digest}))
        temporary.replace(state_path)
        return BulkHandle(resource, purpose, operation["id"], resumed=False)

    def start_many(self, queries: Mapping[str, str], purpose: str = "backfill") -> list[BulkHandle]:
        """Start one operation per resource (name -> bulk query document) at once."""
        return [self.start(resource, query, purpose) for resource, query in queries.items()]

    def finish(self, handle: BulkHandle) -> None:
        """Forget a persisted operation once its result is loaded: the next sync starts anew."""
        self._state_path(handle.resource, handle.purpose).unlink(missing_ok=True)

    def _state_path(self, resource: str, purpose: str) -> Path:
        return self.state_dir / f"{resource}.{purpose}.json"

    # -- polling --------------------------------------------------------------------

    def status_of(self, operation_id: str) -> BulkStatus | None:
        """The operation's status now; None if the store no longer knows it."""
        node = self.client.query(POLL, {"id": operation_id})["node"]
        return BulkStatus.from_node(node) if node else None

    def poll(self, handle: BulkHandle) -> BulkStatus:
        """One poll, reported to the callback."""
        status = self.status_of(handle.operation_id)
        if status is None:
            raise BulkError(f"{handle.describe()}: the store no longer knows this operation")
        if self._on_status:
            self._on_status(handle, status)
        return status

    def completed(self, handles: Iterable[BulkHandle]) -> Iterator[tuple[BulkHandle, BulkStatus]]:
        """Each handle with its COMPLETED status, in the order they finish.

        Raises BulkError for the first that fails, is cancelled or expires, and for any
        still running after the timeout (all those are cancelled first).
        """
        pending = list(handles)
        deadline = self._clock() + self.timeout_seconds
        interval = self.poll_seconds
        while pending:
            polled = self._clock()
            for handle in list(pending):
                status = self.poll(handle)
                if not status.running and status.status != "CANCELING":
                    pending.remove(handle)
                    yield handle, _completed_or_raise(handle, status)
            if not pending:
                return
            if self._clock() >= deadline:
                self._cancel_all(pending)
                raise BulkError(
                    f"{pending[0].describe()}: not finished after {self.timeout_seconds} s "
                    "(SHOPIFY_BULK_TIMEOUT_SECONDS); cancelled"
                )
            # The wait counts from this round's polls: time the caller spent loading an
            # operation that completed is not waited again.
            self._sleep(max(0.0, min(polled + interval, deadline) - self._clock()))
            interval = min(interval * POLL_GROWTH, self.poll_seconds * POLL_MAX_FACTOR)

    def wait(self, handle: BulkHandle) -> BulkStatus:
        """Poll one operation until it completes (BulkError if it does not)."""
        return next(status for _, status in self.completed([handle]))

    def cancel(self, handle: BulkHandle) -> None:
        """Ask the store to cancel the operation and forget it."""
        self.client.query(CANCEL, {"id": handle.operation_id})
        self.finish(handle)

    def _cancel_all(self, handles: list[BulkHandle]) -> None:
        for handle in handles:
            # It may have finished meanwhile: the timeout error stands either way.
            with contextlib.suppress(ShopifyError):
                self.cancel(handle)

    # -- downloading ----------------------------------------------------------------

    def wait_and_download(self, handle: BulkHandle, path: Path) -> BulkStatus:
        """Wait for the operation, then stream its result to `path` (see `download`)."""
        status = self.wait(handle)
        self.download(handle, status, path)
        return status

    def download(self, handle: BulkHandle, status: BulkStatus, path: Path) -> Path:
        """Stream a COMPLETED operation's JSONL to `path`; an empty file if it found nothing.

        The bytes go to `<path>.<operation>.part` first, so a download cut short, here or
        in an earlier process, continues from where it stopped with a `Range` request.
        """
        path.parent.mkdir(parents=True, exist_ok=True)
        if status.url is None:
            path.write_bytes(b"")
            return path
        part = path.with_name(f"{path.name}.{handle.operation_id.rsplit('/', 1)[-1]}.part")
        for stale in path.parent.glob(f"{path.name}.*.part"):
            if stale != part:
                stale.unlink()
        url, size = status.url, status.file_size
        refreshed = False
        failures = 0
        while True:
            before = _size(part)
            problem = self._fetch(url, part)
            if problem is None:
                have = part.stat().st_size
                if size is None or have == size:
                    part.replace(path)
                    return path
                if have > size:
                    part.unlink()
                problem = f"{have} of {size} bytes"
            elif problem == "expired":
                if refreshed:
                    raise BulkError(f"{handle.describe()}: the result link expired twice")
                fresh = self.poll(handle)
                if fresh.status != "COMPLETED" or fresh.url is None:
                    raise BulkError(
                        f"{handle.describe()}: the result link expired and the operation "
                        f"is {fresh.status}"
                    )
                url, size, refreshed = fresh.url, fresh.file_size, True
                continue
            # Retries are bounded per stall: an attempt that brought bytes restarts the count.
            failures = 1 if _size(part) > before else failures + 1
            if failures > self.max_retries:
                raise BulkError(
                    f"{handle.describe()}: download failed ({problem}), "
                    f"{failures} attempts without progress"
                )
            cap = min(MAX_BACKOFF_SECONDS, self.backoff_seconds * 2 ** (failures - 1))
            self._sleep(random.uniform(0, cap))

    def _fetch(self, url: str, part: Path) -> str | None:
        """Append what the file server sends after the bytes `part` holds.

        Returns None when the body arrived whole, "expired" for a dead link, else what
        went wrong (worth a retry).
        """
        offset = _size(part)
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        try:
            with self._files.get(
                url, headers=headers, stream=True, timeout=self.http_timeout
            ) as response:
                code = response.status_code
                if code in EXPIRED_LINK:
                    return "expired"
                if code == 416:  # nothing after `offset`: the file is whole (size decides)
                    return None
                if code >= 500:
                    return f"HTTP {code}"
                if code >= 400:
                    raise BulkError(f"result download: HTTP {code}")
                resumed = code == 206 and response.headers.get("Content-Range", "").startswith(
                    f"bytes {offset}-"
                )
                # read1 hands over what has arrived, so a connection that drops mid-chunk
                # loses nothing already received.
                with part.open("ab" if resumed else "wb") as out:
                    while chunk := response.raw.read1(CHUNK_BYTES):
                        out.write(chunk)
        except (*RETRYABLE_ERRORS, urllib3.exceptions.HTTPError) as exc:
            return type(exc).__name__
        return None


def _completed_or_raise(handle: BulkHandle, status: BulkStatus) -> BulkStatus:
    if status.status == "COMPLETED":
        return status
    if status.status == "FAILED":
        partial = "; partial data exists and was not loaded" if status.partial_data_url else ""
        raise BulkError(
            f"{handle.describe()} failed ({status.error_code or 'no error code'}) after "
            f"{status.object_count} objects{partial}"
        )
    raise BulkError(f"{handle.describe()} ended {status.status}")


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())  # type: ignore[no-any-return]
    except (FileNotFoundError, ValueError):
        return None
