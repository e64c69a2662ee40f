"""The scaled-out topology on one machine: PostgreSQL, Redis, N Rasa replicas, one action server, nginx.

    nginx :port ─┬─ /socket.io/  sticky (ip_hash)   ─┐
                 └─ everything else  round-robin     ─┼─> Rasa replica 1..N ──> action server
                                                      │        │
                                    PostgreSQL (tracker store) + Redis (lock store)

Used by ``make run-scaled`` (scripts/serve_scaled.py) and by tests/scaled/ (free ports, temporary data),
so both run the same commands. PostgreSQL, Redis and nginx come from Debian's packages
(:mod:`scripts.packages`); each runs in the foreground as our child, with its data and logs under
``workdir``. PostgreSQL trusts loopback connections here: this is a local set-up, not production
(docs/deployment.md).
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional

from scripts import stores
from scripts.packages import binary
from scripts.stack import Stack, free_port, http_ok
from scripts.supervise import Child

DB_USER = DB_NAME = "rasa"


def wait_for(what: str, ready: Callable[[], bool], process: subprocess.Popen, timeout: float) -> None:
    """Poll ``ready`` until true; fail early if ``process`` exits, or after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not ready():
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with code {process.returncode} while starting")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not ready after {timeout:.0f}s")
        time.sleep(0.2)


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def stop_process(process: Optional[subprocess.Popen], timeout: float = 20.0) -> None:
    """SIGINT to the process group (a fast, clean shutdown for all of ours), then SIGKILL."""
    if process is None or process.poll() is not None:
        return
    for sig, wait in ((signal.SIGINT, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


@dataclass
class Service:
    """One server run as our child, in its own process group, logging to ``log``."""
    name: str
    log: Path
    process: Optional[subprocess.Popen] = None

    def spawn(self, args: List[str], user: Optional[str] = None) -> subprocess.Popen:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True, user=user)
        return self.process

    def launch(self) -> None:
        """Start the server (returns at once; :meth:`ready` says when it answers)."""
        raise NotImplementedError

    def ready(self) -> bool:
        raise NotImplementedError

    def start(self, timeout: float = 30.0) -> None:
        self.launch()
        wait_for(self.name, self.ready, self.process, timeout)

    def stop(self) -> None:
        stop_process(self.process)

    def child(self, label: str) -> Child:
        """This server for the supervisor (scripts/supervise.py)."""
        return Child(label, lambda: self.process, self.launch, self.ready)


def _postgres_user() -> Optional[str]:
    """PostgreSQL refuses to run as root: then it runs as Debian's ``postgres`` user."""
    return "postgres" if os.geteuid() == 0 else None


@dataclass
class Postgres(Service):
    data: Path = Path()
    port: int = 0
    max_connections: int = 100
    durable: bool = True

    def _own(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        if _postgres_user():
            shutil.chown(path, "postgres", "postgres")
        path.chmod(0o700)

    def init(self) -> None:
        if (self.data / "PG_VERSION").exists():
            return
        self._own(self.data)
        args = [binary("initdb"), "-D", str(self.data), "-U", DB_USER, "--auth=trust", "-E", "UTF8"]
        subprocess.run(args + ([] if self.durable else ["--no-sync"]), check=True, user=_postgres_user(),
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)

    def launch(self) -> None:
        settings = {"listen_addresses": "127.0.0.1", "port": self.port, "unix_socket_directories": str(self.data),
                    "max_connections": self.max_connections}
        if not self.durable:
            settings.update(fsync="off", synchronous_commit="off", full_page_writes="off")
        args = [binary("postgres"), "-D", str(self.data)]
        for key, value in settings.items():
            args += ["-c", f"{key}={value}"]
        self.spawn(args, user=_postgres_user())

    def start(self, timeout: float = 60.0) -> None:
        self.init()
        super().start(timeout)
        self._create_database()

    def connect(self, database: str = DB_NAME):
        import psycopg2  # installed with Rasa (its PostgreSQL driver)

        return psycopg2.connect(host="127.0.0.1", port=self.port, user=DB_USER, dbname=database, connect_timeout=3)

    def ready(self) -> bool:
        import psycopg2

        try:
            self.connect("postgres").close()
            return True
        except psycopg2.OperationalError:
            return False

    def _create_database(self) -> None:
        connection = self.connect("postgres")
        try:
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DB_NAME,))
                if cursor.fetchone() is None:
                    cursor.execute(f'CREATE DATABASE "{DB_NAME}"')
        finally:
            connection.close()


@dataclass
class Redis(Service):
    data: Path = Path()
    port: int = 0

    def launch(self) -> None:
        self.data.mkdir(parents=True, exist_ok=True)
        # Locks live for seconds: nothing to persist.
        self.spawn([binary("redis-server"), "--bind", "127.0.0.1", "--port", str(self.port),
                    "--dir", str(self.data), "--save", "", "--appendonly", "no", "--daemonize", "no"])

    def ready(self) -> bool:
        return port_open(self.port)


NGINX_CONF = """\
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    log_format upstream '$request_method $uri $status $upstream_addr';  # which replica answered
    access_log {prefix}/access.log upstream;
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    client_max_body_size 1m;

    # REST: any replica can take any message (the conversation is in PostgreSQL, its lock in Redis).
    upstream rasa_round_robin {{
{round_robin}
    }}
    # socket.io: a connection's polling requests and its websocket must reach the replica that holds it.
    upstream rasa_sticky {{
        ip_hash;
{sticky}
    }}
    map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}

    server {{
        listen {listen}:{port};
        proxy_http_version 1.1;
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_connect_timeout 2s;
        proxy_read_timeout 120s;

        location = /nginx-health {{ return 200 "ok\\n"; }}
        location /socket.io/ {{
            proxy_pass http://rasa_sticky;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
        }}
        location / {{
            proxy_pass http://rasa_round_robin;
            # A replica that refuses the connection is skipped; a request it already received is not resent.
            proxy_next_upstream error timeout;
        }}
    }}
}}
"""


@dataclass
class Nginx(Service):
    prefix: Path = Path()
    port: int = 0
    upstreams: List[int] = field(default_factory=list)
    listen: str = "127.0.0.1"

    def config(self) -> Path:
        for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (self.prefix / "tmp" / sub).mkdir(parents=True, exist_ok=True)
            (self.prefix / "tmp" / sub).chmod(0o777)  # nginx's workers drop root to `nobody`
        servers = [f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;" for port in self.upstreams]
        path = self.prefix / "nginx.conf"
        path.write_text(NGINX_CONF.format(prefix=self.prefix, listen=self.listen, port=self.port,
                                          round_robin="\n".join(servers), sticky="\n".join(servers)))
        return path

    def launch(self) -> None:
        conf = self.config()
        self.spawn([binary("nginx"), "-p", str(self.prefix), "-c", str(conf),
                    "-e", str(self.prefix / "error.log"), "-g", "daemon off;"])

    def ready(self) -> bool:
        return http_ok(f"http://127.0.0.1:{self.port}/nginx-health", timeout=1)


@dataclass
class Scaled:
    """PostgreSQL + Redis + ``replicas`` Rasa servers + one action server + nginx (+ the demo page)."""
    workdir: Path
    port: int = 5005
    action_port: int = 5055
    web_port: Optional[int] = None
    replicas: int = 2
    listen: str = "127.0.0.1"
    durable: bool = True
    quiet: bool = True
    postgres_port: int = field(default_factory=free_port)
    redis_port: int = field(default_factory=free_port)

    def __post_init__(self) -> None:
        logs = self.workdir / "logs"
        budget = stores.connections_needed(self.replicas, {k: v for k, v in os.environ.items() if k in stores.POOL_DEFAULTS})
        self.postgres = Postgres("postgres", logs / "postgres.log", data=self.workdir / "postgres",
                                 port=self.postgres_port, durable=self.durable, max_connections=budget)
        self.redis = Redis("redis", logs / "redis.log", data=self.workdir / "redis", port=self.redis_port)
        self.rasa = [Stack(rasa_port=free_port(), action_port=self.action_port, web_port=self.web_port,
                           workdir=self.workdir / "rasa", quiet=self.quiet, extra_env=self.store_env())
                     for _ in range(self.replicas)]
        self.nginx = Nginx("nginx", logs / "nginx.log", prefix=self.workdir / "nginx", port=self.port,
                           upstreams=[r.rasa_port for r in self.rasa], listen=self.listen)
        # The action server and the demo page; the page talks to nginx, not to one replica, and its insights
        # read the shared PostgreSQL tracker store (addons/insights).
        self.front = Stack(rasa_port=self.port, action_port=self.action_port, web_port=self.web_port,
                           workdir=self.workdir / "rasa", quiet=self.quiet, extra_env=self.store_env())

    def store_env(self) -> Dict[str, str]:
        """What switches a replica to the shared stores: the only difference from `make run`."""
        return {stores.TRACKER_DB_HOST: "127.0.0.1", "TRACKER_DB_PORT": str(self.postgres_port),
                "TRACKER_DB_NAME": DB_NAME, "TRACKER_DB_USER": DB_USER,
                stores.REDIS_HOST: "127.0.0.1", "REDIS_PORT": str(self.redis_port)}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def rest_url(self) -> str:
        return f"{self.url}/webhooks/rest/webhook"

    def start(self, timeout: float = 300.0) -> "Scaled":
        """Start everything, in dependency order; on any failure stop what started, then raise."""
        try:
            self.postgres.start()
            self.redis.start()
            self.front.start_actions()
            for replica in self.rasa:
                replica.start_rasa()
            self.front.start_web()
            for replica in self.rasa:
                replica.wait_ready(timeout)
            self.nginx.start()
            self.front.wait_ready(timeout)  # the action server and the demo page
        except BaseException:
            self.stop()
            raise
        return self

    @property
    def processes(self) -> Dict[str, subprocess.Popen]:
        """Every child started, by name (replicas as ``rasa :<port>``), like ``Stack.processes``."""
        found = {s.name: s.process for s in (self.postgres, self.redis, self.nginx) if s.process}
        found.update(self.front.processes)
        for replica in self.rasa:
            found.update({f"rasa :{replica.rasa_port}": p for p in replica.processes.values()})
        return found

    def children(self) -> List[Child]:
        """Every server, for the supervisor of ``make run-scaled`` (scripts/serve_scaled.py)."""
        replicas = [child for replica in self.rasa
                    for child in replica.children({"rasa": f"Rasa replica :{replica.rasa_port}"})]
        return [self.postgres.child("PostgreSQL"), self.redis.child("Redis"), *self.front.children(),
                *replicas, self.nginx.child("nginx")]

    def stop(self) -> None:
        """Front first, stores last, so nothing is cut off mid-write."""
        self.nginx.stop()
        with ThreadPoolExecutor() as pool:  # the Rasa replicas and the action server shut down side by side
            list(pool.map(Stack.stop, [*self.rasa, self.front]))
        self.redis.stop()
        self.postgres.stop()

    def __enter__(self) -> "Scaled":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
