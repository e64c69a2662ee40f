"""The question frame: what one message does, about what, asking which aspect — pure Python, no Rasa.

A message becomes a small typed value (:class:`Frame`) built by named reading steps, each with its own
precondition and tests:

* ``act`` — what the user does: ask, tell (about their skin), report (a reaction), navigate (the
  walkthrough), chat, or ask for a person;
* ``subject`` — what it is about: ``serum``, ``step:3``, ``ingredient:retinoid``, ``product:cleanser``,
  ``patch_test``, ``brand``, ``routine``; context fills it when the message leaves it out;
* ``aspect`` — what is asked of it (``duration``, ``amount``, ``frequency``, ``order``, ``time``, ``where``,
  ``method``, ``why``, ``avoid``; KB ``aspects``), and whether it is a yes/no or an either/or question;
* ``facts`` — every profile or medical fact with its role (``None``: the user's own, now; ``not``: denied or
  past; ``other``: someone else's);
* ``gap`` / ``verdict`` — the knowledge base's honest "the protocol doesn't say" for this subject × aspect,
  or its first-word answer to an either/or question.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, List, Optional, Sequence, Tuple

from . import text as tx
from .schema import Gap, KnowledgeBase, Verdict

if TYPE_CHECKING:  # resolve imports this module; only the types flow back
    from .resolve import State, Turn

#: A message this short that names no subject but asks an aspect leans on the last one ("how long for that?").
CONTEXT_WORDS = 12
#: … and longer when it opens as a follow-up ("and how long do I have to wait before I know it's fine?").
FOLLOW_UP_WORDS = 20
_FOLLOW_UP = re.compile(r"^\W*(and|so|also|then|ok so|okay so)\b", re.I)
ACTS = {
    "report_reaction": "report", "inform_profile": "tell", "inform_condition": "tell", "human_handoff": "handoff",
    "greet": "chat", "goodbye": "chat", "thank": "chat", "affirm": "chat", "deny": "chat", "bot_challenge": "chat",
    "walkthrough_start": "navigate", "walkthrough_next": "navigate", "walkthrough_back": "navigate",
    "walkthrough_repeat": "navigate", "walkthrough_where": "navigate", "walkthrough_stop": "navigate",
}
YES_NO = re.compile(r"^\W*(can|could|should|shall|do|does|did|is|are|am|will|would|must|may|have|has)\b"
                     r"|\b(is it ok|is it okay|ok to|okay to|safe to|fine to|alright to|necessary|do i need|do i have to|"
                     r"worth it|worth adding|worth using|worth trying|good idea|bad idea)\b"
                     r"|\b(right|correct|yeah|yes|ok|okay|no|fine|safe|alright|normal|allowed|too)\s*\?+\s*$",  # "… on top, right?", "the serum itself, fine?"
                     re.I)
#: Where a question's own clause starts after something told ("I have rosacea, can I use glycolic acid?").
_CLAUSE = re.compile(r"[,;:]\s+|\s+[-–—]+\s+|\s+(?:but|so)\s+", re.I)
#: "before or after?", "morning or night?", "gel or cream?": a choice, not a yes/no question.
_EITHER_OR = re.compile(r"\b\w+\b[^?.!,]{0,25}\bor\b\s+(?!(?:not|no|is|are|do|does|should|can|will|would|"
                        r"shall|am|was|did|have|has|just|maybe|something)\b)\w+", re.I)
#: A question asking which / what / how: it has no yes or no for an answer.
_WH = re.compile(r"^\W*((ok|okay|so|and|but|um|hmm|wait|sorry|also|then)\b\W*)*(which|what|how|where|when|why|who)\b", re.I)
_STEP = re.compile(r"\bstep\s*#?\s*(\d)\b", re.I)
#: Subjects that come from the message's entities, most specific first.
ENTITY_SUBJECTS = (("ingredient", "ingredient"), ("product", "product"))


@dataclass(frozen=True)
class Frame:
    act: str = "ask"
    subject: Optional[str] = None
    aspect: Optional[str] = None
    time: Optional[str] = None
    #: a yes/no question ("can I …?", "do I need …?")
    yes_no: bool = False
    #: (entity, value, role) for every profile or medical fact named
    facts: Tuple[Tuple[str, str, Optional[str]], ...] = ()
    gap: Optional[str] = None
    verdict: Optional[str] = None
    #: "yes" / "no" when the verdict's question asks for one ("can I skip …?" -> no)
    polarity: Optional[str] = None
    #: the yes/no question asks whether something would harm ("would it be bad to …?"): Yes/No would read backwards
    inverted: bool = False
    #: an order question between two stages of the routine: the user's words for the earlier one, the
    #: later one and the one asked about, and "first" or "relative" for how it was asked
    order: Tuple[str, ...] = ()
    #: an order question naming three or more things of the routine ("what order: serum, vitamin C, moisturiser,
    #: sunscreen?"): each as ``product:<id>`` / ``ingredient:<id>``, in the protocol's order
    sequence: Tuple[str, ...] = ()
    #: the user asks to forget what they told ("forget what I told you, I'm asking for a friend")
    forget: bool = False
    #: what filled the subject: "message" or "context"
    subject_from: str = "message"
    #: the words that named the subject (a brand's name, an ingredient's label)
    subject_words: Optional[str] = None
    #: whom the question is about: "self", or "other" ("what moisturiser should she use?")
    about: str = "self"
    #: where a yes/no question proposes a named active goes: "after" or "before" the serum
    proposes: Optional[str] = None
    #: the message tells and asks nothing: no question mark, no question opening, no request words
    statement: bool = False
    #: the skin type a correction gives instead of the one told before ("wait actually its oily, it just feels
    #: tight after washing": oily — the rest describes it)
    corrects: Optional[str] = None
    trace: Tuple[Tuple[str, str], ...] = field(default=(), compare=False)

    @property
    def subject_kind(self) -> Optional[str]:
        return self.subject.split(":")[0] if self.subject else None


# --------------------------------------------------------------------------- reading steps

#: An auxiliary opening a statement, not a question: "did the patch test yesterday", "did that, waited 10 min".
_TOLD = re.compile(r"^\W*(did|done|have|had)\s+(the|a|an|my|some|it|that|this)\b", re.I)


def is_statement(text: str, kb: KnowledgeBase) -> bool:
    """A message that tells and does not ask: no question mark, no question opening, no request words."""
    return "?" not in text and not tx.has(text, kb.understanding.requests) and \
        (not YES_NO.search(text) or bool(_TOLD.search(text)))


def read_act(turn: "Turn") -> str:
    """What the user does: the intent's group; a question mark or a yes/no opening is asking."""
    act = ACTS.get(turn.intent or "", "ask")
    if act in ("chat", "tell") and (turn.text.strip().endswith("?") or YES_NO.search(turn.text)):
        return "ask"
    return act


def read_subject(turn: "Turn", kb: KnowledgeBase) -> Tuple[Optional[str], Optional[str]]:
    """What the message is about, and the words that named it: a patch test, a step by number, a brand,
    a named ingredient or product type, else the serum when it is named."""
    if tx.has(turn.text, kb.question_cues.get("patch_test", ())):
        return "patch_test", None
    number = step_number(turn.text, kb)
    if number:
        return f"step:{number}", None
    u = kb.understanding
    if tx.has(turn.text, u.step_count):
        return "steps", None
    brand = tx.spans(turn.text, kb.understanding.brands)
    if brand:
        start, end = brand[0]
        return "brand", turn.text[start:end]
    for entity, kind in ENTITY_SUBJECTS:
        values = [v for v in turn.entities.get(entity) or () if v != "serum"]
        if values:
            named = next((e for e in turn.found if e.get("entity") == entity and e.get("value") == values[0]
                          and not e.get("role") and isinstance(e.get("start"), int)), None)
            words = turn.text[named["start"]:named["end"]] if named else None
            return f"{kind}:{values[0]}", words
    if "serum" in (turn.entities.get("product") or ()):
        return "serum", None
    return None, None


def step_number(text: str, kb: KnowledgeBase) -> Optional[int]:
    """The protocol step a message names: "step 3", "step three", "the very first step", "the last step"."""
    number = _STEP.search(text)
    if number:
        return int(number.group(1))
    u, lowered = kb.understanding, tx.normalise(text)
    for words, pattern in ((u.step_cardinals, r"\bstep\s+({})\b"), (u.step_ordinals, r"\b({})\s+step\b")):
        alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
        named = re.search(pattern.format(alternatives), lowered)
        if named:
            return words[named.group(1)]
    return None


def read_aspect(text: str, kb: KnowledgeBase) -> Optional[str]:
    """The aspect whose cue comes first in the message's questions (else anywhere in it): in "I put it on
    right away. how long am I meant to wait?" the question is how long."""
    found = [(not tx.in_question(text, span), span[0], aspect) for aspect, cues in kb.aspects.items()
             for span in tx.spans(text, cues)]
    return min(found)[2] if found else None


#: Someone else as the one who would use it: "can she use …", "for him", "should my son …".
_FOR_THEM = re.compile(r"\b(can|could|should|would|does|do|will|is|may|shall)\s+(she|he|they|my\s+\w+)\b"
                       r"|\bfor\s+(him|her|them|my\s+\w+)\b|\b(she|he|they)\s+(use|apply|put|layer|try|start|add)\b"
                       r"|\bher\s+(skin|face)\b|\bhis\s+(skin|face)\b", re.I)


def read_about(text: str, kb: KnowledgeBase, theirs: bool = False) -> str:
    """"other" when a question speaks of someone else and not of the user ("buying it for my mom, what should
    she use?", "and for him?"); "self" otherwise ("my sister is pregnant. how long do I wait?"). Someone else
    must be the one who would use it, or have facts of their own in the message (``theirs``): in "and the
    retinol? she didn't say anything" the doctor is no one to answer for."""
    if not theirs and not _FOR_THEM.search(text):
        return "self"
    u = kb.understanding
    questions = [text[a:b] for a, b in tx.question_spans(text)]
    for asked in questions:
        holders = tx.spans(asked, u.other_holders)
        if not holders:
            continue
        for start, end in sorted(holders, reverse=True):
            asked = asked[:start] + " " + asked[end:]
        if not tx.has(asked, u.first_person):
            return "other"
    # "my sister is pregnant. is that a bad idea?": a question naming nobody leans on the person just named
    if tx.has(text, u.other_holders) and not any(tx.has(q, u.other_holders) or tx.has(q, u.first_person)
                                                 for q in questions):
        return "other"
    return "self"


#: "skip it", "need it", "without it": the thing a follow-up's verdict is about, said as "it".
_SKIP_IT = re.compile(r"\b(skip|skipping|need|without|drop|leave out|wear)\s+(?:it|that|this)\b", re.I)


def context_subject(state: "State") -> Optional[str]:
    """The subject a follow-up leans on ("how long for that one?"): the last ingredient or product asked."""
    if state.last_topic == "ingredient" and state.ingredients:
        return f"ingredient:{state.ingredients[0]}"
    if state.last_topic == "product" and state.product:
        return f"product:{state.product}"
    if state.last_topic == "patch_test":
        return "patch_test"
    return None


def _matches(subject: Optional[str], wanted: Optional[str]) -> bool:
    if wanted is None:
        return True
    return subject is not None and (subject == wanted or subject.split(":")[0] == wanted)


def _wait_before(text: str, words: Optional[str]) -> bool:
    """"how long before vitamin C?" asks for the wait before it (the serum's absorption), not after it."""
    at = tx.find(text, words)
    return at >= 0 and "before" in tx.tokens_before(text, at, 3)


def read_polarity(text: str, verdict: Verdict) -> Optional[str]:
    """"no" when the question asks to skip or do without ("can I skip moisturiser?"), "yes" when it asks
    whether it is needed ("do I still need SPF?"): whichever of the verdict's words comes first in a question."""
    # (a denied word reads backwards: "I don't really need sunscreen, right?" gets the answer without Yes/No)
    found = [(span[0], answer) for answer, words in (("no", verdict.no_when), ("yes", verdict.yes_when))
             for span in tx.spans(text, words) if tx.in_question(text, span) and not tx.negated_at(text, span[0])]
    return min(found)[1] if found else None


#: How far (characters) the subject may stand from the aspect's cue to be what it asks about
#: ("how much serum … moisturizer": the amount is the serum's).
ASPECT_REACH = 24


def _asked_of(text: str, kb: KnowledgeBase, aspect: Optional[str], words: Optional[str]) -> bool:
    """Whether the aspect's cue is asked of the subject's words: in a question, next to them."""
    if aspect is None:
        return True
    cues = [s for s in tx.spans(text, kb.aspects[aspect]) if tx.in_question(text, s)]
    if not words:
        return bool(cues)
    at = tx.find(text, words)
    return at < 0 or any(-ASPECT_REACH <= at - end <= ASPECT_REACH or -ASPECT_REACH <= start - (at + len(words)) <= 0
                         for start, end in cues)


def find_gap(kb: KnowledgeBase, text: str, subject: Optional[str], aspect: Optional[str],
             words: Optional[str] = None) -> Optional[Gap]:
    """The knowledge base's gap for this subject × aspect (asked of it, in a question), or one whose cue the
    message asks about (a mention in passing — "my foundation clings to the flakes" — is not a question)."""
    for gap in kb.gaps:
        if tx.has(text, gap.unless_words):
            continue
        if gap.asks:
            if _asked_together(text, gap.asks):
                return gap
            continue
        if gap.cues:  # asked about, not denied ("I don't wear makeup, do I still cleanse?" is not about makeup)
            cued = [span for span in tx.spans(text, gap.cues) if not tx.negated_at(text, span[0])]
            if any(tx.in_question(text, span) for span in cued) or (cued and _places_it(text)):
                return gap
            continue
        if _matches(subject, gap.subject) and (gap.aspect is None or gap.aspect == aspect) \
                and subject not in gap.except_subjects:
            if gap.aspect == "duration" and _wait_before(text, words):
                continue
            if gap.aspect is not None and not _asked_of(text, kb, gap.aspect, words):
                continue
            return gap
    return None


_IT = re.compile(r"\b(it|this|that|them|these|those)\b", re.I)


#: A question this short names nothing of its own: it is about what the message said before ("… good idea?").
BARE_QUESTION = 3


def _asks_of_it(text: str) -> bool:
    """A question that refers back to what the message named before it ("I love my walnut scrub. ok to keep
    using it?", "I use an apricot scrub every day. good idea?")."""
    return "?" in text and any(_IT.search(text[a:b]) or len(text[a:b].split()) <= BARE_QUESTION
                               for a, b in tx.question_spans(text))


#: A short question placing what the message named before it: "I have an LED mask. before or after the serum?"
_PLACING = re.compile(r"\b(before or after|after or before|first or last|together|at the same time|same time)\b", re.I)
PLACING_WORDS = 8


def _places_it(text: str) -> bool:
    return any(_PLACING.search(text[a:b]) and len(text[a:b].split()) <= PLACING_WORDS
               for a, b in tx.question_spans(text) if text[a:b].strip().endswith("?"))


#: "and if I skip the wait?", "what happens if …": asks what follows, not for a yes or no.
_CONSEQUENCE = re.compile(r"^\W*(and|so|but|ok)\s+if\b|\bwhat (happens|if)\b|\bwhat would happen\b", re.I)


def _first(text: str, these: Sequence[str], those: Sequence[str]) -> bool:
    """Whether a phrase of ``these`` starts ``text``'s matches: before any of ``those``, or around one of them
    (the more specific match: "take my makeup off" before "makeup")."""
    mine, theirs = tx.spans(text, these) if these else [], tx.spans(text, those)
    return bool(mine) and bool(theirs) and min(mine)[0] <= min(theirs)[0] and \
        (min(mine)[0] < min(theirs)[0] or min(mine)[1] > min(theirs)[1])


#: A follow-up this short that names only a time of day ("and at night?", "what about mornings?") asks the
#: last answer again for that time.
BARE_TIME_WORDS = 5


def _bare_time(turn: "Turn") -> bool:
    return bool(turn.time) and set(turn.entities) == {"time_of_day"} and len(turn.text.split()) <= BARE_TIME_WORDS


def _asked_together(text: str, groups: Sequence[Sequence[str]]) -> bool:
    """A word of every group stands in one question sentence (a gap's or a verdict's ``asks``)."""
    return any(all(tx.has(text[a:b], group) for group in groups) for a, b in tx.question_spans(text))


#: How far apart (characters) two options may stand around their "or" ("pat it in or rub it?").
OR_REACH = 60


def _joined_by_or(text: str, options: Sequence[Sequence[str]]) -> bool:
    """Every option is named and an "or" stands between two of them ("wet or dry?"), not elsewhere in the
    message ("where do my AHA/BHA acids go, before or after?" names both acids but asks before or after)."""
    found = [tx.spans(text, option) for option in options]
    if not all(found):
        return False
    return any(re.search(r"\bor\b", text[min(a[1], b[1]):max(a[0], b[0])], re.I)
               and abs(a[0] - b[0]) <= OR_REACH
               for a in found[0] for b in found[1])


def find_verdict(kb: KnowledgeBase, text: str, subject: Optional[str], time: Optional[str] = None,
                 telling: bool = False) -> Optional[Verdict]:
    """A yes/no or either/or question the knowledge base answers first: every option group named around an
    "or" ("wet or dry?"), or one of its cues in a question ("can I skip moisturiser?")."""
    either_or = " or " in tx.normalise(text)
    for verdict in kb.verdicts:
        if verdict.subject and not _matches(subject, verdict.subject):
            continue
        if subject and subject.split(":")[0] in verdict.not_of:
            continue  # "keep going with my retinol?" is about the retinol, not the serum
        if (verdict.unless_time and verdict.unless_time == time) or tx.has(text, verdict.unless_words):
            continue
        if verdict.options and either_or and _joined_by_or(text, verdict.options):
            return verdict
        # a statement asks nothing: "actually its oily, it just feels tight after washing" gets no verdict
        cued = tx.spans(text, verdict.cues) if verdict.cues and not telling else []
        if any(tx.in_question(text, span) for span in cued) or (cued and _asks_of_it(text)):
            return verdict
        if verdict.asks and _asked_together(text, verdict.asks):
            return verdict
    return None


_FIRST = re.compile(r"\b(first|before|after|then|order)\b", re.I)


#: "which / what (kind of) …" right before a product: the question is which kind of it.
_WHICH_KIND = re.compile(r"\b(which|what|wat)\s+((kind|type|sort)s?\s+of\s+)?(an?\s+)?$", re.I)


#: The serum meant by "it" in an order question ("do I put it on before or after washing?").
_PUT_IT = re.compile(r"\b(?:put|apply|use|using|putting|applying)\s+(?:it|this)\b", re.I)


#: Ingredient categories that are step 3's actives (a vitamin C serum, a retinoid, niacinamide): what a listed
#: order puts after the serum and what a walkthrough's step 3 names as the user's own.
STEP_3_CATEGORIES = frozenset({"active", "serum"})


def read_sequence(turn: "Turn", kb: KnowledgeBase, aspect: Optional[str]) -> Tuple[str, ...]:
    """Three or more things of the routine named in an order question, one of them a product step other than
    the serum, in the protocol's order (actives together at step 3); () when any named ingredient is not one
    the protocol places after the serum (a cleanser acid, an exfoliant: its own answer says where it goes)."""
    if aspect != "order":
        return ()
    stages = [s.id for s in kb.steps]
    products = {p.id: p.step for p in kb.products if p.step}
    placed = {i.id for i in kb.ingredients if i.category in STEP_3_CATEGORIES}
    named = [str(v) for v in turn.entities.get("product") or ()]
    actives = [str(v) for v in turn.entities.get("ingredient") or ()]
    # the serum named, and nothing the protocol has no step for (a toner, an essence: their own notes say where)
    if "serum" not in named or any(p not in products for p in named) or not any(p != "serum" for p in named) \
            or any(a not in placed for a in actives):
        return ()
    def place(item: str) -> Tuple[int, int]:  # a facial oil is the thickest: after the moisturiser
        if item.startswith("ingredient:"):
            return stages.index("treatments"), 0
        return stages.index(products[item[8:]]), int(item == "product:facial_oil")
    items = sorted(dict.fromkeys([f"product:{p}" for p in named] + [f"ingredient:{a}" for a in actives]), key=place)
    return tuple(items) if len(items) >= 3 else ()


#: A pronoun an order question places ("does it go before or after my moisturiser?").
_PLACED_IT = re.compile(r"\b(?:it|this|that|they)\b", re.I)


def referent(state: "State") -> Tuple[str, str]:
    """What "it" is in an order question, as (its step, the words to say back): sunscreen just answered ("is
    SPF 15 enough?" … "does it go before or after my moisturiser?"), nothing for an active just answered (its
    own answer places it), else the serum."""
    if state.last_topic == "sunscreen":
        return "sunscreen", "sunscreen"
    if state.last_topic == "ingredient" and state.ingredients:
        return "", ""  # an active just answered: its own answer places it (resolve.remembered_ingredient)
    return "apply_serum", "the serum"


def read_order(turn: "Turn", kb: KnowledgeBase, aspect: Optional[str], either_or: bool = False,
               it: Tuple[str, str] = ("apply_serum", "the serum")) -> Tuple[str, ...]:
    """"SPF before or after moisturiser?", "what goes first, cleanser or serum": two things that sit at
    different stages of the routine, in the order the protocol puts them (the user's words for each). A
    pronoun before the one thing named is ``it`` (the referent: the serum unless the conversation says)."""
    if aspect != "order" and not (either_or and _FIRST.search(turn.text)):
        return ()
    stage_of_product = {p.id: p.step for p in kb.products if p.step}
    if turn.has("ingredient"):
        return ()  # an ingredient's own answer says where it goes (and whether the protocol names it)
    named: List[Tuple[int, int, str]] = []  # (stage index, position, words)
    stages = [s.id for s in kb.steps]
    for e in turn.found:
        if e.get("role") or not isinstance(e.get("start"), int) or e.get("entity") != "product":
            continue
        stage = stage_of_product.get(str(e.get("value")))
        if stage and all(stages.index(stage) != n for n, _, _ in named):
            named.append((stages.index(stage), e["start"], turn.text[e["start"]:e["end"]]))
    pronoun = (_PUT_IT if it[0] == "apply_serum" else _PLACED_IT).search(turn.text) if it[0] else None
    if len(named) == 1 and pronoun and named[0][0] != stages.index(it[0]) and pronoun.start() < named[0][1]:
        # "do I put it on before or after washing my face?": "it" is the serum (no "it" after an active: its
        # own answer places it)
        named.append((stages.index(it[0]), pronoun.start(), it[1]))
    if len(named) != 2:
        return ()
    asked = min(named, key=lambda n: n[1])[2]  # what the user asks about: the one named first
    start = min(n[1] for n in named)
    if _WHICH_KIND.search(turn.text[:start]):
        return ()  # "what moisturiser goes after the serum?": which kind, not the order
    first, second = (words for _, _, words in sorted(named))
    how = "first" if re.search(r"\bfirst\b", turn.text, re.I) else "relative"
    return first, second, asked, how


_CONDITION = re.compile(r"\b(if|since|as|because|cause|cuz|when|only)\b[^.?!]*$", re.I)


def _time_in_condition(turn: "Turn") -> bool:
    """Whether the time of day stands in an if / since clause ("if I only use the serum at night … sunscreen?",
    "do i need sunscreen if i only use it at night?"): it is the condition, not the time asked about."""
    times = [e for e in turn.found if e.get("entity") == "time_of_day" and "start" in e]
    return bool(times) and all(_CONDITION.search(turn.text[:e["start"]]) for e in times)


def read_frame(turn: "Turn", state: "State", kb: KnowledgeBase) -> Frame:
    """Read one message into a frame, filling what it leaves out from the conversation."""
    trace: List[Tuple[str, str]] = []
    # a question asked in the middle of a walkthrough is about that routine's time ("do I need SPF now?" at night)
    time = turn.time or (state.walkthrough_time if state.walkthrough_step is not None else None)
    act = read_act(turn)
    trace.append(("read_act", act))
    subject, words = read_subject(turn, kb)
    subject_from = "message"
    if subject == "product:sunscreen" and time and _time_in_condition(turn):
        time = None  # "if I only use the serum at night, do I still need sunscreen?": the morning's SPF is asked
    aspect = read_aspect(turn.text, kb)
    if subject is None and aspect and len(turn.text.split()) <= (
            FOLLOW_UP_WORDS if _FOLLOW_UP.search(turn.text) else CONTEXT_WORDS):
        subject, subject_from = context_subject(state), "context"
    trace.append(("read_subject", f"{subject} ({subject_from})" if subject else "none"))
    if set(turn.entities.get("time_of_day") or ()) >= {"am", "pm"} and " or " in tx.normalise(turn.text):
        aspect = "time"  # "in the morning or at night?"
    trace.append(("read_aspect", aspect or "none"))
    either_or = bool(_EITHER_OR.search(turn.text)) and not re.search(r"\byes or no\b", turn.text, re.I)
    yes_no = not either_or and (any(YES_NO.search(clause.strip()) for a, b in tx.question_spans(turn.text)
                                    for clause in _CLAUSE.split(turn.text[a:b]) if clause)
                                or bool(re.search(r"\byes or no\b", turn.text, re.I)))
    facts = tuple((str(e.get("entity")), str(e.get("value")), e.get("role")) for e in turn.found
                  if e.get("entity") in ("skin_type", "skin_tone", "concern", "life_stage", "medication", "medical"))
    gap = find_gap(kb, turn.text, subject, aspect, words)
    statement = is_statement(turn.text, kb)
    verdict = find_verdict(kb, turn.text, subject, time, telling=statement)
    if verdict is None and subject is None:
        # "so i can skip it right?" right after sunscreen: "it" is the product just answered
        earlier = context_subject(state) or ("product:sunscreen" if state.last_topic == "sunscreen" else None)
        label = next((p.label for p in kb.products if earlier == f"product:{p.id}"), None)
        said = _SKIP_IT.sub(lambda m: f"{m.group(1)} {label}", turn.text) if label else turn.text
        if said != turn.text:
            verdict = find_verdict(kb, said, earlier, time, telling=statement)
            if verdict:
                subject, subject_from = earlier, "context"
    if verdict is None and subject is None and _bare_time(turn):
        # "and at night?" right after how often: whether the serum is used then too
        verdict = next((v for v in kb.verdicts if v.follows_time and v.follows_time == state.last_topic), None)
    if gap and verdict and gap.cues and _first(turn.text, verdict.cues, gap.cues):
        # "do i have to take my makeup off first or can i put it on over foundation": the cleanse step answers
        # the question asked first, not "makeup isn't covered"
        gap = None
    wh = all(_WH.match(turn.text[a:b].strip()) for a, b in tx.question_spans(turn.text))
    consequence = bool(_CONSEQUENCE.search(turn.text))  # "and if I skip the wait?": what follows, not "No."
    inverted = yes_no and tx.asked(turn.text, kb.understanding.asks_harm)
    polarity = read_polarity(turn.text, verdict) if verdict and not (either_or or wh or consequence or inverted) else None
    order = read_order(turn, kb, aspect, either_or, it=referent(state))
    sequence = read_sequence(turn, kb, aspect)
    if sequence:
        trace.append(("read_sequence", " → ".join(sequence)))
    if gap:
        trace.append(("find_gap", gap.id))
    if verdict:
        trace.append(("find_verdict", verdict.id))
    if order:
        trace.append(("read_order", f"{order[0]} before {order[1]}"))
    forget = tx.has(turn.text, kb.understanding.forget)
    if forget:
        trace.append(("read_forget", "forget the profile"))
    about = read_about(turn.text, kb, theirs=any(role == "other" for _, _, role in facts))
    proposes = None
    if yes_no and turn.has("ingredient"):  # "vitamin C first and then the exosome on top, right?"
        u = kb.understanding
        places = [(s, "after") for s, _ in tx.spans(turn.text, u.after_serum)]
        places += [(s, "before") for s, _ in tx.spans(turn.text, u.before_serum)]
        proposes = min(places)[1] if places else None
    if about != "self":
        trace.append(("read_about", about))
    stated = [v for e, v, role in facts if e == "skin_type" and role is None]
    corrects = stated[0] if stated and tx.has(turn.text, kb.understanding.correction) else None
    if corrects:
        trace.append(("read_correction", corrects))
    return Frame(act=act, subject=subject, aspect=aspect, time=time, yes_no=yes_no, facts=facts, forget=forget,
                 gap=gap.id if gap else None, verdict=verdict.id if verdict else None, polarity=polarity, inverted=inverted, order=order, sequence=sequence,
                 subject_from=subject_from, subject_words=words, about=about, proposes=proposes, statement=statement, corrects=corrects,
                 trace=tuple(trace))
