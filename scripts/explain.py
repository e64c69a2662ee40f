"""`make explain MSG="..."`: what the assistant understood of one message, which step decided, and the reply.

Runs the trained model's NLU (intent and knowledge-base entities, with roles), then the same pure-Python
layers the action server runs: triage, the question frame, the decision steps, the composition.

usage: python -m scripts.explain "can I use retinol after?" [--state '{"skin_types": ["oily"]}']
       [--model models/assistant.tar.gz] [--json]
State fields are those of actions.knowledge.resolve.State (skin_types, skin_tone, concerns, conditions,
ingredients, product, last_topic, walkthrough_step, reaction, …).
"""
from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
import os
import sys
from pathlib import Path
from dataclasses import replace
from typing import Any, Dict

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = ROOT / "models" / "assistant.tar.gz"


def parse(model: Path, text: str) -> Dict[str, Any]:
    """The trained model's NLU result for ``text`` (intent, confidence, entities)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    logging.disable(logging.WARNING)
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    return asyncio.run(agent.parse_message(text))


def explain(text: str, state_fields: Dict[str, Any], nlu: Dict[str, Any]) -> Dict[str, Any]:
    from actions.knowledge import load_knowledge
    from actions.knowledge.reply import compose
    from actions.knowledge import query
    from actions.knowledge.resolve import WALKTHROUGH_TOPICS, State, Turn, group_entities, resolve
    from actions.render import message

    kb = load_knowledge()
    entities = nlu.get("entities") or []
    intent = nlu.get("intent") or {}
    turn = Turn(intent=intent.get("name"), text=text, entities=group_entities(entities),
                texts=group_entities([{"entity": e.get("entity"), "value": text[e["start"]:e["end"]],
                                       "role": e.get("role")} for e in entities if "start" in e]),
                confidence=intent.get("confidence"), found=entities)
    question = resolve(turn, State(**state_fields).after(turn), kb.question_cues, kb)
    if question.topic in WALKTHROUGH_TOPICS:  # the walkthrough action answers: its first or next stage
        at = state_fields.get("walkthrough_step")
        index = 0 if question.topic == "walkthrough_start" or at is None else int(at) + 1
        answers = [query.walkthrough(kb, replace(question.context, time=turn.time), index)]
    else:
        answers, _ = compose(kb, question)
    frame = question.frame
    return {
        "message": text,
        "nlu": {"intent": intent.get("name"), "confidence": round(float(intent.get("confidence") or 0), 3),
                "entities": [{"entity": e.get("entity"), "value": e.get("value"), "role": e.get("role"),
                              "text": text[e["start"]:e["end"]] if "start" in e else None} for e in entities]},
        "frame": {k: v for k, v in dataclasses.asdict(frame).items() if k != "trace"} if frame else None,
        "decision": [f"{name}: {note}" for name, note in (frame.trace if frame else ())] +
                    [f"{name}: {note}" for name, note in question.trace],
        "question": {"topic": question.topic, "also": question.also, "leads": question.safety,
                     "context": dataclasses.asdict(question.context)},
        # a message asking several things: each question's own decision, answered in turn
        "parts": [{"topic": part.topic, "also": part.also, "leads": part.safety,
                   "decision": [f"{name}: {note}" for name, note in part.trace]} for part in question.parts],
        "reply": message(kb, answers)["text"] if answers else "",
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("message")
    ap.add_argument("--state", default="{}", help="remembered state as JSON (fields of resolve.State)")
    ap.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    ap.add_argument("--json", action="store_true", help="print the whole explanation as JSON")
    args = ap.parse_args()
    if not args.model.exists():
        print(f"error: no trained model at {args.model}; run `make train` first", file=sys.stderr)
        return 2
    try:
        state = json.loads(args.state)
    except json.JSONDecodeError as error:
        print(f"error: --state is not JSON: {error}", file=sys.stderr)
        return 2
    nlu = parse(args.model, args.message)
    result = explain(nlu.get("text") or args.message, state, nlu)  # the text as the actions read it (spelling corrected)
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return 0
    nlu = result["nlu"]
    print(f"message : {result['message']}")
    print(f"intent  : {nlu['intent']} ({nlu['confidence']})")
    for e in nlu["entities"]:
        print(f"entity  : {e['entity']}={e['value']}" + (f" role={e['role']}" if e["role"] else "") + f"  «{e['text']}»")
    frame = result["frame"] or {}
    print("frame   : " + ", ".join(f"{k}={v}" for k, v in frame.items() if v not in (None, (), [], False)))
    for line in result["decision"]:
        print(f"step    : {line}")
    q = result["question"]
    print(f"decided : topic={q['topic']} also={q['also']} leads={q['leads']}")
    for n, part in enumerate(result["parts"], 1):
        print(f"part {n}  : topic={part['topic']} also={part['also']} leads={part['leads']}"
              f"  ({'; '.join(part['decision'][-2:])})")
    print("reply   :")
    for line in result["reply"].splitlines():
        print("    " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
