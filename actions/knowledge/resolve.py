"""Decide what one turn asks, from the turn, its frame and what the conversation remembers — pure Python, no Rasa.

``resolve`` runs, in this order: triage (``triage.py``: severity, medical context with polarity, procedures,
claims), the question frame (``frame.py``: act, subject, aspect, gaps, verdicts, facts with their roles), then
the named decision steps in :data:`STEPS`. Each step is a small function whose docstring says when it applies;
it changes a few fields of the :class:`Draft` and returns a note of what it decided, and every note is kept in
``Question.trace`` (``make explain`` prints it). The actions hand over what the tracker holds and render what
comes back (``reply.py`` composes it).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from .query import GATED_CATEGORIES, GATING_CONDITIONS, PLACED_CATEGORIES, TOPICS, ingredient, Context, Profile, routine_steps, step_numbered, unique
from .schema import Gap, KnowledgeBase
from . import text as tx
from .frame import CONTEXT_WORDS, Frame, read_frame, step_number
from .triage import CONDITIONS, Triage, triage

INTENT_TOPICS: Dict[str, str] = {
    "ask_routine": "routine",
    "ask_summary": "summary",
    "ask_adjustments": "adjustments",
    "ask_step": "step",
    "ask_absorption": "absorption",
    "ask_amount": "amount",
    "ask_frequency": "frequency",
    "ask_layering": "layering",
    "ask_ingredient": "ingredient",
    "ask_product": "product",
    "ask_sunscreen": "sunscreen",
    "ask_exfoliation": "exfoliation",
    "ask_avoid": "avoid",
    "ask_benefits": "benefits",
    "ask_results": "results",
    "ask_patch_test": "patch_test",
    "ask_uncovered": "not_covered",
    "inform_profile": "profile",
}
#: Topics about the serum or the routine as a whole, which a named ingredient narrows down
#: ("kojic acid for my dark spots, does it fit?", "can I add a few drops of lavender oil to it?").
BROAD_TOPICS = frozenset({"adjustments", "benefits", "profile", "amount", "frequency", "step"})
#: Whole-routine answers: a named ingredient is answered after them ("I use vitamin C in the AM, my routine?").
ROUTINE_TOPICS = frozenset({"routine", "summary"})
#: Serum-only topics that a named product (not the serum) turns into a question about that product.
SERUM_TOPICS = frozenset({"amount", "frequency"})
#: A second topic cued in the same message is left out when the first answer already covers it.
COVERS: Dict[str, frozenset] = {
    "routine": frozenset({"amount", "absorption", "layering", "sunscreen", "product", "summary"}),
    "summary": frozenset({"amount", "absorption", "layering", "sunscreen", "frequency", "routine"}),
    "ingredient": frozenset({"layering", "absorption", "avoid", "exfoliation", "frequency", "amount", "routine"}),
    "adjustments": frozenset({"avoid", "exfoliation", "layering", "product", "sunscreen"}),
    "profile": frozenset({"avoid", "layering", "product"}),
    "benefits": frozenset({"results"}),
    "results": frozenset({"benefits"}),
    "layering": frozenset({"absorption"}),
    "not_covered": frozenset(BROAD_TOPICS | {"layering", "absorption", "product"}),
    # an answer about a subject carries that subject's own how often / how much
    "exfoliation": frozenset({"frequency", "avoid", "layering", "amount"}),
    "sunscreen": frozenset({"frequency", "amount", "routine"}),
    "patch_test": frozenset({"absorption", "routine", "frequency"}),
    "step": frozenset({"amount", "absorption", "layering", "routine"}),
}
#: Intents that, during a walkthrough and with nothing else named, mean "go on" ("ok and after that?").
CONTINUE_INTENTS = frozenset({"followup", "affirm", "ask_layering", "ask_routine", "ask_step", "thank",
                              "nlu_fallback", "help", "out_of_scope"})  # "ok serum is on"
#: Topics whose answer changes between morning and evening.
TIMED_TOPICS = frozenset({"routine", "summary", "layering", "sunscreen", "product", "ingredient", "step", "absorption"})
#: Topics a bare "how often?" / "how much?" refers back to (rather than the serum itself).
ASPECT_TOPICS = frozenset({"exfoliation", "ingredient", "product", "sunscreen"})
#: Intents that carry little meaning of their own: a short message with one of them leans on the last answer.
LOW_INFO_INTENTS = frozenset({None, "nlu_fallback", "help", "out_of_scope", "affirm", "followup", "walkthrough_where",
                              "walkthrough_next", "walkthrough_repeat"})
#: Of those, the ones that are only a follow-up when they say "where" or "then" ("ok" alone is not a question).
ACKNOWLEDGEMENTS = frozenset({"affirm", "walkthrough_next", "walkthrough_repeat"})
_WHERE = re.compile(r"\bwhere\b", re.I)
_WHY = re.compile(r"^\W*(but\s+|and\s+|ok\s+|so\s+)?why(\s+(is\s+)?that|\s+though|\s+so)?\W*$", re.I)
_THEN = re.compile(r"^\W*(and\s+|ok\s+|so\s+)?(then|next|after\s+that|afterwards|what\s+next)\b", re.I)
#: Remembered conditions that come back when the user asks to add something unnamed ("can I use it with it?"):
#: the conditions that gate active advice, declared once in the query layer.
CAUTIONS = GATING_CONDITIONS
#: Answers about the serum in general, which a referral replaces when a condition gates its use.
BROAD_ANSWERS = frozenset({"results", "benefits", "adjustments", "profile"})
#: Claims whose honest answer is the whole reply ("FDA approved?", "100% safe, right?").
ALONE_CLAIMS = frozenset({"approval", "promise"})
#: Severities that answer the turn on their own: the question asked beside them waits.
INTERRUPTING = frozenset({"emergency", "reaction", "flare"})
#: Topics that are about using the serum or actives: after a reaction they wait for a doctor's word.
SERUM_USE_TOPICS = frozenset({"routine", "summary", "adjustments", "profile", "step", "absorption", "amount",
                              "frequency", "layering", "ingredient", "exfoliation", "benefits", "results",
                              "avoid", "walkthrough_next"})
#: A message this short with only a time of day is a follow-up ("and at night?"); a longer one names
#: the time in passing ("who won the game last night").
SHORT_FOLLOW_UP = 5
#: Below this intent confidence a question cue decides the topic instead.
UNSURE = 0.5
PROFILE_ENTITIES = ("skin_type", "skin_tone", "concern")
PRODUCT_STEPS = {"cleanser": "cleanse", "serum": "apply_serum", "moisturizer": "moisturize",
                 "facial_oil": "moisturize", "sunscreen": "sunscreen"}
#: A medical question ("is this mole normal?") with no condition of its own named.
MEDICAL_INTENT = "medical_question"
#: A question about using something: "can I use / add / put on / layer / pair …", "is it ok with …".
_USE = re.compile(r"\b(use|using|add|adding|apply|applying|put|layer|combine|pair|mix|ok with|okay with|fine with|"
                  r"safe with|go with|together|good idea|worth it|worth adding|worth using|a good choice|recommended)\b", re.I)
_BACK_REFERENCE = re.compile(r"\b(it|its|it's|this|that|they|them|these|those|one)\b", re.I)


@dataclass
class Turn:
    intent: Optional[str]
    text: str = ""
    #: entity name -> values in this message, in order
    entities: Mapping[str, Sequence[str]] = field(default_factory=dict)
    #: entity name -> the words the user wrote for them, in order
    texts: Mapping[str, Sequence[str]] = field(default_factory=dict)
    confidence: Optional[float] = None
    #: every entity as the NLU found it (offsets and roles included); derived from ``entities`` when not given
    found: Sequence[Mapping] = ()

    def __post_init__(self) -> None:
        if not self.found:
            self.found = [{"entity": e, "value": v} for e, values in self.entities.items() for v in values]

    def first(self, entity: str) -> Optional[str]:
        values = self.entities.get(entity) or ()
        return values[0] if values else None

    @property
    def product(self) -> Optional[str]:
        """The product asked about: the serum only when nothing else is named."""
        products = list(self.entities.get("product") or ())
        return next((p for p in products if p != "serum"), products[0] if products else None)

    @property
    def time(self) -> Optional[str]:
        """Morning or evening; neither when both are named ("an AM/PM overview")."""
        times = set(self.entities.get("time_of_day") or ())
        return times.pop() if len(times) == 1 else None

    def has(self, *entities: str) -> bool:
        return any(self.entities.get(e) for e in entities)


@dataclass
class State:
    """What the conversation remembers (the slots)."""

    skin_types: Sequence[str] = ()
    skin_tone: Optional[str] = None
    concerns: Sequence[str] = ()
    conditions: Sequence[str] = ()
    ingredients: Sequence[str] = ()
    product: Optional[str] = None
    last_topic: Optional[str] = None
    last_time: Optional[str] = None
    #: a topic whose answer asked for the skin profile
    pending_topic: Optional[str] = None
    walkthrough_step: Optional[int] = None
    #: the time of day of the walkthrough in progress ("take me through my night routine": "pm")
    walkthrough_time: Optional[str] = None
    #: the most urgent reaction reported earlier in the conversation ("emergency" / "reaction")
    reaction: Optional[str] = None
    #: the step last explained ("and the next step?")
    last_step: Optional[str] = None
    #: a procedure was mentioned earlier: restarting the serum and actives is the clinic's call
    procedure: bool = False
    #: the gap in the protocol the last reply named ("price"): a follow-up may ask who can tell instead
    last_gap: Optional[str] = None

    def after(self, turn: "Turn") -> "State":
        """This state once Rasa has filled the slots from the turn's role-less entities (as domain.yml maps
        them): for tools and tests that run without a Rasa server."""
        e = turn.entities
        conditions = list(self.conditions) + [c for (entity, value), c in CONDITIONS.items() if value in (e.get(entity) or ())]
        return replace(self, skin_types=list(e.get("skin_type") or self.skin_types),
                       skin_tone=(e.get("skin_tone") or [self.skin_tone])[-1],
                       concerns=list(e.get("concern") or self.concerns), conditions=list(unique(conditions)),
                       ingredients=list(e.get("ingredient") or self.ingredients),
                       product=(e.get("product") or [self.product])[-1])

    def profile(self) -> Profile:
        types = unique(self.skin_types)
        if {"oily", "dry"} <= set(types):  # "oily T-zone, dry cheeks" is combination skin
            types = unique("combination" if t in ("oily", "dry") else t for t in types)
        return Profile(types, self.skin_tone, unique(self.concerns), unique(self.conditions))


#: Topics that move the walkthrough rather than answer (dialogue.walk): go on with it, or start it.
WALKTHROUGH_TOPICS = ("walkthrough_next", "walkthrough_start")


@dataclass
class Question:
    #: None: nothing to answer beyond safety; "walkthrough_next" / "walkthrough_start": go on with / start the walkthrough
    topic: Optional[str]
    context: Context
    safety: List[str] = field(default_factory=list)
    #: the profile just given answers an earlier question: acknowledge it, then answer that
    resumed: bool = False
    #: a second topic the same message asks about
    also: Optional[str] = None
    #: what triage read in this message (severity, conditions stated or denied, procedures, claims)
    triage: Triage = Triage()
    #: what the message asks: act, subject, aspect, time, polarity of its facts
    frame: Optional["Frame"] = None
    #: (step, what it decided) for every step that applied — `make explain` prints it
    trace: List[Tuple[str, str]] = field(default_factory=list)
    #: a message asking several things ("how much? and how long do I wait? and can I use vitamin c?"): one
    #: question per clause, answered in turn (their answers replace this one's topic and second topic)
    parts: List["Question"] = field(default_factory=list)
    #: remembered conditions the doctor has now okayed ("ok she said its fine"): forgotten after this turn
    okayed: List[str] = field(default_factory=list)
    #: the topic a verdict answered in the main answer's place ("do I need sunscreen?" -> sunscreen)
    answered: Optional[str] = None

    @property
    def remembers(self) -> Optional[str]:
        """The topic a follow-up leans on after this turn ("how long then?" after a cure claim: results; "at
        night too?" after "do I need sunscreen?": sunscreen)."""
        return self.topic or self.answered or ("results" if self.triage.claim else None)


def group_entities(entities: Iterable[Mapping]) -> Dict[str, List[str]]:
    """Rasa's entity dicts -> ``{entity: [values]}`` (distinct, in order), for the facts the user states of
    themselves (entities without a role; "not oily" and "my sister's rosacea" carry one)."""
    grouped: Dict[str, List[str]] = {}
    for e in entities:
        if e.get("role"):
            continue
        values = grouped.setdefault(str(e.get("entity")), [])
        if e.get("value") not in values and e.get("value") is not None:
            values.append(str(e.get("value")))
    return grouped


def cued_topics(text: str, cues: Mapping[str, Sequence[str]]) -> List[str]:
    """Topics whose cue phrases occur in ``text``, in the order they occur; at the same place the longer
    phrase first ("AM and PM routine" is a summary before "AM and PM" is a frequency)."""
    found = []
    for topic, phrases in cues.items():
        spans = tx.spans(text, phrases)
        if spans:
            start, end = min(spans, key=lambda s: (s[0], s[0] - s[1]))
            found.append((start, start - end, topic))
    return [topic for _, _, topic in sorted(found)]


def safety_kinds(tri: Triage, conditions: Sequence[str], about: str = "self") -> List[str]:
    """What the reply says before (or instead of) the answer, most urgent first: the severity, a claim or a
    procedure the protocol doesn't cover, the referral for each condition stated now — the user's own, or
    the other person's when the question is about them."""
    kinds = [tri.severity] if tri.severity else []
    if tri.severity in INTERRUPTING:
        return kinds  # the severity's own words, nothing beside them
    if tri.claim:
        kinds.append(tri.claim)
    if tri.procedure:
        kinds.append("procedures")
    if about == "other":  # "my daughter is pregnant, can she use it?": her doctor, this once
        return kinds + list(unique(list(tri.others) + [c for c in tri.stated() if c == "minor"]))
    stated = [c for c in tri.stated() if c in conditions]
    # one referral: a prescriber is the one to ask about the condition too; "will it heal my eczema?" — the
    # honest no already sends them to a dermatologist
    if "prescription" in stated or tri.claim == "cure":
        stated = [c for c in stated if c != "condition"]
    return kinds + stated


def next_step(kb: KnowledgeBase, step_id: Optional[str]) -> str:
    """The step that follows ``step_id`` (the wait counts as part of step 2)."""
    ids = [s.id for s in kb.steps]
    at = ids.index(step_id) if step_id in ids else ids.index("apply_serum")
    later = [s for s in kb.steps[at + 1:] if not s.wait]
    return later[0].id if later else ids[-1]


def _step_for(turn: Turn, kb: KnowledgeBase, numbers: bool = True) -> Optional[str]:
    number = step_number(turn.text, kb) if numbers else None
    if number:
        numbered = step_numbered(kb, number)  # the protocol's numbering, as users count
        return numbered.id if numbered else None
    product = turn.product
    if product in PRODUCT_STEPS:
        return PRODUCT_STEPS[product]
    return "treatments" if turn.has("ingredient") else None


#: What a message may name and still only move the walkthrough on ("it's morning btw, what's next?").
PASSING_ENTITIES = frozenset({"product", "time_of_day", *PROFILE_ENTITIES})


def _continues_walkthrough(turn: Turn, state: State, frame: Frame, kb: KnowledgeBase) -> bool:
    """During a walkthrough: a short "ok" with nothing named, or a message saying the step is done or asking
    what follows ("ok face is clean and patted dry", "applied it, next?") that asks nothing else."""
    if state.walkthrough_step is None:
        return False
    named = any(values for entity, values in turn.entities.items() if entity != "product")
    named = named or turn.product not in (None, "serum")
    if turn.intent in CONTINUE_INTENTS and not named and len(turn.text.split()) <= 6:
        return True
    u = kb.understanding
    moves_on = tx.has(turn.text, u.done_step) or tx.has(turn.text, u.navigation)
    asks_else = frame.aspect or frame.gap or frame.verdict or frame.subject_kind in ("ingredient", "step", "steps")
    passing = all(entity in PASSING_ENTITIES for entity, values in turn.entities.items() if values)
    return moves_on and not asks_else and passing and turn.product in (None, "serum")


def _ellipsis(turn: Turn, state: State) -> Optional[str]:
    """The topic of a short elliptical follow-up ("and where?", "how long then?", "then what?")."""
    if (turn.entities or len(turn.text.split()) > 4 or turn.intent not in LOW_INFO_INTENTS
            or not state.last_topic or state.walkthrough_step is not None):
        return None
    where, then = _WHERE.search(turn.text), _THEN.search(turn.text)
    if _WHY.match(turn.text):
        return state.last_topic  # "why?": the last answer, which carries its reason
    if turn.intent in ACKNOWLEDGEMENTS and not (where or then):
        return None
    if where and state.last_topic in ("amount", "step", "absorption", "routine"):
        return "step"  # where it goes: face and neck
    if then and state.last_topic not in ("walkthrough", "routine"):
        return "routine"  # what comes after
    return state.last_topic


#: "wait" as an interjection ("oh wait", "wait, sorry", "wait actually"), not the serum's wait.
_WAIT_INTERJECTION = re.compile(r"(^|[.!?,]\s*|\b(oh|hold on|oops|ah|um|hmm)\s+)wait\b\s*(,|!|\.|sorry|actually|no\b)", re.I)


def _topic(turn: Turn, state: State, cued: List[str], safety: List[str]) -> Optional[str]:
    """The main topic: the intent's, unless context, entities or cues say better."""
    elliptical = _ellipsis(turn, state)
    if elliptical and not safety:
        return elliptical
    topic = INTENT_TOPICS.get(turn.intent or "")
    if topic == "absorption" and _WAIT_INTERJECTION.search(turn.text) and "absorption" not in cued:
        topic = None  # "oh wait sorry, it's actually oily — which moisturiser?": "wait" was a word, not the wait
    product, time = turn.product, turn.time
    if turn.intent == "followup" or (topic is None and not safety):
        # "and at night?", "what about vitamin C?" or an unclassified message with useful entities or cues
        if turn.has("ingredient"):
            return "ingredient"
        if product not in (None, "serum"):
            return "product"
        if turn.intent == "followup" and time and turn.has("concern"):
            return "profile"  # "and at night for the marks?" after sunscreen: what the night does for them
        if turn.intent == "followup" or (time and len(turn.text.split()) <= SHORT_FOLLOW_UP):
            last = state.last_topic or "routine"
            # "and in the morning?" after an answer that is the same morning and night: the routine then
            return "routine" if time and last not in TIMED_TOPICS else last
        if turn.has(*PROFILE_ENTITIES):
            return "profile"
        if cued:
            return cued[0]
        if state.last_topic and _BACK_REFERENCE.search(turn.text):
            return state.last_topic  # "when do I put it on?" right after an ingredient answer
        return None
    if turn.confidence is not None and turn.confidence < UNSURE and topic not in cued:
        # an unsure guess: what the message names decides
        if cued:
            return cued[0]
        if turn.has("ingredient"):
            return "ingredient"
        if product not in (None, "serum"):
            return "product"
    return topic


def without_denied(state: State, frame: Frame) -> State:
    """The state without the profile facts this message denies ("I don't have melasma"), or all of it when
    the user asks to forget it ("forget what I told you, it's for a friend")."""
    if frame.forget:
        return replace(state, skin_types=(), skin_tone=None, concerns=(), conditions=(), ingredients=(),
                       product=None, pending_topic=None)
    denied = {(e, v) for e, v, role in frame.facts if role == "not"} - {(e, v) for e, v, role in frame.facts if role is None}
    return replace(state, skin_types=[t for t in state.skin_types if ("skin_type", t) not in denied],
                   concerns=[c for c in state.concerns if ("concern", c) not in denied],
                   skin_tone=None if ("skin_tone", state.skin_tone) in denied else state.skin_tone)


def about_other(state: State, frame: Frame, tri: Triage) -> State:
    """For a question about someone else, the state with their profile instead of the user's: the facts this
    message gives of them, their conditions, and none of the user's history (it is not theirs)."""
    theirs = [(e, v) for e, v, role in frame.facts if role == "other"]
    # an age is said of the child asked about ("my son is 15, can he use it?"): it keeps no holder, and a parent
    # asking again for them later ("she also wants vitamin C") still speaks for the same child
    minor = ["minor"] if "minor" in tri.stated() or "minor" in state.conditions else []
    return replace(state, skin_types=[v for e, v in theirs if e == "skin_type"],
                   skin_tone=next((v for e, v in theirs if e == "skin_tone"), None),
                   concerns=[v for e, v in theirs if e == "concern"], conditions=list(unique(list(tri.others) + minor)),
                   reaction=None, procedure=False, pending_topic=None)


#: Conditions whose referral a doctor's yes answers ("she said it's fine"): not an under-18's.
APPROVABLE = frozenset({"pregnancy", "prescription", "condition"})


def approved_conditions(state: State, tri: Triage) -> List[str]:
    """The remembered conditions a doctor has now okayed ("ok she said its fine, when do I put my tret on?"):
    none while a reaction is remembered, and none told for the first time in the same message."""
    if not tri.approved or state.reaction:
        return []
    return [c for c in state.conditions if c in APPROVABLE]


def remembered_conditions(state: State, tri: Triage, okayed: Sequence[str] = ()) -> List[str]:
    """The conditions that hold after this message: remembered ones it does not deny or a doctor has not
    okayed (``approved_conditions``), and the new ones."""
    kept = [c for c in state.conditions if c not in tri.denied() and c not in okayed]
    return list(unique(kept + [c for c in tri.stated() if c not in okayed]))


@dataclass
class Draft:
    """The decision for one turn while the steps below build it; each step reads and sets a few fields."""

    turn: Turn
    state: State
    kb: KnowledgeBase
    tri: Triage
    frame: Frame
    cued: List[str]
    cued_all: List[str]
    safety: List[str]
    ingredients: Tuple[str, ...]
    product: Optional[str]
    time: Optional[str]
    area: Optional[str] = None
    topic: Optional[str] = None
    also: Optional[str] = None
    resumed: bool = False
    #: the topic a lead (a verdict, an order) answered in the main answer's place: what a follow-up leans on
    answered: Optional[str] = None
    #: the step asked about, when a step decided it
    step: Optional[str] = None
    #: (step name, what it decided), in order
    trace: List[Tuple[str, str]] = field(default_factory=list)

    @property
    def facts(self) -> bool:
        return self.turn.has(*PROFILE_ENTITIES)

    @property
    def refers_back(self) -> bool:
        return bool(_BACK_REFERENCE.search(self.turn.text))


# --------------------------------------------------------------------------- the steps of a decision
# Each step says in its docstring when it applies; it returns a short note of what it decided, or None
# when it does not apply. `resolve` runs them in this order and records every note (`make explain`).

def area_beyond_face(d: Draft) -> Optional[str]:
    """A body area other than face and neck, in a question about applying: the protocol doesn't cover it."""
    applying = "application" in d.cued_all or d.turn.intent in ("ask_uncovered", "ask_step")
    applying = applying or (d.frame.act == "ask" and d.turn.intent in LOW_INFO_INTENTS)  # "under my eyes as well?"
    # "will it work on my hands and chest too?": whether it goes there, not how long results take
    applying = applying or (d.frame.act == "ask" and d.turn.intent in ("ask_results", "ask_benefits")
                            and re.search(r"\bon (my|the|your)\b", d.turn.text, re.I) is not None)
    if "other" in (d.turn.entities.get("body_area") or ()) and applying:
        d.area = " and ".join(dict.fromkeys(d.turn.texts.get("body_area") or ())) or "that area"
        return f"area={d.area}"
    return None


def walkthrough_continues(d: Draft) -> Optional[str]:
    """During a walkthrough, a short "ok", "and then?" with nothing named moves it on."""
    if _continues_walkthrough(d.turn, d.state, d.frame, d.kb):
        d.topic = "walkthrough_next"
        return "next stage"
    return None


def walkthrough_asked(d: Draft) -> Optional[str]:
    """Asked to be taken through it step by step, beside a profile or a time of day ("walk me thru the night
    routine, my skin is dry"): the walkthrough starts, for that profile — unless the message asks something
    specific, or safety speaks first."""
    f = d.frame
    aspect = f.aspect and not tx.has(d.turn.text, d.kb.understanding.start_words)  # "walk me thru it, where do I start?"
    if d.tri.severity or d.safety or d.ingredients or aspect or f.gap or f.verdict or f.subject_kind == "step":
        return None
    if d.topic in (None, "profile", "routine", "adjustments", "summary", "step", "not_covered") \
            and tx.has(d.turn.text, d.kb.understanding.walkthrough_request):
        d.topic = "walkthrough_start"
        return "walkthrough starts"
    return None


def main_topic(d: Draft) -> Optional[str]:
    """The intent's topic, unless an elliptical follow-up, the entities or the cues say better."""
    if d.topic is None:
        d.topic = _topic(d.turn, d.state, d.cued, [k for k in d.safety if k not in ("mild", "doctor_okayed")])
        return f"topic={d.topic} (intent {d.turn.intent})"
    return None


def bare_aspect_refers_back(d: Draft) -> Optional[str]:
    """A bare "how often?" / "how much?" right after an exfoliation, ingredient, product or sunscreen answer
    is about that, not the serum."""
    # "so every night is too much?" after a BHA answer: still the BHA, though longer — it names nothing else
    leaning = d.topic == "frequency" and len(d.turn.text.split()) <= 8 and not d.turn.has("ingredient", "product") \
        and not re.search(r"\b(serum|exosome|it)\b", d.turn.text, re.I)
    if (d.topic in ("frequency", "amount") and (not d.turn.entities and len(d.turn.text.split()) <= 3 or leaning)
            and d.state.last_topic in ASPECT_TOPICS):
        d.topic = d.state.last_topic
        d.ingredients = tuple(d.state.ingredients) if d.topic == "ingredient" else d.ingredients
        d.product = d.state.product if d.topic == "product" else d.product
        return f"topic={d.topic}"
    if d.frame.aspect == "why" and "absorption" in d.cued_all and not d.ingredients and not d.tri.severity \
            and d.topic in (None, "not_covered", "layering", "step"):
        d.topic = "absorption"  # "why does it matter that the serum is fully dry first?": the wait's reason
        return "topic=absorption (why)"
    # "why tho? feels like a waste of time": the reason of what was just said, not a new subject
    if d.frame.aspect == "why" and d.topic in (None, "not_covered") and not d.turn.entities and not d.tri.severity \
            and d.state.last_topic in TOPICS and d.state.last_topic not in ("not_covered", "profile"):
        d.topic = d.state.last_topic
        d.ingredients = tuple(d.state.ingredients) if d.topic == "ingredient" else d.ingredients
        d.product = d.state.product if d.topic == "product" else d.product
        d.step = d.state.last_step if d.topic == "step" else d.step
        return f"topic={d.topic} (why, of the last answer)"
    return None


def remembered_ingredient(d: Draft) -> Optional[str]:
    """An ingredient question with none named ("should it go before or after the serum?") is about the
    last one; with none remembered, about the product or the other cued topic."""
    if d.topic not in ("ingredient", "layering", "frequency", "not_covered") or d.ingredients or d.area:
        return None
    order_back = d.frame.aspect == "order" and d.refers_back and d.state.ingredients  # "should it go before X?"
    if d.topic == "ingredient" or (d.state.last_topic == "ingredient" and d.refers_back) or order_back:
        d.ingredients = tuple(d.state.ingredients)
        d.topic = "ingredient" if d.ingredients else d.topic
    if d.topic == "ingredient" and not d.ingredients:
        extra = [t for t in d.cued if t != "ingredient"]
        if d.product not in (None, "serum"):
            d.topic = "product"
        elif extra:
            d.topic = extra[0]  # "what can I pair the serum with?"
        elif d.turn.intent == "ask_ingredient":
            # "can I use the serum with it?" after a prescription or pregnancy was mentioned
            d.safety += [c for c in d.state.conditions if c in CAUTIONS and c not in d.safety]
    return f"topic={d.topic}, ingredients={list(d.ingredients)}"


def order_of_several(d: Draft) -> Optional[str]:
    """Two ingredients and an order cue: the order first ("BP wash and adapalene at night, what's the order?")."""
    if len(d.ingredients) >= 2 and "layering" in d.cued:
        placed = all(ingredient(d.kb, i).category in PLACED_CATEGORIES for i in d.ingredients)
        # "niacinamide and vitamin C, what order?": both go after the serum — the ingredient answer gives the order
        d.topic = "ingredient" if placed and d.frame.aspect == "order" and d.product in (None, "serum") else "layering"
        return f"topic={d.topic}"
    return None


def named_thing_narrows(d: Draft) -> Optional[str]:
    """A named ingredient narrows a broad question — unless the routine is asked for ("I use vitamin C in the AM,
    what's my routine?": the routine, then the ingredient) — and a classifier's "not covered"; a named product
    narrows a serum-only one."""
    asked_routine = [t for t in d.cued if t in ROUTINE_TOPICS]
    if d.topic in BROAD_TOPICS and d.ingredients and asked_routine:
        d.topic = asked_routine[0]
        return f"topic={d.topic}"
    if d.topic in BROAD_TOPICS and d.ingredients:
        d.topic = "ingredient"
        return "topic=ingredient"
    if d.topic == "not_covered" and not d.area and d.ingredients:
        # "where does azelaic acid fit in?": what the protocol says of it, or that it doesn't — the vocabulary
        # outranks the classifier's guess on a word it was never trained on (a synonym added later)
        d.topic = "ingredient"
        return "topic=ingredient"
    if d.topic == "not_covered" and not d.area and d.product not in (None, "serum"):
        d.topic = "product"  # "does it matter what cleanser I use?": what the protocol says of cleansers
        return "topic=product"
    stepless = d.product in (None, "serum") or not next((p.step for p in d.kb.products if p.id == d.product), None)
    if d.topic == "layering" and d.ingredients and stepless and not d.state.profile().gated:
        # "where does my glycolic acid go, before or after the serum?": where the protocol puts that active
        d.topic, d.also = "ingredient", (None if d.also == "ingredient" else d.also)
        return "topic=ingredient"
    if d.topic == "layering" and "product" in d.cued and d.product not in (None, "serum") and not d.ingredients:
        d.topic = "product"  # "what cleanser do I use before the serum?": which cleanser
        return "topic=product"
    if d.topic in ROUTINE_TOPICS and d.frame.yes_no and d.product not in (None, "serum") and not d.ingredients:
        d.topic = "product"  # "do I actually need a toner in this routine?": what the protocol says of toners
        return "topic=product"
    if d.topic in SERUM_TOPICS and d.product not in (None, "serum"):
        d.topic = "product"  # "do I need a moisturiser after this or is the serum enough?"
        return "topic=product"
    return None


def _asked_topics(d: Draft) -> List[str]:
    """Topics whose cues stand in a question of this message ("… what do I layer at night?": layering)."""
    return [t for t in d.cued if t != "profile" and tx.asked(d.turn.text, d.kb.question_cues.get(t, ()))]


def time_of_day_routine(d: Draft) -> Optional[str]:
    """A profile question with a time of day wants that routine ("oily skin, what do I do in the morning?"),
    unless it asks something else of that time ("dark spots, what do I layer at night?": the layering);
    sunscreen at night gets the protocol's word on it."""
    asked_other = [t for t in _asked_topics(d) if t not in ROUTINE_TOPICS]
    named = [t for t in d.cued if t not in ("adjustments", "profile", "routine")]
    if d.topic == "adjustments" and named and not d.facts and d.state.profile().is_empty:
        d.topic = named[0]  # "anything i should change? gonna be super sunny": what it names, not the skin-type menu
        return f"topic={d.topic} (named, no profile)"
    if d.topic in ("adjustments", "profile", "routine") and d.time and "summary" in d.cued:
        d.topic = "summary"  # "anything different in the morning?": what differs between the two
        return "topic=summary (what differs)"
    if d.topic in ("adjustments", "profile") and d.time and not (d.topic == "profile" and asked_other):
        d.topic = "routine"
        return "topic=routine"
    if d.product == "sunscreen" and d.time == "pm" and d.topic not in ("ingredient", None):
        d.topic = "sunscreen"
        return "topic=sunscreen"
    return None


def body_area(d: Draft) -> Optional[str]:
    """Beyond face and neck: not covered. The neck: the application step."""
    if d.area and d.topic != "ingredient":
        d.topic = "not_covered"
        return "topic=not_covered"
    short = len(d.turn.text.split()) <= SHORT_FOLLOW_UP
    if "face_neck" in (d.turn.entities.get("body_area") or ()) and d.topic not in ("ingredient", "product") \
            and (d.topic is not None or short):
        d.topic = "step"  # "does it go on the neck too?", "neck too?"
        return "topic=step"
    return None


def routine_asked_beside(d: Draft) -> Optional[str]:
    """A product or step named in passing beside a question about the routine ("only ever used bar soap on my
    face. where do I even start?"): the routine."""
    text, words = d.turn.text, d.frame.subject_words
    asked = [s for s in tx.spans(text, d.kb.question_cues.get("routine", ())) if tx.in_question(text, s)]
    at = tx.find(text, words)
    # the product is named in another sentence than the one asking for the routine
    in_passing = at >= 0 and all(tx.sentence_at(text, at) != tx.sentence_at(text, s[0]) for s in asked)
    if d.topic in ("product", "step") and asked and "product" not in d.cued \
            and (in_passing or not (d.frame.aspect or d.frame.yes_no)) and d.frame.subject_kind not in ("step", "steps"):
        d.topic = "routine"
        return "topic=routine (asked)"
    return None


def product_without_type(d: Draft) -> Optional[str]:
    """A profile message with no recognised facts but a product is about the product; a product question
    with no product type answers what the message does name."""
    if d.topic == "profile" and not d.facts and d.product not in (None, "serum"):
        d.topic = "product"
        return "topic=product"
    if d.topic == "product" and d.product in (None, "serum"):
        d.topic = "ingredient" if d.ingredients else ("step" if d.product == "serum" else "routine")
        return f"topic={d.topic}"
    return None


def profile_with_request(d: Draft) -> Optional[str]:
    """Skin facts and a request for the routine in one message ("combination skin — give me an AM and PM
    routine"): the routine, for that profile."""
    wanted = [t for t in d.cued if t in ROUTINE_TOPICS]
    if d.topic == "profile" and d.facts and wanted:
        d.topic = wanted[0]
        return f"topic={d.topic}"
    # "normal skin. how much do I use each time?": the question, answered for that skin
    asked = _asked_topics(d)
    if d.topic == "profile" and d.facts and asked and "?" in d.turn.text and not d.state.pending_topic:
        d.topic = asked[0]
        return f"topic={d.topic} (asked beside the profile)"
    return None


#: Answers a correction of the skin type gives again, for the corrected skin ("which moisturiser?" … "actually it's oily").
CORRECTED_AGAIN = frozenset({"product", "routine", "summary", "step", "ingredient", "layering", "adjustments", "avoid",
                             "exfoliation", "sunscreen"})


def correction_resumes(d: Draft) -> Optional[str]:
    """A correction of the skin type ("wait actually its oily, it just feels tight after washing"): that type
    replaces what was told — the other types in the message describe it — and the last answer is given again
    for it, unless the message asks something else."""
    f = d.frame
    if not f.corrects or d.tri.severity:
        return None
    d.state = replace(d.state, skin_types=[f.corrects])
    if d.state.last_topic in CORRECTED_AGAIN and f.statement and not (f.gap or f.verdict):
        d.topic, d.resumed = d.state.last_topic, True
        d.product = d.product if d.product not in (None, "serum") else d.state.product
        d.ingredients = d.ingredients or (tuple(d.state.ingredients) if d.topic == "ingredient" else ())
        d.step = d.state.last_step if d.topic == "step" else d.step
        return f"corrected to {f.corrects}, {d.topic} again"
    if d.topic not in TOPICS or d.topic in ("profile", "adjustments") or f.statement:
        d.topic = "profile"
    return f"corrected to {f.corrects}"


#: A follow-up that leans on the last answer for the skin it names again ("even with my skin that shiny??").
_EVEN = re.compile(r"^\W*(even|still|also|but|and even)\b", re.I)


def profile_resumes(d: Draft) -> Optional[str]:
    """A profile given when an answer asked for it resumes that answer; a condition alone is no profile."""
    if d.topic == "profile" and d.facts and d.state.pending_topic:
        d.topic, d.resumed = d.state.pending_topic, True
        d.product = d.product or d.state.product
        return f"resumed {d.topic}"
    known = set(d.state.skin_types) | {d.state.skin_tone} | set(d.state.concerns)
    told = [v for k in PROFILE_ENTITIES for v in d.turn.entities.get(k) or ()]
    if d.topic == "profile" and told and set(told) <= known and tx.asks(d.turn.text) \
            and (d.frame.yes_no or _EVEN.search(d.turn.text)) and d.state.last_topic in CORRECTED_AGAIN:
        # "even with my skin that shiny??" right after an answer for oily skin: that answer, not "Got it — oily"
        d.topic = d.state.last_topic
        d.product = d.product if d.product not in (None, "serum") else d.state.product
        d.ingredients = d.ingredients or (tuple(d.state.ingredients) if d.topic == "ingredient" else ())
        return f"known profile asked again: {d.topic}"
    if d.topic == "profile" and not d.facts:
        d.topic = None if d.safety else "adjustments"
        return f"topic={d.topic}"
    return None


#: Aspects of using the serum that a remembered procedure does not hold back ("how long should it sit, whenever
#: I do use it?"): the clinic decides when to restart, the protocol still says how.
ASKED_AFTER_PROCEDURE = frozenset({"duration", "amount", "where", "method", "order", "pairing"})
#: The serum's own facts by aspect: the subject × aspect index for the serum (gaps cover what it lacks).
SERUM_ASPECTS = {"duration": "absorption", "amount": "amount", "frequency": "frequency", "where": "step",
                 "method": "step"}


def serum_aspect(d: Draft) -> Optional[str]:
    """An aspect asked of the serum (or of nothing named, leaning on the conversation) when the intent gave
    no specific topic: "how long for that one?", "sorry, what did you say the wait was?"."""
    topic = SERUM_ASPECTS.get(d.frame.aspect or "")
    if topic and d.frame.subject in (None, "serum") and d.topic in (None, "routine", "walkthrough_next") \
            and not d.tri.severity and not d.frame.gap:
        d.topic = topic
        return f"topic={topic} ({d.frame.aspect} of the serum)"
    return None


def order_follow_up(d: Draft) -> Optional[str]:
    """"which one first?" right after an ingredient answer: where that ingredient goes."""
    if d.frame.aspect == "order" and d.frame.subject is None and not d.ingredients \
            and d.state.last_topic == "ingredient" and d.state.ingredients:
        d.topic, d.ingredients = "ingredient", tuple(d.state.ingredients)
        return f"topic=ingredient {list(d.ingredients)}"
    return None


def pairing_is_layering(d: Draft) -> Optional[str]:
    """"What should I pair the serum with?", "what goes well with it for dehydrated skin?": what to layer."""
    if d.frame.aspect == "pairing" and d.topic in (None, "step", "routine", "adjustments", "profile", "amount", "avoid",
                                                   "ingredient") and not d.ingredients:
        d.topic = "layering"
        return "topic=layering"
    if d.frame.aspect == "pairing" and re.search(r"\binstead\b", d.turn.text, re.I) and not d.turn.has("ingredient"):
        # "what can I pair it with instead?" after "better not" for vitamin C: this skin's pairing, not vitamin C
        d.topic, d.ingredients = "layering", ()
        return "topic=layering (instead)"
    return None


def named_step(d: Draft) -> Optional[str]:
    """A step asked by its number or position ("what was step 3 again?", "the very first step") is that step,
    even mid-walkthrough — unless the message moves the walkthrough ("skip step 3, next"); "how many steps?"
    and a step beyond the last get the protocol's count; "which step is the moisturiser?" and "what comes
    after the serum?" get that step."""
    u, f = d.kb.understanding, d.frame
    if d.tri.severity or d.topic == "not_covered":
        return None
    if tx.has(d.turn.text, u.finish_words) and not d.product:  # "what do I finish with?": this routine's last step
        d.topic, d.step = "step", routine_steps(d.kb, d.time)[-1].id
        return f"topic=step {d.step} (the last, {d.time or 'am'})"
    if tx.has(d.turn.text, u.start_words) and not d.product and not d.ingredients \
            and not tx.has(d.turn.text, u.walkthrough_request):  # "what do I do first?": step 1, not the routine
        d.topic, d.step = "step", routine_steps(d.kb, d.time)[0].id
        return f"topic=step {d.step} (the first)"
    if f.subject == "steps":
        d.safety.append("steps:count")
        d.topic = None
        return "step count"
    if f.subject_kind == "step":
        if tx.has(d.turn.text, u.navigation) and d.state.walkthrough_step is not None:
            d.topic = "walkthrough_next"
            return "walkthrough moves on"
        number = int(f.subject.split(":")[1])
        if step_numbered(d.kb, number) is None:
            d.safety.append(f"steps:{number}")
            d.topic = None
            return f"no step {number}"
        d.topic, d.step = "step", step_numbered(d.kb, number).id
        return f"topic=step {number}"
    named = _step_for(d.turn, d.kb, numbers=False)
    done = next((stage for stage, words in u.done_stage.items() if tx.has(d.turn.text, words)), None)
    if done and d.state.walkthrough_step is None and (d.topic in (None, "not_covered", "routine", "step", "product")) \
            and (_THEN.search(d.turn.text) or re.search(r"\b(what now|now what|what next|next)\b", d.turn.text, re.I)):
        d.topic, d.step = "step", next_step(d.kb, done)  # "just washed my face, what now?": step 2
        return f"topic=step after {done}"
    short = len(d.turn.text.split()) <= SHORT_FOLLOW_UP
    if d.state.last_step and d.state.walkthrough_step is None and short and not named \
            and re.search(r"\bnext (one|step)\b|\bafter that\b|\bthen what\b", d.turn.text, re.I):
        d.topic, d.step = "step", next_step(d.kb, d.state.last_step)  # "and the next step?" after a step
        return f"topic=step after {d.state.last_step}"
    if tx.has(d.turn.text, u.next_step) and (named or "absorption" in d.cued_all):
        d.topic, d.step = "step", next_step(d.kb, "absorb" if "absorption" in d.cued_all else named)
        return f"topic=step after {named}"
    if tx.has(d.turn.text, u.which_step) and named:
        d.topic, d.step = "step", named
        return f"topic=step {named}"
    return None


def pushback_restates(d: Draft) -> Optional[str]:
    """The user doubts the last answer ("are you sure? the girl at the store said 3x a day", "another site said 1
    minute is plenty"), naming nothing new: the protocol's answer to that again, said as the protocol's."""
    if d.tri.severity or d.ingredients or d.product not in (None, "serum") or d.frame.gap or d.frame.verdict \
            or d.state.last_topic in (None, "not_covered") or d.state.last_topic not in TOPICS \
            or not tx.has(d.turn.text, d.kb.understanding.pushback) \
            or tx.has(d.turn.text, d.kb.understanding.about_assistant):
        return None
    d.safety.append("pushback")
    d.topic, d.also = d.state.last_topic, None
    return f"pushback: {d.topic} again"


def step_optional(d: Draft) -> Optional[str]:
    """Whether a step can be left out ("is it optional?" after step 3, "is step 4 mandatory?"): the protocol marks
    which step is optional — unless a product or ingredient is named (its own verdict answers)."""
    u = d.kb.understanding
    # whichever is asked first: "is step 3 required or can I skip it" asks whether it is required
    asked_words = sorted([(s[0], "optional") for s in tx.spans(d.turn.text, u.optional_words)]
                         + [(s[0], "required") for s in tx.spans(d.turn.text, u.required_words)])
    if d.tri.severity or d.ingredients or d.product not in (None, "serum") or d.frame.verdict or not asked_words:
        return None
    f = d.frame
    asked = step_numbered(d.kb, int(f.subject.split(":")[1])) if f.subject_kind == "step" else None
    at = asked.id if asked else d.state.last_step
    if at is None or (asked is None and not d.refers_back and len(d.turn.text.split()) > SHORT_FOLLOW_UP):
        return None
    d.safety.append(f"optional:{at}:{asked_words[0][1]}")
    d.topic, d.also = None, None
    return f"{asked_words[0][1]}? {at}"


def ingredient_first(d: Draft) -> Optional[str]:
    """"can I use vit C in the AM and then sunscreen on top?": the ingredient is the question, the product
    the second answer."""
    if d.frame.subject_kind == "ingredient" and d.topic in ("sunscreen", "product", "absorption") and d.ingredients:
        d.also, d.topic = d.topic, "ingredient"
        return f"topic=ingredient, also={d.also}"
    return None


def statement_acknowledged(d: Draft) -> Optional[str]:
    """A statement that a sensation settled or that something went fine ("ok it stopped after a minute",
    "did the patch test, nothing happened", "used it this morning, looked fine"), with nothing else named: a
    short acknowledgement — not the answer to a question the classifier guessed. After a reaction, the doctor
    still comes first; in a walkthrough, "did that" moves it on."""
    u, f = d.kb.understanding, d.frame
    if d.state.walkthrough_step is not None or d.tri.severity or d.tri.claim or d.tri.procedure or d.facts \
            or d.ingredients or d.product not in (None, "serum") or f.gap or f.verdict or d.area \
            or d.tri.stated() or not f.statement:
        return None
    settled = tx.has(d.turn.text, u.settled) or d.tri.cleared
    if not settled and not tx.has(d.turn.text, u.went_fine):
        return None
    if "doctor_okayed" in d.safety:
        d.topic, d.also = None, None  # "my doctor said it's fine": that acknowledgement is the answer
        return "the doctor's yes acknowledged"
    if settled:
        kind = "settled_reaction" if d.state.reaction else "settled"
    else:
        kind = "patch_test" if f.subject == "patch_test" else "fine"
    if d.state.reaction and not d.tri.cleared:
        d.topic, d.also = None, None  # "because you've had a reaction …" (safety_answers_alone) is the answer
        return "statement after a reaction"
    d.safety.append(f"ack:{kind}")
    d.topic, d.also = None, None
    return f"acknowledged ({kind})"


def gap_follow_up(d: Draft) -> Optional[str]:
    """"where would I find that?" right after a reply that said the protocol doesn't cover something: who can
    tell instead (the gap's own `elsewhere`, else the label, the brand's care team or a dermatologist)."""
    if not d.state.last_gap or d.tri.severity or d.frame.gap or d.turn.has("ingredient", "product", *PROFILE_ENTITIES) \
            or len(d.turn.text.split()) > CONTEXT_WORDS or not tx.has(d.turn.text, d.kb.understanding.ask_elsewhere):
        return None
    d.safety.append(f"elsewhere:{d.state.last_gap}")
    d.topic, d.also = None, None
    return f"who can tell ({d.state.last_gap})"


#: Topics a gap that keeps the answer ("… in winter?") follows with this skin's answer again.
FOLLOWED_BY_GAP = frozenset({"layering", "product", "profile", "adjustments", "routine"})


def gap_or_verdict(d: Draft) -> Optional[str]:
    """The asked aspect of the subject is one the protocol is silent on ("how long does a patch test take?",
    "how much sunscreen?"): say so instead of a nearby fact. An either/or question the knowledge base answers
    ("wet or dry skin?"): that answer, first and alone."""
    f = d.frame
    if d.tri.severity in INTERRUPTING and f.gap and any(g.beside_safety for g in d.kb.gaps if g.id == f.gap):
        d.safety.append(f"gap:{f.gap}")  # the reaction's advice first, then what the protocol doesn't say
        return f"gap {f.gap}, beside the reaction"
    if d.tri.severity in INTERRUPTING or d.topic == "walkthrough_next":
        return None
    if d.tri.procedure and f.gap == "devices":
        d.safety.append("gap:devices")  # "my derma roller or my LED mask?": the procedure's answer, and the device's
        return "gap devices, beside the procedure"
    if d.tri.procedure or d.tri.claim:
        return None  # the procedure or claim answer is the whole answer
    if f.sequence and not (d.state.profile().gated and any(x.startswith("ingredient:") for x in f.sequence)):
        d.safety.append("sequence:" + "|".join(f.sequence))  # "what order: serum, vitamin C, moisturiser, SPF?"
        d.topic, d.also = None, None
        return "sequence " + " → ".join(f.sequence)
    if f.order and (f.aspect == "order" or not f.verdict):
        d.safety.append("order:" + "|".join(f.order))
        d.topic = None
        return f"order {f.order[0]} before {f.order[1]}"
    if f.gap:
        d.safety.append(f"gap:{f.gap}")
        gap = next(g for g in d.kb.gaps if g.id == f.gap)
        if not gap.then_answer:
            # "do u ship to canada? also how long does it take to absorb": the gap, then the other question
            others = [t for t in d.cued if t not in ("not_covered", "profile")
                      and _after_a_break(d.turn.text, d.kb.question_cues.get(t, ()))
                      and _apart_from_gap(d.turn.text, gap, d.kb.question_cues.get(t, ()))]
            d.topic = others[0] if others else None
        elif d.product not in (None, "serum"):
            d.topic = "product"  # a named brand of a product type: what the protocol says of that type
        elif d.topic not in d.cued and not d.ingredients:
            # "and in winter when it gets worse?": the gap, then the last answer's topic for this skin — not the
            # classifier's guess at a message about something the protocol doesn't cover
            d.topic = d.state.last_topic if d.state.last_topic in FOLLOWED_BY_GAP else None
        return f"gap {f.gap}"
    answered = next((v.topic for v in d.kb.verdicts if v.id == f.verdict), None)
    gating = [c for c in d.state.conditions if c in GATING_CONDITIONS]
    if answered in ("results", "frequency") and gating:
        # "pregnant, can I keep using it?": whether to go on using it is the doctor's call
        d.safety += [c for c in gating if c not in d.safety]
        d.topic, d.also = None, None
        return f"referral, not verdict {f.verdict}"
    if f.verdict and not (answered == "absorption" and f.subject_kind == "ingredient"):
        # (an ingredient's own answer says to wait for the serum to absorb, and what this skin changes)
        d.safety.append(f"verdict:{f.verdict}" + (f":{f.polarity}" if f.polarity else ""))
        d.answered = answered
        others = [t for t in d.cued if t != answered and t not in COVERS.get(answered or "", ())
                  and _after_a_break(d.turn.text, d.kb.question_cues.get(t, ()))
                  and tx.asked(d.turn.text, d.kb.question_cues.get(t, ()))]  # not a statement beside it
        d.topic, d.also = None, (others[0] if others else None)  # "how much, and do I wait?": both
        if answered == "ingredient" and d.ingredients:
            d.topic = "ingredient"  # "BP same time or separately?": separately, then what the protocol says of it
        return f"verdict {f.verdict}" + (f", also={d.also}" if d.also else "")
    if f.aspect == "time" and f.subject_kind == "ingredient":
        d.safety.append(f"timing:{f.subject.split(':')[1]}")
        d.topic = None
        return "timing verdict"
    return None


def conditions_gate_actives(d: Draft) -> Optional[str]:
    """Actives or a procedure while pregnant, on a prescription, with a condition or under 18: the
    referral comes back each time — and a named active is answered as an ingredient, which holds the advice."""
    gating = [c for c in d.state.conditions if c in CAUTIONS]
    if not gating or d.tri.severity in INTERRUPTING:
        return None
    if d.topic in ROUTINE_TOPICS and d.frame.yes_no:
        # "can I keep doing the routine?" on isotretinoin: whether is the doctor's call, not the routine again
        d.safety += [c for c in gating if c not in d.safety]
        d.topic = None
        return "referral for the routine"
    categories = {i.id: i.category for i in d.kb.ingredients}
    active = any(categories.get(i) in GATED_CATEGORIES for i in d.ingredients)
    if d.topic in ("ingredient", "exfoliation") or d.tri.procedure or active:
        if active and d.topic not in ("ingredient", None) and d.topic not in ROUTINE_TOPICS:
            d.topic = "ingredient"  # (a routine asked for keeps the routine: its step 3 holds the advice)
        added = [c for c in gating if c not in d.safety]
        d.safety += added
        return f"referral {added}" if added else "referral"
    return None


def reaction_names(d: Draft) -> Optional[str]:
    """What a reaction report itself names: the serum in an eye gets the eye's advice instead of the skin's;
    actives the user uses stop too ("burning and peeling since I added retinol and a glycolic toner")."""
    if d.tri.severity not in ("reaction", "emergency"):
        return None
    said = []
    if d.tri.severity == "reaction" and tx.has(d.turn.text, d.kb.triage.eye_contact):
        d.safety = ["eye" if k == "reaction" else k for k in d.safety]
        said.append("in the eye")
    actives = [i for i in d.turn.entities.get("ingredient") or () if ingredient(d.kb, i).category in GATED_CATEGORIES]
    if actives:
        d.safety.append("stop_named:" + "|".join(actives))
        said.append(f"stop {actives}")
    return ", ".join(said) or None


def medical_question(d: Draft) -> Optional[str]:
    """A medical question ("is this mole normal?") that nothing else answered: only a doctor can."""
    if d.turn.intent == MEDICAL_INTENT and d.topic is None and not d.safety:
        d.safety.append("medical")
        return "medical"
    return None


def safety_answers_alone(d: Draft) -> Optional[str]:
    """An emergency, a reaction, a flare, an approval claim or a procedure is the answer; after a reaction,
    routine advice waits for a doctor; "will it cure …?" gets the honest no instead of benefits."""
    if d.tri.severity in INTERRUPTING or d.tri.claim in ALONE_CLAIMS or (d.tri.procedure and not d.area):
        d.topic = None
        return "safety only"
    if d.state.reaction and not d.tri.severity and not d.tri.cleared:
        d.safety = [f"{d.state.reaction}_remembered"] + d.safety
        if d.topic is None or d.topic in SERUM_USE_TOPICS or (d.topic == "not_covered" and not d.area):
            d.topic = None
        return f"{d.state.reaction} remembered"
    if d.state.procedure and not d.tri.procedure and (d.topic in SERUM_USE_TOPICS or d.ingredients):
        d.safety = ["procedure_remembered"] + d.safety
        if d.frame.aspect not in ASKED_AFTER_PROCEDURE:
            d.topic, d.also = None, None  # "when can I start the serum again?" after a laser: the clinic says
        return "procedure remembered"
    if d.tri.severity == "mild" and tx.has(d.turn.text, d.kb.triage.about_sensation) and not d.frame.gap:
        d.topic, d.also = None, None  # "a slight tingle when I put it on, is that normal?": that is the question
        return "mild sensation asked about"
    if d.tri.claim == "cure" and d.topic in ("benefits", "results", "profile", "adjustments"):
        d.topic = None
        return "cure claim"
    return None


def referral_is_the_answer(d: Draft) -> Optional[str]:
    """A referral for a condition, beside a question nothing else placed ("my daughter is pregnant, can she use
    it?"): the referral is the whole answer, not a "the protocol doesn't cover that" after it."""
    broad = d.topic == "not_covered" or (d.topic in BROAD_ANSWERS and d.frame.subject in (None, "serum"))
    if broad and not d.area and not d.frame.gap and any(k in GATING_CONDITIONS for k in d.safety):
        d.topic = None  # "my daughter is 14, is that ok?": not results or benefits, the referral
        return "referral only"
    return None


def _apart_from_gap(text: str, gap: Gap, cues: Sequence[str]) -> bool:
    """Whether another topic's ``cues`` ask in another sentence than the gap's ("ship to canada? … absorb"), not
    in the gap's own words ("how much does a bottle cost?" is no amount question)."""
    at_gap = {tx.sentence_at(text, s[0]) for s in tx.spans(text, gap.cues) if tx.in_question(text, s)}
    # (a gap told in a statement is what the question after it asks about: "I have an LED mask. before or after?")
    return bool(at_gap) and any(tx.sentence_at(text, s[0]) not in at_gap for s in tx.spans(text, cues))


#: What opens a second question after the first: "which cleanser, and what should I layer?"
_NEW_QUESTION = re.compile(r"[?.;]|\b(and|also|plus|then)\s+(what|how|which|when|where|do|does|can|should|is|are)\b"
                           r"|\balso\b|\bplus\b", re.I)


def _after_a_break(text: str, cues: Sequence[str]) -> bool:
    """Whether the message asks in two parts, one with a cue of the other topic ("how much do I use, and how
    long do I wait?"), not one question whose words cue it too ("what do I do right after putting it on")."""
    return bool(tx.spans(text, cues)) and bool(_NEW_QUESTION.search(text.rstrip(" ?!.")))


def _asked_apart(text: str, subject_words: Optional[str], cues: Sequence[str]) -> bool:
    """Whether a second topic's cue is a question of its own, not part of the first ("what moisturiser should
    she use with it" asks one thing; "which cleanser and what should I layer?" two)."""
    refers_back = any(_BACK_REFERENCE.search(text[a:b]) for a, b in tx.question_spans(text))
    if not refers_back and not tx.asked(text, cues):
        return False  # "which cleanser should I use? my routine is simple": the routine is not asked
    at = tx.find(text, subject_words)
    if at < 0:
        return True
    after = [start for start, _ in tx.spans(text, cues) if start > at]
    return not after or any(start < at for start, _ in tx.spans(text, cues)) or \
        bool(_NEW_QUESTION.search(text, at + len(subject_words), min(after)))


def second_question(d: Draft) -> Optional[str]:
    """A second thing the same message asks (an ingredient beside the routine, another cued topic), unless
    the first answer covers it or a reaction holds routine advice back."""
    if d.topic is None and (d.tri.procedure or d.tri.claim in ALONE_CLAIMS or d.tri.severity in INTERRUPTING):
        d.also = None  # the procedure, claim or severity answer is the whole reply
        return None
    if d.also:
        pass  # an earlier step chose it
    elif d.topic in ROUTINE_TOPICS | {"product"} and d.ingredients:
        d.also = "ingredient"
    elif d.topic == "layering" and d.ingredients:
        if len(d.turn.entities.get("product") or ()) >= 2 or len(d.ingredients) >= 2:
            d.also = "ingredient"  # "what's the order? serum, moisturiser, sunscreen, vit c": the order, then vit C
        else:
            d.topic = "ingredient"  # where this ingredient goes
    elif d.topic is not None and d.topic not in WALKTHROUGH_TOPICS:
        extra = [t for t in d.cued if t != d.topic and t not in COVERS.get(d.topic, ())
                 and _asked_apart(d.turn.text, d.frame.subject_words, d.kb.question_cues.get(t, ()))
                 and not (t == "amount" and d.frame.aspect != "amount" and _TOO_OFTEN.search(d.turn.text))]
        d.also = extra[0] if extra else None
    if d.state.reaction and d.also in SERUM_USE_TOPICS:
        d.also = None
    return f"also={d.also}" if d.also else None


STEPS = (area_beyond_face, walkthrough_continues, main_topic, walkthrough_asked, bare_aspect_refers_back, remembered_ingredient,
         order_of_several, named_thing_narrows, time_of_day_routine, body_area, routine_asked_beside, product_without_type,
         profile_with_request, correction_resumes, profile_resumes, serum_aspect, order_follow_up, pairing_is_layering, named_step, pushback_restates, step_optional, ingredient_first,
         statement_acknowledged, gap_follow_up, gap_or_verdict,
         conditions_gate_actives, safety_answers_alone, reaction_names, medical_question, referral_is_the_answer, second_question)


#: "too much" said of how often ("every night is too much?", "twice a day too much?"), not of the amount.
_TOO_OFTEN = re.compile(r"\b(every|each|a|per|twice|once|daily|nightly)\b[^.?!]{0,20}\btoo (much|many|often)\b", re.I)

_BEFORE_OR_AFTER = re.compile(r"\b(before|after)\s+or\s+(before|after)\b", re.I)


def resolve(turn: Turn, state: State, cues: Mapping[str, Sequence[str]] = {},
            kb: Optional[KnowledgeBase] = None, split: bool = True) -> Question:
    """Decide what to answer for this turn: triage first, then the frame, then the decision steps."""
    from .loader import load_knowledge
    kb = kb or load_knowledge()
    tri = triage(turn.text, turn.found, kb, turn.intent, turn.confidence, state.reaction)
    okayed = approved_conditions(state, tri)
    state = replace(state, conditions=remembered_conditions(state, tri, okayed))
    cued_all = cued_topics(turn.text, cues)
    frame = read_frame(turn, state, kb)
    state = without_denied(state, frame)
    if frame.about == "other":
        state = about_other(state, frame, tri)
    d = Draft(turn=turn, state=state, kb=kb, tri=tri, frame=frame, cued_all=cued_all,
              cued=[t for t in cued_all if t in TOPICS], safety=safety_kinds(tri, state.conditions, frame.about),
              ingredients=tuple(turn.entities.get("ingredient") or ()), product=turn.product, time=frame.time)
    if okayed:
        d.safety.insert(0, "doctor_okayed")  # the doctor's word first, then the protocol's answer
    d.trace.append(("triage", f"{tri.severity or 'none'} ({tri.rule})" + (f", claim={tri.claim}" if tri.claim else "")
                    + (", procedure" if tri.procedure else "") + (f", conditions={state.conditions}" if state.conditions else "")))
    for step in STEPS:
        note = step(d)
        if note:
            d.trace.append((step.__name__, note))
    context = Context(
        profile=d.state.profile(),
        ingredients=unique(d.ingredients),
        product=d.product,
        products=tuple(p for p in (turn.entities.get("product") or ()) if p != "serum") or ((d.product,) if d.product else ()),
        step=d.step or ("apply_serum" if d.topic == "step" and turn.has("body_area") else _step_for(turn, kb)),
        time=d.time,
        area=d.area,
        yes_no=d.frame.yes_no,
        inverted=d.frame.inverted,
        asks_use=bool(_USE.search(turn.text)),
        time_switched=bool(d.time and state.last_time and d.time != state.last_time and d.topic == state.last_topic),
        proposes=d.frame.proposes,
        leaves_out=tx.has(turn.text, kb.understanding.leave_out),
        order_asked=bool(_BEFORE_OR_AFTER.search(turn.text)),
        order_of=d.frame.aspect == "order",
        asks_change=d.frame.yes_no and tx.asked(turn.text, kb.understanding.asks_change),
        times_apart=set(turn.entities.get("time_of_day") or ()) >= {"am", "pm"},
    )
    question = Question(d.topic, context, d.safety, d.resumed, d.also, tri, d.frame, d.trace, okayed=okayed,
                        answered=d.answered)
    if split:
        question.parts = _several_questions(d, kb, cues)
        if question.parts:
            question.trace.append(("several_questions", f"{len(question.parts)} questions: " + "; ".join(
                f"{p.topic or '-'}{'/' + p.also if p.also else ''}{' ' + ','.join(p.safety) if p.safety else ''}"
                for p in question.parts)))
    return question


#: At most this many questions of one message are answered, each in its own short answer.
MAX_QUESTIONS = 3
#: A later question of these topics naming nothing of its own leans on the one before ("where does an essence
#: go? before or after the exosome one?"): the first answer covers it.
LEANING_TOPICS = frozenset({"layering", "routine"})


def _names_its_own(q: Question) -> bool:
    return bool(q.context.ingredients) or any(p != "serum" for p in q.context.products)


def _clause_turn(turn: Turn, span: Tuple[int, int]) -> Turn:
    """The part of ``turn`` one question clause holds: its words, and the entities found in them."""
    a, b = span
    found = [dict(e, start=e["start"] - a, end=e["end"] - a) for e in turn.found
             if "start" in e and a <= e["start"] and e["end"] <= b]
    texts = group_entities([dict(e, value=turn.text[a:b][e["start"]:e["end"]]) for e in found])
    return Turn(None, turn.text[a:b], group_entities(found), texts, None, found)


def _several_questions(d: Draft, kb: KnowledgeBase, cues: Mapping[str, Sequence[str]]) -> List[Question]:
    """Each question of a message that asks several different things, resolved on its own words with the
    conversation's profile — or nothing, when the message asks one thing, safety speaks first, or the decision
    already answers every question it asks."""
    if d.tri.severity or d.tri.procedure or d.tri.claim or d.state.reaction or d.area or d.frame.about == "other" \
            or d.topic in WALKTHROUGH_TOPICS or d.resumed:
        return []
    clauses = tx.question_clauses(d.turn.text)
    if len(clauses) < 2:
        return []
    parts = [resolve(_clause_turn(d.turn, span), d.state, cues, kb, split=False) for span in clauses[:MAX_QUESTIONS]]
    parts = [p for p in parts if (p.topic not in (None, "not_covered") or p.safety)
             and not (p.topic == "ingredient" and not p.context.ingredients and not p.safety)]  # nothing known to say
    # a clause that only leans on another ("where does an essence go? before or after the exosome one?"): one answer
    parts = [p for n, p in enumerate(parts) if n == 0 or not (
        any((q.topic, q.safety, q.context.product) == (p.topic, p.safety, p.context.product) for q in parts[:n])
        or (p.topic in LEANING_TOPICS and not p.safety and not _names_its_own(p)))]
    # a clause naming nothing after one the protocol is silent on leans on it ("do u ship to canada? how long
    # does it take": the shipping, not the serum's absorption)
    parts = [p for n, p in enumerate(parts) if n == 0 or not (
        any(k.startswith("gap:") for q in parts[:n] for k in q.safety) and not p.safety
        and p.frame is not None and p.frame.subject is None and not _names_its_own(p))]
    said = [(p.topic, p.context.step, tuple(p.context.ingredients), tuple(p.safety), p.context.product) for p in parts]
    asked = {t for p in parts for t in (p.topic, p.also) if t}
    if len(set(said)) < 2 or asked <= {d.topic, d.also} and not any(p.safety for p in parts):
        return []  # one thing asked twice, or the whole message's decision covers each question
    return parts
