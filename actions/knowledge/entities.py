"""Find the knowledge base's vocabulary in text with spaCy — skin types, tones, concerns, ingredients …

The one list of terms lives in ``protocol.yml`` (``vocabulary:``). This module turns it into a spaCy
``PhraseMatcher`` (exact, case-insensitive, with plural / hyphen / apostrophe variants) plus a small
typo-tolerant pass, and resolves overlaps longest-first. It needs spaCy, not Rasa: the Rasa NLU
component in ``addons/`` and the tests both use it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Set, Tuple

from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc

from . import text as tx
from .schema import KnowledgeBase

#: Vocabulary group whose phrases only shield their words from being extracted.
IGNORE = "ignore"
#: Profile facts a user can deny, contrast away or say of someone else ("not oily", "I don't have rosacea",
#: "drier than oily", "my sister has rosacea").
NEGATABLE = frozenset({"skin_type", "skin_tone", "concern"})
#: Medical context that can be denied or past ("I'm not pregnant", "I stopped accutane last year").
CONDITIONS = frozenset({"life_stage", "medication", "medical"})
#: Entity roles (declared in domain.yml): a fact denied or no longer true, or someone else's. Rasa fills a
#: slot only from entities without a role, so these never become the user's profile.
NOT, OTHER = "not", "other"
#: Between two terms, words that carry a negation from the first to the second ("no rosacea or eczema").
_COORDINATED = re.compile(r"^\s*,?\s*(or|nor)\s+((any|a|an|the|even|other)\s+)?$", re.I)
#: Words that take back what came before ("oily... sorry no, I meant dry"): the later value wins.
CORRECTIONS = ("i meant", "i mean", "actually", "sorry", "no wait", "correction", "scratch that", "rather")


@dataclass(frozen=True)
class EntityMatch:
    entity: str
    value: str
    start: int  # character offsets into the text
    end: int
    text: str
    exact: bool
    #: None: a fact the user states of themselves, now; NOT or OTHER otherwise
    role: Optional[str] = None


#: Degree words between "is" and what it is ("my skin is pretty normal", "skin's super oily").
INTENSIFIERS = ("pretty", "quite", "very", "really", "super", "fairly", "rather", "kinda", "kind of", "a bit",
                "mostly", "totally", "so", "extremely", "generally", "usually")
_IS_WHAT = re.compile(r"^(.*\b(?:is|'s)) (\S+)$")


#: Entities whose phrases are also matched in the singular ("brown spots" -> "brown spot").
SINGULAR_TOO = frozenset({"concern"})


def variants(phrase: str, singular: bool = False) -> Set[str]:
    """Spelling variants a user may type: plural, hyphen/space/joined, apostrophe-less, -ise/-ize, and a
    degree word after "is" ("skin is pretty normal")."""
    base = " ".join(phrase.lower().split())
    out = {base}
    said = _IS_WHAT.match(base)
    if said:
        out |= {f"{said.group(1)} {degree} {said.group(2)}" for degree in INTENSIFIERS}
    if "-" in base:
        out |= {base.replace("-", " "), base.replace("-", "")}
    if "'" in base:
        out |= {v.replace("'", "") for v in list(out)}
    for v in list(out):
        if "ise" in v:
            out.add(v.replace("ise", "ize"))
        if "ize" in v:
            out.add(v.replace("ize", "ise"))
    for v in list(out):
        last = v.rsplit(" ", 1)[-1]
        if len(last) > 3 and last.isalpha() and not last.endswith("s"):
            out.add(v + "s")
        elif singular and len(last) > 4 and last.endswith("s") and not last.endswith("ss"):
            out.add(v[:-1])
    return out


def _squeeze(word: str) -> str:
    return "".join(c for i, c in enumerate(word) if i == 0 or c != word[i - 1])


def _edit_distance(a: str, b: str, limit: int) -> int:
    """Damerau-Levenshtein (optimal string alignment) distance, stopping early past ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: List[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


def similar(word: str, term: str) -> bool:
    """Whether ``word`` is a plausible typo of vocabulary word ``term`` (both lower-case).

    Conservative on purpose: the first letter must agree, short words only forgive doubled letters,
    words of 6–9 letters one edit, longer words two.
    """
    if word == term:
        return True
    if not word or not term or word[0] != term[0] or not word.isalpha():
        return False
    if len(term) >= 4 and _squeeze(word) == _squeeze(term):
        return True
    if len(term) < 6:
        return False
    return _edit_distance(word, term, 2) <= (1 if len(term) < 10 else 2)


class VocabularyMatcher:
    """Extracts vocabulary entities from text, built once from the knowledge base."""

    def __init__(self, nlp: Language, kb: KnowledgeBase) -> None:
        self.nlp = nlp
        self.understanding = kb.understanding
        self.matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
        self.labels: Dict[str, Tuple[str, str]] = {}
        patterns: List[Tuple[Tuple[str, ...], str]] = []  # (lower tokens, key) for the typo pass
        for entity, values in kb.vocabulary.items():
            for value, phrases in values.items():
                key = f"{entity}\t{value}"
                self.labels[key] = (entity, value)
                docs = [nlp.make_doc(v) for p in phrases for v in sorted(variants(str(p), entity in SINGULAR_TOO))]
                self.matcher.add(key, docs)
                patterns += [(tuple(t.lower_ for t in d), key) for d in docs]
        patterns.sort(key=lambda p: -len(p[0]))
        # The typo pass needs the first letter to agree, so each word only tries patterns starting like it.
        self.patterns_by_letter: Dict[str, List[Tuple[Tuple[str, ...], str]]] = {}
        for tokens, key in patterns:
            if tokens and tokens[0]:
                self.patterns_by_letter.setdefault(tokens[0][0], []).append((tokens, key))

    def __call__(self, text: str, doc: Optional[Doc] = None) -> List[EntityMatch]:
        doc = doc if doc is not None else self.nlp.make_doc(text)
        spans = [(start, end, self.nlp.vocab.strings[key], True) for key, start, end in self.matcher(doc)]
        spans += self._typo_spans(doc, {i for s, e, _, _ in spans for i in range(s, e)})
        return self._resolve(doc, spans)

    def _typo_spans(self, doc: Doc, covered: Set[int]) -> List[Tuple[int, int, str, bool]]:
        words = [t.lower_ for t in doc]
        found = []
        for i in range(len(words)):
            if i in covered:
                continue
            for tokens, key in self.patterns_by_letter.get(words[i][:1], ()):
                n = len(tokens)
                if i + n <= len(words) and all(similar(words[i + k], tokens[k]) for k in range(n)):
                    found.append((i, i + n, key, False))
                    break
        return found

    def _resolve(self, doc: Doc, spans: Iterable[Tuple[int, int, str, bool]]) -> List[EntityMatch]:
        """Longest span wins, then exact over typo; ignore-phrases shield their words and vanish."""
        taken: Set[int] = set()
        chosen = []
        for start, end, key, exact in sorted(spans, key=lambda s: (-(s[1] - s[0]), not s[3], s[0])):
            if taken.intersection(range(start, end)):
                continue
            taken.update(range(start, end))
            chosen.append((start, end, key, exact))
        out: List[EntityMatch] = []
        for start, end, key, exact in sorted(chosen):
            entity, value = self.labels[key]
            span = doc[start:end]
            if entity == IGNORE or (entity == "skin_type" and self._not_skin(doc, span)):
                continue
            role = self._role(doc, span, entity, value)
            if role is None and out and out[-1].role == NOT and entity in NEGATABLE | CONDITIONS \
                    and _COORDINATED.match(doc.text[out[-1].end:span.start_char]):
                role = NOT  # "never been on accutane or any prescription stuff": the negation carries over
            if role is None and entity in NEGATABLE and any(m.role == NOT and (m.entity, m.value) == (entity, value)
                                                            for m in out):
                role = NOT  # "dry not oily, it only looks shiny from my balm": still denied
            out.append(EntityMatch(entity, value, span.start_char, span.end_char, span.text, exact, role))
        return self._apply_corrections(doc.text, out)

    def _role(self, doc: Doc, span, entity: str, value: str = "") -> Optional[str]:
        """NOT for a denied fact or a past condition, OTHER for someone else's skin or condition (a parent asking
        for their teenager still speaks for them: under-18 keeps no holder), else None."""
        text, start, end = doc.text, span.start_char, span.end_char
        if entity in NEGATABLE | CONDITIONS | {"symptom"} and tx.negated_at(text, start):
            return NOT
        u = self.understanding
        if entity in CONDITIONS and tx.near(text, (start, end), u.past_markers):
            return NOT
        if entity in NEGATABLE or (entity in CONDITIONS and value != "minor"):
            left, _ = tx.clause(text, start, end)
            if tx.has(text[left:start], u.other_holders):
                return OTHER
        return None

    def _not_skin(self, doc: Doc, span) -> bool:
        """A skin-type word used as a verb, for the face's state, or as a concern's cause ("dry it first",
        "wet or dry", "PIH from old breakouts")."""
        u, text = self.understanding, doc.text
        before = " ".join(tx.tokens_before(text, span.start_char, 3))
        if tx.has(" ".join(tx.tokens_before(text, span.start_char, 2)), u.cause_markers):
            return True
        if len(span) != 1:
            return False
        after = " ".join(t.lower_ for t in doc[span.end:span.end + 2])
        return (any(f" {after} ".startswith(f" {w} ") for w in u.not_skin_after)
                or any(f" {before} ".endswith(f" {w} ") for w in u.not_skin_before))

    @staticmethod
    def _apply_corrections(text: str, found: List[EntityMatch]) -> List[EntityMatch]:
        """Drop a profile fact that a later correction of the same kind replaces."""
        lowered = text.lower()
        keep = []
        for i, m in enumerate(found):
            replaced = m.entity in NEGATABLE and m.role is None and any(
                later.entity == m.entity and later.value != m.value and later.role is None
                and any(c in lowered[m.end:later.start] for c in CORRECTIONS)
                for later in found[i + 1:]
            )
            if not replaced:
                keep.append(m)
        return keep
