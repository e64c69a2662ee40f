"""Where the insights read conversations and keep their index, from the same settings as the Rasa server.

The tracker store is chosen as scripts/stores.py chooses it: PostgreSQL when ``TRACKER_DB_HOST`` is set
(``TRACKER_DB_PORT``, ``_NAME``, ``_USER``, ``_PASSWORD``), else the SQLite file. The index lives beside it:
``insights.db`` next to the SQLite file (the Rasa server stays that file's only writer), or ``insights_*``
tables in the same PostgreSQL database.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import sqlalchemy as sa
from sqlalchemy.engine import URL

from scripts.stores import POSTGRES_DEFAULTS, TRACKER_DB_HOST, TRACKER_DB_PASSWORD


@dataclass
class Stores:
    source: sa.engine.Engine  # the tracker store (read; written only to erase)
    target: sa.engine.Engine  # the insights index

    @property
    def dialect(self) -> str:
        return self.source.dialect.name


def _sqlite(path: Path) -> sa.engine.Engine:
    engine = sa.create_engine(f"sqlite:///{path}", connect_args={"timeout": 15, "check_same_thread": False})

    @sa.event.listens_for(engine, "connect")
    def _wal(connection, _record) -> None:  # readers never block the Rasa server's writes
        connection.execute("PRAGMA journal_mode=WAL")

    return engine


def postgres_url(env: Mapping[str, str]) -> URL:
    setting = lambda name: env.get(name) or POSTGRES_DEFAULTS[name]  # noqa: E731
    return URL.create("postgresql", username=setting("TRACKER_DB_USER"), password=env.get(TRACKER_DB_PASSWORD) or None,
                      host=env[TRACKER_DB_HOST], port=int(setting("TRACKER_DB_PORT")), database=setting("TRACKER_DB_NAME"))


def open_stores(env: Mapping[str, str], sqlite_file: Path) -> Stores:
    if env.get(TRACKER_DB_HOST):
        engine = sa.create_engine(postgres_url(env), pool_size=2, max_overflow=2, pool_pre_ping=True)
        return Stores(engine, engine)
    sqlite_file.parent.mkdir(parents=True, exist_ok=True)
    return Stores(_sqlite(sqlite_file), _sqlite(sqlite_file.with_name("insights.db")))
