"""Database resolution, provisioning and `connect`, the one way batch code reaches it."""

from __future__ import annotations

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from core import db
from core.settings import get_settings


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
    assert db.resolve_database_url(get_settings()) == database_url


def test_connect_commits_or_rolls_back(database_url):
    settings = get_settings()
    with db.connect(settings) as conn:
        conn.execute("create table if not exists app.tx_probe (v int)")
    with pytest.raises(ZeroDivisionError), db.connect(settings) as conn:
        conn.execute("insert into app.tx_probe values (1)")
        raise ZeroDivisionError
    with db.connect(settings) as conn:
        conn.execute("insert into app.tx_probe values (2)")
    with db.connect(settings) as conn:
        assert conn.execute("select array_agg(v) from app.tx_probe").fetchone() == ([2],)
        conn.execute("drop table app.tx_probe")


def test_connect_with_autocommit_keeps_each_statement(database_url, make_database):
    """Autocommit: a failing block keeps what ran before it; and `on_database` reaches
    another database with the same settings."""
    settings = get_settings()
    with pytest.raises(ZeroDivisionError), db.connect(settings, autocommit=True) as conn:
        conn.execute("create table app.autocommit_probe (v int)")
        raise ZeroDivisionError
    with db.connect(settings, autocommit=True) as conn:
        assert conn.execute("select to_regclass('app.autocommit_probe')").fetchone() != (None,)
        conn.execute("drop table app.autocommit_probe")
    other = make_database()
    with db.connect(settings.on_database(other)) as conn:
        name = conn.execute("select current_database()").fetchone()
    assert name == (conninfo_to_dict(other)["dbname"],)
