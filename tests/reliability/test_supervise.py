"""The supervisor on real processes: restarts with growing pauses and a log line, gives up on a crash loop."""
from __future__ import annotations

import subprocess
import sys
import time
from typing import List, Optional

from scripts.supervise import Child, Supervisor


class Program:
    """A real child process running ``code``; ``ready`` once it has run ``ready_after`` seconds."""

    def __init__(self, code: str, ready_after: float = 0.0) -> None:
        self.code, self.ready_after = code, ready_after
        self.process: Optional[subprocess.Popen] = None
        self.started = 0.0
        self.spawns = 0
        self.spawn()

    def spawn(self) -> None:
        self.process = subprocess.Popen([sys.executable, "-c", self.code], start_new_session=True)
        self.started, self.spawns = time.monotonic(), self.spawns + 1

    def ready(self) -> bool:
        return time.monotonic() - self.started >= self.ready_after

    def child(self, name: str) -> Child:
        return Child(name, lambda: self.process, self.spawn, self.ready)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)


def supervise(programs: dict, until, timeout: float = 30.0, **options) -> tuple:
    lines: List[str] = []
    deadline = time.monotonic() + timeout
    supervisor = Supervisor([p.child(name) for name, p in programs.items()], log=lines.append,
                            first_delay=0.2, **options)
    try:
        code = supervisor.run(lambda: until(lines) or time.monotonic() > deadline, interval=0.05)
    finally:
        for program in programs.values():
            program.stop()
    return code, lines


def test_a_child_that_exits_is_started_again_with_a_log_line_while_the_others_run():
    flaky, steady = Program("import time; time.sleep(0.5)"), Program("import time; time.sleep(60)")
    code, lines = supervise({"the flaky server": flaky, "the steady server": steady},
                            until=lambda lines: any("back" in line for line in lines))
    assert code == 0
    assert any("the flaky server exited with code 0" in line and "restarting it in 0.2 s" in line for line in lines)
    assert any(line.startswith("==> the flaky server is back") for line in lines)
    assert flaky.spawns == 2 and steady.spawns == 1


def test_a_crash_loop_is_given_up_on_after_pauses_that_grow():
    crashing = Program("raise SystemExit(3)")
    stamps: List[float] = []
    code, lines = supervise({"the broken server": crashing}, until=lambda lines: stamps.append(time.monotonic()),
                            max_restarts=3, timeout=20)
    assert code == 1, lines
    assert crashing.spawns == 4  # the first start and three restarts
    assert "4 times in a row" in lines[-1] and "giving up" in lines[-1] and "exited with code 3" in lines[-1]
    pauses = [line.split("restarting it in ")[1].split(" s")[0] for line in lines if "restarting it in" in line]
    assert pauses == ["0.2", "0.4", "0.8"]
