"""Bulk-format JSONL into the raw tables, with DuckDB: one SQL statement per raw table.

`flatten(resource, paths)` reads a resource's JSONL files (a bulk operation's result, or lines
written by `ingestion.lines`) once into a DuckDB table (`src`, in file order), then
runs each raw table's statement (`flatten_sql/<table>.sql`): GIDs become integers, camelCase
the raw column names, `MoneyBag` exact DECIMAL, `__parentId` the parent key. Each result is
cast to `ingestion.raw_contract` (its columns, order and types) and written as Parquet to
the working folder; with DuckDB closed, the tables stream out as Arrow record batches.
DuckDB works within `MEMORY_LIMIT` (spilling to disk): never a whole store in memory.

A malformed line ends the flatten with one `FlattenError` naming the file and line, before
any batch is produced, so a broken file never becomes a partial load.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]

from ingestion.raw_contract import BY_NAME, DELETED_AT, MONEY, tables_of

if TYPE_CHECKING:  # imported where it runs: a process whose flattening runs in a child
    import duckdb  # never loads it (25 MiB, and 40 more once it has run)

# Rows per Arrow batch handed to dlt: the sync process holds a few batches at a time, so
# its peak memory follows this, not the store.
BATCH_ROWS = 10_000
ROW_GROUP_ROWS = 25_000
# Inputs up to this size (a webhook batch, a page of increments) are flattened in this
# process; larger ones in a child process, which returns DuckDB's memory when it exits
# (DuckDB keeps what it used: a 30 MiB input left the process 50 MiB bigger).
IN_PROCESS_BYTES = 4 * 2**20
# DuckDB's own memory, spilling to the working folder beyond it (a million orders' line
# positions and totals need about this much).
MEMORY_LIMIT = "192MB"
SQL_DIR = Path(__file__).with_name("flatten_sql")

# Amounts are decimal strings: read straight into exact DECIMAL (never a float).
MONEY_BAG = f"STRUCT(shopMoney STRUCT(amount {MONEY}))"
PRICED_BAG = f"STRUCT(shopMoney STRUCT(amount {MONEY}, currencyCode VARCHAR))"
REF = "STRUCT(id VARCHAR)"
# a refund's transactions: a connection inside a plain list, so inline in the order's line
TRANSACTIONS = (
    "STRUCT(edges STRUCT(node STRUCT(id VARCHAR, kind VARCHAR, status VARCHAR,"
    f" gateway VARCHAR, createdAt TIMESTAMPTZ, processedAt TIMESTAMPTZ, amountSet {MONEY_BAG}))[])"
)
CUSTOMER_REF = (
    "STRUCT(id VARCHAR, firstName VARCHAR, lastName VARCHAR,"
    " defaultEmailAddress STRUCT(emailAddress VARCHAR))"
)
# What each resource's lines may hold (every line kind's fields, as in `ingestion.queries`);
# fields not listed are ignored, absent ones are null.
_COMMON = {"id": "VARCHAR", "__parentId": "VARCHAR", "createdAt": "TIMESTAMPTZ"}
INPUT: dict[str, dict[str, str]] = {
    "shop": {
        **_COMMON,
        "name": "VARCHAR",
        "myshopifyDomain": "VARCHAR",
        "primaryDomain": "STRUCT(host VARCHAR)",
        "currencyCode": "VARCHAR",
        "ianaTimezone": "VARCHAR",
        "email": "VARCHAR",
        "plan": "STRUCT(publicDisplayName VARCHAR)",
        "updatedAt": "TIMESTAMPTZ",
    },
    "customers": {
        **_COMMON,
        "firstName": "VARCHAR",
        "lastName": "VARCHAR",
        "state": "VARCHAR",
        "tags": "VARCHAR[]",
        "verifiedEmail": "BOOLEAN",
        "updatedAt": "TIMESTAMPTZ",
        "defaultEmailAddress": "STRUCT(emailAddress VARCHAR, marketingState VARCHAR)",
        "defaultPhoneNumber": "STRUCT(phoneNumber VARCHAR)",
        "defaultAddress": (
            "STRUCT(city VARCHAR, province VARCHAR, country VARCHAR, countryCodeV2 VARCHAR)"
        ),
    },
    "products": {
        **_COMMON,
        "title": "VARCHAR",
        "handle": "VARCHAR",
        "vendor": "VARCHAR",
        "productType": "VARCHAR",
        "status": "VARCHAR",
        "tags": "VARCHAR[]",
        "updatedAt": "TIMESTAMPTZ",
        "publishedAt": "TIMESTAMPTZ",
        "sku": "VARCHAR",
        "price": "VARCHAR",
        "compareAtPrice": "VARCHAR",
        "position": "BIGINT",
        "inventoryQuantity": "BIGINT",
    },
    "orders": {
        **_COMMON,
        "name": "VARCHAR",
        "number": "BIGINT",
        "email": "VARCHAR",
        "updatedAt": "TIMESTAMPTZ",
        "processedAt": "TIMESTAMPTZ",
        "cancelledAt": "TIMESTAMPTZ",
        "cancelReason": "VARCHAR",
        "closedAt": "TIMESTAMPTZ",
        "test": "BOOLEAN",
        "displayFinancialStatus": "VARCHAR",
        "displayFulfillmentStatus": "VARCHAR",
        "currencyCode": "VARCHAR",
        "subtotalPriceSet": MONEY_BAG,
        "totalPriceSet": MONEY_BAG,
        "totalTaxSet": MONEY_BAG,
        "totalDiscountsSet": MONEY_BAG,
        "totalShippingPriceSet": MONEY_BAG,
        "discountCodes": "VARCHAR[]",
        "customer": CUSTOMER_REF,
        "refunds": f"STRUCT(id VARCHAR, createdAt TIMESTAMPTZ, transactions {TRANSACTIONS})[]",
        # line items
        "title": "VARCHAR",
        "variantTitle": "VARCHAR",
        "sku": "VARCHAR",
        "vendor": "VARCHAR",
        "quantity": "BIGINT",
        "isGiftCard": "BOOLEAN",
        "originalUnitPriceSet": MONEY_BAG,
        "variant": REF,
        "product": REF,
        "discountAllocations": (
            f"STRUCT(allocatedAmountSet {MONEY_BAG}, discountApplication STRUCT(index BIGINT))[]"
        ),
        # shipping lines
        "code": "VARCHAR",
        "originalPriceSet": MONEY_BAG,
    },
    "abandoned_checkouts": {
        **_COMMON,
        "name": "VARCHAR",
        "updatedAt": "TIMESTAMPTZ",
        "completedAt": "TIMESTAMPTZ",
        "abandonedCheckoutUrl": "VARCHAR",
        "subtotalPriceSet": MONEY_BAG,
        "totalPriceSet": PRICED_BAG,
        "totalTaxSet": MONEY_BAG,
        "totalDiscountSet": MONEY_BAG,
        "customer": CUSTOMER_REF,
        # line items
        "title": "VARCHAR",
        "variantTitle": "VARCHAR",
        "sku": "VARCHAR",
        "quantity": "BIGINT",
        "originalUnitPriceSet": MONEY_BAG,
        "originalTotalPriceSet": MONEY_BAG,
        "variant": REF,
        "product": REF,
    },
}

MACROS = (
    # `gid://shopify/Order/123` -> 123 (an error, not a null, for anything else)
    "create or replace macro gid_number(g) as cast(split_part(g, '/', 5) as bigint)",
    "create or replace macro gid_type(g) as split_part(g, '/', 4)",
    "create or replace macro money(bag) as cast(bag.shopMoney.amount as {money})",
)


class FlattenError(ValueError):
    """A JSONL input that cannot be read; the message names the file and the line."""


@cache
def table_sql(table: str) -> str:
    """The statement producing one raw table from `src`, cast to the contract."""
    columns = BY_NAME[table].columns
    body = (SQL_DIR / f"{table}.sql").read_text()
    cast = ", ".join(f'cast("{name}" as {kind}) as "{name}"' for name, kind in columns.items())
    # a flattened record is live: deletion is only ever set in the warehouse
    return f"select {cast} from (select *, null as {DELETED_AT} from ({body}))"


def _struct(fields: dict[str, str]) -> str:
    return "{" + ", ".join(f"'{name}': '{kind}'" for name, kind in fields.items()) + "}"


_LINE = re.compile(r'in file "(?P<file>[^"]+)", at byte \d+ in line (?P<line>\d+)')


def _first_bad_line(path: str, near: int) -> int:
    """The exact line of a JSON error DuckDB located at `near` (it may count a broken
    object's continuation): the first line around it that is not a JSON object."""
    start = max(1, near - 2)
    with open(path, encoding="utf-8", errors="replace") as lines:
        for number, text in enumerate(islice(lines, start - 1, near), start):
            try:
                if not isinstance(json.loads(text), dict):
                    return number
            except ValueError:
                return number
    return near


def _error(exc: duckdb.Error, paths: Sequence[Path]) -> FlattenError:
    message = str(exc).split("\n")[0].removeprefix("Invalid Input Error: ")
    found = _LINE.search(message)
    if found:
        line = _first_bad_line(found["file"], int(found["line"]))
        reason = message.rsplit(":", 1)[-1].strip() or "malformed JSON"
        return FlattenError(f"{found['file']}, line {line}: malformed JSON ({reason})")
    names = ", ".join(str(p) for p in paths)
    return FlattenError(f"{names}: unreadable bulk lines: {message}")


@contextmanager
def _database(work_dir: Path | None) -> Iterator[duckdb.DuckDBPyConnection]:
    import duckdb

    with tempfile.TemporaryDirectory(dir=work_dir, prefix="duckdb-") as folder:
        # in memory (a third faster to fill than a database file), paging out to the
        # folder beyond MEMORY_LIMIT
        con = duckdb.connect(":memory:")
        try:
            con.execute(f"set memory_limit = '{MEMORY_LIMIT}'")
            con.execute(f"set temp_directory = '{folder}'")
            con.execute("set preserve_insertion_order = true")
            con.execute("set TimeZone = 'UTC'")
            for macro in MACROS:
                con.execute(macro.format(money=MONEY))
            yield con
        finally:
            con.close()


def _keep_newest_versions(con: duckdb.DuckDBPyConnection) -> None:
    """Of a record read twice (paged reads while the store changes), keep its last version's
    lines only: the root line and the child lines that follow it. A bulk file has each
    record once and costs only the check."""
    (repeated,) = con.execute(
        "select count(*) > count(distinct id) from src where __parentId is null"
    ).fetchone() or (False,)
    if not repeated:
        return
    con.execute(
        "create table newest as select * from src where rowid in ("
        " select line from ("
        "  select rowid as line,"
        "   max(case when __parentId is null then rowid end)"
        "    over (partition by coalesce(__parentId, id) order by rowid) as version,"
        "   max(case when __parentId is null then rowid end)"
        "    over (partition by coalesce(__parentId, id)) as last_version"
        "  from src)"
        " where version = last_version)"
        " order by rowid"
    )
    con.execute("drop table src")
    con.execute("alter table newest rename to src")


def flatten_to_parquet(resource: str, paths: Sequence[Path], folder: Path) -> dict[str, Path]:
    """Each raw table of `resource` as a Parquet file in `folder` (tables without rows
    left out), root table first. DuckDB is closed when this returns, so the load that
    follows does not share the process' memory with it."""
    import duckdb

    files = [str(p) for p in paths if Path(p).stat().st_size > 0]
    written: dict[str, Path] = {}
    if not files:
        return written
    with _database(folder) as con:
        try:
            con.execute(
                "create table src as select * from read_json(?, format = 'newline_delimited', "
                f"columns = {_struct(INPUT[resource])})",
                [files],
            )
        except duckdb.Error as exc:
            raise _error(exc, paths) from None
        _keep_newest_versions(con)
        con.execute("set preserve_insertion_order = false")  # positions come from `rowid`
        for table in tables_of(resource):
            target = folder / f"{table.name}.parquet"
            try:
                (count,) = con.execute(
                    f"copy ({table_sql(table.name)}) to '{target}' "
                    f"(format parquet, compression snappy, row_group_size {ROW_GROUP_ROWS}, "
                    "return_stats false)"
                ).fetchone() or (0,)
            except duckdb.Error as exc:
                raise _error(exc, paths) from None
            if count:
                written[table.name] = target
    return written


def _flatten_in_child(resource: str, paths: Sequence[Path], folder: Path) -> dict[str, Path]:
    """`flatten_to_parquet` in a process of its own (`python -m ingestion.flatten`): DuckDB's
    memory is returned when it exits, so the loading process stays small."""
    command = [sys.executable, "-m", "ingestion.flatten", resource, str(folder), *map(str, paths)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 (this interpreter, this module)
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or [f"exit status {done.returncode}"]
        _, named, message = lines[-1].partition("FlattenError: ")
        raise FlattenError(message if named else lines[-1])
    return {table: Path(path) for table, path in json.loads(done.stdout).items()}


def flatten(
    resource: str,
    paths: Sequence[Path],
    *,
    work_dir: Path | None = None,
    batch_rows: int = BATCH_ROWS,
    in_process: bool | None = None,
) -> Iterator[tuple[str, pa.RecordBatch]]:
    """(raw table, batch) pairs for every table of `resource`, root table first.

    Every input line is read (and any error raised) before the first pair. `work_dir`
    holds DuckDB's spill files and the flattened tables (a temporary folder by default).
    DuckDB runs in this process when `in_process` says so (by default: for inputs up to
    IN_PROCESS_BYTES), else in a child process."""
    with tempfile.TemporaryDirectory(dir=work_dir, prefix="flatten-") as folder:
        if in_process is None:
            in_process = sum(Path(p).stat().st_size for p in paths) <= IN_PROCESS_BYTES
        run = flatten_to_parquet if in_process else _flatten_in_child
        for table, path in run(resource, paths, Path(folder)).items():
            # pre-buffering reads ahead of the batches: at a million orders, 80 MiB more
            for batch in pq.ParquetFile(path, pre_buffer=False).iter_batches(batch_rows):
                yield table, batch


def live_ids(path: Path, *, batch_rows: int = BATCH_ROWS) -> Iterator[pa.RecordBatch]:
    """The record ids (bigint) of a bulk JSONL listing ids (`{"id": "gid://..."}` lines)."""
    import duckdb

    with _database(None) as con:
        try:
            reader = con.sql(
                "select gid_number(id) as id from read_json($path, "
                "format = 'newline_delimited', "
                "columns = {'id': 'VARCHAR', '__parentId': 'VARCHAR'}) where __parentId is null",
                params={"path": str(path)},
            ).to_arrow_reader(batch_rows)
            yield from reader
        except duckdb.Error as exc:
            raise _error(exc, [path]) from None


if __name__ == "__main__":  # python -m ingestion.flatten RESOURCE FOLDER FILE...: the tables
    written = flatten_to_parquet(sys.argv[1], [Path(p) for p in sys.argv[3:]], Path(sys.argv[2]))
    print(json.dumps({table: str(path) for table, path in written.items()}))
