"""`make run` / `make run-scaled` as a user runs them: the real entry point in the foreground, on free ports.

``Foreground`` starts ``python -m scripts.serve`` (or ``scripts.serve_scaled``) as its own process group,
keeps its output in a file, finds its children by what they run, and always stops it and them.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

import psutil

from scripts.stack import ROOT, post_json

#: What each server's command line contains.
KINDS = {"actions": "rasa_sdk", "rasa": "addons.server", "web": "scripts.webserver", "nginx": "nginx",
         "postgres": "postgres", "redis": "redis-server"}


class Foreground:
    def __init__(self, module: str, args: List[str], log: Path, env: Optional[Dict[str, str]] = None) -> None:
        self.log = log
        self.offset = 0
        with open(log, "wb") as out:
            self.process = subprocess.Popen([sys.executable, "-m", module, *args], cwd=ROOT, stdout=out,
                                            stderr=subprocess.STDOUT, start_new_session=True,
                                            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})})
        self.seen: Dict[int, psutil.Process] = {}

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, pattern: str, timeout: float = 300.0, since_mark: bool = True) -> re.Match:
        """The first line matching ``pattern`` written after the last :meth:`mark` (or fail)."""
        deadline = time.monotonic() + timeout
        while True:
            found = re.search(pattern, self.output()[self.offset if since_mark else 0:], re.M)
            if found:
                return found
            if self.process.poll() is not None:
                raise AssertionError(f"exited with {self.process.returncode} before {pattern!r}:\n{self.output()[-3000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {pattern!r} within {timeout:.0f}s:\n{self.output()[-3000:]}")
            time.sleep(0.2)

    def mark(self) -> None:
        """Later :meth:`wait_for` calls look at output written from now on."""
        self.offset = len(self.output())

    def children(self, kind: str) -> List[psutil.Process]:
        """Our direct children running ``kind`` (see :data:`KINDS`)."""
        found = []
        for child in psutil.Process(self.process.pid).children():
            try:
                if KINDS[kind] in " ".join(child.cmdline()):
                    found.append(child)
                    self.seen[child.pid] = child
            except psutil.Error:
                continue
        return found

    def child(self, kind: str) -> psutil.Process:
        [child] = self.children(kind)
        return child

    def kill(self, child: psutil.Process, sig: int = signal.SIGTERM) -> None:
        """What a user does with `kill <pid>`: one signal to that process, then wait until it is gone."""
        child.send_signal(sig)
        child.wait(30)

    def stop(self, timeout: float = 60.0) -> Optional[int]:
        """Ctrl-C's way (SIGTERM to the entry point); then nothing it started may be left."""
        if self.process.poll() is None:
            for kind in KINDS:
                self.children(kind)
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        for child in self.seen.values():  # a safety net: each led its own group, and is still that process
            try:
                if child.is_running():
                    os.killpg(child.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError, psutil.Error):
                pass
        return self.process.returncode


class Rest:
    """Enough of a Stack for ``tests.conftest.Conversation``: the REST channel on ``port``."""

    def __init__(self, port: int) -> None:
        self.rest_url = f"http://127.0.0.1:{port}/webhooks/rest/webhook"

    def say(self, sender: str, text: str, timeout: float = 30.0) -> list:
        return post_json(self.rest_url, {"sender": sender, "message": text}, timeout)
