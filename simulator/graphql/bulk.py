"""Bulk query operations as Shopify runs them: an asynchronous query whose result is a JSONL
file, served from its own expiring URL.

An operation runs as a task on the server's event loop: it streams
`bulk_lines(store, document)` in batches of 1,000 lines, encodes each batch as JSON lines
with msgspec and appends it to a file in the shop's work folder, never holding more than
one batch; `objectCount`, `rootObjectCount` and `fileSize` grow as it goes. A large
operation without faults is rendered by forked workers instead (`bulk_workers`), into the
same bytes. When it ends (COMPLETED, FAILED, CANCELED) the shop's `bulk_operations/finish`
subscribers are told.

The GraphQL executor calls, per shop (`shop.bulk`), with plain dicts for its projector:

- `run_query(schema, query, api_version, base_url)` -> `BulkOperationRunQueryPayload`
- `cancel(gid)` -> `BulkOperationCancelPayload`
- `get(gid)` -> `BulkOperation` or None (for `bulkOperation(id:)` and `node(id:)`)
- `current()` -> the most recent `BulkOperation` or None (`currentBulkOperation`)

Results are served at `/_bulk/{token}.jsonl` (`serve_file`): an unguessable token like a
signed URL, 403 once it expires, `Range` answered with 206.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import re
import secrets
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import msgspec
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    parse,
    validate,
)

from simulator.faults import BulkFate, FaultInjector
from simulator.webhooks import WebhookHub

if TYPE_CHECKING:
    from simulator.store import ShopStore

BATCH_LINES = 1_000
CHUNK_BYTES = 1 << 20
MAX_CONNECTIONS = 5
MAX_CONNECTION_DEPTH = 2
CONCURRENT_SINCE = "2026-01"  # API versions from here run several bulk queries at once
MAX_CONCURRENT = 5
ACTIVE = frozenset({"CREATED", "RUNNING", "CANCELING"})
RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
encoder = msgspec.json.Encoder()


class BulkConfig(msgspec.Struct):
    """How long result URLs stay valid (Shopify: seven days), and from how many table
    positions an operation is rendered by forked workers (`bulk_workers`), how many."""

    url_ttl_s: float = 7 * 86400.0
    parallel_from: int = 20_000
    workers: int = max(1, os.cpu_count() or 1)

    def __post_init__(self) -> None:
        if self.url_ttl_s <= 0:
            raise msgspec.ValidationError("url_ttl_s must be positive")
        if self.parallel_from < 1 or self.workers < 1:
            raise msgspec.ValidationError("parallel_from and workers must be at least 1")


class BulkOperation:
    """One operation's state; ``view()`` is the GraphQL object."""

    _ids = itertools.count(4_410_000_000_001)

    def __init__(self, query: str, document: DocumentNode, base_url: str, work_dir: str) -> None:
        self.id = next(self._ids)
        self.gid = f"gid://shopify/BulkOperation/{self.id}"
        self.query = query
        self.document = document
        self.base_url = base_url
        self.status = "CREATED"
        self.error_code: str | None = None
        self.created_at = _utc_now()
        self.completed_at: str | None = None
        self.finished_at: float | None = None  # monotonic, for URL expiry
        self.object_count = 0
        self.root_object_count = 0
        self.file_size = 0
        self.token = secrets.token_urlsafe(24)
        self.path = os.path.join(work_dir, f"{self.token}.jsonl")
        self.published = False  # the file is complete (url) or partial (partialDataUrl)
        self.cancel_requested = asyncio.Event()
        self.task: asyncio.Task | None = None

    def tally(self, lines: int, roots: int, size: int) -> None:
        """Count a batch written to the file: its lines, root objects and bytes."""
        self.object_count += lines
        self.root_object_count += roots
        self.file_size += size

    def file_url(self) -> str:
        return f"{self.base_url}/_bulk/{self.token}.jsonl"

    def view(self) -> dict[str, Any]:
        url = self.file_url() if self.published else None
        return {
            "__typename": "BulkOperation",
            "id": self.gid,
            "status": self.status,
            "errorCode": self.error_code,
            "createdAt": self.created_at,
            "completedAt": self.completed_at,
            "objectCount": str(self.object_count),
            "rootObjectCount": str(self.root_object_count),
            "fileSize": str(self.file_size) if self.status == "COMPLETED" else None,
            "url": url if self.status == "COMPLETED" else None,
            "partialDataUrl": url if self.status == "FAILED" else None,
            "query": self.query,
            "type": "QUERY",
        }


class BulkOperations:
    """The bulk operations of one shop."""

    def __init__(self, store: ShopStore, hooks: WebhookHub, faults: FaultInjector) -> None:
        self.store = store
        self.hooks = hooks
        self.faults = faults
        self.config = BulkConfig()
        self.operations: dict[str, BulkOperation] = {}
        self._work_dir: str | None = None

    def configure(self, config: BulkConfig) -> None:
        """New URL lifetime (applies to every operation, finished or not)."""
        self.config = config

    @property
    def work_dir(self) -> str:
        if self._work_dir is None:
            self._work_dir = tempfile.mkdtemp(prefix="xeno-sim-bulk-")
        return self._work_dir

    # GraphQL fields ----------------------------------------------------------------------

    def run_query(
        self, schema: GraphQLSchema, query: str, api_version: str, base_url: str
    ) -> dict[str, Any]:
        """``bulkOperationRunQuery``: start an operation, or say why not in userErrors."""
        try:
            document = _checked(schema, query)
        except ValueError as exc:
            return _run_payload(None, str(exc), "INVALID")
        running = sum(1 for op in self.operations.values() if self._status(op) in ACTIVE)
        if api_version < CONCURRENT_SINCE and api_version != "unstable":
            if running:
                message = "A bulk query operation for this app and shop is already in progress."
                return _run_payload(None, message, "OPERATION_IN_PROGRESS")
        elif running >= MAX_CONCURRENT:
            message = (
                f"A maximum of {MAX_CONCURRENT} bulk query operations can run at the same time "
                "for this app and shop."
            )
            return _run_payload(None, message, "LIMIT_REACHED")
        op = BulkOperation(query, document, base_url.rstrip("/"), self.work_dir)
        self.operations[op.gid] = op
        op.task = asyncio.get_running_loop().create_task(self._execute(op, self.faults.bulk_fate()))
        return _run_payload(op.view(), None, None)

    def get(self, gid: str) -> dict[str, Any] | None:
        """``bulkOperation(id:)`` / ``node(id:)``."""
        op = self.operations.get(gid)
        if op is None:
            return None
        self._status(op)
        return op.view()

    def current(self) -> dict[str, Any] | None:
        """``currentBulkOperation``: the most recently created operation."""
        if not self.operations:
            return None
        return self.get(next(reversed(self.operations)))

    def cancel(self, gid: str) -> dict[str, Any]:
        """``bulkOperationCancel``: a running operation becomes CANCELING, then CANCELED."""
        op = self.operations.get(gid)
        if op is None:
            error = {"field": ["id"], "message": "Bulk operation does not exist"}
            return {"bulkOperation": None, "userErrors": [error]}
        status = self._status(op)
        if status not in ("CREATED", "RUNNING"):
            message = f"A bulk operation cannot be canceled when it is {status.lower()}"
            return {"bulkOperation": op.view(), "userErrors": [{"field": None, "message": message}]}
        op.status = "CANCELING"
        op.cancel_requested.set()
        return {"bulkOperation": op.view(), "userErrors": []}

    # running -----------------------------------------------------------------------------

    async def _execute(self, op: BulkOperation, fate: BulkFate) -> None:
        op.status = "RUNNING"
        try:
            failed = await self._write(op, fate)
        except Exception:  # a broken query or store: Shopify's answer is a failed operation
            failed = True
        if op.cancel_requested.is_set():
            op.status = "CANCELED"
            with contextlib.suppress(FileNotFoundError):
                os.unlink(op.path)
        elif failed:
            op.status, op.error_code, op.published = "FAILED", "INTERNAL_SERVER_ERROR", True
        else:
            op.status, op.published = "COMPLETED", True
        op.completed_at = _utc_now()
        op.finished_at = time.monotonic()
        self.hooks.emit("bulk_operations/finish", _finish_payload(op))

    async def _write(self, op: BulkOperation, fate: BulkFate) -> bool:
        """Stream the lines to the file; True when the operation fails midway (a fault).
        A large operation without faults is rendered by forked workers."""
        from simulator.graphql import bulk_workers
        from simulator.graphql.bulk_lines import compile_read

        read = compile_read(self.store, op.document)
        if fate.clean and len(read.span()) >= self.config.parallel_from:
            await bulk_workers.render(read, op, self.config.workers)
            return False
        lines = read.lines()
        with open(op.path, "wb", buffering=CHUNK_BYTES) as out:
            while not op.cancel_requested.is_set():
                batch = list(itertools.islice(lines, BATCH_LINES))
                failed = False
                if fate.fail:
                    batch, failed = _until_root(batch, op.root_object_count, fate.fail_after)
                if batch:
                    data = encoder.encode_lines(batch)
                    out.write(data)
                    op.tally(len(batch), root_objects(batch), len(data))
                if failed:
                    return True
                if len(batch) < BATCH_LINES:
                    if not fate.stall:
                        return False
                    out.flush()
                    await op.cancel_requested.wait()  # never finishes on its own
                elif fate.pause_s:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(op.cancel_requested.wait(), fate.pause_s)
                else:
                    await asyncio.sleep(0)
        return False

    def _status(self, op: BulkOperation) -> str:
        """The status, turning a finished operation EXPIRED once its URL lifetime is over."""
        if (
            op.finished_at is not None
            and op.status in ("COMPLETED", "FAILED")
            and time.monotonic() - op.finished_at > self.config.url_ttl_s
        ):
            op.status, op.published = "EXPIRED", False
            with contextlib.suppress(FileNotFoundError):
                os.unlink(op.path)
        return op.status

    # files -------------------------------------------------------------------------------

    def file_for(self, token: str) -> BulkOperation | None:
        """The operation whose published file has this token, if still valid."""
        for op in self.operations.values():
            if op.token == token:
                return op if self._status(op) in ("COMPLETED", "FAILED") and op.published else None
        return None

    async def close(self) -> None:
        """Stop running operations and delete the work folder."""
        for op in self.operations.values():
            if op.task is not None and not op.task.done():
                op.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await op.task
        if self._work_dir is not None:
            shutil.rmtree(self._work_dir, ignore_errors=True)
            self._work_dir = None


def root_objects(batch: list[dict]) -> int:
    """How many lines of a batch are root objects (lines without ``__parentId``)."""
    return sum(1 for line in batch if "__parentId" not in line)


def _checked(schema: GraphQLSchema, query: str) -> DocumentNode:
    """The parsed inner query, or ValueError with Shopify's kind of message."""
    try:
        document = parse(query)
    except GraphQLError as exc:
        raise ValueError(f"Invalid bulk query: {exc.message}") from None
    errors = validate(schema, document)
    if errors:
        raise ValueError(f"Invalid bulk query: {errors[0].message}")
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1 or operations[0].operation.value != "query":
        raise ValueError("Invalid bulk query: a bulk query must be a single query operation.")
    root = operations[0].selection_set.selections
    if len(root) != 1 or not isinstance(root[0], FieldNode):
        raise ValueError("Invalid bulk query: a bulk query must select a single top-level field.")
    depths = _connection_depths(schema, document, root[0])
    if not depths:
        raise ValueError("Invalid bulk query: Bulk queries must contain at least one connection.")
    if len(depths) > MAX_CONNECTIONS:
        raise ValueError(
            f"Invalid bulk query: Bulk queries cannot contain more than {MAX_CONNECTIONS} "
            "connections."
        )
    if max(depths) > MAX_CONNECTION_DEPTH:
        raise ValueError(
            "Invalid bulk query: Bulk queries cannot contain connections with a nesting depth "
            f"greater than {MAX_CONNECTION_DEPTH}."
        )
    return document


def _until_root(batch: list[dict], roots_before: int, limit: int) -> tuple[list[dict], bool]:
    """Cut a failing operation's batch before its ``limit``-th + 1 root object."""
    roots = roots_before
    for i, line in enumerate(batch):
        if "__parentId" not in line:
            if roots >= limit:
                return batch[:i], True
            roots += 1
    return batch, False


def _connection_depths(schema: GraphQLSchema, document: DocumentNode, root: FieldNode) -> list[int]:
    """Nesting depth of every connection the query selects (the root connection is 1)."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    depths: list[int] = []

    def fields(selection_set: SelectionSetNode | None, on: Any) -> Iterator[tuple[FieldNode, Any]]:
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                yield selection, on
                continue
            if isinstance(selection, FragmentSpreadNode):
                fragment = fragments.get(selection.name.value)
                if fragment is None:
                    continue
                condition, inner = fragment.type_condition, fragment.selection_set
            else:
                assert isinstance(selection, InlineFragmentNode)
                condition, inner = selection.type_condition, selection.selection_set
            yield from fields(inner, schema.get_type(condition.name.value) if condition else on)

    def walk(node: FieldNode, parent_type: Any, depth: int) -> None:
        definition = getattr(parent_type, "fields", {}).get(node.name.value)
        if definition is None:
            return
        named = get_named_type(definition.type)
        if named.name.endswith("Connection"):
            depth += 1
            depths.append(depth)
        for child, on in fields(node.selection_set, named):
            walk(child, on, depth)

    walk(root, schema.query_type, 0)
    return depths


def _run_payload(
    operation: dict[str, Any] | None, message: str | None, code: str | None
) -> dict[str, Any]:
    errors = [] if message is None else [{"field": ["query"], "message": message, "code": code}]
    return {"bulkOperation": operation, "userErrors": errors}


def _finish_payload(op: BulkOperation) -> dict[str, Any]:
    """The ``bulk_operations/finish`` webhook body as Shopify sends it."""
    return {
        "admin_graphql_api_id": op.gid,
        "completed_at": op.completed_at,
        "created_at": op.created_at,
        "error_code": op.error_code.lower() if op.error_code else None,
        "status": op.status.lower(),
        "type": "query",
    }


def _utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# serving ---------------------------------------------------------------------------------

Send = Callable[[dict[str, Any]], Awaitable[None]]
EXPIRED_BODY = (
    b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>AccessDenied</Code>"
    b"<Message>Access denied.</Message><Details>Request has expired or the signature is "
    b"invalid.</Details></Error>"
)


async def serve_file(
    scope: dict[str, Any],
    send: Send,
    op: BulkOperation | None,
    drop: Callable[[], Awaitable[None]] | None,
) -> None:
    """Answer a download of ``op``'s file: whole (200) or a ``Range`` (206), streamed in
    1 MiB chunks; 403 for an unknown or expired token. With ``drop`` the connection is
    reset after half of the requested bytes (a download cut off midway)."""
    if op is None or scope["method"] not in ("GET", "HEAD"):
        status = 403 if scope["method"] in ("GET", "HEAD") else 405
        await _send_whole(send, status, EXPIRED_BODY, b"application/xml; charset=UTF-8")
        return
    size = os.path.getsize(op.path)
    start, end = 0, size - 1
    status = 200
    headers = [(b"accept-ranges", b"bytes"), (b"content-type", b"application/jsonl")]
    requested = dict(scope["headers"]).get(b"range")
    if requested is not None:
        parsed = _parse_range(requested.decode("latin-1"), size)
        if parsed is None:
            headers = [(b"content-range", f"bytes */{size}".encode())]
            await _send_whole(send, 416, b"", b"text/plain", headers)
            return
        start, end = parsed
        status = 206
        headers.append((b"content-range", f"bytes {start}-{end}/{size}".encode()))
    length = end - start + 1
    headers.append((b"content-length", str(length).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    if scope["method"] == "HEAD" or length <= 0:
        await send({"type": "http.response.body", "body": b""})
        return
    remaining = length if drop is None else max(1, length // 2)
    with open(op.path, "rb") as f:
        f.seek(start)
        while remaining > 0:
            chunk = f.read(min(CHUNK_BYTES, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            last = remaining <= 0 and drop is None
            await send({"type": "http.response.body", "body": chunk, "more_body": not last})
    if drop is not None:
        await drop()


def _parse_range(value: str, size: int) -> tuple[int, int] | None:
    """First range of a ``bytes=`` header as (start, end) inclusive, None if unsatisfiable."""
    m = RANGE.match(value.split(",")[0].strip())
    if m is None or m.group(1) == m.group(2) == "":
        return None
    if m.group(1) == "":  # suffix: the last n bytes
        n = int(m.group(2))
        return (max(0, size - n), size - 1) if n > 0 and size > 0 else None
    start = int(m.group(1))
    end = int(m.group(2)) if m.group(2) else size - 1
    if start >= size or end < start:
        return None
    return start, min(end, size - 1)


async def _send_whole(
    send: Send,
    status: int,
    body: bytes,
    content_type: bytes,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    head = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": head + (headers or [])})
    await send({"type": "http.response.body", "body": body})
