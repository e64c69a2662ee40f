"""The Rasa project itself: its data validates and the trained model passes every test story."""
import subprocess
import sys
from pathlib import Path

from scripts.stack import MODEL

ROOT = Path(__file__).resolve().parent.parent
RASA = str(Path(sys.executable).parent / "rasa")


def rasa(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([RASA, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def test_training_data_validates():
    result = rasa("data", "validate", "--domain", "domain.yml", "--data", "data")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_every_test_story_passes(tmp_path):
    result = rasa("test", "core", "--model", str(MODEL), "--stories", "tests/dialogue/test_stories.yml",
                  "--fail-on-prediction-errors", "--out", str(tmp_path))
    wrong = result.stdout[result.stdout.find("WrongPredictionException"):] if result.returncode else ""
    assert result.returncode == 0, (wrong or result.stdout + result.stderr)[-4000:]
