"""Typed schema of the protocol knowledge base (``protocol.yml``).

Pydantic does the field checks; the cross-references (every ``source`` names a section, every
``related`` names a skin type, no vocabulary phrase means two things) are checked in
:meth:`KnowledgeBase.check_references`.
"""
from __future__ import annotations

import re
from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple

from pydantic import BaseModel, Extra, validator


#: Cosmetic language only: the assistant never says it cures, treats, heals or guarantees anything.
FORBIDDEN_CLAIMS = re.compile(r"\b(cur(e|es|ed|ing)|treat(s|ed|ing|ment|ments)?|heal(s|ed|ing)?|guarantee\w*)\b", re.I)


#: Top-level entries that are word lists the understanding reads, not prose the user reads.
WORD_LISTS = ("vocabulary", "sections", "question_cues", "triage", "understanding", "aspects")
#: Fields that hold ids, not prose the user reads.
_ID_FIELDS = frozenset({"id", "source", "step", "related", "brightening", "sections", "category", "by_type_field"})


def _strings(node: Any, path: str) -> Iterator[Tuple[str, str]]:
    """Every user-facing string in a model, with its path."""
    if isinstance(node, str):
        yield path, node
    elif isinstance(node, BaseModel):
        for name in node.__fields__:
            if name in _ID_FIELDS:
                continue
            yield from _strings(getattr(node, name), f"{path}.{name}" if path else name)
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            ident = getattr(value, "id", i)
            yield from _strings(value, f"{path}[{ident}]")


class Strict(BaseModel):
    class Config:
        extra = Extra.forbid
        allow_mutation = False


def not_blank(cls, value: str) -> str:
    """A text field's validator: stripped, and not empty."""
    if not value.strip():
        raise ValueError("must not be empty")
    return value.strip()


class Section(Strict):
    title: str


class Fact(Strict):
    """One sentence the assistant may say, and the protocol section it comes from."""

    source: str
    text: str

    _not_blank = validator("text", allow_reuse=True)(not_blank)


class Step(Strict):
    id: str
    number: int
    title: str
    source: str
    text: str
    why: str
    optional: bool = False
    am_only: bool = False
    #: the wait that belongs to the step with the same number (the absorption time of step 2)
    wait: bool = False
    #: how long the step typically takes, [min, max] minutes
    minutes: Optional[Tuple[int, int]] = None


class Principle(Strict):
    id: str
    title: str
    source: str
    text: str


class SkinType(Strict):
    id: str
    label: str
    covered: bool
    source: str
    cleansing: Optional[str] = None
    serum: Optional[str] = None
    layering: Optional[str] = None
    moisturizer: Optional[str] = None
    exfoliation: Optional[str] = None
    avoid: Optional[str] = None
    note: Optional[str] = None
    related: List[str] = []
    #: fields that name an active or exfoliant (held back while a condition gates actives)
    suggests_actives: List[str] = []

    @validator("note", always=True)
    def _uncovered_types_explain_themselves(cls, value, values):
        if values.get("covered") is False and not value:
            raise ValueError("a skin type the protocol does not cover needs a `note` saying so")
        if values.get("covered") and not all(
            values.get(f) for f in ("cleansing", "serum", "layering", "moisturizer", "exfoliation", "avoid")
        ):
            raise ValueError("a covered skin type needs cleansing, serum, layering, moisturizer, exfoliation and avoid")
        return value


class SkinTone(Strict):
    id: str
    label: str
    covered: bool
    source: str
    relevance: Optional[str] = None
    serum: Optional[str] = None
    layering_pm: Optional[str] = None
    #: ids of the ingredients the protocol names for brightening
    brightening: List[str] = []
    sun_protection: Optional[str] = None
    sunscreen_type: Optional[str] = None
    exfoliation: Optional[str] = None
    avoid: Optional[str] = None
    note: Optional[str] = None

    @validator("note", always=True)
    def _uncovered_tones_explain_themselves(cls, value, values):
        if values.get("covered") is False and not value:
            raise ValueError("a skin tone the protocol does not cover needs a `note` saying so")
        needed = ("relevance", "serum", "layering_pm", "sun_protection", "sunscreen_type", "exfoliation", "avoid")
        if values.get("covered") and not all(values.get(f) for f in needed):
            raise ValueError("a covered skin tone needs " + ", ".join(needed))
        return value


class Concern(Strict):
    id: str
    label: str
    sections: List[str]


class Ingredient(Strict):
    id: str
    label: str
    category: str
    named_in_protocol: bool
    general: List[Fact]
    by_type: Dict[str, List[Fact]] = {}
    by_tone: Dict[str, List[Fact]] = {}
    #: when the protocol times it: "all" or a skin type / tone id -> "am" | "pm"
    timing: Dict[str, str] = {}


class Product(Strict):
    id: str
    label: str
    step: Optional[str]
    by_type_field: Optional[str]
    #: the phrase said of a product type the protocol has no step for ("The protocol doesn't mention eye creams …")
    note: Optional[str] = None


class Gap(Strict):
    """An aspect the protocol is silent on, and the one honest sentence that says so."""

    id: str
    source: str
    text: str
    subject: Optional[str] = None
    aspect: Optional[str] = None
    cues: List[str] = []
    #: groups of words that all stand in one question sentence, as a verdict's ``asks``
    asks: List[List[str]] = []
    #: not when the message names any of these ("… after the serum" asks the serum's wait)
    unless_words: List[str] = []
    then_answer: bool = False
    #: who can tell instead, for a follow-up asking where to find out ("where would I find that?")
    elsewhere: Optional[str] = None
    #: subjects the gap does not cover (the protocol does say how often to exfoliate with BHA)
    except_subjects: List[str] = []
    #: said after a reaction's advice too ("broke out a week in, is this purging?": stop and see a doctor, and
    #: the protocol doesn't mention purging)
    beside_safety: bool = False


class Verdict(Strict):
    """The protocol's answer to a yes/no or either/or question, said first; per skin type or tone where the
    answer differs."""

    id: str
    source: str
    text: str
    options: List[List[str]] = []
    cues: List[str] = []
    #: groups of words that all stand in one question sentence ("[neck] … [too]": "do I put it on my neck too?")
    asks: List[List[str]] = []
    subject: Optional[str] = None
    #: the answer topic it stands for (a second question in the same message is still answered)
    topic: Optional[str] = None
    #: not when the message is about this time of day ("SPF at night?" is not "can I skip SPF?")
    unless_time: Optional[str] = None
    #: not when the message has any of these ("once a week, is that enough?" asks of how often, not how much)
    unless_words: List[str] = []
    #: not when the message asks about a subject of these kinds ("ingredient", "product"): only of the serum
    not_of: List[str] = []
    #: the topic after whose answer a bare time of day ("and at night?" after how often) asks this verdict
    follows_time: Optional[str] = None
    by_profile: Dict[str, str] = {}
    #: question words after which the answer starts "No." ("can I skip …?") or "Yes." ("do I need …?");
    #: the earliest in the question decides
    no_when: List[str] = []
    yes_when: List[str] = []


class Phrase(Strict):
    """A sentence of the assistant's own around the protocol's facts; ``{name}`` is filled in by the code."""

    text: str
    source: Optional[str] = None


class Assistant(Strict):
    """Who the assistant is: its one name, in the bot's greeting and as the widget's title (the demo page's
    data-title comes from here)."""

    name: str

    _not_blank = validator("name", allow_reuse=True)(not_blank)


class Button(Strict):
    title: str
    payload: str


class KeyConsiderations(Strict):
    frequency: Fact
    layering: Fact
    patch_test: Fact
    listen: Fact


class Safety(Strict):
    """What each severity, gate and claim says (assistant policy on top of the protocol's own advice)."""

    emergency: Fact
    reaction: Fact
    #: the serum in an eye: flush it, then a doctor if it still burns
    eye: Fact
    #: the actives the user named in a reaction report stop too ({labels})
    stop_named: Fact
    emergency_remembered: Fact
    reaction_remembered: Fact
    mild: Fact
    flare: Fact
    pregnancy: Fact
    prescription: Fact
    minor: Fact
    condition: Fact
    medical: Fact
    procedures: Fact
    procedure_remembered: Fact
    approval: Fact
    #: the doctor has okayed it, after a referral: their directions first, then the protocol's answer
    doctor_okayed: Fact
    cure: Fact
    promise: Fact


class Triage(Strict):
    """Words the severity triage reads beside ``vocabulary.symptom`` (whole words, any case)."""

    #: the product got into an eye ("got some in my eye and it burns")
    eye_contact: List[str] = []
    emergency_parts: List[str]
    swelling_words: List[str]
    soft_swelling: List[str]
    intense: List[str]
    cleared: List[str]
    #: the doctor has okayed it, after a referral ("she said it's fine")
    approved: List[str] = []
    airway_parts: List[str]
    airway_words: List[str]
    spreading: List[str]
    signs: List[str]
    product_link: List[str]
    worsening: List[str]
    chronic: List[str]
    not_used: List[str]
    habitual: List[str]
    #: an account of how the user applied things ("my hyaluronic 30 sec after the serum, whoops"): a slip in the
    #: routine, not a reaction, when it names no sign or sensation
    application_slip: List[str] = []
    about_sensation: List[str]
    past_reaction: List[str]
    present: List[str]
    brief: List[str]
    brief_signs: List[str]
    flare: List[str]
    prescription_only: List[str]
    own_use: List[str]
    procedures: List[str]
    approval: List[str]
    cure: List[str]
    promise: List[str]
    flare_conditions: List[str]
    cure_verbs: List[str]
    absolutes: List[str]
    #: asked of a diagnosed condition ("does it help eczema?"): the cosmetic serum's honest no, as for a cure
    condition_help: List[str] = []
    product_subjects: List[str]


class Understanding(Strict):
    """Words that decide whether a vocabulary term is a fact about the user's own skin, now."""

    brands: List[str]
    other_holders: List[str]
    first_person: List[str]
    #: a yes/no question asked the other way round ("would it be bad to …?"): no bare Yes/No in front
    asks_harm: List[str] = []
    not_me: List[str]
    #: asking to be put through to a person ("is there a human I could chat with?"), not just whether it is a bot
    asks_person: List[str] = []
    #: asking for the routine's last step ("what do I finish with?")
    finish_words: List[str] = []
    #: asking for the routine's first step ("what do I do first?")
    start_words: List[str] = []
    #: words proposing to leave a product out ("same thing minus spf?")
    leave_out: List[str] = []
    #: a yes/no asking whether the profile changes something ("does that change the sunscreen?")
    asks_change: List[str] = []
    #: chat shorthand and its spelling ("shud": "should"), applied before anything reads a message
    shorthand: Dict[str, str] = {}
    after_serum: List[str]
    before_serum: List[str]
    past_markers: List[str]
    cause_markers: List[str]
    not_skin_after: List[str]
    not_skin_before: List[str]
    forget: List[str]
    step_ordinals: Dict[str, int]
    step_cardinals: Dict[str, int]
    step_count: List[str]
    which_step: List[str]
    next_step: List[str]
    navigation: List[str]
    #: whether a step can be left out ("is it optional?")
    optional_words: List[str] = []
    #: doubting the last answer ("are you sure? the store said 3x a day")
    pushback: List[str] = []
    #: what the assistant is ("are you sure you're not a bot?" is not doubting an answer)
    about_assistant: List[str] = []
    #: whether a step must be done ("is step 3 required?")
    required_words: List[str] = []
    walkthrough_request: List[str] = []
    #: a correction of what the user told before ("actually", "i meant"): its first skin type replaces theirs
    correction: List[str] = []
    #: words that make a message without a question mark a request ("tell me about step 2", "pls explain")
    requests: List[str] = []
    #: a statement that something went well ("did the patch test, nothing happened", "looked fine")
    went_fine: List[str] = []
    #: a statement that a sensation is over ("ok it stopped after a minute")
    settled: List[str] = []
    #: a follow-up asking who can tell what the protocol doesn't ("where would I find that?")
    ask_elsewhere: List[str] = []
    restart: List[str]
    reminder: List[str]
    done_stage: Dict[str, List[str]]
    done_step: List[str]
    waited: List[str]
    #: what asks for the whole conversation to be deleted ("delete my data"): the assistant offers to erase it
    erase: List[str] = []


#: entity name -> canonical value -> phrases
Vocabulary = Dict[str, Dict[str, List[str]]]


class KnowledgeBase(Strict):
    version: int
    assistant: Assistant
    sections: Dict[str, Section]
    overview: Fact
    steps: List[Step]
    principles: List[Principle]
    skin_types: List[SkinType]
    skin_tones: List[SkinTone]
    concerns: List[Concern]
    ingredients: List[Ingredient]
    products: List[Product]
    key_considerations: KeyConsiderations
    application_area: Fact
    disclaimer: Fact
    results: Fact
    safety: Safety
    triage: Triage
    understanding: Understanding
    phrases: Dict[str, Phrase]
    buttons: Dict[str, Button]
    #: aspect -> cue phrases (the question frame's aspects)
    aspects: Dict[str, List[str]]
    gaps: List[Gap]
    verdicts: List[Verdict]
    #: topic -> phrases that show a message asks about it
    question_cues: Dict[str, List[str]] = {}
    vocabulary: Vocabulary

    def check_references(self) -> List[str]:
        """Cross-reference errors as ``"<entry>: <field>: <problem>"`` strings (empty when sound)."""
        errors: List[str] = []
        sections = set(self.sections)
        type_ids = {t.id for t in self.skin_types}
        tone_ids = {t.id for t in self.skin_tones}

        def source(where: str, value: str) -> None:
            if value not in sections:
                errors.append(f"{where}: source: unknown section {value!r} (known: {', '.join(sorted(sections))})")

        for name, phrase in self.phrases.items():
            if phrase.source is not None:
                source(f"phrases.{name}", phrase.source)
        for gap in self.gaps:
            source(f"gaps.{gap.id}", gap.source)
            if gap.aspect is not None and gap.aspect not in self.aspects:
                errors.append(f"gaps.{gap.id}: aspect: unknown aspect {gap.aspect!r}")
            if not (gap.subject or gap.cues or gap.asks):
                errors.append(f"gaps.{gap.id}: needs a subject, cues or asks")
        for verdict in self.verdicts:
            source(f"verdicts.{verdict.id}", verdict.source)
            if not (verdict.options or verdict.cues or verdict.asks):
                errors.append(f"verdicts.{verdict.id}: needs options, cues or asks")
            for key in verdict.by_profile:
                if key not in type_ids | tone_ids:
                    errors.append(f"verdicts.{verdict.id}: by_profile: unknown skin type or tone {key!r}")
        source("overview", self.overview.source)
        source("disclaimer", self.disclaimer.source)
        source("application_area", self.application_area.source)
        source("results", self.results.source)
        for name in Safety.__fields__:
            source(f"safety.{name}", getattr(self.safety, name).source)
        for name in KeyConsiderations.__fields__:
            source(f"key_considerations.{name}", getattr(self.key_considerations, name).source)
        for group in ("steps", "principles", "skin_types", "skin_tones"):
            for entry in getattr(self, group):
                source(f"{group}.{entry.id}", entry.source)
        type_ids = {t.id for t in self.skin_types}
        tone_ids = {t.id for t in self.skin_tones}
        step_ids = {s.id for s in self.steps}
        for skin_type in self.skin_types:
            for other in skin_type.related:
                if other not in type_ids:
                    errors.append(f"skin_types.{skin_type.id}: related: unknown skin type {other!r}")
        ingredient_ids = {i.id for i in self.ingredients}
        for tone in self.skin_tones:
            for other in tone.brightening:
                if other not in ingredient_ids:
                    errors.append(f"skin_tones.{tone.id}: brightening: unknown ingredient {other!r}")
        for concern in self.concerns:
            for section in concern.sections:
                if section not in sections:
                    errors.append(f"concerns.{concern.id}: sections: unknown section {section!r}")
        for ingredient in self.ingredients:
            where = f"ingredients.{ingredient.id}"
            for fact in ingredient.general:
                source(f"{where}.general", fact.source)
            for type_id, facts in ingredient.by_type.items():
                if type_id not in type_ids:
                    errors.append(f"{where}: by_type: unknown skin type {type_id!r}")
                for fact in facts:
                    source(f"{where}.by_type.{type_id}", fact.source)
            for tone_id, facts in ingredient.by_tone.items():
                if tone_id not in tone_ids:
                    errors.append(f"{where}: by_tone: unknown skin tone {tone_id!r}")
                for fact in facts:
                    source(f"{where}.by_tone.{tone_id}", fact.source)
        for product in self.products:
            if product.step is not None and product.step not in step_ids:
                errors.append(f"products.{product.id}: step: unknown step {product.step!r}")
            if product.note is not None and product.note not in self.phrases:
                errors.append(f"products.{product.id}: note: unknown phrase {product.note!r}")
            if product.by_type_field is not None and product.by_type_field not in SkinType.__fields__:
                errors.append(f"products.{product.id}: by_type_field: not a skin-type field {product.by_type_field!r}")
        errors.extend(self._check_vocabulary(type_ids, tone_ids))
        for where, text in _strings(self, ""):
            if not where.startswith(WORD_LISTS) and FORBIDDEN_CLAIMS.search(text):
                claim = FORBIDDEN_CLAIMS.search(text).group(0)
                errors.append(f"{where}: text: medical claim word {claim!r}; say 'may help' instead")
        return errors

    def check_uses(self, uses: Dict[str, Iterable[str]]) -> List[str]:
        """The ids the code relies on (``{"phrases": [...], "steps": [...], ...}``) that this file lacks, so a
        brand's copy that renames one fails at start-up, not on the first request."""
        have = {
            "phrases": set(self.phrases), "buttons": set(self.buttons), "sections": set(self.sections),
            "steps": {s.id for s in self.steps}, "principles": {p.id for p in self.principles},
            "skin_types": {t.id for t in self.skin_types}, "skin_tones": {t.id for t in self.skin_tones},
            "ingredients": {i.id for i in self.ingredients}, "products": {p.id for p in self.products},
            "safety": set(Safety.__fields__),
        }
        return [f"{group}: {name}: used by the assistant's code but missing"
                for group, names in uses.items() for name in names if name not in have.get(group, set())]

    def _check_vocabulary(self, type_ids: set, tone_ids: set) -> List[str]:
        errors: List[str] = []
        known = {
            "skin_type": type_ids,
            "skin_tone": tone_ids,
            "concern": {c.id for c in self.concerns},
            "ingredient": {i.id for i in self.ingredients},
            "product": {p.id for p in self.products},
        }
        for entity, ids in known.items():
            for value in self.vocabulary.get(entity, {}):
                if value not in ids:
                    errors.append(f"vocabulary.{entity}: {value}: no {entity} with that id")
            for missing in sorted(ids - set(self.vocabulary.get(entity, {}))):
                errors.append(f"vocabulary.{entity}: {missing}: has no phrases")
        seen: Dict[str, str] = {}
        for entity, values in self.vocabulary.items():
            for value, phrases in values.items():
                for phrase in phrases:
                    key = " ".join(str(phrase).lower().split())
                    here = f"{entity}:{value}"
                    if key in seen and seen[key] != here:
                        errors.append(f"vocabulary.{entity}: {value}: phrase {phrase!r} already means {seen[key]}")
                    seen[key] = here
        return errors
