"""`make evaluate`: NLU on a held-out split, cross-validation, and the test stories; writes docs/evaluation.md.

The held-out split (tests/nlu/holdout.yml) is never trained on: the NLU model here is trained on
data/nlu only. Usage: python -m scripts.evaluate [--folds N] [--no-cv]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, List

ROOT = Path(__file__).resolve().parent.parent
RASA = str(Path(sys.executable).parent / "rasa")
HOLDOUT = ROOT / "tests" / "nlu" / "holdout.yml"
STORIES = ROOT / "tests" / "dialogue" / "test_stories.yml"
REPORT = ROOT / "docs" / "evaluation.md"
ENTITY_REPORT = "KnowledgeBaseEntityExtractor_report.json"
#: The line after which docs/evaluation.md is written by hand (judged conversations, what the numbers mean).
KEPT = "<!-- kept by make evaluate: everything below this line is written by hand -->\n"


def rasa(*args: str) -> None:
    print("==> rasa " + " ".join(args), flush=True)
    subprocess.run([RASA, *args], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


def table(report: Dict, title: str) -> List[str]:
    rows = [f"| {title} | precision | recall | F1 | support |", "|---|---|---|---|---|"]
    classes = {k: v for k, v in report.items() if isinstance(v, dict) and "support" in v and "avg" not in k}
    for name, v in sorted(classes.items(), key=lambda kv: kv[1]["f1-score"]):
        rows.append(f"| {name} | {v['precision']:.3f} | {v['recall']:.3f} | {v['f1-score']:.3f} | {v['support']} |")
    for avg in ("macro avg", "weighted avg"):
        if avg in report:
            v = report[avg]
            rows.append(f"| **{avg}** | {v['precision']:.3f} | {v['recall']:.3f} | **{v['f1-score']:.3f}** | {v['support']} |")
    return rows


def summary(report: Dict) -> str:
    macro = report.get("macro avg", {}).get("f1-score", 0)
    if "accuracy" in report:
        return f"macro-F1 {macro:.3f}, accuracy {report['accuracy']:.3f}"
    return f"macro-F1 {macro:.3f}, micro-F1 {report.get('micro avg', {}).get('f1-score', 0):.3f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--no-cv", action="store_true", help="skip cross-validation")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        rasa("train", "nlu", "--nlu", "data/nlu", "--out", str(out / "model"), "--fixed-model-name", "nlu")
        rasa("test", "nlu", "--model", str(out / "model" / "nlu.tar.gz"), "--nlu", str(HOLDOUT), "--out", str(out / "holdout"))
        intents = json.loads((out / "holdout" / "intent_report.json").read_text())
        entities = json.loads((out / "holdout" / ENTITY_REPORT).read_text())
        cv = None
        if not args.no_cv:
            rasa("test", "nlu", "--nlu", "data/nlu", "--cross-validation", "--folds", str(args.folds), "--out", str(out / "cv"))
            cv_file = out / "cv" / "intent_report.json"
            cv = json.loads(cv_file.read_text()) if cv_file.exists() else None
        rasa("train", "--out", str(out / "full"), "--fixed-model-name", "full")
        stories = subprocess.run([RASA, "test", "core", "--model", str(out / "full" / "full.tar.gz"), "--stories", str(STORIES),
                                  "--out", str(out / "core")], cwd=ROOT, capture_output=True, text=True)
        story_report = out / "core" / "story_report.json"
        core = json.loads(story_report.read_text()) if story_report.exists() else {}

    lines = [
        "# Evaluation",
        "",
        "Reproduce with `make evaluate` (trains on `data/nlu` only; the held-out split `tests/nlu/holdout.yml`",
        "is never trained on). Targets on the held-out split: intent macro-F1 ≥ 0.97, entity F1 ≥ 0.97.",
        "",
        f"- **Intents, held-out split:** {summary(intents)}",
        f"- **Entities, held-out split:** {summary(entities)}",
    ]
    if cv:
        lines.append(f"- **Intents, {args.folds}-fold cross-validation on the training data:** {summary(cv)}")
    if core:
        lines.append(f"- **Dialogue, test stories (actions):** {summary(core)}")
    lines.append(f"- `rasa test core` exit status on the test stories: {stories.returncode}")
    lines += ["", "## Intents (held-out split)", "", *table(intents, "intent"),
              "", "## Entities (held-out split)", "", *table(entities, "entity")]
    if cv:
        lines += ["", f"## Intents ({args.folds}-fold cross-validation)", "", *table(cv, "intent")]
    REPORT.parent.mkdir(exist_ok=True)
    kept = REPORT.read_text().split(KEPT, 1)[1] if REPORT.exists() and KEPT in REPORT.read_text() else ""
    REPORT.write_text("\n".join(lines) + "\n\n" + KEPT + kept)  # the hand-written record below stays
    print("\n".join(lines[:12]))
    print(f"\nfull report: {REPORT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
