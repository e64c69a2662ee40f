"""Small text helpers shared by the understanding steps: whole-word phrase search, clauses, negation.

Phrases come from the knowledge base (cue lists); matching is case-insensitive, on whole words, with
curly apostrophes and runs of spaces normalised, so "Won’t  stop" finds "won't stop".
"""
from __future__ import annotations

import functools
import re
from typing import Iterable, List, Optional, Sequence, Tuple

Span = Tuple[int, int]

#: Words that deny what follows within a clause ("not oily", "no swelling", "I don't have rosacea").
NEGATIONS = frozenset({"not", "n't", "nt", "no", "never", "nor", "without", "isnt", "dont", "doesnt", "arent",
                       "didnt", "havent", "hasnt", "wasnt", "aint", "than"})
#: Tokens before a term that can negate it, within its clause.
NEGATION_WINDOW = 3
_CLAUSE_END = re.compile(r"[.!?;\n]|,\s*(?:but|and|so|though)\b|\bbut\b|\bhowever\b"
                         r"|,\s*(?=(?:which|what|how|when|where|why|can|could|should|do|does|is|are|will|i|i'm|im|"
                         r"i am|i've|my|me)\b)", re.I)
_TOKEN = re.compile(r"[\w]+(?:'\w+)?|n't|[^\w\s]")


def normalise(text: str) -> str:
    """Lower case, straight apostrophes, single spaces — offsets are kept (same length as ``text``)."""
    return text.lower().replace("\u2019", "'").replace("\u2018", "'")


@functools.lru_cache(maxsize=256)
def _pattern(phrases: Tuple[str, ...]) -> Optional[re.Pattern]:
    alternatives = sorted({" ".join(p.lower().split()) for p in phrases if p.strip()}, key=len, reverse=True)
    if not alternatives:
        return None
    body = "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in alternatives)
    return re.compile(r"(?<![\w])(?:" + body + r")(?![\w])")


def spans(text: str, phrases: Iterable[str]) -> List[Span]:
    """Where any of ``phrases`` occurs in ``text`` as whole words (character offsets, in order)."""
    pattern = _pattern(tuple(phrases))
    if pattern is None:
        return []
    return [m.span() for m in pattern.finditer(normalise(text))]


def has(text: str, phrases: Iterable[str]) -> bool:
    return bool(spans(text, phrases))


def clause(text: str, start: int, end: int) -> Span:
    """The clause around ``text[start:end]``: bounded by sentence punctuation, ';', or 'but'."""
    left = 0
    for m in _CLAUSE_END.finditer(text, 0, start):
        left = m.end()
    right = len(text)
    m = _CLAUSE_END.search(text, end)
    if m:
        right = m.start()
    return left, right


def same_clause(text: str, a: Span, b: Span) -> bool:
    first, second = sorted((a, b))
    return clause(text, *first) == clause(text, *second) or not _CLAUSE_END.search(text, first[1], second[0])


def tokens_before(text: str, start: int, limit: int) -> List[str]:
    """Up to ``limit`` word tokens before ``start``, nearest last, stopping at the clause boundary."""
    left, _ = clause(text, start, start)
    words = _TOKEN.findall(normalise(text[left:start]))
    out: List[str] = []
    for word in reversed(words):
        if not re.match(r"\w", word) and word != "n't":
            break
        out.append(word)
        if len(out) >= limit:
            break
    return list(reversed(out))


#: After these, "no" is an interjection, not a negation ("actually no, it's more dry").
INTERJECTION_NEXT = frozenset({"its", "it's", "it", "i", "i'm", "im", "my", "actually", "wait", "sorry", "sorry,"})


def negated_at(text: str, start: int, window: int = NEGATION_WINDOW) -> bool:
    """Whether a negation word stands within ``window`` tokens before ``start`` in its clause."""
    words = tokens_before(text, start, window)
    for i, w in enumerate(words):
        if w == "no" and i + 1 < len(words) and words[i + 1] in INTERJECTION_NEXT:
            continue
        if w in NEGATIONS or w.endswith("n't"):
            return True
    return False


def near(text: str, span: Span, phrases: Sequence[str]) -> bool:
    """Whether one of ``phrases`` occurs in the same clause as ``span``."""
    left, right = clause(text, *span)
    return any(left <= s and e <= right for s, e in spans(text, phrases))


_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")


def question_spans(text: str) -> List[Span]:
    """The sentences that ask (end with "?"); the whole text when none does."""
    asked = [m.span() for m in _SENTENCE.finditer(text) if m.group().strip().endswith("?")]
    return asked or [(0, len(text))]


#: A question word opening a clause.
_ASKS = r"(?:how|what|whats|what's|which|when|where|why|can|could|should|shall|do|does|did|is|are|will|would|must|may)"
#: Where a second question starts inside a sentence: "how much, and how long do I wait?", "… also how often?".
_NEXT_QUESTION = re.compile(r"(?:,\s*|\s+)(?:and\s+(?:also\s+)?|also\s+|plus\s+)(?=" + _ASKS + r"\b)", re.I)
_ASKING = re.compile(r"^\W*(?:and\s+|also\s+|plus\s+|so\s+|ok\s+|okay\s+)*" + _ASKS + r"\b", re.I)


def question_clauses(text: str) -> List[Span]:
    """The questions a message asks, one span each: sentences ending in "?" or opening with a question word,
    split again where "and / also / plus" opens another question ("how much serum? and how long do I wait,
    and can I use vitamin c?" asks three). Statements beside them ("my skin is dry.") are left out."""
    out: List[Span] = []
    for m in _SENTENCE.finditer(text):
        start, end = m.span()
        joins = list(_NEXT_QUESTION.finditer(text, start, end))
        bounds = zip([start] + [j.end() for j in joins], [j.start() for j in joins] + [end])
        pieces = [(a, b) for a, b in bounds if text[a:b].strip(" ,.?!")]
        for n, (a, b) in enumerate(pieces):
            piece = text[a:b]
            if piece.strip().endswith("?") or _ASKING.search(piece) or (n and len(pieces) > 1):
                out.append((a + len(piece) - len(piece.lstrip()), b))
    return out


def sentence_at(text: str, at: int) -> Span:
    """The sentence around character ``at``."""
    return next((m.span() for m in _SENTENCE.finditer(text) if m.start() <= at < m.end()), (0, len(text)))


def asks(text: str) -> bool:
    """Whether the message asks anything: a sentence ending in "?" or opening with a question word."""
    return any(m.group().strip().endswith("?") or _ASKING.match(m.group()) for m in _SENTENCE.finditer(text))


def in_question(text: str, span: Span) -> bool:
    return any(start <= span[0] < end for start, end in question_spans(text))


def asked(text: str, phrases: Sequence[str]) -> bool:
    """Whether one of ``phrases`` stands in a question of ``text`` (not only in a statement beside it)."""
    return any(in_question(text, span) for span in spans(text, phrases))


def find(text: str, words: Optional[str]) -> int:
    """Where the user's ``words`` (as a reading step kept them) start in ``text``; -1 when absent or none."""
    return normalise(text).find(words.lower()) if words else -1
