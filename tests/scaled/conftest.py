"""The scaled-out assistant for real: PostgreSQL, Redis, two Rasa replicas, the action server, nginx.

All on loopback, on free ports, with data in a temporary folder, started once for this folder and always
stopped. Debian's postgresql, redis-server and nginx are needed (`make test` installs them, scripts/packages.py):
without them the tests fail, naming the command that installs them.
"""
from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Iterator, List, Tuple

import pytest

from scripts import packages
from scripts.scaled import Redis, Scaled
from scripts.stack import MODEL, Stack, free_port
from tests.conftest import Conversation


def require_packages() -> None:
    """A missing package is a failure, not a skip."""
    absent = packages.missing(packages.NEEDS["scaled"])
    if absent:
        pytest.fail(f"needs the Debian packages {', '.join(absent)}: `make test` installs them as root, else run "
                    f"`{packages.install_command(absent)}`")


@pytest.fixture(scope="module")
def redis_port() -> Iterator[int]:
    """A real Redis server of its own on a free loopback port (Debian's redis-server), always stopped."""
    require_packages()
    with tempfile.TemporaryDirectory(prefix="redis-test-") as workdir:
        server = Redis("redis", Path(workdir) / "redis.log", data=Path(workdir), port=free_port())
        try:
            server.start()
            yield server.port
        finally:
            server.stop()


def scaled_workdir(prefix: str) -> Path:
    """A new folder for a scaled-out topology's data, once its packages and the model are there.

    Not under pytest's tmp_path: its parent is private to root, and PostgreSQL runs as `postgres`.
    """
    require_packages()
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run the tests with `make test`, which trains it")
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    workdir.chmod(0o755)
    return workdir


@pytest.fixture(scope="session")
def scaled() -> Iterator[Scaled]:
    workdir = scaled_workdir("scaled-test-")
    topology = Scaled(workdir=workdir, port=free_port(), action_port=free_port(), durable=False)
    try:
        topology.start(timeout=240)
        yield topology
    finally:
        topology.stop()
        shutil.rmtree(workdir, ignore_errors=True)


class RoutedConversation(Conversation):
    """One user whose every turn can go to a chosen replica, or through nginx."""

    def via(self, server: Stack, text: str) -> str:
        self.stack = server
        return self.say(text)


def through_nginx(topology: Scaled) -> Stack:
    """The action server's Stack has nginx's port as its Rasa port: its ``say`` goes through nginx."""
    return topology.front


def user_events(topology: Scaled, sender: str) -> List[Tuple[str, str]]:
    """(type, text) of the conversation's user and bot events, in the order PostgreSQL stored them."""
    connection = topology.postgres.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT type_name, data FROM events WHERE sender_id = %s AND type_name IN ('user', 'bot') "
                           "ORDER BY id", (sender,))
            return [(kind, json.loads(data).get("text") or "") for kind, data in cursor.fetchall()]
    finally:
        connection.close()


def replicas_that_answered(topology: Scaled) -> List[int]:
    """Upstream port of each REST request nginx passed on so far (its access log), in order."""
    log = topology.nginx.prefix / "access.log"
    ports = []
    for line in log.read_text().splitlines():
        method, uri, _status, upstream = (line.split(" ", 3) + [""] * 4)[:4]
        if method == "POST" and uri.startswith("/webhooks/rest"):
            ports.append(int(upstream.split(",")[-1].strip().rsplit(":", 1)[-1]))
    return ports
