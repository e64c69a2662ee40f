"""The suite's pytest configuration (pyproject.toml): a skipped test always says why, in the run's summary."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_skip_reason_is_printed(tmp_path):
    test = tmp_path / "test_skips.py"
    test.write_text("import pytest\n\ndef test_needs_the_moon():\n    pytest.skip('needs the moon')\n")
    run = subprocess.run([sys.executable, "-m", "pytest", "-c", str(ROOT / "pyproject.toml"), "-p", "no:cacheprovider",
                          str(test)], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert "SKIPPED [1]" in run.stdout and "needs the moon" in run.stdout, run.stdout
