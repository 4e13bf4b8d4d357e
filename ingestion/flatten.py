"""Bulk-format JSONL into the raw tables, with DuckDB: one SQL statement per raw table.

`flatten(resource, paths)` reads a resource's JSONL files (a bulk operation's result, or lines
written by `ingestion.lines`) once into a DuckDB database on disk, then runs each table's
statement (`flatten_sql/<table>.sql`): GIDs become integers, camelCase the raw column names,
`MoneyBag` exact DECIMAL, `__parentId` the parent key. The result streams out as Arrow record
batches shaped exactly like `ingestion.raw_contract`, never a whole store in memory.

A malformed line ends the flatten with one `FlattenError` naming the file and line, before
any batch is produced, so a broken file never becomes a partial load.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pyarrow as pa

BATCH_ROWS = 100_000


class FlattenError(ValueError):
    """A JSONL input that cannot be read; the message names the file and the line."""


def flatten(
    resource: str,
    paths: Sequence[Path],
    *,
    work_dir: Path | None = None,
    batch_rows: int = BATCH_ROWS,
) -> Iterator[tuple[str, pa.RecordBatch]]:
    """(raw table, batch) pairs for every table of `resource`, root table first.

    `work_dir` holds DuckDB's spill and staging files (a temporary folder by default)."""
    raise NotImplementedError
