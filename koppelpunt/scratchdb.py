"""A throw-away PostgreSQL database next to the one DATABASE_URL names, for benchmarks and multi-process tests.

Worker processes of those runs need a real database of their own that outlives one test transaction; pytest-
django's test database is per test process and rolled back, so they get a fresh one that is dropped afterwards
(WITH (FORCE), so a crashed worker's open connection cannot keep it alive).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlparse, urlunparse


def is_postgres(url: str | None) -> bool:
    return bool(url) and str(url).startswith(("postgres://", "postgresql://"))


@contextmanager
def scratch_database(base_url: str, prefix: str = "kp_scratch") -> Iterator[str]:
    """Create an empty database on the server of `base_url` and yield its URL; drop it on exit."""
    import psycopg  # only needed when PostgreSQL is in use

    name = f"{prefix}_{secrets.token_hex(4)}"
    parsed = urlparse(base_url)
    admin = urlunparse(parsed._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunparse(parsed._replace(path="/" + name))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
