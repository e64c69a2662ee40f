"""Keep servers running: restart one that exits, after a growing pause and with a log line; give up on a crash loop.

Used by ``make run`` (scripts/serve.py) and ``make run-scaled`` (scripts/serve_scaled.py). A child that
exits — killed, crashed, out of memory — is started again after 1 s, then 2, 4, 8 … (at most 30 s) if it
keeps exiting; the others go on serving meanwhile (the Rasa server answers with its "can't answer right
now" reply while the action server is down; nginx sends everything to the other Rasa replica). A child
that exits again before it has run for ``stable_after`` seconds counts as one more crash in a row; after
``max_restarts`` of them the supervisor gives up and the caller stops everything and exits non-zero.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

#: Restart pauses: FIRST_DELAY, doubled per crash in a row, at most MAX_DELAY seconds.
FIRST_DELAY = 1.0
MAX_DELAY = 30.0
#: A child that ran this long since it last became ready starts a new count of crashes.
STABLE_AFTER = 60.0
MAX_RESTARTS = 5
START_TIMEOUT = 300.0


@dataclass
class Child:
    """One supervised server: its current process, how to start it again, and whether it answers."""

    name: str
    process: Callable[[], Optional[subprocess.Popen]]
    spawn: Callable[[], None]
    ready: Callable[[], bool]


@dataclass
class _State:
    phase: str = "running"  # running | waiting (to be restarted at `due`) | starting (since `since`)
    since: float = field(default_factory=time.monotonic)
    down_at: float = 0.0
    due: float = 0.0
    crashes: int = 0


def _log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def kill_group(process: Optional[subprocess.Popen]) -> None:
    """SIGKILL what is left of a child's process group (its leader has exited), and reap the leader."""
    if process is None:
        return
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        process.wait(5)
    except subprocess.TimeoutExpired:
        pass


class Supervisor:
    def __init__(self, children: List[Child], max_restarts: int = MAX_RESTARTS, stable_after: float = STABLE_AFTER,
                 first_delay: float = FIRST_DELAY, max_delay: float = MAX_DELAY,
                 start_timeout: float = START_TIMEOUT, log: Callable[[str], None] = _log) -> None:
        self.children = children
        self.max_restarts, self.stable_after = max_restarts, stable_after
        self.first_delay, self.max_delay, self.start_timeout = first_delay, max_delay, start_timeout
        self.log = log
        self.states: Dict[str, _State] = {child.name: _State() for child in children}

    def run(self, stopping: Callable[[], bool], interval: float = 0.5) -> int:
        """Supervise until ``stopping()``: 0; or until a child crash-loops: 1 (the caller stops the rest)."""
        while not stopping():
            for child in self.children:
                if not self._step(child, self.states[child.name], time.monotonic()):
                    return 1
            time.sleep(interval)
        return 0

    def _step(self, child: Child, state: _State, now: float) -> bool:
        """Advance one child; False when it crash-loops."""
        process = child.process()
        exited = process is None or process.poll() is not None
        if state.phase == "running" and exited:
            ran = now - state.since
            state.crashes = 1 if ran >= self.stable_after else state.crashes + 1
            state.down_at = now
            return self._crashed(child, state, now, f"exited with code {_code(process)} after {ran:.0f} s")
        if state.phase == "waiting" and now >= state.due:
            kill_group(process)
            child.spawn()
            state.phase, state.since = "starting", now
            self.log(f"==> starting {child.name} again (pid {_pid(child.process())})")
        elif state.phase == "starting":
            if exited:
                state.crashes += 1
                return self._crashed(child, state, now, f"exited with code {_code(process)} while starting")
            if child.ready():
                state.phase, state.since = "running", now
                self.log(f"==> {child.name} is back, {now - state.down_at:.1f} s after it stopped")
            elif now - state.since > self.start_timeout:
                kill_group(process)
                state.crashes += 1
                return self._crashed(child, state, now, f"did not answer within {self.start_timeout:.0f} s")
        return True

    def _crashed(self, child: Child, state: _State, now: float, why: str) -> bool:
        if state.crashes > self.max_restarts:
            self.log(f"error: {child.name} {why}: {state.crashes} times in a row within "
                     f"{self.stable_after:.0f} s of starting, it keeps crashing — giving up")
            return False
        delay = min(self.max_delay, self.first_delay * 2 ** (state.crashes - 1))
        state.phase, state.due = "waiting", now + delay
        self.log(f"==> {child.name} {why}; restarting it in {delay:g} s "
                 f"(crash {state.crashes} in a row, giving up after {self.max_restarts})")
        return True


def _code(process: Optional[subprocess.Popen]) -> str:
    return "?" if process is None or process.returncode is None else str(process.returncode)


def _pid(process: Optional[subprocess.Popen]) -> str:
    return "?" if process is None else str(process.pid)
