"""Spelling: the user's words put back into the vocabulary the assistant knows — pure Python, no Rasa.

Shoppers type "how mutch serum shud i put on", and the intent classifier, the question cues and the frame all
match words. Before any of them read a message, each word that is neither in the training examples nor in
the knowledge base is replaced by

* its chat shorthand's spelling from the knowledge base (``understanding.shorthand``: "shud" → "should"), or
* the most frequent word of the assistant's vocabulary one edit away (two for long words) that starts with the
  same letter ("mutch" → "much", "moisturzer" → "moisturizer"); none when two such words are equally frequent.

A word is left as typed when it is an English word (``english``: spaCy's English lookup tables, see
``english_words``) — "healing" must never become "heading", nor "minus" "mins" — or when it is short (under
four letters), has capitals inside (brand names) or is in the vocabulary already.
"""
from __future__ import annotations

import re
from collections import Counter
from typing import Dict, Iterable, List, Mapping, Optional

from .entities import _edit_distance

#: A word as the speller sees it: letters with inner apostrophes ("don't"); everything else is kept as typed.
WORD = re.compile(r"[A-Za-z][A-Za-z']*[A-Za-z]|[A-Za-z]")
#: Words shorter than this are only ever replaced through the shorthand list ("u", "ur", "wat").
MIN_LENGTH = 4
#: Words at least this long may be two edits from their correction.
LONG_WORD = 8


def words(text: str) -> Iterable[str]:
    return (m.group(0).lower() for m in WORD.finditer(text or ""))


class Speller:
    """Corrects unknown words towards a vocabulary of word counts."""

    def __init__(self, counts: Mapping[str, int], shorthand: Optional[Mapping[str, str]] = None,
                 english: Iterable[str] = ()) -> None:
        self.counts: Dict[str, int] = {w.lower(): int(n) for w, n in counts.items()}
        self.english = frozenset(english)
        self.shorthand = {k.lower(): v for k, v in (shorthand or {}).items()}
        self._by_letter: Dict[str, list] = {}
        for w in self.counts:
            self._by_letter.setdefault(w[0], []).append(w)
        self._cache: Dict[str, Optional[str]] = {}

    @classmethod
    def from_texts(cls, texts: Iterable[str], shorthand: Optional[Mapping[str, str]] = None,
                   english: Iterable[str] = ()) -> "Speller":
        return cls(Counter(w for t in texts for w in words(t)), shorthand, english)

    def word(self, word: str) -> Optional[str]:
        """The correction of one word, or None to keep it."""
        low = word.lower()
        if low in self.shorthand:
            return self.shorthand[low]
        if low in self.counts or low in self.english or len(low) < MIN_LENGTH or any(c.isupper() for c in word[1:]):
            return None
        if self._known_form(low):
            return None
        if low not in self._cache:
            self._cache[low] = self._nearest(low)
        return self._cache[low]

    def _known_form(self, low: str) -> bool:
        """A possessive of a known word ("husband's") or a contraction typed without its apostrophe ("thats",
        "didnt"): the phrase lists know these forms as typed."""
        if low.endswith("'s") and (low[:-2] in self.counts or low[:-2] in self.english):
            return True
        forms = (f"{low[:i]}'{low[i:]}" for i in (len(low) - 1, len(low) - 2))
        return "'" not in low and any(f in self.english or f in self.counts for f in forms)

    def _nearest(self, low: str) -> Optional[str]:
        limit = 2 if len(low) >= LONG_WORD else 1
        best, best_key = None, None
        for known in self._by_letter.get(low[0], ()):
            if len(known) < MIN_LENGTH or abs(len(known) - len(low)) > limit:
                continue
            distance = _edit_distance(low, known, limit)
            if distance > limit:
                continue
            # a transposition ("wiat") is the likeliest slip: the same letters beat a more frequent word
            key = (-distance, sorted(known) == sorted(low), self.counts[known])
            if best_key is None or key > best_key:
                best, best_key = known, key
            elif key == best_key:
                best = None  # two equally likely corrections: keep what was typed
        return best

    def correct(self, text: str) -> str:
        """``text`` with its unknown words corrected; everything else (spacing, punctuation, case of the
        words kept) exactly as typed."""
        def fix(m: "re.Match[str]") -> str:
            new = self.word(m.group(0))
            return m.group(0) if new is None else new
        return WORD.sub(fix, text or "")


#: Below this log-probability a word of spaCy's English frequency table counts as a typo, not a word
#: ("mutch" is -16.2, "bloke" -13.2); the table is web text and holds many typos.
ENGLISH_LOG_PROB = -15.0


def english_words() -> List[str]:
    """English words from ``spacy-lookups-data``: the frequency table above ``ENGLISH_LOG_PROB`` and every
    form of the lemma table ("stealing", "standing")."""
    import gzip
    import json
    from pathlib import Path

    import spacy_lookups_data

    data = Path(spacy_lookups_data.__file__).parent / "data"
    probs = json.loads(gzip.open(data / "en_lexeme_prob.json.gz").read())
    lemmas = json.loads(gzip.open(data / "en_lemma_lookup.json.gz").read())
    found = {w for w, p in probs.items() if p >= ENGLISH_LOG_PROB} | set(lemmas) | set(lemmas.values())
    return sorted(w for w in found if _PLAIN.fullmatch(w))


_PLAIN = re.compile(r"[a-z][a-z']*")
