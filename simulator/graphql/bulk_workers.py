"""A large bulk operation's file, rendered by forked worker processes in slices.

Rendering costs the simulator about 0.1 ms of CPU per order, on the same machine as the
sync it serves; Shopify runs bulk operations on machines of its own. So a large operation
(`BulkConfig.parallel_from` table positions or more) is split into contiguous slices of
the table, one per worker (`BulkConfig.workers`); each forked worker renders its slice to
a part file and the parts are joined in order, so the file's lines are exactly those the
in-process path writes. A fork reads the store as it was when the operation started.

Each worker reports every batch (lines, root objects, bytes) through a pipe, so
`objectCount` grows while the operation runs; canceling stops the workers.
"""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import os
import signal
from collections.abc import Sequence
from itertools import islice
from multiprocessing.connection import Connection, wait
from typing import TYPE_CHECKING

from simulator.graphql.bulk import (
    BATCH_LINES,
    CHUNK_BYTES,
    BulkOperation,
    encoder,
    root_objects,
)

if TYPE_CHECKING:
    from simulator.graphql.bulk_lines import BulkRead

POLL_S = 0.02
_FORK = multiprocessing.get_context("fork")


class WorkerFailed(RuntimeError):
    """A worker process ended without its whole slice."""


def slices(span: range, parts: int) -> list[range]:
    """``span`` cut into at most ``parts`` contiguous, nearly equal ranges, in order."""
    step = max(1, -(-len(span) // max(1, parts)))
    return [span[k : k + step] for k in range(0, len(span), step)]


def _worker(read: BulkRead, positions: range, path: str, report: Connection) -> None:
    """Render the lines of ``positions`` to ``path`` in batches, telling ``report``
    (lines, root objects, bytes) after each."""
    # The fork inherited the server's signal handling (and its wakeup fd): a signal sent
    # to this worker must end it, never reach the server's event loop.
    signal.set_wakeup_fd(-1)
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, signal.SIG_DFL)
    gc.disable()  # short-lived: collecting would cost more than the memory it frees
    lines = read.lines(positions)
    with open(path, "wb", buffering=CHUNK_BYTES) as out:
        while batch := list(islice(lines, BATCH_LINES)):
            data = encoder.encode_lines(batch)
            out.write(data)
            report.send((len(batch), root_objects(batch), len(data)))
    report.close()


async def render(read: BulkRead, op: BulkOperation, workers: int) -> None:
    """Write ``op``'s file with forked workers, counting its objects as they come.
    Returns early (the file incomplete) when the operation is canceled; raises
    ``WorkerFailed`` when a worker dies."""
    parts = slices(read.span(), workers)
    paths = [op.path] + [f"{op.path}.part{k}" for k in range(1, len(parts))]
    processes, readers = [], []
    for positions, path in zip(parts, paths, strict=True):
        receive, send = _FORK.Pipe(duplex=False)
        process = _FORK.Process(target=_worker, args=(read, positions, path, send), daemon=True)
        process.start()
        send.close()
        processes.append(process)
        readers.append(receive)
    try:
        await _follow(op, readers)
        if op.cancel_requested.is_set():
            return
        for process in processes:
            process.join()
        if any(process.exitcode != 0 for process in processes):
            raise WorkerFailed("a bulk worker process failed")
        await asyncio.to_thread(_join, paths)
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
            process.join()
            process.close()
        for path in paths[1:]:
            if os.path.exists(path):
                os.unlink(path)


async def _follow(op: BulkOperation, readers: list[Connection]) -> None:
    """Count every batch the workers report until they all close their pipes."""
    open_readers = list(readers)
    while open_readers and not op.cancel_requested.is_set():
        for ready in wait(open_readers, timeout=0):
            assert isinstance(ready, Connection)
            try:
                while ready.poll():
                    op.tally(*ready.recv())
            except EOFError:
                open_readers.remove(ready)
        await asyncio.sleep(POLL_S)


def _join(paths: Sequence[str]) -> None:
    """Append every part file to the first, in order (copied by the kernel)."""
    with open(paths[0], "r+b") as out:
        out.seek(0, os.SEEK_END)
        for path in paths[1:]:
            with open(path, "rb") as part:
                remaining = os.fstat(part.fileno()).st_size
                while remaining > 0:
                    remaining -= os.copy_file_range(part.fileno(), out.fileno(), remaining)
