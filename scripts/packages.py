"""The Debian packages the project drives for real, installed when missing: one implementation for `make test`
(everything its tests need) and `make run-scaled` (PostgreSQL, Redis, nginx).

As root (CI, a fresh container) apt-get installs what is missing; otherwise this stops with the one command to run.
Standard library only, so `make test` can check before anything else is installed.

    python -m scripts.packages test      # chromium, postgresql, redis-server, nginx
    python -m scripts.packages scaled    # postgresql, redis-server, nginx
"""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

#: Debian package -> the programs it must provide.
PROVIDES: Dict[str, Tuple[str, ...]] = {
    "postgresql": ("initdb", "postgres"),
    "redis-server": ("redis-server",),
    "nginx": ("nginx",),
    "chromium": ("chromium",),  # Playwright drives Debian's Chromium (it cannot download its own here)
}
#: What each use needs.
NEEDS: Dict[str, Tuple[str, ...]] = {
    "scaled": ("postgresql", "redis-server", "nginx"),
    "test": ("chromium", "postgresql", "redis-server", "nginx"),  # tests/browser, tests/scaled
}
#: A program found elsewhere by an environment variable (tests/browser/conftest.py reads CHROMIUM too).
OVERRIDES = {"chromium": "CHROMIUM"}


class MissingPackages(RuntimeError):
    """Packages are missing and cannot be installed from here; the message gives the command that would."""


def binary(name: str) -> Optional[str]:
    """Path of program ``name``: its override, PATH, /usr/sbin, else PostgreSQL's versioned directory (newest)."""
    override = os.environ.get(OVERRIDES.get(name, ""), "")
    if override:
        return override if Path(override).exists() or shutil.which(override) else None
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if found:
        return found
    versions = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                      key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    return versions[-1] if versions else None


def missing(packages: Sequence[str]) -> List[str]:
    """The packages of ``packages`` with a program not installed."""
    return [package for package in packages if not all(binary(name) for name in PROVIDES[package])]


def install_command(packages: Sequence[str]) -> str:
    return f"sudo apt-get install -y {' '.join(packages)}"


def ensure(packages: Sequence[str]) -> None:
    """Install what is missing of ``packages`` (as root), or raise :class:`MissingPackages` with the command."""
    absent = missing(packages)
    if not absent:
        return
    if os.geteuid() != 0:
        raise MissingPackages(f"missing Debian packages: {' '.join(absent)} — install them with:\n"
                              f"    {install_command(absent)}")
    print(f"==> installing {', '.join(absent)} (apt-get)", flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    try:
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", *absent], check=True, env=env, stdout=subprocess.DEVNULL)
    except (OSError, subprocess.CalledProcessError) as error:
        raise MissingPackages(f"apt-get could not install {' '.join(absent)} ({error}); try:\n"
                              f"    {install_command(absent)}") from None
    still = missing(packages)
    if still:
        raise MissingPackages(f"apt-get ran, but these are still missing: {' '.join(still)}")


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1 or args[0] not in NEEDS:
        print(f"usage: python -m scripts.packages {{{','.join(NEEDS)}}}", file=sys.stderr)
        return 2
    try:
        ensure(NEEDS[args[0]])
    except MissingPackages as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
