"""Start and stop the assistant's servers: the action server, the Rasa server and the demo page.

Used by `make run` (fixed ports, foreground) and by the end-to-end tests (free ports, background),
so both run exactly the same commands.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

from addons import session
from scripts import stores
from scripts.supervise import Child

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
MODEL = ROOT / "models" / "assistant.tar.gz"
#: Browser origins allowed to call the Rasa server (the widget's socket.io), comma-separated.
CORS_ENV = "CORS_ORIGINS"
#: Setting this enables Rasa's HTTP API, protected by this token.
API_TOKEN_ENV = "RASA_API_TOKEN"
#: Both set: the Slack app channel (addons/slack.py, which reads them itself) is switched on.
SLACK_ENV = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")
SLACK_CHANNEL = "addons.slack.SlackChannel"
#: How every Rasa server of the project starts: Rasa's command line, checked and tuned (addons/server.py).
RASA_SERVER = [str(BIN / "python"), "-m", "addons.server"]


#: What the supervisor's log lines call each server.
SERVER_NAMES = {"actions": "the action server", "rasa": "the Rasa server", "web": "the demo page"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, OSError):
        return False


def post_json(url: str, payload: dict, timeout: float = 30.0):
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read() or b"null")


def _reap_group(pgid: int, timeout: float) -> None:
    """Wait until no process of the server's group is left (a server's own children, e.g. its workers, can
    outlive the one waited for by a moment, still answering on the port); then kill whatever stays."""
    deadline = time.monotonic() + timeout
    while _alive_in_group(pgid):
        if time.monotonic() > deadline:
            try:
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            return
        time.sleep(0.1)


def _alive_in_group(pgid: int) -> bool:
    """Whether a process of group ``pgid`` still runs (zombies waiting for a parent to reap them do not count)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


@dataclass
class Stack:
    rasa_port: int = 5005
    action_port: int = 5055
    web_port: Optional[int] = 8080
    model: Path = MODEL
    workdir: Path = ROOT / "var"
    credentials: Path = ROOT / "credentials.yml"
    tracker_db: Optional[Path] = None
    extra_env: Dict[str, str] = field(default_factory=dict)
    quiet: bool = False
    #: each server in a process group of its own (stopped as a group); False: in the caller's group, so a
    #: terminal's Ctrl-C, or a kill of the caller's group, reaches them with the caller (make shell)
    own_groups: bool = True
    processes: Dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def rest_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}/webhooks/rest/webhook"

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    def endpoints_file(self) -> Path:
        """endpoints.yml for these ports; tracker and lock stores from the environment (scripts/stores.py).

        By default the tracker store is a SQLite file under ``workdir`` and the lock store Rasa's in-memory one.
        """
        self.workdir.mkdir(parents=True, exist_ok=True)
        env = self._env()
        db = self.tracker_db or self.workdir / "tracker.db"
        path = self.workdir / f"endpoints-{self.rasa_port}.yml"
        path.write_text(
            f'action_endpoint:\n  url: "http://127.0.0.1:{self.action_port}/webhook"\n'
            + stores.tracker_store(env, db) + stores.lock_store(env)
        )
        return path

    def credentials_file(self) -> Path:
        """``credentials``, plus the Slack channel when its secrets are in the environment (never in the file)."""
        env = self._env()
        if not all(env.get(name) for name in SLACK_ENV):
            return self.credentials
        self.workdir.mkdir(parents=True, exist_ok=True)
        path = self.workdir / f"credentials-{self.rasa_port}.yml"
        note = f"# Added by scripts/stack.py because {' and '.join(SLACK_ENV)} are set."
        path.write_text(f"{self.credentials.read_text().rstrip()}\n\n{note}\n{SLACK_CHANNEL}:\n")
        return path

    def _env(self) -> Dict[str, str]:
        env = dict(os.environ)
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        env.setdefault("PYTHONUNBUFFERED", "1")
        env.update(self.extra_env)
        env.update(stores.pool_defaults(env))
        return env

    def _spawn(self, name: str, args: List[str], env: Optional[Dict[str, str]] = None) -> subprocess.Popen:
        out = None
        if self.quiet:  # appended to: a restarted server's log keeps why the last one stopped
            out = open(self.workdir / f"{name}-{self.rasa_port}.log", "ab")
        process = subprocess.Popen(args, cwd=ROOT, env=env or self._env(), stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=self.own_groups)
        if out is not None:
            out.close()  # the child has its own copy
        self.processes[name] = process
        return process

    def children(self, names: Optional[Dict[str, str]] = None) -> List[Child]:
        """The servers started so far, for the supervisor (scripts/supervise.py)."""
        names = {**SERVER_NAMES, **(names or {})}
        starts = {"actions": self.start_actions, "rasa": self.start_rasa, "web": self.start_web}
        return [Child(names[name], lambda name=name: self.processes.get(name), starts[name],
                      lambda name=name: http_ok(self.health_url(name), timeout=1))
                for name in list(self.processes)]

    def start_actions(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._spawn("actions", [str(BIN / "python"), "-m", "rasa_sdk", "--actions", "actions",
                                "--port", str(self.action_port)])

    def start_rasa(self) -> None:
        env = self._env()
        origins = [o.strip() for o in env.get(CORS_ENV, "").split(",") if o.strip()]
        if self.web_port and not origins:
            origins = [f"http://localhost:{self.web_port}", f"http://127.0.0.1:{self.web_port}"]
        args = [*RASA_SERVER, "run", "--model", str(self.model), "--port", str(self.rasa_port),
                "--credentials", str(self.credentials_file()), "--endpoints", str(self.endpoints_file())]
        if origins:
            args += ["--cors", *origins]
        if env.get(API_TOKEN_ENV):
            args += ["--enable-api", "--auth-token", env[API_TOKEN_ENV]]
        env[CORS_ENV] = ",".join(origins)  # the socket.io channel checks Origin against the same list
        if not env.get(session.SECRET_ENV):  # widget sessions outlive a restart, and replicas share them
            env.setdefault(session.SECRET_FILE_ENV, str(session.create_secret_file(self.workdir / "session-secret")))
        self._spawn("rasa", args, env)

    def start_web(self) -> None:
        if self.web_port:
            self._spawn("web", [str(BIN / "python"), "-m", "scripts.webserver", "--port", str(self.web_port),
                                "--rasa-url", f"http://localhost:{self.rasa_port}",
                                "--tracker-db", str(self.tracker_db or self.workdir / "tracker.db")])

    def start(self, timeout: float = 180.0) -> "Stack":
        self.start_actions()
        self.start_rasa()
        self.start_web()
        self.wait_ready(timeout)
        return self

    def health_url(self, name: str) -> str:
        """Where server ``name`` answers 200 once it is ready."""
        return {"actions": f"http://127.0.0.1:{self.action_port}/health",
                "rasa": f"http://127.0.0.1:{self.rasa_port}/",  # Rasa's root: there whatever the channels
                "web": f"http://127.0.0.1:{self.web_port}/"}[name]

    def wait_ready(self, timeout: float = 180.0, names: Optional[List[str]] = None) -> None:
        """Wait until every started server (or those named) answers; raise if one exits or time runs out."""
        deadline = time.monotonic() + timeout
        pending = {name: self.health_url(name) for name in (names or self.processes)}
        while pending:
            for name, url in list(pending.items()):
                process = self.processes.get(name)
                if process is not None and process.poll() is not None:
                    raise RuntimeError(f"the {name} server exited with code {process.returncode} while starting")
                if http_ok(url):
                    del pending[name]
            if pending and time.monotonic() > deadline:
                raise TimeoutError(f"not ready after {timeout:.0f}s: {', '.join(pending)}")
            if pending:
                time.sleep(0.5)

    def stop(self, name: Optional[str] = None, timeout: float = 20.0) -> None:
        """Stop one server (or all), politely first, then for good."""
        names = [name] if name else list(self.processes)
        for n in names:
            process = self.processes.get(n)
            if process and process.poll() is None:
                self._signal(process, signal.SIGINT)
        for n in names:
            process = self.processes.pop(n, None)
            if process is None:
                continue
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal(process, signal.SIGKILL)
                process.wait(5)
            if self.own_groups:
                _reap_group(process.pid, timeout)

    def _signal(self, process: subprocess.Popen, sig: int) -> None:
        try:
            if self.own_groups:
                os.killpg(process.pid, sig)
            else:
                process.send_signal(sig)
        except ProcessLookupError:
            pass

    def say(self, sender: str, text: str, timeout: float = 30.0) -> list:
        return post_json(self.rest_url, {"sender": sender, "message": text}, timeout)

    def __enter__(self) -> "Stack":
        """Start every server; on failure stop whatever did start, then raise."""
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()
