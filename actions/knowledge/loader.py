"""Load and validate ``protocol.yml`` once; explain any mistake by file, entry and field."""
from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any, Optional, Sequence, Union

import yaml
from pydantic import ValidationError

from .schema import KnowledgeBase

DEFAULT_PATH = Path(__file__).with_name("protocol.yml")
#: Set to point a deployment at a brand's own copy of the knowledge base.
PATH_ENV = "PROTOCOL_KB_PATH"


class KnowledgeBaseError(ValueError):
    """The knowledge-base file is missing, not YAML, or does not match the schema."""


def _entry_path(raw: Any, loc: Sequence[Union[str, int]]) -> str:
    """``('skin_types', 2, 'cleansing')`` -> ``skin_types[dry].cleansing`` (list items named by their id)."""
    parts, node = [], raw
    for key in loc:
        if key == "__root__":
            continue
        if isinstance(key, int) and isinstance(node, list) and key < len(node):
            node = node[key]
            ident = node.get("id") if isinstance(node, dict) else None
            parts[-1] += f"[{ident if ident is not None else key}]"
            continue
        parts.append(str(key))
        node = node.get(key) if isinstance(node, dict) else None
    return ".".join(parts) or "(top level)"


def parse_knowledge(text: str, origin: str = "<string>") -> KnowledgeBase:
    """Parse and validate knowledge-base YAML; raise :class:`KnowledgeBaseError` naming what is wrong."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise KnowledgeBaseError(f"{origin}: not valid YAML: {error}") from error
    if not isinstance(raw, dict):
        raise KnowledgeBaseError(f"{origin}: expected a mapping at the top level, got {type(raw).__name__}")
    try:
        kb = KnowledgeBase.parse_obj(raw)
    except ValidationError as error:
        problems = [f"  {_entry_path(raw, e['loc'])}: {e['msg']}" for e in error.errors()]
        raise KnowledgeBaseError(f"{origin}: {len(problems)} problem(s):\n" + "\n".join(problems)) from None
    from .query import USES  # the ids the code relies on

    problems = kb.check_references() + kb.check_uses(USES)
    if problems:
        raise KnowledgeBaseError(f"{origin}: {len(problems)} problem(s):\n" + "\n".join(f"  {p}" for p in problems))
    return kb


def load_file(path: Union[str, Path]) -> KnowledgeBase:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise KnowledgeBaseError(f"{path}: cannot read the knowledge base: {error.strerror}") from error
    return parse_knowledge(text, origin=str(path))


@functools.lru_cache(maxsize=4)
def _cached(path: str) -> KnowledgeBase:
    return load_file(path)


def load_knowledge(path: Optional[Union[str, Path]] = None) -> KnowledgeBase:
    """The validated knowledge base (from ``$PROTOCOL_KB_PATH`` or the bundled file), loaded once."""
    return _cached(str(path or os.environ.get(PATH_ENV) or DEFAULT_PATH))
