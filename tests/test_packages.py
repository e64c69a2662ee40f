"""A fresh machine runs every test: `make test` installs the Debian packages its tests drive (scripts/packages.py,
the same code `make run-scaled` uses) or stops with the one command to run, and no test skips for a missing tool."""
from __future__ import annotations

import ast
import os
import subprocess
from pathlib import Path

import pytest

from scripts import packages

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def machine(tmp_path, monkeypatch):
    """A machine with only the programs listed in ``installed`` and a fake apt-get on PATH that 'installs'
    (adds the package's programs) and records its arguments."""
    installed = tmp_path / "installed"
    installed.mkdir()
    calls = tmp_path / "apt-get.calls"
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    programs = tmp_path / "programs"  # "package program" lines
    programs.write_text("".join(f"{package} {name}\n" for package, names in packages.PROVIDES.items() for name in names))
    (fake_bin / "apt-get").write_text(f"""#!/bin/bash
echo "$*" >> {calls}
[ -n "$APT_FAILS" ] && exit 100
[ "$1" = install ] || exit 0
for arg in "$@"; do
  grep "^$arg " {programs} | while read -r package name; do touch "{installed}/$name"; done
done
""")
    (fake_bin / "apt-get").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake_bin}:{os.environ['PATH']}")
    monkeypatch.setattr(packages, "binary", lambda name: str(installed / name) if (installed / name).exists() else None)

    class Machine:
        def have(self, *names: str) -> None:
            for name in names:
                (installed / name).touch()

        def apt_calls(self) -> list:
            return calls.read_text().splitlines() if calls.exists() else []

        def as_user(self, uid: int) -> None:
            monkeypatch.setattr(os, "geteuid", lambda: uid)

    return Machine()


def test_nothing_to_do_when_everything_is_there(machine):
    machine.have("chromium", "initdb", "postgres", "redis-server", "nginx")
    machine.as_user(1000)
    assert packages.main(["test"]) == 0
    assert machine.apt_calls() == []


def test_without_root_it_stops_with_the_one_command(machine, capsys):
    machine.have("initdb", "postgres", "redis-server")
    machine.as_user(1000)
    assert packages.main(["test"]) == 1
    error = capsys.readouterr().err
    assert "missing Debian packages: chromium nginx" in error
    assert "    sudo apt-get install -y chromium nginx\n" in error
    assert machine.apt_calls() == []


def test_as_root_it_installs_what_is_missing(machine):
    machine.have("redis-server")
    machine.as_user(0)
    assert packages.main(["test"]) == 0
    assert machine.apt_calls() == ["update -qq", "install -y -qq chromium postgresql nginx"]
    assert packages.missing(packages.NEEDS["test"]) == []


def test_scaled_needs_no_browser(machine):
    machine.have("initdb", "postgres", "redis-server", "nginx")
    assert packages.missing(packages.NEEDS["scaled"]) == []
    assert packages.missing(packages.NEEDS["test"]) == ["chromium"]


def test_a_failing_apt_get_says_so_with_the_command(machine, monkeypatch, capsys):
    machine.as_user(0)
    monkeypatch.setenv("APT_FAILS", "1")
    assert packages.main(["scaled"]) == 1
    error = capsys.readouterr().err
    assert "apt-get could not install postgresql redis-server nginx" in error
    assert "sudo apt-get install -y postgresql redis-server nginx" in error


def test_make_test_checks_the_packages_before_running_pytest():
    dry_run = subprocess.run(["make", "-n", "-o", ".venv/.installed", "test"], cwd=ROOT, capture_output=True,
                             text=True, timeout=60)
    assert dry_run.returncode == 0, dry_run.stderr
    lines = dry_run.stdout.splitlines()
    check = next(i for i, line in enumerate(lines) if "-m scripts.packages test" in line)
    run = next(i for i, line in enumerate(lines) if "-m pytest" in line)
    assert check < run


def test_ci_just_runs_make_test():
    script = (ROOT / ".ci" / "run").read_text()
    commands = [line.strip() for line in script.splitlines() if line.strip() and not line.startswith("#")]
    assert commands == ["set -euo pipefail", 'cd "$(dirname "$0")/.."', "make test"]


def _skips(path: Path) -> list:
    """pytest.skip(...) calls and skip/skipif/importorskip uses in a test module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Attribute) and node.attr in ("skip", "skipif", "importorskip"):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.attr}")
    return found


def test_no_test_skips_for_a_missing_tool():
    """A missing tool is a failure (pytest.fail with the command), never a skip; a known failure is a strict xfail."""
    assert [hit for path in sorted((ROOT / "tests").rglob("*.py")) for hit in _skips(path)] == []
