"""Fixtures: a real PostgreSQL of its own (Debian's, on a free port, data in a temporary folder), and the same
synthetic conversations in a SQLite tracker store and in PostgreSQL."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Iterator

import pytest
import sqlalchemy as sa

from addons.insights import synthetic
from addons.insights.store import Stores, open_stores
from scripts import packages
from scripts.scaled import DB_NAME, DB_USER, Postgres
from scripts.stack import free_port

#: Seeded conversations: enough for every table to have rows, few enough to write in a second.
CONVERSATIONS = 600


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    absent = packages.missing(["postgresql"])
    if absent:
        pytest.fail(f"needs {', '.join(absent)}: `make test` installs it as root, else run "
                    f"`{packages.install_command(absent)}`")
    workdir = Path(tempfile.mkdtemp(prefix="insights-pg-"))  # not pytest's tmp_path: PostgreSQL runs as postgres
    workdir.chmod(0o755)
    server = Postgres("postgres", workdir / "postgres.log", data=workdir / "data", port=free_port(), durable=False)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def postgres_env(server: Postgres) -> dict:
    return {"TRACKER_DB_HOST": "127.0.0.1", "TRACKER_DB_PORT": str(server.port), "TRACKER_DB_NAME": DB_NAME,
            "TRACKER_DB_USER": DB_USER}


def reset(stores: Stores) -> None:
    """An empty tracker store and index (PostgreSQL is shared by the session's tests)."""
    with stores.target.begin() as connection:
        for name in reversed(sa.inspect(connection).get_table_names()):
            connection.execute(sa.text(f'DROP TABLE "{name}"'))


@pytest.fixture
def sqlite_stores(tmp_path) -> Stores:
    return open_stores({}, tmp_path / "tracker.db")


@pytest.fixture
def pg_stores(postgres) -> Iterator[Stores]:
    stores = open_stores(postgres_env(postgres), Path("/nonexistent"))
    reset(stores)
    try:
        yield stores
    finally:
        reset(stores)
        stores.source.dispose()


def seed(stores: Stores, conversations: int = CONVERSATIONS) -> int:
    return synthetic.write(stores.source, synthetic.generate(conversations))
