"""The Makefile finds a Python 3.10 that really runs, or stops with a clear message."""
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYENV_310 = sorted(Path(os.path.expanduser("~/.pyenv/versions")).glob("3.10.*/bin/python"))


def make(tmp_path: Path, path: str, home: Path) -> subprocess.CompletedProcess:
    env = {"PATH": path, "HOME": str(home)}
    return subprocess.run(["make", "-s", f"VENV={tmp_path / 'venv'}", str(tmp_path / "venv" / "bin" / "python")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_no_python_310_stops_with_a_clear_message(tmp_path):
    result = make(tmp_path, "/usr/bin:/bin", home=tmp_path)
    assert result.returncode != 0
    assert "needs Python 3.10" in result.stderr and "PYTHON310=" in result.stderr
    assert not (tmp_path / "venv").exists()


def test_a_broken_shim_on_path_is_skipped_for_a_working_pyenv_python(tmp_path):
    shims = tmp_path / "shims"
    shims.mkdir()
    shim = shims / "python3.10"
    shim.write_text("#!/bin/sh\necho 'pyenv: python3.10: command not found' >&2\nexit 127\n")
    shim.chmod(0o755)
    home = tmp_path / "home"
    (home / ".pyenv" / "versions").mkdir(parents=True)
    assert PYENV_310, "this machine should have a pyenv Python 3.10"
    (home / ".pyenv" / "versions" / PYENV_310[0].parent.parent.name).symlink_to(PYENV_310[0].parent.parent)
    result = make(tmp_path, f"{shims}:/usr/bin:/bin", home=home)
    assert result.returncode == 0, result.stderr
    version = subprocess.run([str(tmp_path / "venv" / "bin" / "python"), "--version"], capture_output=True, text=True)
    assert version.stdout.startswith("Python 3.10")
