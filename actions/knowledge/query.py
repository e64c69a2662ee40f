"""Answer questions about the protocol for one user's profile — pure Python, no Rasa.

Every public function takes the knowledge base and a :class:`Context` (profile plus what the user is
asking about) and returns an :class:`Answer`: markdown text, the protocol sections it follows, and
quick replies. Texts come from ``protocol.yml`` only; this module just chooses and orders them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from .schema import Fact, Ingredient, KnowledgeBase, SkinTone, SkinType, Step

#: Concerns for which the protocol's darker-tones/hyperpigmentation section applies whatever the tone.
PIGMENT_CONCERNS = frozenset({"hyperpigmentation", "pih", "melasma", "uneven_tone"})
#: Ingredient categories a pregnancy, prescription or age flag puts on hold until a doctor says yes.
CAUTION_CATEGORIES = frozenset({"active", "strong"})

Button = Tuple[str, str]  # (title, payload)
#: Which skin-type field personalises which routine step.
STEP_ADVICE = {"cleanse": "cleansing", "treatments": "layering", "moisturize": "moisturizer"}


@dataclass(frozen=True)
class Profile:
    """What the user told us about their skin."""

    skin_types: Tuple[str, ...] = ()
    skin_tone: Optional[str] = None
    concerns: Tuple[str, ...] = ()
    #: safety flags the user mentioned: pregnancy, minor, prescription
    conditions: Tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (self.skin_types or self.skin_tone or self.concerns)

    @property
    def pigment_prone(self) -> bool:
        return self.skin_tone == "darker" or bool(PIGMENT_CONCERNS & set(self.concerns))


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


class _Writer:
    """Collects lines and the sources they come from."""

    def __init__(self) -> None:
        self.lines: List[str] = []
        self.sources: List[str] = []

    def add(self, text: Optional[str], source: Optional[str] = None, prefix: str = "") -> None:
        if text:
            self.lines.append(prefix + text.strip())
            if source and source not in self.sources:
                self.sources.append(source)

    def fact(self, fact: Fact, prefix: str = "") -> None:
        self.add(fact.text, fact.source, prefix)

    def answer(self, topic: str, buttons: Sequence[Button] = (), asks_profile: bool = False) -> Answer:
        return Answer(topic, "\n".join(self.lines), self.sources, list(buttons), asks_profile)


# --------------------------------------------------------------------------- lookups

def skin_type(kb: KnowledgeBase, type_id: str) -> SkinType:
    return next(t for t in kb.skin_types if t.id == type_id)


def skin_tone(kb: KnowledgeBase, tone_id: str) -> SkinTone:
    return next(t for t in kb.skin_tones if t.id == tone_id)


def ingredient(kb: KnowledgeBase, ingredient_id: str) -> Ingredient:
    return next(i for i in kb.ingredients if i.id == ingredient_id)


def step(kb: KnowledgeBase, step_id: str) -> Step:
    return next(s for s in kb.steps if s.id == step_id)


def routine_steps(kb: KnowledgeBase, time: Optional[str]) -> List[Step]:
    """The steps of the AM (default) or PM routine, in order."""
    return [s for s in kb.steps if not (s.am_only and time == "pm")]


def describe_profile(kb: KnowledgeBase, profile: Profile) -> str:
    parts = [skin_type(kb, t).label + " skin" for t in profile.skin_types]
    if profile.skin_tone:
        parts.append(skin_tone(kb, profile.skin_tone).label)
    labels = {c.id: c.label for c in kb.concerns}
    parts += [labels[c] for c in profile.concerns if c in labels]
    return ", ".join(parts)


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
    for principle in kb.principles:
        w.add(principle.text, principle.source, prefix=f"• **{principle.title}:** ")
    for related in dict.fromkeys(r for t in uncovered for r in t.related):
        t = skin_type(kb, related)
        w.add(f"{t.cleansing} {t.moisturizer}", t.source, prefix=f"• _Where your skin is {t.label}:_ ")


def _for(t: SkinType) -> str:
    return f"_For {t.label} skin:_ "


def _skin_type_buttons(kb: KnowledgeBase) -> List[Button]:
    return [(t.label.capitalize(), f'/inform_profile{{"skin_type":"{t.id}"}}') for t in kb.skin_types]


NEXT_BUTTONS: List[Button] = [("Walk me through it", "/walkthrough_start"), ("What should I avoid?", "/ask_avoid")]


# --------------------------------------------------------------------------- answers

def routine(kb: KnowledgeBase, ctx: Context) -> Answer:
    """The whole routine, with the profile's adjustments folded into the steps they change."""
    p, w = ctx.profile, _Writer()
    when = {"am": "morning ", "pm": "evening "}.get(ctx.time or "", "")
    w.add(f"Here's the {when}routine" + (f" for your {describe_profile(kb, p)}:" if not p.is_empty else ":"))
    types, darker = _covered_types(kb, p), _darker(kb, p)
    for n, s in enumerate(routine_steps(kb, ctx.time), 1):
        w.add(f"{n}. **{s.title}** — {s.text}", s.source)
        for t in types:
            if s.id in STEP_ADVICE:
                w.add(getattr(t, STEP_ADVICE[s.id]), t.source, prefix="   " + _for(t))
        if darker and s.id == "treatments" and ctx.time != "am":
            w.add(darker.layering_pm, darker.source, prefix="   _For hyperpigmentation:_ ")
        if darker and s.id == "sunscreen":
            w.add(darker.sunscreen_type, darker.source, prefix="   _For darker tones:_ ")
    if ctx.time == "pm":
        w.add("Sunscreen is the last step of the morning routine only.", "step_5")
    _uncovered_notes(kb, p, w)
    buttons = list(NEXT_BUTTONS)
    if p.is_empty:
        w.add("Tell me your skin type or tone and I'll tailor each step.")
        buttons = _skin_type_buttons(kb)[:3] + buttons[:1]
    return w.answer("routine", buttons)


def summary(kb: KnowledgeBase, ctx: Context) -> Answer:
    """A short AM / PM card."""
    p, w = ctx.profile, _Writer()
    types, darker = _covered_types(kb, p), _darker(kb, p)
    title = f"**Your routine card** ({describe_profile(kb, p)})" if not p.is_empty else "**Routine card**"
    w.add(title)
    for time, label in (("am", "☀️ **Morning**"), ("pm", "🌙 **Evening**")):
        names = []
        for s in routine_steps(kb, time):
            name = s.title.split(" (")[0]
            if s.id == "sunscreen":
                name = "broad-spectrum SPF 30+" + (" (mineral)" if darker else "")
            if s.id == "treatments" and time == "pm" and darker:
                name += " (brightening, e.g. niacinamide)"
            names.append(name)
        w.add(f"{label}: " + " → ".join(names), "step_1")
    for t in types:
        w.add(f"{t.cleansing} {t.moisturizer} {t.avoid}", t.source, prefix=_for(t))
    w.add(kb.key_considerations.frequency.text, kb.key_considerations.frequency.source)
    return w.answer("summary", NEXT_BUTTONS[:1])


def adjustments(kb: KnowledgeBase, ctx: Context) -> Answer:
    """Everything the protocol changes for this profile."""
    p, w = ctx.profile, _Writer()
    if not p.is_empty and not _covered_types(kb, p) and not p.pigment_prone:
        _uncovered_guidance(kb, p, w)  # no section of its own: the general principles, said so
        return w.answer("adjustments", [("Show my routine", "/ask_routine"), NEXT_BUTTONS[0]])
    if p.is_empty:
        w.add("The protocol adapts to skin type (oily/acne-prone, dry/dehydrated, sensitive/rosacea-prone) "
              "and to darker skin tones prone to hyperpigmentation. Which fits you?")
        buttons = _skin_type_buttons(kb)[:3] + [("Darker skin tone", '/inform_profile{"skin_tone":"darker"}')]
        return w.answer("adjustments", buttons, asks_profile=True)
    w.add(f"For your {describe_profile(kb, p)}:")
    for t in _covered_types(kb, p):
        w.add(f"**{t.label.capitalize()}** — {t.serum} {t.cleansing} {t.layering} {t.moisturizer} {t.avoid}", t.source)
        if t.exfoliation and t.exfoliation not in (t.avoid or ""):
            w.add(t.exfoliation, t.source, prefix="   ")
    darker = _darker(kb, p)
    if darker:
        w.add(f"**Hyperpigmentation** — {darker.relevance} {darker.serum} {darker.layering_pm}", darker.source)
        w.add(darker.sun_protection + " " + darker.sunscreen_type, darker.source, prefix="   ")
        w.add(darker.exfoliation, darker.source, prefix="   ")
    _uncovered_notes(kb, p, w)
    return w.answer("adjustments", NEXT_BUTTONS)


def profile_ack(kb: KnowledgeBase, ctx: Context) -> Answer:
    """Acknowledge a profile update with what it changes, briefly."""
    p, w = ctx.profile, _Writer()
    w.add(f"Got it — {describe_profile(kb, p)}. Here's what that changes:")
    for t in _covered_types(kb, p):
        w.add(f"{t.serum} {t.cleansing} {t.layering} {t.moisturizer} {t.avoid}", t.source, prefix="• " + _for(t))
    darker = _darker(kb, p)
    if darker:
        w.add(f"{darker.serum} {darker.layering_pm}", darker.source, prefix="• _For hyperpigmentation:_ ")
        w.add(_brightening_list(kb), "tone_darker", prefix="   ")
        w.add(darker.sunscreen_type, darker.source, prefix="   ")
    _uncovered_guidance(kb, p, w)
    return w.answer("profile", [("Show my routine", "/ask_routine"), *NEXT_BUTTONS])


def profile_noted(kb: KnowledgeBase, ctx: Context) -> Answer:
    """A one-line acknowledgement, when the profile answers a question asked just before."""
    return Answer("profile_noted", f"Got it — {describe_profile(kb, ctx.profile)}.")


def _brightening_list(kb: KnowledgeBase) -> str:
    labels = [ingredient(kb, i).label for i in skin_tone(kb, "darker").brightening]
    return "Brightening options the protocol names: " + "; ".join(labels) + "."


def step_detail(kb: KnowledgeBase, ctx: Context) -> Answer:
    """One step: what, why, and what the profile changes."""
    p, w = ctx.profile, _Writer()
    s = step(kb, ctx.step or "apply_serum")
    w.add(f"**Step {s.number}: {s.title}** — {s.text}", s.source)
    w.add(s.why, s.source, prefix="Why: ")
    advice = {**STEP_ADVICE, "apply_serum": "serum"}  # asked about one step, say what the serum may do too
    for t in _covered_types(kb, p):
        if s.id in advice:
            w.add(getattr(t, advice[s.id]), t.source, prefix=_for(t))
    darker = _darker(kb, p)
    if darker and s.id == "sunscreen":
        w.add(f"{darker.sun_protection} {darker.sunscreen_type}", darker.source)
    if darker and s.id == "treatments":
        w.add(f"{darker.layering_pm} {_brightening_list(kb)}", darker.source)
    if s.id == "absorb":
        principle = next(pr for pr in kb.principles if pr.id == "allow_absorption")
        w.add(principle.text, principle.source)
    return w.answer("step", NEXT_BUTTONS[:1])


def absorption(kb: KnowledgeBase, ctx: Context) -> Answer:
    w = _Writer()
    s = step(kb, "absorb")
    w.add(f"{s.text} {s.why}", s.source)
    w.add("Then continue with any optional actives, then your moisturiser"
          + (" and, in the morning, sunscreen." if ctx.time != "pm" else "."), "step_3")
    return w.answer("absorption", [("Remind me when it's absorbed", "/set_reminder"), NEXT_BUTTONS[0]])


def amount(kb: KnowledgeBase, ctx: Context) -> Answer:
    w = _Writer()
    s = step(kb, "apply_serum")
    w.add(s.text, s.source)
    w.add(kb.key_considerations.frequency.text, kb.key_considerations.frequency.source)
    return w.answer("amount", NEXT_BUTTONS[:1])


def frequency(kb: KnowledgeBase, ctx: Context) -> Answer:
    w = _Writer()
    w.fact(kb.key_considerations.frequency)
    consistency = next(pr for pr in kb.principles if pr.id == "consistency")
    w.add(consistency.text, consistency.source)
    w.add(step(kb, "sunscreen").text, "step_5", prefix="If you use it in the morning: ")
    return w.answer("frequency", [("Morning routine", '/ask_routine{"time_of_day":"am"}'),
                                  ("Evening routine", '/ask_routine{"time_of_day":"pm"}')])


def layering(kb: KnowledgeBase, ctx: Context) -> Answer:
    """Product order, and where a named product goes."""
    p, w = ctx.profile, _Writer()
    w.fact(kb.key_considerations.layering)
    prod = next((x for x in kb.products if x.id == ctx.product and x.step and x.id != "serum"), None)
    if prod:
        s = step(kb, prod.step)
        w.add(f"**{s.title}** — {s.text} {s.why}", s.source)
    order = " → ".join(s.title for s in routine_steps(kb, ctx.time))
    w.add(f"Order: {order}.", "step_3")
    w.add(step(kb, "treatments").text, "step_3")
    for t in _covered_types(kb, p):
        w.add(f"{t.layering} {t.moisturizer}", t.source, prefix=_for(t))
    darker = _darker(kb, p)
    if darker:
        w.add(f"{darker.layering_pm} {_brightening_list(kb)}", darker.source, prefix="_For hyperpigmentation:_ ")
    _uncovered_notes(kb, p, w)
    return w.answer("layering", NEXT_BUTTONS[:1])


def _caution_for(kb: KnowledgeBase, p: Profile, ing: Ingredient, w: _Writer) -> bool:
    """Add safety flags that put this ingredient on hold; True when no placement advice may follow.

    Pregnancy and age hold everything back; a prescription still gets the protocol's general rule,
    after the advice to check with the prescriber."""
    if ing.category not in CAUTION_CATEGORIES:
        return False
    held = False
    for condition in ("pregnancy", "minor", "prescription", "condition"):
        if condition in p.conditions:
            w.fact(getattr(kb.safety, condition))
            held = True  # the referral instead of, not beside, the advice it gates
    return held


def ingredient_answer(kb: KnowledgeBase, ctx: Context) -> Answer:
    """Where each asked-about ingredient goes and what the profile changes about it."""
    p, w = ctx.profile, _Writer()
    if not ctx.ingredients:
        # an ingredient the vocabulary does not know, or none named: the protocol's general rules
        w.add("The protocol doesn't mention that ingredient specifically, so here are its general rules:",
              "not_in_protocol")
        w.add(step(kb, "treatments").text, "step_3", prefix="• ")
        w.add(kb.key_considerations.layering.text, kb.key_considerations.layering.source, prefix="• ")
        w.add(kb.key_considerations.patch_test.text, kb.key_considerations.patch_test.source, prefix="• ")
        return w.answer("ingredient", [("Retinol", '/ask_ingredient{"ingredient":"retinoid"}'),
                                       ("Vitamin C", '/ask_ingredient{"ingredient":"vitamin_c"}'),
                                       ("Niacinamide", '/ask_ingredient{"ingredient":"niacinamide"}')])
    for ing_id in ctx.ingredients:
        ing = ingredient(kb, ing_id)
        if _caution_for(kb, p, ing, w):
            continue  # no placement advice that could read as a "yes"
        for n, fact in enumerate(ing.general):
            w.fact(fact, prefix=f"**{ing.label.capitalize()}:** " if n == 0 and len(ctx.ingredients) > 1 else "")
        # with a profile, what it changes; without one, what the protocol says for each skin
        types = [t.id for t in _covered_types(kb, p)] if not p.is_empty else list(ing.by_type)
        for type_id in types:
            for fact in ing.by_type.get(type_id, []):
                w.fact(fact)
        if p.pigment_prone or p.is_empty:
            for fact in ing.by_tone.get("darker", []):
                w.fact(fact)
    if ctx.time == "am":
        w.add(step(kb, "sunscreen").text, "step_5", prefix="In the morning: ")
    if "vitamin_c" in ctx.ingredients and "retinoid" in ctx.ingredients:
        w.add("The protocol doesn't say whether to combine them in one routine; it only says that both go "
              "after the serum has fully absorbed.", "not_in_protocol")
    return w.answer("ingredient", NEXT_BUTTONS[:1])


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
    p, w = ctx.profile, _Writer()
    prod = next((x for x in kb.products if x.id == ctx.product), None)
    if prod is None:
        return routine(kb, ctx)
    if prod.id == "sunscreen":
        return sunscreen(kb, ctx)
    if prod.id in ("exfoliant", "scrub"):
        return exfoliation(kb, ctx)
    if prod.step:
        s = step(kb, prod.step)
        w.add(f"**{s.title}** — {s.text}", s.source)
    if prod.id == "toner":
        w.add("The protocol doesn't cover toners, except that alcohol-based toners are to be avoided with "
              "sensitive or rosacea-prone skin.", "type_sensitive")
    if prod.id == "facial_oil":
        w.add(kb.key_considerations.layering.text, kb.key_considerations.layering.source)
    types = _covered_types(kb, p)
    if prod.by_type_field:
        for t in types:
            w.add(getattr(t, prod.by_type_field), t.source, prefix=_for(t))
        if prod.id == "moisturizer" and not types:
            hydration = next(pr for pr in kb.principles if pr.id == "hydration")
            w.add(hydration.text, hydration.source)
    _uncovered_notes(kb, p, w)
    if not types and prod.by_type_field:
        w.add("What's your skin type? I'll tell you what the protocol suggests for it.")
        return w.answer("product", _skin_type_buttons(kb)[:3], asks_profile=True)
    return w.answer("product", NEXT_BUTTONS[:1])


def sunscreen(kb: KnowledgeBase, ctx: Context) -> Answer:
    w = _Writer()
    s = step(kb, "sunscreen")
    if ctx.time == "pm":
        w.add("At night you don't need it: sunscreen is the last step of the morning routine. "
              f"{s.text}", s.source)
    else:
        w.add(f"{s.text} {s.why}", s.source)
        principle = next(pr for pr in kb.principles if pr.id == "sun_protection")
        w.add(principle.text, principle.source)
    tone = skin_tone(kb, "darker")
    prefix = "" if ctx.profile.pigment_prone else "_For darker skin tones or hyperpigmentation:_ "
    if ctx.profile.pigment_prone:
        w.add(tone.sun_protection, tone.source)
    w.add(tone.sunscreen_type, tone.source, prefix=prefix)
    return w.answer("sunscreen", NEXT_BUTTONS[:1])


def _per_skin(kb: KnowledgeBase, p: Profile, w: _Writer, field: str, intro: str) -> bool:
    """Write ``field`` of the profile's skin types and of the darker-tone section; with no profile,
    every covered type's, under ``intro``. True when the profile decided what was written."""
    types, darker = _covered_types(kb, p), _darker(kb, p)
    bullet = "" if types or darker else "• "
    if not (types or darker):
        w.add(intro)
        types, darker = [t for t in kb.skin_types if t.covered], skin_tone(kb, "darker")
    for t in types:
        w.add(getattr(t, field), t.source, prefix=bullet + _for(t))
    if darker:
        w.add(getattr(darker, field), darker.source, prefix=bullet + "_For darker tones / hyperpigmentation:_ ")
    return not bullet


def exfoliation(kb: KnowledgeBase, ctx: Context) -> Answer:
    p, w = ctx.profile, _Writer()
    _per_skin(kb, p, w, "exfoliation", "The protocol's exfoliation advice depends on your skin:")
    w.add(step(kb, "treatments").text, "step_3", prefix="Leave-on exfoliating acids count as actives: ")
    _uncovered_notes(kb, p, w)
    return w.answer("exfoliation", NEXT_BUTTONS[1:])


def avoid(kb: KnowledgeBase, ctx: Context) -> Answer:
    p, w = ctx.profile, _Writer()
    personal = _per_skin(kb, p, w, "avoid", "It depends on your skin — here's what the protocol says to avoid:")
    if _darker(kb, p):
        w.fact(ingredient(kb, "hydroquinone").general[0])
    w.fact(kb.key_considerations.patch_test)
    _uncovered_notes(kb, p, w)
    if personal:
        return w.answer("avoid")
    return w.answer("avoid", _skin_type_buttons(kb)[:3], asks_profile=True)


def benefits(kb: KnowledgeBase, ctx: Context) -> Answer:
    p, w = ctx.profile, _Writer()
    w.fact(kb.overview)
    types, darker = _covered_types(kb, p), _darker(kb, p)
    for t in types or [t for t in kb.skin_types if t.covered]:
        w.add(t.serum, t.source, prefix=_for(t))
    if darker or not types:
        tone = skin_tone(kb, "darker")
        w.add(tone.serum, tone.source, prefix="_For darker tones / hyperpigmentation:_ ")
    w.fact(kb.safety.claims)
    return w.answer("benefits", NEXT_BUTTONS[:1])


def results(kb: KnowledgeBase, ctx: Context) -> Answer:
    p, w = ctx.profile, _Writer()
    w.fact(kb.safety.claims)
    w.fact(kb.results)
    darker = _darker(kb, p)
    if darker:
        w.add(f"{darker.serum} {darker.sun_protection}", darker.source)
    w.fact(kb.disclaimer)
    return w.answer("results", NEXT_BUTTONS[:1])


def patch_test(kb: KnowledgeBase, ctx: Context) -> Answer:
    p, w = ctx.profile, _Writer()
    w.fact(kb.key_considerations.patch_test)
    if "sensitive" in p.skin_types:
        w.add("With sensitive or rosacea-prone skin, always patch test.", "type_sensitive")
    w.fact(kb.key_considerations.listen)
    return w.answer("patch_test", NEXT_BUTTONS[:1])


def disclaimer(kb: KnowledgeBase, ctx: Context) -> Answer:
    w = _Writer()
    w.fact(kb.disclaimer)
    return w.answer("disclaimer")


#: Severities after which a person may help (never an emergency: its way out is emergency help).
HANDOFF_AFTER = frozenset({"reaction", "flare"})


def safety(kb: KnowledgeBase, kind: str) -> Answer:
    """The text of one severity, gate or claim (a field of ``safety`` in the knowledge base), on its own:
    no disclaimer, no "results vary" beside it."""
    w = _Writer()
    w.fact(getattr(kb.safety, kind))
    return w.answer(f"safety_{kind}", [("Talk to a person", "/human_handoff")] if kind in HANDOFF_AFTER else [])


def not_covered(kb: KnowledgeBase, ctx: Context) -> Answer:
    """An honest 'the protocol doesn't cover that', with what it does say nearby."""
    w = _Writer()
    if ctx.area:
        w.add(f"The protocol doesn't cover the {ctx.area}: {kb.application_area.text[0].lower()}"
              f"{kb.application_area.text[1:]}", kb.application_area.source)
    else:
        w.add("The protocol doesn't cover that, so I'd rather not guess.", "not_in_protocol")
    w.add("What it does cover: the application steps, absorption time, layering, optional actives, "
          "adjustments for skin type and tone, sun protection and patch testing.")
    w.add("For anything specific to your skin, a licensed skincare professional or dermatologist can help.",
          "additional_notes")
    return w.answer("not_covered", [("Show the routine", "/ask_routine"), ("Talk to a person", "/human_handoff")])


# --------------------------------------------------------------------------- walkthrough

def walkthrough(kb: KnowledgeBase, ctx: Context, index: int) -> Answer:
    """Step ``index`` (0-based) of the guided walkthrough for the AM or PM routine."""
    p, w = ctx.profile, _Writer()
    steps = routine_steps(kb, ctx.time)
    if index >= len(steps):
        w.add("That's the whole routine — nicely done! ✨")
        w.fact(kb.key_considerations.listen)
        return w.answer("walkthrough_done", [("Start again", "/walkthrough_start"), ("Routine card", "/ask_summary")])
    s = steps[index]
    optional = " (optional)" if s.optional and "optional" not in s.title.lower() else ""
    w.add(f"**Step {index + 1} of {len(steps)}: {s.title}**{optional}", s.source)
    w.add(s.text, s.source)
    for t in _covered_types(kb, p):
        if s.id in STEP_ADVICE:
            w.add(getattr(t, STEP_ADVICE[s.id]), t.source, prefix=_for(t))
    darker = _darker(kb, p)
    if darker and s.id == "sunscreen":
        w.add(darker.sunscreen_type, darker.source, prefix="_For darker tones:_ ")
    if darker and s.id == "treatments" and ctx.time != "am":
        w.add(_brightening_list(kb), darker.source, prefix="_For hyperpigmentation:_ ")
    buttons: List[Button] = [("Done — next step", "/walkthrough_next")]
    if s.id == "absorb":
        buttons.append(("Remind me when it's absorbed", "/set_reminder"))
    if index:
        buttons.append(("Back", "/walkthrough_back"))
    buttons.append(("Repeat", "/walkthrough_repeat"))
    return w.answer("walkthrough", buttons)


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
        return Answer("walkthrough_where", "We haven't started a step-by-step walkthrough yet.",
                      buttons=[("Walk me through it", "/walkthrough_start")])
    steps = routine_steps(kb, ctx.time)
    here = walkthrough(kb, ctx, index)
    here.text = f"You're on step {index + 1} of {len(steps)}.\n" + here.text
    return here


def walkthrough_stopped() -> Answer:
    return Answer("walkthrough_stop", "Okay, I've stopped the walkthrough. Ask me anything, or pick it up again later.",
                  buttons=[("Start again", "/walkthrough_start")])


def absorption_minutes(kb: KnowledgeBase) -> Tuple[int, int]:
    s = step(kb, "absorb")
    return s.minutes or (5, 15)


_DELAY = re.compile(r"(\d+(?:\.\d+)?)\s*(s|sec|secs|seconds?|m|mins?|minutes?)\b", re.I)


def reminder_delay(kb: KnowledgeBase, text: str) -> float:
    """Seconds until the absorption reminder: what the user asked for, else the middle of the range."""
    asked = _DELAY.search(text or "")
    if asked:
        amount, unit = float(asked.group(1)), asked.group(2).lower()
        seconds = amount if unit.startswith("s") else amount * 60
        return max(1.0, min(seconds, 3 * 3600.0))
    low, high = absorption_minutes(kb)
    return (low + high) / 2 * 60


def reminder_set(kb: KnowledgeBase, seconds: float) -> Answer:
    low, high = absorption_minutes(kb)
    when = f"{round(seconds)} seconds" if seconds < 60 else f"{seconds / 60:g} minutes"
    s = step(kb, "absorb")
    return Answer("reminder", f"⏰ Okay — I'll remind you in {when}. The serum typically takes {low}–{high} "
                  "minutes to absorb; let it dry completely before the next step.", [s.source])


def reminder_fired(kb: KnowledgeBase, ctx: Context, next_index: Optional[int]) -> Answer:
    """The reminder message, with the next walkthrough step when one is under way."""
    head = "⏰ Time's up — your serum should be absorbed by now. If it still feels damp, give it a few more minutes."
    if next_index is not None:
        nxt = walkthrough(kb, ctx, next_index)
        return Answer("walkthrough", head + "\n" + nxt.text, nxt.sources, nxt.buttons)
    after = [s for s in routine_steps(kb, ctx.time) if s.number > step(kb, "absorb").number]
    return Answer("reminder_fired", head + "\nNext: " + " → ".join(s.title for s in after) + ".",
                  [after[0].source], [("Walk me through it", "/walkthrough_start")])
