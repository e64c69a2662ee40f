"""The insights page's committed chart bundle is built from the current sources, and bundles its library."""
import hashlib
import json
import re
from pathlib import Path

WEB = Path(__file__).resolve().parents[2] / "web"
BUNDLE = WEB / "dist" / "insights.js"
SOURCES = ["insights/insights.js", "insights/build.mjs", "package.json", "package-lock.json"]  # web/insights/build.mjs


def test_committed_insights_bundle_is_built_from_the_current_sources():
    digest = hashlib.sha256()
    for path in SOURCES:
        digest.update(f"{path}\0".encode())
        digest.update((WEB / path).read_bytes())
        digest.update(b"\0")
    stamp = re.match(r"/\*! insights sources-sha256: ([0-9a-f]{64}) \*/", BUNDLE.read_text(encoding="utf-8"))
    assert stamp and stamp.group(1) == digest.hexdigest(), "web/dist/insights.js is stale: rebuild with `make widget`"


def test_the_charting_library_is_pinned_and_bundled():
    version = json.loads((WEB / "package.json").read_text())["dependencies"]["chart.js"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", version), version  # an exact version
    text = BUNDLE.read_text(encoding="utf-8")
    assert "Chart.js v" + version in text  # its licence banner, kept at the end
    assert "http://" not in text.split("*/", 1)[1][:2000] and "require(" not in text
