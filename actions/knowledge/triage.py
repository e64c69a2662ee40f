"""Severity triage and medical context, in code, before anything else in a turn — pure Python, no Rasa.

A message is read for, in this order of precedence:

* **emergency** signs (swelling of lips, tongue, eyes, face or throat; trouble breathing or swallowing;
  dizziness or fainting; hives spreading over the body): the reply's first line is "get emergency help";
* a **reaction** (burning, rash, hives, blisters, swelling, stinging that won't settle; or a sign that is also
  a skin concern — redness, bumps, dryness, peeling — tied to the product or getting worse): stop, rinse,
  doctor;
* a **flare** of a diagnosed condition: pause the serum and actives until the doctor says;
* a **mild** sensation (a brief tingle): what would make it a reaction.

It also reads medical context with its polarity ("I'm pregnant" vs "I'm not pregnant", "I stopped accutane
last year"), procedures (dermarollers, peels, lasers …) and claims ("FDA approved?", "will it cure …?").
Every word list lives in the knowledge base (``vocabulary.symptom`` and ``triage``); each decision names the
rule that made it, for ``make explain``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from . import text as tx
from .schema import KnowledgeBase

#: Severities, most urgent first.
SEVERITIES = ("emergency", "reaction", "flare", "mild")
#: Medical context a message can state or deny: (entity, value) -> condition.
CONDITIONS: Dict[Tuple[str, str], str] = {
    ("life_stage", "pregnancy"): "pregnancy",
    ("life_stage", "minor"): "minor",
    ("medication", "prescription"): "prescription",
    ("medical", "condition"): "condition",
}
#: Below this confidence the intent classifier's "report_reaction" is not evidence on its own.
REPORT_CONFIDENCE = 0.6
PROFILE_ENTITIES = ("skin_type", "skin_tone", "concern")
#: How far (characters) a sign may stand from its link to the product across a sentence break.
SIGN_REACH = 60


@dataclass(frozen=True)
class Triage:
    severity: Optional[str] = None
    #: the rule that decided the severity (or "none")
    rule: str = "none"
    #: conditions this message states (True) or denies / puts in the past (False)
    conditions: Tuple[Tuple[str, bool], ...] = ()
    flare: bool = False
    procedure: bool = False
    #: "approval" ("is it FDA approved?") or "cure" ("will it cure my rosacea?")
    claim: Optional[str] = None
    #: conditions named of someone else in this message ("my daughter is pregnant")
    others: Tuple[str, ...] = ()
    #: the user says an earlier reaction is over or was not one ("it went away", "the doctor said it's fine")
    cleared: bool = False
    #: the user says the doctor okayed it, after a referral ("ok she said its fine")
    approved: bool = False

    def stated(self) -> List[str]:
        return [c for c, holds in self.conditions if holds]

    def denied(self) -> List[str]:
        return [c for c, holds in self.conditions if not holds]


@dataclass
class _Reading:
    """One message as triage sees it."""

    text: str
    entities: Sequence[Mapping[str, Any]]
    intent: Optional[str]
    confidence: Optional[float]
    kb: KnowledgeBase
    #: the most urgent reaction reported earlier in this conversation, if any
    earlier: Optional[str] = None
    rules: List[str] = field(default_factory=list)

    def terms(self, entity: str, value: Optional[str] = None, role: Optional[str] = None) -> List[Mapping[str, Any]]:
        return [e for e in self.entities if e.get("entity") == entity and (value is None or e.get("value") == value)
                and e.get("role") == role]

    def spans(self, phrases: Sequence[str]) -> List[tx.Span]:
        return [s for s in tx.spans(self.text, phrases) if not tx.negated_at(self.text, s[0])]

    def has(self, phrases: Sequence[str]) -> bool:
        return bool(self.spans(phrases))

    def together(self, first: Sequence[str], second: Sequence[str], reach: int = 0) -> bool:
        """Both kinds of words in one clause (or within ``reach`` characters), neither negated ("my lips are
        swelling"; "is peeling normal?? started on day 3 of the serum")."""
        return any(tx.same_clause(self.text, a, b) or abs(a[0] - b[0]) <= reach
                   for a in self.spans(first) for b in self.spans(second))


# --------------------------------------------------------------------------- severity rules
# Each rule takes a reading and says whether it holds; the first severity with a rule that holds wins.

def emergency_term(r: _Reading) -> bool:
    """A named emergency sign: "trouble breathing", "swollen lips", "dizzy"."""
    return bool(r.terms("symptom", "emergency"))


def swelling_of_face_or_airway(r: _Reading) -> bool:
    """A part of the face or airway and a swelling word in one clause: "my lips and cheeks are swelling up"."""
    t = r.kb.triage
    return r.together(t.emergency_parts, t.swelling_words) or r.together(t.airway_parts, t.airway_words)


def puffy_after_product(r: _Reading) -> bool:
    """Puffiness of the face or lips tied to the product: "my lips are kinda puffy since I put it on", or
    coming on after a reaction told earlier in the conversation ("got hives" … "now my eyelids are puffing
    up") (puffy eyes on their own are a common cosmetic concern)."""
    t = r.kb.triage
    return r.together(t.emergency_parts, t.soft_swelling) and (r.has(t.product_link) or r.has(t.worsening)
                                                               or r.together(t.soft_swelling, t.intense)
                                                               or r.earlier is not None)


def spreading_hives(r: _Reading) -> bool:
    """Hives spreading over the body: "hives going down my neck and onto both arms"."""
    return r.has(["hives", "hive", "welts"]) and r.has(r.kb.triage.spreading)


def _brief(r: _Reading) -> bool:
    return r.has(r.kb.triage.brief) and not r.has(r.kb.triage.worsening)


def only_brief(r: _Reading) -> bool:
    """Every sensation named is a brief one that settles ("it tingled a bit, then stopped")."""
    if not _brief(r):
        return False
    brief_signs = r.kb.triage.brief_signs
    reactions = r.terms("symptom", "reaction")
    return all(tx.has(r.text[e.get("start") or 0:e.get("end") or 0], brief_signs) for e in reactions) and bool(
        reactions or r.terms("symptom", "mild") or r.has(brief_signs))


def reaction_term(r: _Reading) -> bool:
    """A named reaction: rash, burning, blisters, hives … — not one the skin has had for months or years
    before and apart from the product ("a bumpy rash that's been there for months, will the serum fix it?")."""
    return bool(r.terms("symptom", "reaction")) and not _lifelong(r)


def _lifelong(r: _Reading) -> bool:
    """The sign is how their skin has always been ("always had red cheeks"), with no link to the product."""
    return r.has(r.kb.triage.chronic) and not r.has(r.kb.triage.product_link)


def sign_tied_to_product(r: _Reading) -> bool:
    """A sign that is also a concern, tied (in its clause) to the product or getting worse: "redness from the
    serum keeps getting worse", "bumps since I started"."""
    t = r.kb.triage
    if _lifelong(r):
        return False
    return r.together(t.signs, t.product_link, SIGN_REACH) or r.together(t.signs, t.worsening)


#: A message that opens as a yes/no question ("would it be bad to …", "is it a problem if …").
_ASKS_WHETHER = re.compile(r"^\W*(?:would|will|is|are|could|can|does|do|should|might|may)\b", re.I)


def reported_reaction(r: _Reading) -> bool:
    """The classifier is confident this reports a reaction, and it is not a description of skin
    ("I had a breakout in summer, it left dark marks")."""
    if r.intent != "report_reaction" or (r.confidence is not None and r.confidence < REPORT_CONFIDENCE):
        return False
    describes_skin = any(r.terms(e) for e in PROFILE_ENTITIES) or _lifelong(r)
    asks = _ASKS_WHETHER.match(r.text)
    if asks and r.has(r.kb.understanding.asks_harm) and not (r.terms("symptom") or r.has(r.kb.triage.signs)):
        return False  # "would it be bad to use my LED mask after the serum?" asks, and names no sign of a reaction
    if r.has(r.kb.triage.application_slip) and not (r.terms("symptom") or r.has(r.kb.triage.signs)
                                                   or r.has(r.kb.triage.worsening)):
        return False  # "been putting my hyaluronic on 30 sec after the serum, whoops": how it was applied
    return not describes_skin or r.has(r.kb.triage.product_link) or r.has(r.kb.triage.worsening)


def earlier_reaction_worsens(r: _Reading) -> bool:
    """A reaction told earlier in the conversation getting worse or spreading ("its getting worse and spreading
    down my neck"): the reaction again, not only the reminder to wait for a doctor."""
    return r.earlier is not None and r.has(r.kb.triage.worsening)


def worsening_sensation(r: _Reading) -> bool:
    """A tingle that won't settle is a reaction."""
    return bool(r.terms("symptom", "mild")) and r.has(r.kb.triage.worsening)


def condition_flare(r: _Reading) -> bool:
    """A diagnosed condition flaring: "my eczema is flaring", "rosacea flare up, face red for 3 days"."""
    t = r.kb.triage
    if r.terms("medical", "condition"):
        return r.has(t.flare)
    # rosacea is also a skin type: "flares with fragrance" describes it; a flare now is one
    return r.has(t.flare_conditions) and r.has(t.flare) and (r.has(t.present) or r.has(t.worsening))


def mild_sensation(r: _Reading) -> bool:
    """A tingle, or a sting that settles."""
    return bool(r.terms("symptom", "mild")) or only_brief(r)


RULES: Tuple[Tuple[str, Tuple], ...] = (
    ("emergency", (emergency_term, swelling_of_face_or_airway, puffy_after_product, spreading_hives)),
    ("reaction", (reaction_term, sign_tied_to_product, reported_reaction, earlier_reaction_worsens,
                  worsening_sensation)),
    ("flare", (condition_flare,)),
    ("mild", (mild_sensation,)),
)


def severity(r: _Reading) -> Tuple[Optional[str], str]:
    """The most urgent severity whose rule holds, and that rule's name. A reaction whose every sensation is
    brief and settles ("stings a little when I apply it, then stops") is mild instead."""
    t = r.kb.triage
    unused = r.has(t.not_used)  # "I haven't even opened the serum yet", "totally unrelated": not a reaction to it
    unused = unused or (r.has(t.past_reaction) and not r.has(t.present))  # "last time a serum gave me hives"
    unused = unused or (r.has(t.habitual) and not r.has(t.product_link))  # "goes red with most products": skin
    for level, rules in RULES:
        if level == "reaction" and (only_brief(r) or unused):
            continue
        for rule in rules:
            if rule(r):
                return level, rule.__name__
    return None, "none"


def prescribed_retinoid(r: _Reading) -> bool:
    """A prescription-only retinoid named as the user's own ("my derm put me on tretinoin")."""
    t = r.kb.triage
    for e in r.terms("ingredient", "retinoid"):
        start, end = e.get("start") or 0, e.get("end") or 0
        left, _ = tx.clause(r.text, start, end)
        before = r.text[left:start]
        owner = [s for s, _ in tx.spans(before, t.own_use)]
        other = [s for s, _ in tx.spans(before, r.kb.understanding.other_holders)]
        # "my sister has rosacea and uses tretinoin" is hers: the nearest holder before the term decides
        if tx.has(r.text[start:end], t.prescription_only) and owner and max(owner) > max(other, default=-1):
            return True
    return False


# --------------------------------------------------------------------------- context and claims

def conditions(r: _Reading) -> Tuple[Tuple[str, bool], ...]:
    """Conditions stated (role none) or denied / past (role "not") in this message, in order."""
    out: Dict[str, bool] = {}
    for e in r.entities:
        condition = CONDITIONS.get((str(e.get("entity")), str(e.get("value"))))
        if condition and e.get("role") in (None, "not"):
            out[condition] = e.get("role") is None
    if "prescription" not in out and prescribed_retinoid(r):
        out["prescription"] = True
    if tx.has(r.text, r.kb.understanding.not_me):  # "my SISTER is on accutane, not me": not the user's
        for e in r.entities:
            condition = CONDITIONS.get((str(e.get("entity")), str(e.get("value"))))
            if condition and e.get("role") == "other" and condition not in out:
                out[condition] = False
    return tuple(out.items())


#: How far (characters) a product subject may stand before a cure verb: "will it (completely) heal".
SUBJECT_GAP = 16


def claim(r: _Reading) -> Optional[str]:
    """"promise" for guaranteed results or no side effects; "approval" for FDA / clinically proven / medical
    grade; "cure" for a cure claim: a cure word, or a cure verb with an absolute or with the product as its
    subject."""
    t = r.kb.triage
    if r.has(t.promise):
        return "promise"
    if r.has(t.approval):
        return "approval"
    if tx.has(r.text, t.cure):
        return "cure"
    if r.terms("medical", "condition") and tx.asked(r.text, t.condition_help):
        return "cure"  # "does it help eczema?": a condition, not the look of skin
    verbs = tx.spans(r.text, t.cure_verbs)
    if verbs and tx.has(r.text, t.absolutes):
        return "cure"
    subjects = tx.spans(r.text, t.product_subjects)
    if any(0 <= v_start - s_end <= SUBJECT_GAP for _, s_end in subjects for v_start, _ in verbs):
        return "cure"
    return None


def triage(text: str, entities: Sequence[Mapping[str, Any]], kb: KnowledgeBase, intent: Optional[str] = None,
           confidence: Optional[float] = None, earlier: Optional[str] = None) -> Triage:
    """Read one message for severity, medical context, procedures and claims; ``earlier`` is the reaction
    already reported in this conversation, if any."""
    reading = _Reading(text or "", list(entities), intent, confidence, kb, earlier)
    level, rule = severity(reading)
    others = tuple(dict.fromkeys(CONDITIONS[(str(e.get("entity")), str(e.get("value")))] for e in entities
                                 if e.get("role") == "other" and (str(e.get("entity")), str(e.get("value"))) in CONDITIONS))
    return Triage(
        severity=level,
        rule=rule,
        others=others,
        # after a reaction, the doctor's okay clears it too ("saw my derm, she said its fine")
        cleared=level is None and (reading.has(kb.triage.cleared) or bool(earlier) and reading.has(kb.triage.approved)),
        approved=level is None and reading.has(kb.triage.approved),
        conditions=conditions(reading),
        flare=level == "flare",
        procedure=tx.has(reading.text, kb.triage.procedures),
        claim=claim(reading),
    )
