"""`make shell`: the terminal chat works beside a running `make run` (its own Rasa server on a free port, not 5005)."""
from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time

import pytest

from scripts.stack import ROOT, free_port, http_ok

pytestmark = pytest.mark.e2e
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class Terminal:
    """A program on a pseudo-terminal 200 columns wide (rasa shell's prompt needs a terminal)."""

    def __init__(self, args):
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
        self.process = subprocess.Popen(args, cwd=ROOT, stdin=slave, stdout=slave, stderr=slave,
                                        start_new_session=True)
        os.close(slave)
        self.screen = ""

    def wait_for(self, pattern: str, timeout: float) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(pattern, self.screen)
            if found:
                return found
            ready, _, _ = select.select([self.master], [], [], 0.5)
            if ready:
                try:
                    self.screen += ANSI.sub("", os.read(self.master, 65536).decode(errors="replace"))
                except OSError:  # the program ended
                    break
        raise AssertionError(f"no /{pattern}/ after {timeout}s; the terminal shows:\n{self.screen[-3000:]}")

    def type(self, text: str) -> None:
        os.write(self.master, text.encode() + b"\r")

    def stop(self) -> int:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
        try:
            return self.process.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            return self.process.wait(10)
        finally:
            os.close(self.master)


def test_make_shell_runs_scripts_shell():
    dry_run = subprocess.run(["make", "-n", "-o", ".venv/.installed", "shell"], cwd=ROOT, capture_output=True,
                             text=True, timeout=60)
    assert dry_run.returncode == 0, dry_run.stderr
    assert "-m scripts.shell" in dry_run.stdout


def test_the_shell_answers_on_a_free_port_and_stops_what_it_started():
    """As beside `make run`: its own Rasa server on a free port; no action server on the given port, so it
    starts one of its own, and stops it on exit."""
    terminal = Terminal([sys.executable, "-m", "scripts.shell", "--action-port", str(free_port())])
    try:
        actions = int(terminal.wait_for(r"starting an action server on :(\d+)", 60).group(1))
        rasa = int(terminal.wait_for(r"rasa shell on :(\d+)", 120).group(1))
        assert rasa not in (5005, 5055, 8080)
        terminal.wait_for(r"Your input ->", 240)
        terminal.type("how long should the serum absorb?")
        terminal.wait_for(r"5\s*[–-]\s*15 minutes", 60)
    finally:
        terminal.stop()
    assert not http_ok(f"http://127.0.0.1:{actions}/health")
    assert not http_ok(f"http://127.0.0.1:{rasa}/")
