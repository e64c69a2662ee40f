"""Turn one user turn (intent, text, entities) plus remembered state into a question for the query layer.

Pure Python, no Rasa: the actions hand over what the tracker holds and render what comes back.
Context rules live here so they can be tested directly:

* safety first — a reaction, pregnancy, prescription, age or medical condition mentioned anywhere is flagged,
  and a reaction interrupts the flow;
* entities beat a weak intent — a named ingredient, product or body area decides what the question is about;
* question cues (from the knowledge base) let one message ask two things and back up an unsure intent;
* follow-ups ("and at night?", "should it go before or after?", "ok and after that?") reuse the last topic,
  the last ingredient, or the walkthrough in progress.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Dict, Iterable, List, Mapping, Optional, Sequence

from .query import TOPICS, Context, Profile, unique
from .schema import KnowledgeBase
from .triage import Triage, triage

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
    "ingredient": frozenset({"layering", "absorption", "avoid", "exfoliation"}),
    "adjustments": frozenset({"avoid", "exfoliation", "layering", "product", "sunscreen"}),
    "profile": frozenset({"avoid", "layering", "product"}),
    "benefits": frozenset({"results"}),
    "results": frozenset({"benefits"}),
    "layering": frozenset({"absorption"}),
    "not_covered": frozenset(BROAD_TOPICS | {"layering", "absorption", "product"}),
}
#: Intents that, during a walkthrough and with nothing else named, mean "go on" ("ok and after that?").
CONTINUE_INTENTS = frozenset({"followup", "affirm", "ask_layering", "ask_routine", "ask_step", "thank"})
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
_THEN = re.compile(r"^\W*(and\s+|ok\s+|so\s+)?(then|next|after\s+that|afterwards|what\s+next)\b", re.I)
#: Remembered conditions that come back when the user asks to add something unnamed ("can I use it with it?").
CAUTIONS = ("pregnancy", "prescription", "minor", "condition")
#: Severities that answer the turn on their own: the question asked beside them waits.
INTERRUPTING = frozenset({"emergency", "reaction", "flare"})
#: Topics that are about using the serum or actives: after a reaction they wait for a doctor's word.
SERUM_USE_TOPICS = frozenset({"routine", "summary", "adjustments", "profile", "step", "absorption", "amount",
                              "frequency", "layering", "ingredient", "exfoliation", "benefits", "results",
                              "avoid", "walkthrough_next"})
#: Below this intent confidence a question cue decides the topic instead.
UNSURE = 0.5
PROFILE_ENTITIES = ("skin_type", "skin_tone", "concern")
PRODUCT_STEPS = {"cleanser": "cleanse", "serum": "apply_serum", "moisturizer": "moisturize",
                 "facial_oil": "moisturize", "sunscreen": "sunscreen"}
STEP_NUMBERS = {"1": "cleanse", "2": "apply_serum", "3": "absorb", "4": "treatments", "5": "moisturize", "6": "sunscreen"}
#: A medical question ("is this mole normal?") with no condition of its own named.
MEDICAL_INTENT = "medical_question"
_BACK_REFERENCE = re.compile(r"\b(it|its|it's|this|that|they|them|these|those|one)\b", re.I)
_STEP_NUMBER = re.compile(r"\bstep\s*(\d)\b", re.I)


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
    #: the most urgent reaction reported earlier in the conversation ("emergency" / "reaction")
    reaction: Optional[str] = None

    def profile(self) -> Profile:
        types = unique(self.skin_types)
        if {"oily", "dry"} <= set(types):  # "oily T-zone, dry cheeks" is combination skin
            types = unique("combination" if t in ("oily", "dry") else t for t in types)
        return Profile(types, self.skin_tone, unique(self.concerns), unique(self.conditions))


@dataclass
class Question:
    topic: Optional[str]  # None: nothing to answer beyond safety; "walkthrough_next": go on with the walkthrough
    context: Context
    safety: List[str] = field(default_factory=list)
    #: the profile just given answers an earlier question: acknowledge it, then answer that
    resumed: bool = False
    #: a second topic the same message asks about
    also: Optional[str] = None
    #: what triage read in this message (severity, conditions stated or denied, procedures, claims)
    triage: Triage = Triage()


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
    """Topics whose cue phrases occur in ``text``, in the order they occur."""
    lowered = " " + re.sub(r"\s+", " ", text.lower()) + " "
    found = []
    for topic, phrases in cues.items():
        positions = [m.start() for p in phrases for m in re.finditer(r"(?<!\w)" + re.escape(p) + r"(?!\w)", lowered)]
        if positions:
            found.append((min(positions), topic))
    return [topic for _, topic in sorted(found)]


def safety_kinds(tri: Triage, turn: Turn, conditions: Sequence[str]) -> List[str]:
    """What the reply says before (or instead of) the answer, most urgent first: the severity, a claim or a
    procedure the protocol doesn't cover, the referral for each condition stated now."""
    kinds = [tri.severity] if tri.severity else []
    if tri.severity in INTERRUPTING:
        return kinds  # the severity's own words, nothing beside them
    if tri.claim:
        kinds.append(tri.claim)
    if tri.procedure:
        kinds.append("procedures")
    kinds += [c for c in tri.stated() if c in conditions]
    if turn.intent == MEDICAL_INTENT and not kinds:
        kinds.append("medical")
    return kinds


def _step_for(turn: Turn) -> Optional[str]:
    number = _STEP_NUMBER.search(turn.text)
    if number:
        return STEP_NUMBERS.get(number.group(1))
    product = turn.product
    if product in PRODUCT_STEPS:
        return PRODUCT_STEPS[product]
    return "treatments" if turn.has("ingredient") else None


def _continues_walkthrough(turn: Turn, state: State) -> bool:
    named = any(values for entity, values in turn.entities.items() if entity != "product")
    named = named or turn.product not in (None, "serum")
    return (state.walkthrough_step is not None and turn.intent in CONTINUE_INTENTS and not named
            and len(turn.text.split()) <= 6)


def _ellipsis(turn: Turn, state: State) -> Optional[str]:
    """The topic of a short elliptical follow-up ("and where?", "how long then?", "then what?")."""
    if (turn.entities or len(turn.text.split()) > 4 or turn.intent not in LOW_INFO_INTENTS
            or not state.last_topic or state.walkthrough_step is not None):
        return None
    where, then = _WHERE.search(turn.text), _THEN.search(turn.text)
    if turn.intent in ACKNOWLEDGEMENTS and not (where or then):
        return None
    if where and state.last_topic in ("amount", "step", "absorption", "routine"):
        return "step"  # where it goes: face and neck
    if then and state.last_topic not in ("walkthrough", "routine"):
        return "routine"  # what comes after
    return state.last_topic


def _topic(turn: Turn, state: State, cued: List[str], safety: List[str]) -> Optional[str]:
    """The main topic: the intent's, unless context, entities or cues say better."""
    elliptical = _ellipsis(turn, state)
    if elliptical and not safety:
        return elliptical
    topic = INTENT_TOPICS.get(turn.intent or "")
    product, time = turn.product, turn.time
    if turn.intent == "followup" or (topic is None and not safety):
        # "and at night?", "what about vitamin C?" or an unclassified message with useful entities or cues
        if turn.has("ingredient"):
            return "ingredient"
        if product not in (None, "serum"):
            return "product"
        if turn.intent == "followup" or time:
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


def remembered_conditions(state: State, tri: Triage) -> List[str]:
    """The conditions that hold after this message: remembered ones it does not deny, and the new ones."""
    kept = [c for c in state.conditions if c not in tri.denied()]
    return list(unique(kept + tri.stated()))


def resolve(turn: Turn, state: State, cues: Mapping[str, Sequence[str]] = {},
            kb: Optional[KnowledgeBase] = None) -> Question:
    """Decide what to answer for this turn."""
    from .loader import load_knowledge
    tri = triage(turn.text, turn.found, kb or load_knowledge(), turn.intent, turn.confidence)
    state = replace(state, conditions=remembered_conditions(state, tri))
    safety = safety_kinds(tri, turn, state.conditions)
    cued_all = cued_topics(turn.text, cues)
    cued = [t for t in cued_all if t in TOPICS]
    ingredients = tuple(turn.entities.get("ingredient") or ())
    product, time = turn.product, turn.time
    facts = turn.has(*PROFILE_ENTITIES)
    area = None
    applying = "application" in cued_all or turn.intent in ("ask_uncovered", "ask_step")
    if "other" in (turn.entities.get("body_area") or ()) and applying:
        area = next(iter(turn.texts.get("body_area") or ()), None) or "area you mentioned"
    resumed = False

    if _continues_walkthrough(turn, state):
        topic = "walkthrough_next"
    else:
        topic = _topic(turn, state, cued, [k for k in safety if k != "mild"])
    refers_back = bool(_BACK_REFERENCE.search(turn.text))
    if (topic in ("frequency", "amount") and not turn.entities and len(turn.text.split()) <= 3
            and state.last_topic in ASPECT_TOPICS):
        topic = state.last_topic  # "how often?" right after exfoliation is about exfoliating
        ingredients = tuple(state.ingredients) if topic == "ingredient" else ingredients
        product = state.product if topic == "product" else product
    if topic in ("ingredient", "layering", "frequency", "not_covered") and not ingredients and not area:
        # "should it go before or after the serum?", "same night?" after an ingredient question
        if topic == "ingredient" or (state.last_topic == "ingredient" and refers_back):
            ingredients = tuple(state.ingredients)
            topic = "ingredient" if ingredients else topic
        if topic == "ingredient" and not ingredients:
            extra = [t for t in cued if t != "ingredient"]
            if product not in (None, "serum"):
                topic = "product"
            elif extra:
                topic = extra[0]  # "what can I pair the serum with?"
            elif turn.intent == "ask_ingredient":
                # "can I use the serum with it?" after a prescription or pregnancy was mentioned
                safety += [c for c in state.conditions if c in CAUTIONS and c not in safety]
    if len(ingredients) >= 2 and "layering" in cued:
        topic = "layering"  # "BP wash and adapalene at night, what's the order?": the order, then each
    if topic in BROAD_TOPICS and ingredients:
        topic = "ingredient"
    elif topic in SERUM_TOPICS and product not in (None, "serum"):
        topic = "product"  # "do I need a moisturiser after this or is the serum enough?"
    if topic in ("adjustments", "profile") and time:
        topic = "routine"  # "oily skin, what do I do in the morning?"
    if product == "sunscreen" and time == "pm" and topic not in ("ingredient", None):
        topic = "sunscreen"  # the protocol's one word on sunscreen at night: it belongs to the morning
    if area and topic != "ingredient":
        topic = "not_covered"  # the protocol speaks of face and neck only
    elif "face_neck" in (turn.entities.get("body_area") or ()) and topic not in ("ingredient", "product", None):
        topic = "step"  # "does it go on the neck too?"
    if topic == "profile" and not facts and product not in (None, "serum"):
        topic = "product"  # "my skin reacts to a lot, which moisturiser?" (the facts were not recognised)
    if topic == "product" and product in (None, "serum"):
        # "which one should I use?" without a product type: answer what the message does name
        topic = "ingredient" if ingredients else ("step" if product == "serum" else "routine")
    if topic == "profile" and facts and state.pending_topic:
        topic, resumed = state.pending_topic, True
        product = product or state.product
    if topic == "profile" and not facts:
        topic = None if safety else "adjustments"  # "I'm pregnant" is not a skin profile
    if (topic in ("ingredient", "exfoliation") or tri.procedure) and tri.severity not in INTERRUPTING:
        # actives while pregnant, on a prescription, with a condition or under 18: the referral comes back
        safety += [c for c in state.conditions if c in CAUTIONS and c not in safety]
    if tri.severity in INTERRUPTING or tri.claim == "approval" or (tri.procedure and topic != "not_covered"):
        topic = None  # an emergency, a reaction, a flare, a claim or a procedure is the answer
    elif state.reaction and not tri.severity:
        safety = [f"{state.reaction}_remembered"] + safety
        if topic is None or topic in SERUM_USE_TOPICS:
            topic = None  # no routine advice until a doctor has seen the reaction
    elif tri.claim == "cure" and topic in ("benefits", "results", "profile", "adjustments"):
        topic = None  # "will it cure my rosacea?": the honest no says it

    also = None
    if topic in ROUTINE_TOPICS | {"product"} and ingredients:
        also = "ingredient"
    elif topic == "layering" and ingredients:
        if len(turn.entities.get("product") or ()) >= 2 or len(ingredients) >= 2:
            also = "ingredient"  # "what's the order? serum, moisturiser, sunscreen, vit c": the order, then vit C
        else:
            topic = "ingredient"  # where this ingredient goes
    elif topic not in (None, "walkthrough_next"):
        extra = [t for t in cued if t != topic and t not in COVERS.get(topic, ())]
        also = extra[0] if extra else None
    if state.reaction and also in SERUM_USE_TOPICS:
        also = None

    context = Context(
        profile=state.profile(),
        ingredients=unique(ingredients),
        product=product,
        products=tuple(p for p in (turn.entities.get("product") or ()) if p != "serum") or ((product,) if product else ()),
        step="apply_serum" if topic == "step" and turn.has("body_area") else _step_for(turn),
        time=time,
        area=area,
    )
    return Question(topic, context, safety, resumed, also, tri)
