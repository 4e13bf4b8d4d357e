"""Database resolution, provisioning and the pooled transaction helper."""

from __future__ import annotations

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from core import db


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            "postgresql://postgres@127.0.0.1:5432/postgres",
            {
                "host": "127.0.0.1",
                "port": "5432",
                "dbname": "x",
                "user": "xeno",
                "password": "p@ss",
            },
        ),
        (
            "host=/run/pg dbname=postgres user=postgres",
            {"host": "/run/pg", "dbname": "x", "user": "xeno", "password": "p@ss"},
        ),
    ],
)
def test_with_database_builds_an_equivalent_url(source, expected):
    url = db.with_database(source, "x", user="xeno", password="p@ss")
    assert url.startswith("postgresql://")
    assert conninfo_to_dict(url) == expected


def test_create_database_is_idempotent_and_gives_a_password_login(admin_url, make_database):
    url = make_database()
    name = conninfo_to_dict(url)["dbname"]
    assert db.create_database(admin_url, name) == url
    with psycopg.connect(url) as conn:
        assert conn.execute("select current_user").fetchone() == ("xeno",)
        conn.execute("create table kept (id int)")
        conn.commit()
    db.create_database(admin_url, name, drop_first=True)
    with psycopg.connect(url) as conn:
        assert conn.execute("select to_regclass('kept')").fetchone() == (None,)


def test_explicit_database_url_wins(database_url):
    assert db.resolve_database_url() == database_url


def test_transaction_commits_or_rolls_back(database_url):
    with db.transaction() as conn:
        conn.execute("create table if not exists app.tx_probe (v int)")
    with pytest.raises(ZeroDivisionError), db.transaction() as conn:
        conn.execute("insert into app.tx_probe values (1)")
        raise ZeroDivisionError
    with db.transaction() as conn:
        conn.execute("insert into app.tx_probe values (2)")
    with db.transaction() as conn:
        assert conn.execute("select array_agg(v) from app.tx_probe").fetchone() == ([2],)
        conn.execute("drop table app.tx_probe")
