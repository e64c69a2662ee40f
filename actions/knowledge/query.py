"""Answer questions about the protocol for one user's profile — pure Python, no Rasa.

Every public function takes the knowledge base and a :class:`Context` (profile plus what the user is
asking about) and returns an :class:`Answer`: markdown text, the protocol sections it follows, and quick
replies. Every sentence comes from ``protocol.yml`` (facts, ``phrases`` and ``buttons``); this module only
chooses and orders them, by these composition rules:

* the asked fact first; then only what matters for the profile the user gave (no caveat for a skin type,
  tone or condition they did not give);
* a condition (pregnancy, prescription, a skin condition, under 18) puts active and exfoliant advice on
  hold: the referral instead of, not beside, the advice;
* no disclaimer or "results vary" glued on; one source line per reply (see ``actions/render.py``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from . import text as tx
from .frame import STEP_3_CATEGORIES, step_number
from .schema import Fact, Ingredient, KnowledgeBase, SkinTone, SkinType, Step

#: Concerns for which the protocol's darker-tones/hyperpigmentation section applies whatever the tone.
PIGMENT_CONCERNS = frozenset({"hyperpigmentation", "pih", "melasma", "uneven_tone"})
#: Ingredient categories whose profile notes are cautions (shown only for the skin they concern).
CAUTION_CATEGORIES = frozenset({"active", "strong"})
#: Ingredient categories a condition puts on hold until a doctor says yes (serums like niacinamide too).
GATED_CATEGORIES = CAUTION_CATEGORIES | {"serum"}
#: Ingredient categories whose protocol fact is where they go: a "can I use it?" gets a plain "Yes." first
#: (not hydroquinone — a professional first — nor the irritants it says to avoid).
PLACED_CATEGORIES = frozenset({"active", "serum", "hydrator", "soothing"})
#: The steps after the optional actives: an active asked "before or after" one of their products goes before it.
LATER_STEPS = frozenset({"moisturize", "sunscreen"})
#: Conditions that gate active advice, in the order their referrals are given.
GATING_CONDITIONS = ("pregnancy", "minor", "prescription", "condition")

Button = Tuple[str, str]  # (title, payload)
#: Which skin-type field personalises which routine step.
STEP_ADVICE = {"cleanse": "cleansing", "treatments": "layering", "moisturize": "moisturizer"}
#: Skin-type fields that suggest an active or an exfoliant: held back while a condition gates them.
GATED_FIELDS = frozenset({"exfoliation"})

#: Every id this module relies on; the loader checks the knowledge base has them all (a brand's copy that
#: renames one fails at start-up). A test checks this list against the code.
USES: Dict[str, Tuple[str, ...]] = {
    "phrases": (
        "for_profile", "when_am", "when_pm", "routine_intro", "routine_pm_note", "tailor_prompt", "for_type",
        "for_pigment", "for_darker", "for_darker_or_pigment", "where_type", "card_title", "card_am", "card_pm",
        "card_spf", "card_wait", "card_mineral", "card_brightening", "adjust_ask", "adjust_intro", "profile_ack",
        "brightening_list", "step_head", "why", "absorb_then", "and_sunscreen", "optional_then", "order_line",
        "ingredient_unknown", "am_spf", "same_at_night", "same_at_night_agree", "same_in_morning", "verdict_after_serum", "actives_order", "combine_unknown", "toner_note", "sunscreen_night", "exfoliation_depends",
        "actives_exfoliants", "avoid_depends", "not_covered", "not_covered_area", "walk_done", "walk_head",
        "walk_wait_head", "walk_optional", "walk_your_actives", "walk_not_started", "walk_position", "walk_stopped", "reminder_set",
        "seconds", "minutes", "reminder_fired", "reminder_next", "patch_sensitive", "source_line",
        "verdict_yes", "verdict_no", "verdict_better_not", "widget_greeting", "no_such_step", "step_count", "handoff_unconfigured", "order_first", "order_after", "order_before", "sequence", "sequence_wait", "sequence_morning", "sequence_together", "timing_verdict", "timing_unknown", "timing_only_for", "time_am", "time_pm",
        "elsewhere", "ack_settled", "ack_settled_reaction", "ack_fine", "ack_patch_test",
        "step_is_optional", "step_not_optional", "verdict_before_product", "pushback_lead",
        # the channels' own (addons/guard.py)
        "message_empty", "message_capped", "cant_answer",
        # answer feedback (actions/feedback.py)
        "feedback_ask", "feedback_up", "feedback_down", "feedback_thanks", "feedback_missing", "feedback_send",
        "feedback_noted", "feedback_unknown",
        # deleting a conversation (actions/privacy.py)
        "erase_offer", "erase_done",
        # the live hand-off to the care team (addons/handoff.py)
        "handoff_connecting", "handoff_contact", "handoff_closed", "handoff_timeout", "handoff_no_contact",
        "handoff_failed", "handoff_waiting", "handoff_joined", "handoff_agent_says", "handoff_care_team",
        "handoff_relayed", "handoff_ended", "handoff_card_title", "handoff_card_fields", "handoff_card_transcript",
        "handoff_card_no_profile", "handoff_card_reason_asked", "handoff_card_reason_reaction",
        "handoff_card_reason_unanswered", "handoff_card_closed", "handoff_card_timeout", "handoff_card_take",
        "handoff_card_back", "handoff_card_taken", "handoff_card_already", "handoff_card_ended",
        "handoff_thread_shopper", "handoff_thread_emergency", "handoff_thread_not_taken",
    ),
    "buttons": ("walkthrough", "avoid", "routine", "remind", "routine_am", "routine_pm", "retinol", "vitamin_c",
                "niacinamide", "darker", "next", "back", "repeat", "start_again", "card", "person", "erase"),
    "steps": ("cleanse", "apply_serum", "absorb", "treatments", "moisturize", "sunscreen"),
    "principles": ("allow_absorption", "consistency", "sun_protection", "hydration"),
    "skin_tones": ("darker",),
    "ingredients": ("hydroquinone", "retinoid", "vitamin_c"),
    "sections": ("not_in_protocol", "safety_policy"),
    "safety": GATING_CONDITIONS,
}


@dataclass(frozen=True)
class Profile:
    """What the user told us about their skin."""

    skin_types: Tuple[str, ...] = ()
    skin_tone: Optional[str] = None
    concerns: Tuple[str, ...] = ()
    #: medical context the user gave: pregnancy, minor, prescription, condition
    conditions: Tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (self.skin_types or self.skin_tone or self.concerns)

    @property
    def pigment_prone(self) -> bool:
        return self.skin_tone == "darker" or bool(PIGMENT_CONCERNS & set(self.concerns))

    @property
    def gated(self) -> bool:
        """Active and exfoliant advice waits for a doctor's word."""
        return any(c in GATING_CONDITIONS for c in self.conditions)


@dataclass(frozen=True)
class Context:
    """A question: the profile plus what it is about (each optional)."""

    profile: Profile = Profile()
    ingredients: Tuple[str, ...] = ()
    product: Optional[str] = None
    #: every product the message names (the serum only when it is the only one)
    products: Tuple[str, ...] = ()
    step: Optional[str] = None
    time: Optional[str] = None  # "am" | "pm"
    #: a body area other than face and neck the user asked about
    area: Optional[str] = None
    #: the question asks yes or no ("can I use retinol with it?"): the verdict goes first
    yes_no: bool = False
    #: asked the other way round ("would it be bad to …?"): no bare Yes/No in front
    inverted: bool = False
    #: … about using something ("can I use / add / put …"), not its strength or anything else
    asks_use: bool = False
    #: the same question as the last answer, for the other time of day ("same for night?")
    time_switched: bool = False
    #: where the user's yes/no question puts the named active: "after" or "before" the serum
    proposes: Optional[str] = None
    #: the user proposes leaving something out ("same thing minus spf?"): agree before explaining
    leaves_out: bool = False
    #: the question asks before or after ("before or after the exosome one?"): that word first
    order_asked: bool = False
    #: the question asks for an order ("exosome + vit c + niacinamide, order?")
    order_of: bool = False
    #: a yes/no asking whether the profile changes it ("does that change the sunscreen?"): Yes or No first
    asks_change: bool = False
    #: the message names both times of day ("vitamin C in the AM and retinol at night"): actives kept apart
    times_apart: bool = False


@dataclass
class Answer:
    topic: str
    text: str
    sources: List[str] = field(default_factory=list)
    buttons: List[Button] = field(default_factory=list)
    #: the answer needs the skin type and asked for it; the next profile message resumes this topic
    asks_profile: bool = False

    def section_titles(self, kb: KnowledgeBase) -> List[str]:
        seen: List[str] = []
        for source in self.sources:
            title = kb.sections[source].title
            if source not in ("not_in_protocol", "safety_policy") and title not in seen:
                seen.append(title)
        return seen


def say(kb: KnowledgeBase, phrase_id: str, **values: object) -> str:
    """One of the knowledge base's own phrases, filled in."""
    return kb.phrases[phrase_id].text.format(**values)


def buttons(kb: KnowledgeBase, *ids: str) -> List[Button]:
    return [(kb.buttons[i].title, kb.buttons[i].payload) for i in ids]


class _Writer:
    """Collects lines and the sources they come from."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.lines: List[str] = []
        self.sources: List[str] = []

    def add(self, text: Optional[str], source: Optional[str] = None, prefix: str = "", at_start: bool = False) -> None:
        """Add a line (before the others when ``at_start``), unless it is already there."""
        if text and (prefix + text.strip()) not in self.lines:
            self.lines.insert(0 if at_start else len(self.lines), prefix + text.strip())
            if source and source not in self.sources:
                self.sources.insert(0 if at_start else len(self.sources), source)

    def fact(self, fact: Fact, prefix: str = "") -> None:
        self.add(fact.text, fact.source, prefix)

    def say(self, phrase_id: str, prefix: str = "", at_start: bool = False, **values: object) -> None:
        phrase = self.kb.phrases[phrase_id]
        self.add(phrase.text.format(**values), phrase.source, prefix, at_start)

    def referrals(self, profile: Profile) -> bool:
        """The referral for each gating condition; True when there was one."""
        for condition in GATING_CONDITIONS:
            if condition in profile.conditions:
                self.fact(getattr(self.kb.safety, condition))
        return profile.gated

    def answer(self, topic: str, button_list: Sequence[Button] = (), asks_profile: bool = False) -> Answer:
        return Answer(topic, "\n".join(self.lines), self.sources, list(button_list), asks_profile)


# --------------------------------------------------------------------------- lookups

def skin_type(kb: KnowledgeBase, type_id: str) -> SkinType:
    return next(t for t in kb.skin_types if t.id == type_id)


def skin_tone(kb: KnowledgeBase, tone_id: str) -> SkinTone:
    return next(t for t in kb.skin_tones if t.id == tone_id)


def short_label(ing: Ingredient) -> str:
    """An ingredient's label without its examples ("retinoids (retinol, tretinoin …)" -> "retinoids")."""
    return ing.label.split(" (")[0]


def ingredient(kb: KnowledgeBase, ingredient_id: str) -> Ingredient:
    return next(i for i in kb.ingredients if i.id == ingredient_id)


def step(kb: KnowledgeBase, step_id: str) -> Step:
    return next(s for s in kb.steps if s.id == step_id)


def principle(kb: KnowledgeBase, principle_id: str):
    return next(p for p in kb.principles if p.id == principle_id)


def routine_steps(kb: KnowledgeBase, time: Optional[str]) -> List[Step]:
    """The stages of the AM (default) or PM routine, in order (the absorption wait is a stage of step 2)."""
    return [s for s in kb.steps if not (s.am_only and time == "pm")]


def step_numbered(kb: KnowledgeBase, number: int) -> Optional[Step]:
    """The protocol's step ``number`` (1–5), as users count them."""
    return next((s for s in kb.steps if s.number == number and not s.wait), None)


def step_count(kb: KnowledgeBase, time: Optional[str]) -> int:
    return len({s.number for s in routine_steps(kb, time)})


def describe_profile(kb: KnowledgeBase, profile: Profile) -> str:
    parts = [skin_type(kb, t).label + " skin" for t in profile.skin_types]
    if profile.skin_tone:
        parts.append(skin_tone(kb, profile.skin_tone).label)
    labels = {c.id: c.label for c in kb.concerns}
    parts += [labels[c] for c in profile.concerns if c in labels]
    return ", ".join(parts)


def _for_profile(kb: KnowledgeBase, p: Profile) -> str:
    return say(kb, "for_profile", profile=describe_profile(kb, p)) if not p.is_empty else ""


def _types(kb: KnowledgeBase, profile: Profile) -> List[SkinType]:
    return [skin_type(kb, t) for t in profile.skin_types]


def _covered_types(kb: KnowledgeBase, profile: Profile) -> List[SkinType]:
    """The skin-type sections that apply: the user's types, else those their concerns point to first
    (redness or irritation -> sensitive, dryness -> dry)."""
    if profile.skin_types:
        return [t for t in _types(kb, profile) if t.covered]
    by_section = {t.source: t for t in kb.skin_types if t.covered}
    concerns = {c.id: c for c in kb.concerns}
    derived = [by_section.get(concerns[c].sections[0]) for c in profile.concerns if c in concerns]
    return list({t.id: t for t in derived if t}.values())


def _darker(kb: KnowledgeBase, profile: Profile) -> Optional[SkinTone]:
    return skin_tone(kb, "darker") if profile.pigment_prone else None


def _uncovered_notes(kb: KnowledgeBase, profile: Profile, w: _Writer) -> None:
    for t in _types(kb, profile):
        if not t.covered:
            w.add(t.note, t.source)
    if profile.skin_tone and not skin_tone(kb, profile.skin_tone).covered and not profile.pigment_prone:
        tone = skin_tone(kb, profile.skin_tone)
        w.add(tone.note, tone.source)


def _uncovered_guidance(kb: KnowledgeBase, p: Profile, w: _Writer) -> None:
    """For skin the protocol has no section for: say so, then its general principles and the related
    types' cleansing and moisturiser advice for the areas that behave like them."""
    _uncovered_notes(kb, p, w)
    uncovered = [t for t in _types(kb, p) if not t.covered]
    if not uncovered or _covered_types(kb, p):
        return
    for pr in kb.principles:
        w.add(pr.text, pr.source, prefix=f"• **{pr.title}:** ")
    for related in dict.fromkeys(r for t in uncovered for r in t.related):
        t = skin_type(kb, related)
        w.add(f"{t.cleansing} {t.moisturizer}", t.source, prefix=say(kb, "where_type", label=t.label))


def advice(t: SkinType, field: str, p: Profile) -> Optional[str]:
    """A skin type's advice field, unless it names an active or exfoliant that a condition holds back
    (a salicylic acid cleanser for someone on isotretinoin)."""
    return None if p.gated and field in t.suggests_actives else getattr(t, field)


def _for(kb: KnowledgeBase, t: SkinType) -> str:
    return say(kb, "for_type", label=t.label)


def _skin_type_buttons(kb: KnowledgeBase) -> List[Button]:
    return [(t.label.capitalize(), f'/inform_profile{{"skin_type":"{t.id}"}}') for t in kb.skin_types]


def _next(kb: KnowledgeBase) -> List[Button]:
    return buttons(kb, "walkthrough")


def _brightening_list(kb: KnowledgeBase) -> str:
    labels = [ingredient(kb, i).label for i in skin_tone(kb, "darker").brightening]
    return say(kb, "brightening_list", names="; ".join(labels))


def _pm_layering(kb: KnowledgeBase, darker: Any) -> str:
    """The evening suggestion for hyperpigmentation with the ingredients the protocol names (never 'ingredients
    known for brightening' alone: the names are what a shopper can act on)."""
    return f"{darker.layering_pm} {_brightening_list(kb)}"


def _treatments_text(kb: KnowledgeBase, p: Profile) -> Tuple[str, str]:
    """Step 3's text, or — while a condition gates actives — the referral in its place."""
    if p.gated:
        condition = next(c for c in GATING_CONDITIONS if c in p.conditions)
        fact = getattr(kb.safety, condition)
        return fact.text, fact.source
    s = step(kb, "treatments")
    return s.text, s.source


# --------------------------------------------------------------------------- answers

def routine(kb: KnowledgeBase, ctx: Context) -> Answer:
    """The whole routine in the protocol's numbering, with the profile's adjustments in the steps they change."""
    p, w = ctx.profile, _Writer(kb)
    when = say(kb, "when_am") if ctx.time == "am" else say(kb, "when_pm") if ctx.time == "pm" else ""
    w.say("routine_intro", when=when, for_profile=_for_profile(kb, p))
    types, darker = _covered_types(kb, p), _darker(kb, p)
    for s in routine_steps(kb, ctx.time):
        text, source = _treatments_text(kb, p) if s.id == "treatments" else (s.text, s.source)
        if s.wait:
            w.add(f"⏱ {text}", source, prefix="   ")
            continue
        w.add(f"{s.number}. **{s.title}** — {text}", source)
        for t in types:
            if s.id in STEP_ADVICE and not (p.gated and s.id == "treatments"):
                w.add(advice(t, STEP_ADVICE[s.id], p), t.source, prefix="   " + _for(kb, t))
        if darker and s.id == "treatments" and ctx.time != "am" and not p.gated:
            w.add(_pm_layering(kb, darker), darker.source, prefix="   " + say(kb, "for_pigment"))
        if darker and s.id == "sunscreen":
            w.add(darker.sunscreen_type, darker.source, prefix="   " + say(kb, "for_darker"))
    if ctx.time == "pm":
        w.say("routine_pm_note")
    _uncovered_notes(kb, p, w)
    if p.is_empty:
        w.say("tailor_prompt")
        return w.answer("routine", _skin_type_buttons(kb)[:3] + _next(kb))
    return w.answer("routine", buttons(kb, "walkthrough", "avoid"))


def summary(kb: KnowledgeBase, ctx: Context) -> Answer:
    """A short AM / PM card."""
    p, w = ctx.profile, _Writer(kb)
    types, darker = _covered_types(kb, p), _darker(kb, p)
    w.say("card_title", for_profile=f" ({describe_profile(kb, p)})" if not p.is_empty else "")
    for time, label in (("am", "card_am"), ("pm", "card_pm")):
        names = []
        for s in routine_steps(kb, time):
            low, high = s.minutes or (0, 0)
            name = s.title.split(" (")[0] + (say(kb, "card_wait", low=low, high=high) if s.wait else "")
            if s.id == "sunscreen":
                name = say(kb, "card_spf") + (say(kb, "card_mineral") if darker else "")
            if s.id == "treatments" and time == "pm" and darker and not p.gated:
                name += say(kb, "card_brightening")
            names.append(name)
        w.add(f"{say(kb, label)}: " + " → ".join(names), "step_1")
    for t in types:
        parts = [advice(t, f, p) for f in ("cleansing", "moisturizer", "avoid")]
        w.add(" ".join(x for x in parts if x), t.source, prefix=_for(kb, t))
    _uncovered_notes(kb, p, w)
    return w.answer("summary", _next(kb))


def adjustments(kb: KnowledgeBase, ctx: Context) -> Answer:
    """Everything the protocol changes for this profile."""
    p, w = ctx.profile, _Writer(kb)
    if not p.is_empty and not _covered_types(kb, p) and not p.pigment_prone:
        _uncovered_guidance(kb, p, w)  # no section of its own: the general principles, said so
        return w.answer("adjustments", buttons(kb, "routine", "walkthrough"))
    if p.is_empty:
        w.say("adjust_ask")
        return w.answer("adjustments", _skin_type_buttons(kb)[:3] + buttons(kb, "darker"), asks_profile=True)
    w.say("adjust_intro", profile=describe_profile(kb, p))
    w.referrals(p)
    for t in _covered_types(kb, p):
        parts = [advice(t, f, p) for f in ("serum", "cleansing", "layering", "moisturizer", "avoid")]
        w.add(f"**{t.label.capitalize()}** — " + " ".join(x for x in parts if x), t.source)
        if t.exfoliation and not _restates(t.exfoliation, t.avoid) and not p.gated:
            w.add(t.exfoliation, t.source, prefix="   ")
    darker = _darker(kb, p)
    if darker:
        layering = "" if p.gated else f" {_pm_layering(kb, darker)}"
        w.add(f"**{say(kb, 'for_pigment').strip(' _:')}** — {darker.relevance} {darker.serum}{layering}", darker.source)
        w.add(darker.sun_protection + " " + darker.sunscreen_type, darker.source, prefix="   ")
        w.add(darker.avoid if p.gated else darker.exfoliation, darker.source, prefix="   ")
    _uncovered_notes(kb, p, w)
    return w.answer("adjustments", buttons(kb, "routine", "walkthrough"))


def _restates(line: str, text: Optional[str]) -> bool:
    """Whether ``text`` already says ``line`` ("Avoid harsh exfoliants." inside the skin's avoid list)."""
    said = re.sub(r"^avoid\s+", "", line.strip().rstrip(".").lower())
    return bool(text) and said in text.lower()


def profile_ack(kb: KnowledgeBase, ctx: Context) -> Answer:
    """Acknowledge a profile update with what it changes, briefly."""
    p, w = ctx.profile, _Writer(kb)
    if p.is_empty:
        return adjustments(kb, ctx)  # nothing recognised to acknowledge: ask which skin it is
    w.say("profile_ack", profile=describe_profile(kb, p))
    for t in _covered_types(kb, p):
        parts = [advice(t, f, p) for f in ("serum", "cleansing", "layering", "moisturizer", "avoid")]
        w.add(" ".join(x for x in parts if x), t.source, prefix="• " + _for(kb, t))
    darker = _darker(kb, p)
    if darker:
        if p.gated:
            w.add(f"{darker.serum} {darker.sunscreen_type}", darker.source, prefix="• " + say(kb, "for_pigment"))
        else:
            w.add(f"{darker.serum} {_pm_layering(kb, darker)}", darker.source,
                  prefix="• " + say(kb, "for_pigment"))
            w.add(darker.sunscreen_type, darker.source, prefix="   ")
    _uncovered_guidance(kb, p, w)
    return w.answer("profile", buttons(kb, "routine", "walkthrough"))


def profile_noted(kb: KnowledgeBase, ctx: Context) -> Answer:
    """A one-line acknowledgement, when the profile answers a question asked just before."""
    return Answer("profile_noted", say(kb, "profile_ack", profile=describe_profile(kb, ctx.profile)))


def step_detail(kb: KnowledgeBase, ctx: Context) -> Answer:
    """One step: what, why, and what the profile changes about it."""
    p, w = ctx.profile, _Writer(kb)
    s = step(kb, ctx.step or "apply_serum")
    if s.am_only and ctx.time == "pm":
        w.say("sunscreen_night")  # "I only do my routine at night — what about step 5?"
        return w.answer("step", _next(kb))
    text, source = _treatments_text(kb, p) if s.id == "treatments" else (s.text, s.source)
    w.add(say(kb, "step_head", number=s.number, title=s.title, text=text), source)
    if s.optional and not p.gated:  # what follows when the user has no actives, instead of a reason
        w.say("optional_then", and_sunscreen="" if ctx.time == "pm" else say(kb, "and_sunscreen"))
    elif not (p.gated and s.id == "treatments"):
        w.add(say(kb, "why", text=s.why), s.source)
    fields = {**STEP_ADVICE, "apply_serum": "serum"}
    for t in _covered_types(kb, p):
        if s.id in fields and not (p.gated and s.id == "treatments"):
            w.add(advice(t, fields[s.id], p), t.source, prefix=_for(kb, t))
    darker = _darker(kb, p)
    if darker and s.id == "sunscreen":
        w.add(f"{darker.sun_protection} {darker.sunscreen_type}", darker.source)
    if darker and s.id == "treatments" and not p.gated:
        w.add(_pm_layering(kb, darker), darker.source)
    return w.answer("step", _next(kb))


def absorption(kb: KnowledgeBase, ctx: Context) -> Answer:
    w = _Writer(kb)
    s = step(kb, "absorb")
    w.add(f"{s.text} {s.why}", s.source)
    w.say("absorb_then", and_sunscreen="" if ctx.time == "pm" else say(kb, "and_sunscreen"))
    return w.answer("absorption", buttons(kb, "remind", "walkthrough"))


def amount(kb: KnowledgeBase, ctx: Context) -> Answer:
    w = _Writer(kb)
    s = step(kb, "apply_serum")
    w.add(s.text, s.source)
    return w.answer("amount", _next(kb))


def frequency(kb: KnowledgeBase, ctx: Context) -> Answer:
    w = _Writer(kb)
    w.fact(kb.key_considerations.frequency)
    consistency = principle(kb, "consistency")
    w.add(consistency.text, consistency.source)
    return w.answer("frequency", buttons(kb, "routine_am", "routine_pm"))


def _together(kb: KnowledgeBase, actives: List[str]) -> str:
    """Actives that share step 3: one, or several thinnest to thickest (the protocol orders none of them)."""
    if len(actives) == 1:
        return actives[0]
    return say(kb, "sequence_together", labels=", ".join(actives[:-1]) + " and " + actives[-1])


def _order(kb: KnowledgeBase, time: Optional[str]) -> str:
    return " → ".join(f"{s.number}. {s.title}" for s in routine_steps(kb, time) if not s.wait)


def layering(kb: KnowledgeBase, ctx: Context) -> Answer:
    """Product order, and where a named product goes."""
    p, w = ctx.profile, _Writer(kb)
    unlisted = next((x for x in kb.products if x.id == ctx.product and x.note), None)
    if unlisted and len(ctx.products) == 1:  # "where does my essence go?": the protocol doesn't name it; its layering rule says where
        w.say(unlisted.note, label=unlisted.label)
        return w.answer("layering", _next(kb))
    types = _covered_types(kb, p)
    darker = None if p.gated else _darker(kb, p)
    ordered = ctx.order_of and (types or darker) and not ctx.time_switched
    if ordered:  # "in which order do I use the products in the evening?": the order first, then this skin's
        w.say("order_line", order=_order(kb, ctx.time))
    for t in types:  # what to layer for this skin is the answer; the general rule follows in one line
        parts = [advice(t, f, p) for f in ("layering", "moisturizer")]
        w.add(" ".join(x for x in parts if x), t.source, prefix=_for(kb, t))
    if darker:  # dark spots: the brightening ingredients the protocol names, in the evening
        w.add(_pm_layering(kb, darker), darker.source, prefix=say(kb, "for_pigment"))
    w.fact(kb.key_considerations.layering)
    prod = next((x for x in kb.products if x.id == ctx.product and x.step and x.id != "serum"), None)
    if prod:
        s = step(kb, prod.step)
        w.add(f"**{s.title}** — {s.text} {s.why}", s.source)
    referred = w.referrals(p)
    if not types and not darker and not referred:  # nothing to pair for: the order and where actives go
        w.say("order_line", order=_order(kb, ctx.time))
        w.add(*_treatments_text(kb, p))
    _uncovered_notes(kb, p, w)
    if ctx.time == "am" and ctx.time_switched:
        w.say("same_in_morning", at_start=True)  # "and the morning is the same?": yes, with sunscreen last
    elif ctx.time == "am" and types and not ordered:
        w.say("am_spf")  # what goes on after the serum in the morning ends with sunscreen
    elif ctx.time == "pm" and ctx.time_switched:
        w.say("same_at_night", at_start=True)  # "same for night?": what changes, first
    return w.answer("layering", _next(kb))


def _held(kb: KnowledgeBase, p: Profile, ing: Ingredient, w: _Writer) -> bool:
    """The referral for an active while a condition gates it; True when no placement advice may follow."""
    return ing.category in GATED_CATEGORIES and w.referrals(p)


def ingredient_answer(kb: KnowledgeBase, ctx: Context) -> Answer:
    """Where each asked-about ingredient goes, and what the user's own profile changes about it."""
    p, w = ctx.profile, _Writer(kb)
    if not ctx.ingredients and w.referrals(p):
        return w.answer("ingredient")  # "can I carry on using the serum?" while pregnant: the referral only
    if not ctx.ingredients:
        # an ingredient the vocabulary does not know, or none named: the protocol's general rules
        w.say("ingredient_unknown")
        if not w.referrals(p):
            w.add(step(kb, "treatments").text, "step_3", prefix="• ")
        w.add(kb.key_considerations.layering.text, kb.key_considerations.layering.source, prefix="• ")
        return w.answer("ingredient", buttons(kb, "retinol", "vitamin_c", "niacinamide"))
    placed = [ingredient(kb, i) for i in ctx.ingredients]
    cautioned = any(i.category in CAUTION_CATEGORIES and i.by_type.get(t.id) for i in placed for t in _covered_types(kb, p))
    if ctx.order_of and not ctx.order_asked and all(x == "serum" for x in ctx.products) and len(placed) >= 2 and all(i.category in PLACED_CATEGORIES for i in placed) and not cautioned \
            and not (p.gated and any(i.category in GATED_CATEGORIES for i in placed)):
        # "exosome + vit c + niacinamide, order?": the order asked, in one answer, not one block per ingredient
        w.say("actives_order", labels=" and ".join(i.label for i in placed))
        return w.answer("ingredient", _next(kb))
    advised = False
    # a skin's section that suggests actives (oily skin: a salicylic cleanser, BHA) gives no caution about them
    suggesting = {t.source for t in kb.skin_types if t.suggests_actives}
    for ing_id in ctx.ingredients:
        ing = ingredient(kb, ing_id)
        if _held(kb, p, ing, w):
            continue  # no placement advice that could read as a "yes"
        advised = advised or ing.category in CAUTION_CATEGORIES
        # with a profile, what it changes; without one, where the protocol names a non-active for a skin
        # (a pairing, not a caveat: "hyaluronic acid ... for dry skin"); an active's cautions need a profile
        pairing = p.is_empty and ing.category not in CAUTION_CATEGORIES
        personal = [f for type_id in ([t.id for t in _covered_types(kb, p)] if not pairing else list(ing.by_type))
                    for f in ing.by_type.get(type_id, [])]
        # a skin type's word on an active is a caution ("hold off … until tolerance"); a tone's is a suggestion
        # … except where the skin's own section suggests the active
        cautions = [f for f in personal if f.source not in suggesting] if ing.category in CAUTION_CATEGORIES else []
        personal += list(ing.by_tone.get("darker", [])) if p.pigment_prone or pairing else []
        for n, fact in enumerate(cautions):
            # "is it fine to add lavender oil?" with rosacea-prone skin: better not, then why
            w.fact(fact, prefix=say(kb, "verdict_better_not") if n == 0 and ctx.yes_no and ctx.asks_use else "")
        verdict = (ctx.yes_no and (ctx.asks_use or ctx.proposes == "after") and not cautions and ing.named_in_protocol
                   and len(ctx.ingredients) == 1 and ing.category in PLACED_CATEGORIES)
        wrong_order = ctx.proposes == "before" and ing.category in PLACED_CATEGORIES and not cautions
        # an irritant the protocol says this skin should avoid ("lavender oil in my moisturiser?" when rosacea-prone)
        avoided = ing.category == "irritant" and ctx.yes_no and ctx.asks_use and not cautions and any(
            f.source == t.source for f in ing.general for t in _covered_types(kb, p))
        if cautions and ctx.yes_no and ctx.asks_use:
            continue  # "Better not", then how to apply it, would be a mixed message
        # "before or after my moisturiser?": placed against a product that comes later, it goes before that
        later = next((x for x in kb.products if x.id in ctx.products and x.step in LATER_STEPS), None)
        for n, fact in enumerate(ing.general):
            label = f"**{ing.label[:1].upper() + ing.label[1:]}:** " if n == 0 and len(ctx.ingredients) > 1 else ""
            # "before or after …?", or a yes/no placing it against a later product ("… before moisturiser, right?")
            placing = (ctx.order_asked or (ctx.yes_no and ctx.order_of and later)) \
                and ing.category in PLACED_CATEGORIES and not cautions
            lead_word = (None if ctx.inverted and (wrong_order or verdict) else
                         "verdict_no" if wrong_order else "verdict_yes" if verdict else
                         "verdict_better_not" if avoided else
                         ("verdict_before_product" if later else "verdict_after_serum") if placing else None)
            lead = say(kb, lead_word, label=later.label if later else "") if lead_word and n == 0 else ""
            w.fact(fact, prefix=label + lead)
        for fact in personal:
            if fact not in cautions:
                w.fact(fact)
    if ctx.time == "am" and advised:
        w.say("am_spf")
    if "vitamin_c" in ctx.ingredients and "retinoid" in ctx.ingredients and not p.gated and not ctx.times_apart:
        w.say("combine_unknown")
    return w.answer("ingredient", _next(kb))


def product_answer(kb: KnowledgeBase, ctx: Context) -> Answer:
    """Which cleanser / moisturiser / … suits this profile (each product the message names)."""
    others = [x for x in ctx.products if x != ctx.product]
    first = _one_product(kb, ctx)
    if not others:
        return first
    answers = [first] + [_one_product(kb, replace(ctx, product=x)) for x in others]
    return Answer("product", "\n".join(a.text for a in answers), [s for a in answers for s in a.sources],
                  answers[-1].buttons, any(a.asks_profile for a in answers))


def _one_product(kb: KnowledgeBase, ctx: Context) -> Answer:
    p, w = ctx.profile, _Writer(kb)
    prod = next((x for x in kb.products if x.id == ctx.product), None)
    if prod is None:
        return routine(kb, ctx)
    if prod.id == "sunscreen":
        return sunscreen(kb, ctx)
    if prod.id in ("exfoliant", "scrub"):
        return exfoliation(kb, ctx)
    types = _covered_types(kb, p)
    if prod.step and not (types and prod.by_type_field):  # with a skin type, its advice is the answer
        s = step(kb, prod.step)
        w.add(say(kb, "step_head", number=s.number, title=s.title, text=s.text), s.source)
    if prod.note:
        w.say(prod.note, label=prod.label)
    if prod.id == "facial_oil":
        w.add(kb.key_considerations.layering.text, kb.key_considerations.layering.source)
    related = [skin_type(kb, r) for t in _types(kb, p) if not t.covered for r in t.related] if not types else []
    if prod.by_type_field:
        for t in types:
            w.add(advice(t, prod.by_type_field, p), t.source, prefix=_for(kb, t))
        for t in related:  # combination skin: the oily and the dry parts
            w.add(advice(t, prod.by_type_field, p), t.source, prefix=say(kb, "where_type", label=t.label))
        if related:
            _uncovered_notes(kb, p, w)
            return w.answer("product", _next(kb))
        if prod.id == "moisturizer" and not types:
            hydration = principle(kb, "hydration")
            w.add(hydration.text, hydration.source)
    _uncovered_notes(kb, p, w)
    if not types and prod.by_type_field:
        w.add(say(kb, "tailor_prompt"))
        return w.answer("product", _skin_type_buttons(kb)[:3], asks_profile=True)
    return w.answer("product", _next(kb))


def sunscreen(kb: KnowledgeBase, ctx: Context) -> Answer:
    w = _Writer(kb)
    s = step(kb, "sunscreen")
    tone = _darker(kb, ctx.profile)
    if ctx.time == "pm":
        w.say("same_at_night_agree" if ctx.leaves_out else "sunscreen_night")
    elif tone and ctx.asks_change:  # "does that change the sunscreen?": yes, which one, then why
        w.add(tone.sunscreen_type, tone.source, prefix=say(kb, "verdict_yes"))
        w.add(tone.sun_protection, tone.source)
    elif tone:  # which sunscreen, and why it matters more for this skin
        w.add(s.text, s.source)
        w.add(tone.sunscreen_type, tone.source)
        w.add(tone.sun_protection, tone.source)
    elif ctx.asks_change and not ctx.profile.is_empty:  # "does oily skin change the sunscreen?": no
        w.add(s.text, s.source, prefix=say(kb, "verdict_no"))
    else:
        w.add(f"{s.text} {s.why}", s.source)
        sun = principle(kb, "sun_protection")
        w.add(sun.text, sun.source)
    return w.answer("sunscreen", _next(kb))


def _per_skin(kb: KnowledgeBase, p: Profile, w: _Writer, field: str, intro: str) -> bool:
    """Write ``field`` of the profile's skin types and of the darker-tone section; with no profile,
    every covered type's, under ``intro``. True when the profile decided what was written."""
    types, darker = _covered_types(kb, p), _darker(kb, p)
    bullet = "" if types or darker else "• "
    if not (types or darker):
        w.say(intro)
        types, darker = [t for t in kb.skin_types if t.covered], skin_tone(kb, "darker")
    for t in types:
        w.add(getattr(t, field), t.source, prefix=bullet + _for(kb, t))
    if darker:
        w.add(getattr(darker, field), darker.source, prefix=bullet + say(kb, "for_darker_or_pigment"))
    return not bullet


def exfoliation(kb: KnowledgeBase, ctx: Context) -> Answer:
    p, w = ctx.profile, _Writer(kb)
    if w.referrals(p):
        return w.answer("exfoliation", _next(kb))  # exfoliants wait for the doctor's word
    _per_skin(kb, p, w, "exfoliation", "exfoliation_depends")
    w.say("actives_exfoliants", text=step(kb, "treatments").text)
    _uncovered_notes(kb, p, w)
    return w.answer("exfoliation", buttons(kb, "avoid"))


def avoid(kb: KnowledgeBase, ctx: Context) -> Answer:
    p, w = ctx.profile, _Writer(kb)
    personal = _per_skin(kb, p, w, "avoid", "avoid_depends")
    if _darker(kb, p):
        w.fact(ingredient(kb, "hydroquinone").general[0])
    _uncovered_notes(kb, p, w)
    if personal:
        return w.answer("avoid")
    return w.answer("avoid", _skin_type_buttons(kb)[:3], asks_profile=True)


def benefits(kb: KnowledgeBase, ctx: Context) -> Answer:
    p, w = ctx.profile, _Writer(kb)
    w.fact(kb.overview)
    types, darker = _covered_types(kb, p), _darker(kb, p)
    for t in types or [t for t in kb.skin_types if t.covered]:
        w.add(t.serum, t.source, prefix=_for(kb, t))
    if darker or not types:
        tone = skin_tone(kb, "darker")
        w.add(tone.serum, tone.source, prefix=say(kb, "for_darker_or_pigment"))
    return w.answer("benefits", _next(kb))


def results(kb: KnowledgeBase, ctx: Context) -> Answer:
    p, w = ctx.profile, _Writer(kb)
    w.fact(kb.results)
    darker = _darker(kb, p)
    if darker:
        w.add(darker.serum, darker.source)
    return w.answer("results", _next(kb))


def patch_test(kb: KnowledgeBase, ctx: Context) -> Answer:
    p, w = ctx.profile, _Writer(kb)
    w.fact(kb.key_considerations.patch_test)
    if "sensitive" in p.skin_types:
        w.say("patch_sensitive")
    w.fact(kb.key_considerations.listen)
    return w.answer("patch_test", _next(kb))


def disclaimer(kb: KnowledgeBase, ctx: Context) -> Answer:
    w = _Writer(kb)
    w.fact(kb.disclaimer)
    return w.answer("disclaimer")


#: Severities after which a person may help (never an emergency: its way out is emergency help).
HANDOFF_AFTER = frozenset({"reaction", "flare"})


def safety(kb: KnowledgeBase, kind: str) -> Answer:
    """The text of one severity, gate or claim (a field of ``safety`` in the knowledge base), on its own:
    no disclaimer, no "results vary" beside it."""
    w = _Writer(kb)
    w.fact(getattr(kb.safety, kind))
    return w.answer(f"safety_{kind}", buttons(kb, "person") if kind in HANDOFF_AFTER else [])


def lead(kb: KnowledgeBase, kind: str, ctx: Context, subject_words: Optional[str] = None) -> Answer:
    """What a reply says before (or instead of) its answer: a severity, gate or claim (``safety``), the honest
    sentence for a gap in the protocol (``gap:<id>``), or the answer to an either/or question (``verdict:<id>``)."""
    group, _, ident = kind.partition(":")
    w = _Writer(kb)
    if group == "gap":
        gap = next(g for g in kb.gaps if g.id == ident)
        w.add(gap.text.format(label=_label(kb, ctx), brand=subject_words or "that product"), gap.source)
        return w.answer(kind, buttons(kb, "routine"))
    if group == "elsewhere":  # "where would I find that?" after a gap: who can tell instead
        gap = next(g for g in kb.gaps if g.id == ident)
        if gap.elsewhere:
            w.add(gap.elsewhere, gap.source)
        else:
            w.say("elsewhere")
        return w.answer(kind, buttons(kb, "routine"))
    if group == "optional":  # "is it optional?" / "is it required?" of a step: the protocol marks which one is
        step_id, _, asked = ident.partition(":")
        s = step(kb, step_id)
        verdict = "verdict_yes" if s.optional == (asked == "optional") else "verdict_no"
        w.add(say(kb, "step_is_optional" if s.optional else "step_not_optional", number=s.number,
                  title=s.title.lower(), text=s.text[:1].lower() + s.text[1:], why=s.why[:1].lower() + s.why[1:]),
              s.source, prefix=say(kb, verdict))
        return w.answer(kind, _next(kb))
    if group == "pushback":  # "are you sure? another site said 1 minute": the protocol's answer again
        w.say("pushback_lead")
        return w.answer(kind)
    if group == "ack":  # a statement acknowledged ("ok it stopped after a minute")
        w.say(f"ack_{ident}")
        return w.answer(kind, [] if ident.startswith("settled") else buttons(kb, "walkthrough"))
    if group == "verdict":
        ident, _, polarity = ident.partition(":")
        verdict = next(v for v in kb.verdicts if v.id == ident)
        p = ctx.profile
        key = next((k for k in _profile_keys(kb, p) if k in verdict.by_profile), None)
        sections = {t.id: t.source for t in kb.skin_types} | {t.id: t.source for t in kb.skin_tones}
        said = verdict.by_profile[key] if key else verdict.text
        w.add(said.format(label=_label(kb, ctx)) if "{label}" in said else said,
              sections[key] if key else verdict.source, prefix=say(kb, f"verdict_{polarity}") if polarity else "")
        return w.answer(kind, _next(kb))
    if group == "order":
        # the user's words, said back to them ("washing my face" -> "washing your face")
        *words, how = ident.split("|")
        first, second, asked = (re.sub(r"\bmy\b", "your", x, flags=re.I) for x in words)
        if how == "first":  # "what goes first, cleanser or serum?"
            w.say("order_first", first=first[:1].upper() + first[1:], second=second)
        elif asked == first:  # "cleanser before or after the serum?"
            w.say("order_before", asked=asked, other=second)
        else:
            w.say("order_after", asked=asked, other=first)
        pair = f"{first} {second}".lower()
        if "serum" in pair or "exosome" in pair:  # where the serum sits, and its wait when it comes first
            w.fact(kb.key_considerations.layering)
            if "serum" in first.lower() or "exosome" in first.lower():
                wait = principle(kb, "allow_absorption")
                w.add(wait.text, wait.source)
        elif re.search(r"\b(sunscreen|spf|sun ?block)\b", second, re.I):  # sunscreen last: the morning step
            w.add(step(kb, "sunscreen").text, step(kb, "sunscreen").source)
        return w.answer(kind, _next(kb))
    if group == "sequence":  # the named things in the protocol's order, the serum's wait where it falls
        said, actives = [], []
        for item in ident.split("|"):
            kind_of, _, name = item.partition(":")
            if kind_of == "ingredient":
                actives.append(short_label(ingredient(kb, name)))
                continue
            if actives:
                said.append(_together(kb, actives))
                actives = []
            prod = next(x for x in kb.products if x.id == name)
            said.append(say(kb, "sequence_morning", label=prod.label) if prod.step == "sunscreen" else prod.label)
            if prod.id == "serum":
                said.append(say(kb, "sequence_wait"))
        if actives:
            said.append(_together(kb, actives))
        w.say("sequence", items=" → ".join(said))
        return w.answer(kind, _next(kb))
    if group == "steps":
        total = step_count(kb, None)
        if ident == "count":
            w.say("step_count", total=total, order=_order(kb, None))
        else:
            w.say("no_such_step", total=total, number=ident, order=_order(kb, None))
        return w.answer(kind, _next(kb))
    if group == "timing":
        return _timing(kb, ctx, ingredient(kb, ident), w)
    if group == "cure":
        return _cure(kb, ctx, w)
    if group == "stop_named":  # the actives named in a reaction report stop too
        labels = [short_label(ingredient(kb, i)) for i in ident.split("|")]
        w.add(kb.safety.stop_named.text.format(labels=" and ".join(labels)), kb.safety.stop_named.source)
        return w.answer(kind)
    return safety(kb, kind)


def _timing(kb: KnowledgeBase, ctx: Context, ing: Ingredient, w: _Writer) -> Answer:
    """"Vitamin C morning or night?": the protocol's time for it, for this profile, first."""
    p = ctx.profile
    if _held(kb, p, ing, w):
        return w.answer("ingredient", _next(kb))
    when = next((ing.timing[k] for k in ["all", *_profile_keys(kb, p)] if k in ing.timing), None)
    if when:
        w.say("timing_verdict", when=say(kb, f"time_{when}"), label=ing.label)
        for fact in ing.general:
            w.fact(fact)
    else:  # timed only for a skin the user didn't give, or not at all
        other = next(iter(ing.timing), None)
        w.say("timing_unknown", label=ing.label, others=say(
            kb, "timing_only_for", when=say(kb, f"time_{ing.timing[other]}"), who=_profile_label(kb, other))
            if other else "")
    return w.answer("ingredient", _next(kb))


def _profile_keys(kb: KnowledgeBase, p: Profile) -> List[str]:
    """The skin types and tone whose per-profile answers apply to this profile (``by_profile``, ``timing``)."""
    return [t.id for t in _covered_types(kb, p)] + (["darker"] if p.pigment_prone else [])


def _profile_label(kb: KnowledgeBase, key: str) -> str:
    if key in {t.id for t in kb.skin_types}:
        return skin_type(kb, key).label + " skin"
    return skin_tone(kb, key).label + "s" if key in {t.id for t in kb.skin_tones} else key


def _cure(kb: KnowledgeBase, ctx: Context, w: _Writer) -> Answer:
    """"Will it cure my melasma?": the honest no, then what the protocol says it may help with, for this skin."""
    w.fact(kb.safety.cure)
    p = ctx.profile
    for t in _covered_types(kb, p):
        w.add(t.serum, t.source)
    darker = _darker(kb, p)
    if darker:
        w.add(f"{darker.serum} {darker.sun_protection}", darker.source)
    return w.answer("safety_cure", _next(kb))


def _label(kb: KnowledgeBase, ctx: Context) -> str:
    if ctx.ingredients:
        return ingredient(kb, ctx.ingredients[0]).label
    wanted = ctx.product or "serum"
    return next((p.label for p in kb.products if p.id == wanted), wanted)


#: Words that already place an area ("under my eyes"): the reply says "using it under your eyes".
_AREA_PREPOSITIONS = ("under", "around", "on", "near", "below", "above", "between", "inside")


def _area_words(texts: Iterable[str]) -> str:
    """The user's words for the areas, as the reply can say them: "on your hands and chest", "under your eyes"."""
    words = " and ".join(dict.fromkeys(re.sub(r"\bmy\b", "your", t.lower()) for t in texts)) or "there"
    if words.split()[0] in _AREA_PREPOSITIONS:
        return words
    return "on " + (words if words.startswith(("your ", "the ", "that ")) else "your " + words)


def not_covered(kb: KnowledgeBase, ctx: Context) -> Answer:
    """An honest 'the protocol doesn't cover that', in one sentence, with where to ask instead."""
    w = _Writer(kb)
    if ctx.area:
        w.say("not_covered_area", area=_area_words([ctx.area]))
    else:
        w.say("not_covered")
    return w.answer("not_covered", [buttons(kb, "routine")[0], *buttons(kb, "person")])


# --------------------------------------------------------------------------- walkthrough

def walkthrough(kb: KnowledgeBase, ctx: Context, index: int) -> Answer:
    """Stage ``index`` (0-based) of the guided walkthrough for the AM or PM routine, numbered as the protocol."""
    p, w = ctx.profile, _Writer(kb)
    steps = routine_steps(kb, ctx.time)
    if index >= len(steps):
        w.say("walk_done")
        w.fact(kb.key_considerations.listen)
        return w.answer("walkthrough_done", buttons(kb, "start_again", "card"))
    s, total = steps[index], step_count(kb, ctx.time)
    if s.wait:
        w.add(say(kb, "walk_wait_head", number=s.number, total=total, title=s.title), s.source)
    else:
        optional = say(kb, "walk_optional") if s.optional and "optional" not in s.title.lower() else ""
        w.add(say(kb, "walk_head", number=s.number, total=total, title=s.title, optional=optional), s.source)
    text, source = _treatments_text(kb, p) if s.id == "treatments" else (s.text, s.source)
    w.add(text, source)
    known = {i.id: i for i in kb.ingredients}  # the user's actives, in the order they told them
    yours = [short_label(known[i]) for i in ctx.ingredients if i in known and known[i].category in STEP_3_CATEGORIES]
    if s.id == "treatments" and yours and not p.gated:  # "I use retinol": this is where it goes on
        w.say("walk_your_actives", labels=" and ".join(yours))
    for t in _covered_types(kb, p):
        if s.id in STEP_ADVICE and not (p.gated and s.id == "treatments"):
            w.add(advice(t, STEP_ADVICE[s.id], p), t.source, prefix=_for(kb, t))
    darker = _darker(kb, p)
    if darker and s.id == "sunscreen":
        w.add(darker.sunscreen_type, darker.source, prefix=say(kb, "for_darker"))
    if darker and s.id == "treatments" and ctx.time != "am" and not p.gated:
        w.add(_brightening_list(kb), darker.source, prefix=say(kb, "for_pigment"))
    ids = ["next"] + (["remind"] if s.wait else []) + (["back"] if index else []) + ["repeat"]
    return w.answer("walkthrough", buttons(kb, *ids))


#: Words that pass over a step ("skip step 3", "I don't use any treatments").
SKIP_WORDS = ("skip", "skipping", "don't use", "dont use", "do not use", "don't have", "dont have", "no treatments",
              "none", "not using")


def stage_after_skip(kb: KnowledgeBase, ctx: Context, position: int, text: str) -> int:
    """The next stage after ``position``; past step N when the user says to skip it ("skip step 3, next")."""
    skipping = tx.has(text, SKIP_WORDS)
    number = step_number(text, kb) if skipping else None
    steps = routine_steps(kb, ctx.time)
    if number:
        later = [i for i, s in enumerate(steps) if s.number > number]
        return later[0] if later else len(steps)
    following = [i for i in range(position + 1, len(steps)) if not steps[i].wait]
    if skipping and following and steps[following[0]].optional:
        # "I don't use any treatments, next?" at the wait: past the optional step it means
        return following[0] + 1
    return position + 1


def stage_after_done(kb: KnowledgeBase, ctx: Context, index: int, text: str) -> int:
    """The stage to show next when the user says a later stage is done already ("ok moisturised" at the serum:
    sunscreen; "did that, waited 10 min": past the wait) — never back before ``index``."""
    steps = routine_steps(kb, ctx.time)
    u = kb.understanding
    done = [i for i, s in enumerate(steps) if tx.has(text, u.done_stage.get(s.id, ()))]
    if tx.has(text, u.waited):
        done += [i for i, s in enumerate(steps) if s.wait]
    later = [i for i in done if i >= index]
    return max(later) + 1 if later else index


def walkthrough_length(kb: KnowledgeBase, time: Optional[str]) -> int:
    return len(routine_steps(kb, time))


def step_index(kb: KnowledgeBase, step_id: str, time: Optional[str]) -> Optional[int]:
    ids = [s.id for s in routine_steps(kb, time)]
    return ids.index(step_id) if step_id in ids else None


# --------------------------------------------------------------------------- dispatch

TOPICS: Dict[str, Callable[[KnowledgeBase, Context], Answer]] = {
    "routine": routine,
    "summary": summary,
    "adjustments": adjustments,
    "profile": profile_ack,
    "step": step_detail,
    "absorption": absorption,
    "amount": amount,
    "frequency": frequency,
    "layering": layering,
    "ingredient": ingredient_answer,
    "product": product_answer,
    "sunscreen": sunscreen,
    "exfoliation": exfoliation,
    "avoid": avoid,
    "benefits": benefits,
    "results": results,
    "patch_test": patch_test,
    "disclaimer": disclaimer,
    "not_covered": not_covered,
}


def answer(kb: KnowledgeBase, topic: str, ctx: Context) -> Answer:
    """Answer ``topic`` (a key of :data:`TOPICS`) for ``ctx``."""
    try:
        handler = TOPICS[topic]
    except KeyError:
        raise ValueError(f"unknown topic {topic!r}; known: {', '.join(sorted(TOPICS))}") from None
    return handler(kb, ctx)


def unique(values: Iterable[str]) -> Tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


# --------------------------------------------------------------------------- walkthrough and reminders

def walkthrough_position(kb: KnowledgeBase, ctx: Context, index: Optional[int]) -> Answer:
    """'Where am I?'"""
    if index is None:
        return Answer("walkthrough_where", say(kb, "walk_not_started"), buttons=buttons(kb, "walkthrough"))
    steps = routine_steps(kb, ctx.time)
    here = walkthrough(kb, ctx, index)
    number = steps[min(index, len(steps) - 1)].number
    here.text = say(kb, "walk_position", number=number, total=step_count(kb, ctx.time)) + "\n" + here.text
    return here


def walkthrough_stopped(kb: KnowledgeBase) -> Answer:
    return Answer("walkthrough_stop", say(kb, "walk_stopped"), buttons=buttons(kb, "start_again"))


def absorption_minutes(kb: KnowledgeBase) -> Tuple[int, int]:
    s = step(kb, "absorb")
    return s.minutes or (5, 15)


_DELAY = re.compile(r"(\d+(?:\.\d+)?)\s*(s|sec|secs|seconds?|m|mins?|minutes?)\b", re.I)


def reminder_delay(kb: KnowledgeBase, text: str) -> float:
    """Seconds until the absorption reminder: what the user asked for, else the middle of the range."""
    asked = _DELAY.search(text or "")
    if asked:
        number, unit = float(asked.group(1)), asked.group(2).lower()
        seconds = number if unit.startswith("s") else number * 60
        return max(1.0, min(seconds, 3 * 3600.0))
    low, high = absorption_minutes(kb)
    return (low + high) / 2 * 60


def reminder_set(kb: KnowledgeBase, seconds: float) -> Answer:
    low, high = absorption_minutes(kb)
    when = say(kb, "seconds", n=round(seconds)) if seconds < 60 else say(kb, "minutes", n=f"{seconds / 60:g}")
    phrase = kb.phrases["reminder_set"]
    return Answer("reminder", say(kb, "reminder_set", when=when, low=low, high=high),
                  [phrase.source] if phrase.source else [])


def reminder_fired(kb: KnowledgeBase, ctx: Context, next_index: Optional[int]) -> Answer:
    """The reminder message, with the next walkthrough step when one is under way."""
    head = say(kb, "reminder_fired")
    if next_index is not None:
        nxt = walkthrough(kb, ctx, next_index)
        return Answer("walkthrough", head + "\n" + nxt.text, nxt.sources, nxt.buttons)
    absorb = step(kb, "absorb")
    after = [s for s in routine_steps(kb, ctx.time) if s.number > absorb.number]
    return Answer("reminder_fired", head + "\n" + say(kb, "reminder_next", steps=" → ".join(s.title for s in after)),
                  [after[0].source], buttons(kb, "walkthrough"))
