"""Turn one user turn (intent, text, entities) plus remembered state into a question for the query layer.

Pure Python, no Rasa: the actions hand over what the tracker holds and render what comes back.
Context rules live here so they can be tested directly:

* safety first — a reaction, pregnancy, prescription or age mentioned anywhere interrupts the flow;
* entities beat a weak intent — a named ingredient or product decides what the question is about;
* follow-ups ("and at night?", "should it go before or after?") reuse the last topic and ingredient.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from .query import Context, Profile, unique

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
BROAD_TOPICS = frozenset({"routine", "adjustments", "benefits", "summary", "profile", "amount", "frequency", "step"})
PRODUCT_STEPS = {"cleanser": "cleanse", "serum": "apply_serum", "moisturizer": "moisturize",
                 "facial_oil": "moisturize", "sunscreen": "sunscreen"}
SAFETY_BY_ENTITY = {("symptom", "reaction"): "reaction", ("life_stage", "pregnancy"): "pregnancy",
                    ("life_stage", "minor"): "minor", ("medication", "prescription"): "prescription",
                    ("medical", "condition"): "medical"}
SAFETY_BY_INTENT = {"report_reaction": "reaction", "medical_question": "medical"}
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

    def first(self, entity: str) -> Optional[str]:
        values = self.entities.get(entity) or ()
        return values[0] if values else None


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

    def profile(self) -> Profile:
        types = unique(self.skin_types)
        if {"oily", "dry"} <= set(types):  # "oily T-zone, dry cheeks" is combination skin
            types = unique("combination" if t in ("oily", "dry") else t for t in types)
        return Profile(types, self.skin_tone, unique(self.concerns), unique(self.conditions))


@dataclass
class Question:
    topic: Optional[str]  # None: nothing to answer beyond safety
    context: Context
    safety: List[str] = field(default_factory=list)
    #: the profile just given answers an earlier question: acknowledge it, then answer that
    resumed: bool = False
    #: a second topic the same message asks about (a product and an ingredient together)
    also: Optional[str] = None


def group_entities(entities: Iterable[Mapping]) -> Dict[str, List[str]]:
    """Rasa's entity dicts -> ``{entity: [values]}`` (distinct, in order)."""
    grouped: Dict[str, List[str]] = {}
    for e in entities:
        values = grouped.setdefault(str(e.get("entity")), [])
        if e.get("value") not in values and e.get("value") is not None:
            values.append(str(e.get("value")))
    return grouped


def safety_kinds(turn: Turn) -> List[str]:
    kinds = [SAFETY_BY_INTENT[turn.intent]] if turn.intent in SAFETY_BY_INTENT else []
    for entity, values in turn.entities.items():
        for value in values:
            kind = SAFETY_BY_ENTITY.get((entity, value))
            if kind and kind not in kinds:
                kinds.append(kind)
    return kinds


def _step_for(turn: Turn) -> Optional[str]:
    number = _STEP_NUMBER.search(turn.text)
    if number:
        return {"1": "cleanse", "2": "apply_serum", "3": "absorb", "4": "treatments",
                "5": "moisturize", "6": "sunscreen"}.get(number.group(1))
    product = turn.first("product")
    if product in PRODUCT_STEPS:
        return PRODUCT_STEPS[product]
    if turn.entities.get("ingredient"):
        return "treatments"
    return None


def _area_words(turn: Turn) -> str:
    """The body area as the user wrote it ("scalp"), for an answer in their words."""
    return turn.texts.get("body_area", [""])[0] if turn.texts else "area you mentioned"


def resolve(turn: Turn, state: State) -> Question:
    """Decide what to answer for this turn."""
    safety = safety_kinds(turn)
    topic = INTENT_TOPICS.get(turn.intent or "")
    ingredients = tuple(turn.entities.get("ingredient") or ())
    product = turn.first("product")
    time = turn.first("time_of_day")
    refers_back = bool(_BACK_REFERENCE.search(turn.text))
    profile_facts = any(turn.entities.get(e) for e in ("skin_type", "skin_tone", "concern"))

    if turn.intent == "followup" or (topic is None and not safety):
        # "and at night?", "what about vitamin C?" or an unclassified message with useful entities
        if ingredients:
            topic = "ingredient"
        elif product and product != "serum":
            topic = "product"
        elif turn.intent == "followup" or time:
            topic = state.last_topic or "routine"
        elif profile_facts:
            topic = "profile"
        if topic == "ingredient" and not ingredients:
            ingredients = tuple(state.ingredients)
        time = time or (state.last_time if turn.intent == "followup" else None)
    elif topic in ("ingredient", "layering") and not ingredients:
        # "should it go before or after the serum?" after an ingredient question
        if topic == "ingredient" or (state.last_topic == "ingredient" and refers_back):
            ingredients = tuple(state.ingredients)
        if topic == "ingredient" and not ingredients and product and product != "serum":
            topic = "product"
    if topic in BROAD_TOPICS and ingredients:
        topic = "ingredient"
    also = "ingredient" if topic == "product" and ingredients and product not in (None, "serum") else None
    area = turn.first("body_area") and _area_words(turn)
    if area and topic not in ("ingredient",):
        topic = "not_covered"  # the protocol speaks of face and neck only
    if product == "sunscreen" and time == "pm" and topic not in ("ingredient", None):
        topic = "sunscreen"  # the protocol's one word on sunscreen at night: it belongs to the morning
    if topic == "profile" and not profile_facts and product and product != "serum":
        topic = "product"  # "my skin reacts to a lot, which moisturiser?" (the facts were not recognised)
    if topic == "product" and product in (None, "serum"):
        # "which one should I use?" without a product type: answer what the message does name
        topic = "ingredient" if ingredients else ("step" if product == "serum" else "routine")
    resumed = False
    if topic == "profile" and profile_facts and state.pending_topic:
        topic, resumed = state.pending_topic, True
        product = product or state.product
    if topic == "profile" and not profile_facts:
        topic = None if safety else "adjustments"  # "I'm pregnant" is not a skin profile
    if "reaction" in safety:
        topic = None  # a reaction interrupts everything else

    context = Context(
        profile=state.profile(),
        ingredients=unique(ingredients),
        product=product,
        step=_step_for(turn),
        time=time,
        area=area or None,
    )
    return Question(topic, context, safety, resumed, also if topic == "product" else None)
