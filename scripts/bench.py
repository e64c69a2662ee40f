"""`make bench`: this assistant against stock `rasa init`, same machine, same load, same run.

N simulated users talk at once over REST on loopback, each sending its turns one after another (the
assistant's conversations hit the custom actions). Prints msg/s, latency percentiles, errors, peak RSS
of the Rasa server and the action server, readiness after start, and the ratios against stock.

Then a long-conversation scenario on this assistant alone: one conversation talks for 510 turns, and from
its turn 450 a new one takes turns with it, one request at a time; it prints the median reply time around
turn 50 (turns 41-60 of the new one) and around turn 500 (491-510 of the long one), measured side by side:
the cost of a turn must not grow with the conversation (target: at most 1.5x).

    python -m scripts.bench                      # 20 users x 8 turns, stock built in a temp dir
    python -m scripts.bench --stock-dir build/bench-stock   # keep (and reuse) the stock project
    python -m scripts.bench --env TF_INTRA_OP_PARALLELISM_THREADS=2 --train
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import aiohttp
import psutil

from scripts.stack import BIN, ROOT, Stack, free_port, http_ok

#: Eight realistic turns per profile: small talk, profile, routine, absorption, an active, sunscreen, walkthrough.
ASSISTANT_SCRIPTS: List[List[str]] = [
    ["hi there", "I have oily skin and a darker skin tone", "how do I use the serum?",
     "how long should it absorb before the next step?", "can I use retinol with it?",
     "what sunscreen should I use?", "walk me through it", "next"],
    ["hello", "my skin is dry and a bit sensitive", "which cleanser should I use?",
     "how many drops of serum?", "can I put vitamin c on after it?", "what should I avoid?",
     "walk me through the evening routine", "next step"],
    ["hey", "I'm fair skinned with combination skin and some redness", "what's the routine for me?",
     "how often should I use it?", "what about niacinamide?", "do I need to patch test?",
     "walk me through it", "what's next?"],
]
#: The stock assistant's moods bot, eight turns over its intents.
STOCK_SCRIPT = ["hello", "I am feeling very sad", "yes", "are you a bot?", "I am great today",
                "hi again", "no", "goodbye"]
#: The long-conversation scenario: turns per user, and the turns whose median reply times are compared.
LONG_TURNS = 510
LONG_WINDOWS = {"turn 50": range(41, 61), "turn 500": range(491, 511)}
LONG_TARGET = 1.5
#: The assistant's "I could not answer" reply counts as an error, like an empty reply.
FALLBACK_MARKER = "I can't answer that right now"
REQUEST_TIMEOUT = 60.0


@dataclass
class Result:
    name: str
    users: int
    turns: int
    latencies: List[float] = field(default_factory=list)
    errors: int = 0
    problems: Dict[str, int] = field(default_factory=dict)
    silent: int = 0  # answered with an empty list: the policy chose to say nothing
    seconds: float = 0.0
    ready_seconds: float = 0.0
    peak_rss_mb: Dict[str, float] = field(default_factory=dict)
    cpu_seconds: Dict[str, float] = field(default_factory=dict)
    train_seconds: Optional[float] = None

    @property
    def messages(self) -> int:
        return len(self.latencies) + self.errors

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms_per_message(self) -> float:
        """Server CPU time (all its processes) per answered message: robust to the machine's other load."""
        return self.cpu_ms_per_message_of(*self.cpu_seconds)

    def cpu_ms_per_message_of(self, *names: str) -> float:
        """CPU time of the named server processes per answered message."""
        used = sum(self.cpu_seconds.get(name, 0.0) for name in names)
        return 1000 * used / len(self.latencies) if self.latencies else float("nan")

    def percentile(self, p: float) -> float:
        """Latency percentile in milliseconds (nearest rank)."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]

    def summary(self) -> Dict[str, object]:
        data = {k: v for k, v in asdict(self).items() if k != "latencies"}
        data.update(messages=self.messages, throughput=round(self.throughput, 2),
                    p50_ms=round(self.percentile(50), 1), p95_ms=round(self.percentile(95), 1),
                    p99_ms=round(self.percentile(99), 1), cpu_ms_per_message=round(self.cpu_ms_per_message, 1))
        return data


@dataclass
class LongResult:
    """Reply times by turn number (1-based) of the long conversation ("long") and of the new one ("new").

    One request at a time: the long conversation first talks alone up to turn 450, then the two take turns,
    so the long one's turns 491-510 and the new one's turns 41-60 are measured side by side in time, under
    the same load, and neither waits behind the other on the Rasa server's one event loop.
    """

    turns: int
    by_turn: Dict[str, Dict[int, List[float]]] = field(default_factory=lambda: {"long": {}, "new": {}})
    errors: int = 0

    def median_ms(self, turns: range, conversation: str) -> float:
        times = sorted(t for n in turns for t in self.by_turn[conversation].get(n, []))
        return 1000 * statistics.median(times) if times else float("nan")

    @property
    def medians(self) -> Dict[str, float]:
        return {"turn 50": self.median_ms(LONG_WINDOWS["turn 50"], "new"),
                "turn 500": self.median_ms(LONG_WINDOWS["turn 500"], "long")}

    @property
    def ratio(self) -> float:
        first, last = self.medians.values()
        return last / first if first else float("nan")

    def summary(self) -> Dict[str, object]:
        return {"turns": self.turns, "errors": self.errors, "ratio": round(self.ratio, 2),
                **{f"{name} median_ms": round(value, 1) for name, value in self.medians.items()}}

    def report(self) -> str:
        medians = ", ".join(f"{name} ({w.start}-{w.stop - 1}) median {self.medians[name]:.0f} ms"
                            for name, w in LONG_WINDOWS.items())
        verdict = "✓" if self.ratio <= LONG_TARGET else "✗"
        return (f"long conversation ({self.turns} turns) beside a new one: {medians}: "
                f"{self.ratio:.2f}x (target <= {LONG_TARGET}x {verdict}), errors {self.errors}")


class Watch(threading.Thread):
    """Samples the resident memory of named processes (with their children) until stopped; reads CPU time."""

    def __init__(self, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.pids: Dict[str, int] = {}
        self.peak: Dict[str, int] = {}
        self.interval = interval
        self._done = threading.Event()

    @staticmethod
    def _family(pid: int) -> List[psutil.Process]:
        try:
            process = psutil.Process(pid)
            return [process, *process.children(recursive=True)]
        except psutil.Error:
            return []

    def _rss(self, pid: int) -> int:
        try:
            return sum(p.memory_info().rss for p in self._family(pid))
        except psutil.Error:
            return 0

    def cpu_seconds(self) -> Dict[str, float]:
        """User + system CPU time used so far by each watched process (with its children)."""
        used = {}
        for name, pid in self.pids.items():
            used[name] = 0.0
            for process in self._family(pid):
                try:
                    times = process.cpu_times()
                except psutil.Error:
                    continue
                used[name] += times.user + times.system
        return used

    def run(self) -> None:
        while not self._done.wait(self.interval):
            for name, pid in list(self.pids.items()):
                self.peak[name] = max(self.peak.get(name, 0), self._rss(pid))

    def stop(self) -> Dict[str, float]:
        self._done.set()
        self.join(5)
        return {name: round(rss / 2**20) for name, rss in self.peak.items()}


# --------------------------------------------------------------------------- load

def _problem(status: int, body: object) -> Optional[str]:
    """Why a reply does not count as an answer, or None when it does.

    An empty list is an answer: it is what Rasa returns when the dialogue policy chose to say nothing
    (stock `rasa init` does that for some turns); this assistant's channel never returns one.
    """
    if status != 200 or not isinstance(body, list):
        return f"HTTP {status}"
    if any(FALLBACK_MARKER in (m.get("text") or "") for m in body):
        return "fallback reply"
    return None


async def _user(session: aiohttp.ClientSession, url: str, sender: str, script: Sequence[str],
                result: Result) -> None:
    for text in script:
        started = time.perf_counter()
        try:
            async with session.post(url, json={"sender": sender, "message": text}) as response:
                body = await response.json(content_type=None)
                problem = _problem(response.status, body)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            problem = type(error).__name__
        if problem is None:
            result.latencies.append(time.perf_counter() - started)
            result.silent += body == []
        else:
            result.errors += 1
            result.problems[problem] = result.problems.get(problem, 0) + 1


def run_long(url: str, scripts: Sequence[Sequence[str]], turns: int) -> LongResult:
    """A conversation of ``turns`` turns, cycling through every turn of ``scripts``, and a new one beside it
    from the turn that lines their windows up (see :class:`LongResult`)."""
    texts = [text for script in scripts for text in script]
    result = LongResult(turns)
    offset = LONG_WINDOWS["turn 500"].start - LONG_WINDOWS["turn 50"].start  # the new one starts at 450
    tag = time.time_ns()

    async def turn(session: aiohttp.ClientSession, conversation: str, n: int) -> None:
        shift = 0 if conversation == "long" else offset  # both send the same message at the same moment
        started = time.perf_counter()
        try:
            async with session.post(url, json={"sender": f"bench-{conversation}-{tag}",
                                               "message": texts[(n - 1 + shift) % len(texts)]}) as response:
                problem = _problem(response.status, await response.json(content_type=None))
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            problem = type(error).__name__
        if problem is None:
            result.by_turn[conversation].setdefault(n, []).append(time.perf_counter() - started)
        else:
            result.errors += 1

    async def drive() -> None:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)) as session:
            for n in range(1, turns + 1):
                await turn(session, "long", n)
                if n > offset:
                    await turn(session, "new", n - offset)

    asyncio.run(drive())
    return result


async def _drive(url: str, scripts: Sequence[Sequence[str]], result: Result, tag: str) -> None:
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    connector = aiohttp.TCPConnector(limit=result.users)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(
            _user(session, url, f"bench-{tag}-{i}", scripts[i % len(scripts)][:result.turns], result)
            for i in range(result.users)
        ))
        result.seconds += time.perf_counter() - started


def run_round(url: str, scripts: Sequence[Sequence[str]], result: Result) -> None:
    """``result.users`` conversations at once; adds their latencies, errors and wall time to ``result``."""
    asyncio.run(_drive(url, scripts, result, str(time.time_ns())))


def _wait(url: str, process: subprocess.Popen, timeout: float) -> float:
    started = time.monotonic()
    while not http_ok(url):
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with code {process.returncode} while starting")
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"not ready after {timeout:.0f}s: {url}")
        time.sleep(0.2)
    return time.monotonic() - started


# --------------------------------------------------------------------------- training

def wait_until_nobody_trains(poll: float = 10.0) -> None:
    """The machine's cores are shared: never train while someone else does."""
    while subprocess.run(["pgrep", "-f", "rasa train"], stdout=subprocess.DEVNULL).returncode == 0:
        print("    someone is running `rasa train`; waiting …", flush=True)
        time.sleep(poll)


def _timed(args: List[str], cwd: Path, env: Dict[str, str], log: Path) -> float:
    wait_until_nobody_trains()
    started = time.monotonic()
    with open(log, "wb") as out:
        subprocess.run(args, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, check=True)
    return time.monotonic() - started


def build_stock(directory: Path, env: Dict[str, str]) -> Optional[float]:
    """`rasa init --no-prompt` (creates and trains the moods bot); seconds, or None if reused."""
    if list((directory / "models").glob("*.tar.gz")):
        return None
    directory.mkdir(parents=True, exist_ok=True)
    print(f"==> building stock `rasa init --no-prompt` in {directory} (trains it) …", flush=True)
    return _timed([str(BIN / "rasa"), "init", "--no-prompt", "--init-dir", str(directory)],
                  directory, env, directory / "init.log")


def train_assistant(out: Path, env: Dict[str, str]) -> float:
    """Full training of this assistant from an empty cache, into ``out`` (models/ is left alone)."""
    print("==> training this assistant from scratch (--train) …", flush=True)
    out.mkdir(parents=True, exist_ok=True)
    env = {**env, "RASA_CACHE_DIRECTORY": str(out / "cache")}
    return _timed([str(BIN / "rasa"), "train", "--out", str(out), "--fixed-model-name", "bench"],
                  ROOT, env, out / "train.log")


# --------------------------------------------------------------------------- the two assistants

@dataclass
class Server:
    """One assistant under test: how to start it, where to talk to it, what it is told."""

    name: str
    scripts: Sequence[Sequence[str]]
    stack: Stack
    monitor: Watch = field(default_factory=Watch)

    def start(self) -> float:
        """Start the servers; seconds until they answer."""
        self.monitor.start()
        started = time.monotonic()
        self.stack.start(300)
        self.monitor.pids = {name: p.pid for name, p in self.stack.processes.items()}
        return time.monotonic() - started

    def stop(self) -> Dict[str, float]:
        """Stop the servers; their peak RSS in MB."""
        self.stack.stop()
        return self.monitor.stop()


class StockStack(Stack):
    """Stock `rasa init` run as its README says: its own credentials and endpoints, no action server."""

    def _env(self) -> Dict[str, str]:
        """Stock settings: none of this project's tuning, just quieter TensorFlow start-up logs."""
        return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}

    def start(self, timeout: float = 180.0) -> "StockStack":
        args = [str(BIN / "rasa"), "run", "--model", "models", "--port", str(self.rasa_port),
                "--credentials", "credentials.yml", "--endpoints", "endpoints.yml"]
        with open(self.workdir / f"rasa-{self.rasa_port}.log", "wb") as log:
            self.processes["rasa"] = subprocess.Popen(args, cwd=self.workdir, env=self._env(), stdout=log,
                                                      stderr=subprocess.STDOUT, start_new_session=True)
        _wait(f"{self.rasa_url}/webhooks/rest/", self.processes["rasa"], timeout)
        return self


def ours(workdir: Path, extra_env: Dict[str, str]) -> Server:
    stack = Stack(rasa_port=free_port(), action_port=free_port(), web_port=None, workdir=workdir,
                  quiet=True, extra_env=extra_env)
    return Server("assistant", ASSISTANT_SCRIPTS, stack)


def stock(directory: Path) -> Server:
    return Server("stock", [STOCK_SCRIPT], StockStack(rasa_port=free_port(), workdir=directory, quiet=True))


def measure(servers: List[Server], users: int, turns: int, rounds: int,
            long: Optional[int] = None) -> Tuple[List[Result], Optional[LongResult]]:
    """Start each server, warm each up with one round, then alternate measured rounds between them;
    then, with ``long`` turns, the long-conversation scenario on the first server.

    Alternating spreads the machine's other load evenly over both; every server is always stopped.
    """
    results = [Result(s.name, users, turns) for s in servers]
    long_result = None
    try:
        for server, result in zip(servers, results):
            print(f"==> starting {server.name} …", flush=True)
            result.ready_seconds = server.start()
        for server in servers:
            run_round(server.stack.rest_url, server.scripts, Result(server.name, users, turns))
        for n in range(rounds):
            for server, result in zip(servers, results):
                print(f"==> round {n + 1}/{rounds}: {server.name}, {users} users x {turns} turns", flush=True)
                before = server.monitor.cpu_seconds()
                run_round(server.stack.rest_url, server.scripts, result)
                for name, seconds in server.monitor.cpu_seconds().items():
                    result.cpu_seconds[name] = result.cpu_seconds.get(name, 0.0) + seconds - before.get(name, 0.0)
        if long:
            print(f"==> long conversation: {servers[0].name}, {long} turns beside a new one", flush=True)
            long_result = run_long(servers[0].stack.rest_url, servers[0].scripts, long)
    finally:
        for server, result in zip(servers, results):
            result.peak_rss_mb = server.stop()
    return results, long_result


# --------------------------------------------------------------------------- report

def _row(label: str, ours: str, stock: str, ratio: str = "", target: str = "") -> str:
    return f"{label:<24}{ours:>12}{stock:>12}{ratio:>10}   {target}"


def _seconds(value: Optional[float]) -> str:
    return "—" if value is None else f"{value:.1f}"


def report(ours: Result, stock: Optional[Result]) -> str:
    s = stock or Result("stock", 0, 0)
    lines = [_row("", "assistant", "stock" if stock else "(skipped)", "ratio", "target"),
             _row("users x turns", f"{ours.users} x {ours.turns}", f"{s.users} x {s.turns}"),
             _row("messages answered", str(len(ours.latencies)), str(len(s.latencies))),
             _row("  of which silent", str(ours.silent), str(s.silent), "", "policy chose to say nothing"),
             _row("errors", str(ours.errors), str(s.errors), "", "0")]
    for problem in {**s.problems, **ours.problems}:
        lines.append(_row(f"  {problem}", str(ours.problems.get(problem, 0)), str(s.problems.get(problem, 0))))
    tput = ours.throughput / s.throughput if s.throughput else float("nan")
    p95 = ours.percentile(95) / s.percentile(95) if s.latencies else float("nan")
    lines.append(_row("throughput (msg/s)", f"{ours.throughput:.1f}", f"{s.throughput:.1f}", f"{tput:.2f}x", ">= 2x"))
    cpu = f"{ours.cpu_ms_per_message / s.cpu_ms_per_message:.2f}x" if s.cpu_ms_per_message else ""
    lines.append(_row("server CPU per msg (ms)", f"{ours.cpu_ms_per_message:.1f}",
                      f"{s.cpu_ms_per_message:.1f}", cpu, "all its processes"))
    lines.append(_row("  of which Rasa", f"{ours.cpu_ms_per_message_of('rasa'):.1f}",
                      f"{s.cpu_ms_per_message_of('rasa'):.1f}"))
    for p in (50, 95, 99):
        ratio = f"{ours.percentile(p) / s.percentile(p):.2f}x" if s.latencies else ""
        lines.append(_row(f"p{p} latency (ms)", f"{ours.percentile(p):.0f}", f"{s.percentile(p):.0f}", ratio,
                          "<= 0.5x" if p == 95 else ""))
    lines += [
        _row("peak RSS Rasa (MB)", str(ours.peak_rss_mb.get("rasa", "?")), str(s.peak_rss_mb.get("rasa", "—")),
             "", "<= 1200"),
        _row("peak RSS actions (MB)", str(ours.peak_rss_mb.get("actions", "?")), "—"),
        _row("ready after start (s)", _seconds(ours.ready_seconds), _seconds(s.ready_seconds), "", "<= 30"),
        _row("training (s)", _seconds(ours.train_seconds), _seconds(s.train_seconds), "", "<= 180"),
    ]
    verdict = [f"throughput {tput:.2f}x stock", f"p95 {p95:.2f}x stock"] if stock else []
    return "\n".join(lines + ([""] + ["    " + v for v in verdict] if verdict else []))


def _env_pairs(pairs: Sequence[str]) -> Dict[str, str]:
    env = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        env[key] = value
    return env


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--turns", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds per assistant, alternating")
    parser.add_argument("--stock-dir", type=Path, help="keep the stock project here (built if missing, else reused)")
    parser.add_argument("--skip-stock", action="store_true", help="only measure this assistant")
    parser.add_argument("--train", action="store_true", help="also time a full training of this assistant")
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                        help="extra environment for this assistant's servers (repeatable)")
    parser.add_argument("--long-turns", type=int, default=LONG_TURNS,
                        help="turns of the long-conversation scenario (0: skip it)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    if 0 < args.long_turns < LONG_WINDOWS["turn 500"].stop - 1:
        parser.error(f"--long-turns must be 0 (skip) or at least {LONG_WINDOWS['turn 500'].stop - 1}")
    extra_env = _env_pairs(args.env)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1"}

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        tmp_path = Path(tmp)
        servers = [ours(tmp_path / "assistant", extra_env)]
        stock_train = None
        if not args.skip_stock:
            directory = (args.stock_dir or tmp_path / "stock").resolve()
            stock_train = build_stock(directory, env)
            servers.append(stock(directory))
        long = args.long_turns or None
        results, long_result = measure(servers, args.users, args.turns, args.rounds, long)
        if args.train:
            results[0].train_seconds = train_assistant(tmp_path / "train", {**env, **extra_env})
    mine, theirs = results[0], (results[1] if len(results) > 1 else None)
    if theirs:
        theirs.train_seconds = stock_train
    print(f"\n{os.cpu_count()} CPUs; load average {load_before[0]:.2f} before, {os.getloadavg()[0]:.2f} after\n")
    print(report(mine, theirs))
    if long_result:
        print(f"\n{long_result.report()}")
    if args.json:
        args.json.write_text(json.dumps({"assistant": mine.summary(), "stock": theirs and theirs.summary(),
                                         "long": long_result and long_result.summary(),
                                         "env": extra_env, "argv": sys.argv[1:]}, indent=2))
    return 1 if mine.errors or (long_result and long_result.errors) else 0


if __name__ == "__main__":
    sys.exit(main())
