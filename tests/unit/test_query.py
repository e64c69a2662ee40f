"""The query layer personalises answers from the knowledge base, and says where they come from."""
import pytest

from actions.knowledge.query import (
    TOPICS, Context, Profile, answer, reminder_delay, routine_steps, walkthrough,
)

OILY = Profile(skin_types=("oily",))
DRY = Profile(skin_types=("dry",))
SENSITIVE = Profile(skin_types=("sensitive",))
DARKER = Profile(skin_tone="darker")
PIH_ONLY = Profile(concerns=("pih",))


def ask(kb, topic, profile=Profile(), **context):
    return answer(kb, topic, Context(profile=profile, **context))


def test_routine_has_every_step_in_order(kb):
    text = ask(kb, "routine").text
    positions = [text.index(w) for w in ("Cleanse", "pea-sized", "5–15 minutes", "retinoids", "Moisturise", "SPF of 30")]
    assert positions == sorted(positions)


def test_evening_routine_drops_sunscreen_step(kb):
    assert [s.id for s in routine_steps(kb, "pm")][-1] == "moisturize"
    text = ask(kb, "routine", time="pm").text
    assert "morning routine only" in text and "6." not in text


@pytest.mark.parametrize("profile, present, absent", [
    (OILY, ["salicylic acid cleanser", "gel-based or oil-free"], ["cream-based", "facial oil"]),
    (DRY, ["cream-based, hydrating cleanser", "richer, emollient"], ["salicylic", "oil-free"]),
    (SENSITIVE, ["fragrance-free", "barrier-supporting"], ["salicylic", "emollient"]),
])
def test_routine_folds_in_the_skin_type_adjustments(kb, profile, present, absent):
    text = ask(kb, "routine", profile).text
    for phrase in present:
        assert phrase in text
    for phrase in absent:
        assert phrase not in text


def test_darker_tones_get_mineral_sunscreen_and_brightening(kb):
    text = ask(kb, "routine", DARKER).text
    assert "mineral sunscreen" in text and "brightening" in text
    assert "mineral sunscreen" not in ask(kb, "routine", DRY).text


def test_hyperpigmentation_concern_applies_the_darker_tone_section(kb):
    text = ask(kb, "profile", PIH_ONLY).text
    assert "niacinamide" in text and "tranexamic acid" in text


def test_cleanser_answer_depends_on_skin_type(kb):
    dry = ask(kb, "product", DRY, product="cleanser").text
    oily = ask(kb, "product", OILY, product="cleanser").text
    assert "cream-based" in dry and "salicylic" not in dry
    assert "salicylic" in oily and "cream-based" not in oily


def test_product_question_without_profile_asks_for_skin_type(kb):
    result = ask(kb, "product", product="moisturizer")
    assert "skin type" in result.text
    assert [t for t, _ in result.buttons][:3] == ["Oily / acne-prone", "Dry / dehydrated", "Sensitive / rosacea-prone"]


def test_retinoids_go_after_absorption_for_everyone(kb):
    for profile in (Profile(), OILY, DRY):
        text = ask(kb, "ingredient", profile, ingredients=("retinoid",)).text
        assert "after the exosome serum has fully absorbed" in text


def test_retinoids_for_sensitive_skin_wait_for_tolerance(kb):
    text = ask(kb, "ingredient", SENSITIVE, ingredients=("retinoid",)).text
    assert "tolerance" in text and "patch test" in text
    assert "tolerance" not in ask(kb, "ingredient", OILY, ingredients=("retinoid",)).text


def test_vitamin_c_for_darker_tones_mentions_brightness(kb):
    assert "brightness" in ask(kb, "ingredient", DARKER, ingredients=("vitamin_c",)).text
    assert "brightness" not in ask(kb, "ingredient", DRY, ingredients=("vitamin_c",)).text


def test_pregnancy_puts_actives_on_hold_without_a_yes(kb):
    profile = Profile(conditions=("pregnancy",))
    text = ask(kb, "ingredient", profile, ingredients=("retinoid",)).text
    assert "doctor" in text and "fully absorbed" not in text


def test_hydroquinone_needs_a_professional(kb):
    assert "licensed professional" in ask(kb, "ingredient", ingredients=("hydroquinone",)).text


def test_ingredients_the_protocol_does_not_name_are_flagged_honestly(kb):
    text = ask(kb, "ingredient", ingredients=("benzoyl_peroxide",)).text
    assert "doesn't mention benzoyl peroxide" in text
    assert answer(kb, "ingredient", Context(ingredients=("benzoyl_peroxide",))).section_titles(kb)


def test_avoid_lists_what_the_profile_must_avoid(kb):
    sensitive = ask(kb, "avoid", SENSITIVE).text
    assert "fragrances" in sensitive and "alcohol-based toners" in sensitive
    assert "harsh physical scrubs" in ask(kb, "avoid", DARKER).text


def test_combination_and_normal_skin_are_told_there_is_no_dedicated_section(kb):
    for skin in ("combination", "normal"):
        text = ask(kb, "routine", Profile(skin_types=(skin,))).text
        assert "no dedicated section" in text


def test_results_never_promise_anything(kb):
    text = ask(kb, "results", Profile(concerns=("melasma",))).text
    assert "vary" in text and "may" in text


def test_sunscreen_at_night_is_not_needed(kb):
    text = ask(kb, "sunscreen", time="pm").text
    assert "don't need it" in text and "morning" in text


def test_every_answer_cites_its_protocol_sections(kb):
    for topic in TOPICS:
        if topic in ("not_covered",):
            continue
        result = ask(kb, topic, OILY, ingredients=("retinoid",), product="cleanser", step="cleanse")
        assert result.section_titles(kb), topic


def test_no_answer_uses_medical_claim_words(kb):
    from actions.knowledge.schema import FORBIDDEN_CLAIMS
    profiles = [Profile(), OILY, DRY, SENSITIVE, DARKER, Profile(skin_types=("combination",), skin_tone="light")]
    for topic in TOPICS:
        for profile in profiles:
            text = ask(kb, topic, profile, ingredients=("retinoid", "vitamin_c"), product="cleanser", step="treatments").text
            assert not FORBIDDEN_CLAIMS.search(text), (topic, text)


def test_walkthrough_goes_one_step_at_a_time(kb):
    first, second = walkthrough(kb, Context(), 0), walkthrough(kb, Context(), 1)
    assert "Step 1 of 5" in first.text and "Cleanse" in first.text
    assert "Step 2 of 5" in second.text and "pea-sized" in second.text
    assert "Step 2 of 5, then wait" in walkthrough(kb, Context(), 2).text  # the protocol's numbering
    assert ("Back", "/walkthrough_back") in second.buttons and ("Back", "/walkthrough_back") not in first.buttons
    assert "whole routine" in walkthrough(kb, Context(), 6).text


def test_reminder_delay_reads_the_users_words(kb):
    assert reminder_delay(kb, "ping me in 10 minutes") == 600
    assert reminder_delay(kb, "remind me in 3 seconds") == 3
    assert 5 * 60 <= reminder_delay(kb, "remind me when it's absorbed") <= 15 * 60


def test_unknown_topic_is_a_clear_error(kb):
    with pytest.raises(ValueError, match="unknown topic 'horoscope'"):
        ask(kb, "horoscope")


def test_not_covered_names_the_area_and_what_the_protocol_does_say(kb):
    text = ask(kb, "not_covered", area="scalp").text
    assert "doesn't cover using it on your scalp" in text and "face and neck" in text and "label" in text
    assert "using it under your eyes" in ask(kb, "not_covered", area="under my eyes").text


def test_concerns_alone_point_to_their_skin_type_section(kb):
    text = ask(kb, "layering", Profile(concerns=("irritation",))).text
    assert "Centella" in text and "salicylic" not in text


@pytest.mark.parametrize("condition", ["prescription", "pregnancy", "minor", "condition"])
def test_a_condition_gets_the_referral_instead_of_the_active_advice(kb, condition):
    text = ask(kb, "ingredient", Profile(conditions=(condition,)), ingredients=("retinoid",)).text
    assert "doctor" in text and "fully absorbed" not in text


def test_unknown_ingredients_get_the_general_rules_honestly(kb):
    text = ask(kb, "ingredient").text
    assert "doesn't mention that ingredient" in text and "fully absorbed" in text and "thinnest to thickest" in text


def test_an_ingredient_answer_adds_only_what_the_given_profile_changes(kb):
    # an active's caution is for the skin that needs it, never for someone who gave no profile
    retinoid = ask(kb, "ingredient", ingredients=("retinoid",)).text
    assert "after the exosome serum" in retinoid and "sensitive" not in retinoid
    # a non-active the protocol pairs with certain skin: where it names it is the answer
    general = ask(kb, "ingredient", ingredients=("hyaluronic_acid",)).text
    assert "thinnest to thickest" in general and "dry or dehydrated skin" in general
    assert "oil regulation" in ask(kb, "ingredient", OILY, ingredients=("niacinamide",)).text
    assert "uneven skin tone" in ask(kb, "ingredient", DARKER, ingredients=("niacinamide",)).text
    assert "uneven skin tone" not in ask(kb, "ingredient", DRY, ingredients=("niacinamide",)).text


def test_combination_skin_gets_general_principles_and_the_oily_and_dry_parts(kb):
    text = ask(kb, "adjustments", Profile(skin_types=("combination",))).text
    assert "no dedicated section" in text and "Consistency" in text
    assert "Where your skin is oily" in text and "Where your skin is dry" in text
    normal = ask(kb, "adjustments", Profile(skin_types=("normal",))).text
    assert "no dedicated section" in normal and "Where your skin" not in normal and "Hydration" in normal


@pytest.mark.parametrize("topic", ["profile", "adjustments", "routine", "layering", "summary"])
def test_a_condition_holds_back_the_actives_a_skin_type_names(kb, topic):
    """Oily skin's advice names a salicylic acid cleanser and niacinamide: not for someone on isotretinoin."""
    text = ask(kb, topic, Profile(skin_types=("oily",), conditions=("prescription",))).text
    assert "salicylic" not in text and "niacinamide" not in text and "BHA" not in text
    assert "salicylic" in ask(kb, topic, OILY).text or topic in ("layering",)


def test_a_proposed_order_gets_its_verdict_first(kb):
    from actions.knowledge.query import Context, answer
    wrong = answer(kb, "ingredient", Context(ingredients=("vitamin_c",), yes_no=True, proposes="before")).text
    right = answer(kb, "ingredient", Context(ingredients=("niacinamide",), yes_no=True, proposes="after")).text
    assert wrong.startswith("**No.**") and right.startswith("**Yes.**")


def test_a_reply_does_not_say_the_same_sentence_twice_in_other_words():
    from actions.knowledge.reply import _says_again, _words
    said = [_words("In the morning, finish with a broad-spectrum sunscreen, SPF 30 or higher.")]
    assert _says_again("In the morning, always finish with a broad-spectrum sunscreen with an SPF of 30 or higher.", said)
    assert not _says_again("_For sensitive / rosacea-prone skin:_ Extremely gentle, fragrance-free cleansers are a must.",
                           [_words("Got it — sensitive / rosacea-prone skin.")])


@pytest.mark.parametrize("time, position, text, shown", [
    ("am", 1, "ok moisturized", "sunscreen"),  # at the serum, the moisturiser done: sunscreen next
    ("am", 1, "did that, waited like 10 min", "treatments"),  # past the wait
    ("am", 0, "did that, waited like 10 min", "treatments"),
    ("am", 0, "serum is on", "absorb"),  # the wait follows the serum
    ("pm", 3, "just washed my face", None),  # never back: the stage after the one shown
])
def test_a_walkthrough_goes_on_after_the_stage_the_user_says_is_done(kb, time, position, text, shown):
    from actions.knowledge.query import stage_after_done
    steps = routine_steps(kb, time)
    index = stage_after_done(kb, Context(time=time), position + 1, text)
    assert index == (position + 1 if shown is None else [s.id for s in steps].index(shown))


def test_several_named_things_are_put_in_the_protocols_order_in_one_short_line(kb):
    from actions.knowledge.query import lead
    text = lead(kb, "sequence:product:cleanser|product:serum|ingredient:niacinamide|ingredient:vitamin_c|"
                    "product:moisturizer|product:sunscreen", Context(), None).text
    first_line = text.split("\n")[0]
    order = [first_line.index(w) for w in ("cleanser", "exosome serum", "5–15 minutes", "niacinamide", "vitamin C",
                                            "moisturiser", "sunscreen (in the morning)")]
    assert order == sorted(order) and "doesn't say which of them first" in first_line
    assert len(first_line.split()) <= 60


def test_an_order_between_moisturiser_and_sunscreen_is_not_about_the_serum(kb):
    from actions.knowledge.query import lead
    text = lead(kb, "order:my moisturiser|sunscreen|sunscreen|relative", Context(), None).text
    assert text.startswith("**After** — sunscreen goes after your moisturiser")
    assert "serum" not in text and "SPF of 30" in text


def test_does_that_change_the_sunscreen_is_yes_for_darker_tones_and_no_otherwise(kb):
    assert ask(kb, "sunscreen", DARKER, asks_change=True).text.startswith("**Yes.** Use a broad-spectrum mineral")
    assert ask(kb, "sunscreen", OILY, asks_change=True).text.startswith("**No.**")


def test_vitamin_c_and_retinol_kept_to_morning_and_night_get_no_combining_caveat(kb):
    both = ask(kb, "ingredient", ingredients=("vitamin_c", "retinoid")).text
    apart = ask(kb, "ingredient", ingredients=("vitamin_c", "retinoid"), times_apart=True).text
    assert "combine" in both and "combine" not in apart


def test_an_order_asked_with_a_skin_type_starts_with_the_order(kb):
    text = ask(kb, "layering", DRY, order_of=True, time="pm").text
    assert text.startswith("Order: 1. Cleanse") and "richer, emollient" in text


def test_is_the_morning_the_same_gets_yes_and_the_sunscreen(kb):
    text = ask(kb, "layering", DRY, time="am", time_switched=True).text
    assert text.startswith("**Yes**") and "SPF 30" in text.split("\n")[0]


def test_a_named_brand_is_said_after_the_answers_first_line(kb):
    from actions.knowledge.reply import compose
    from actions.knowledge.resolve import Question
    q = Question("ingredient", Context(ingredients=("niacinamide",), yes_no=True, asks_use=True), ["gap:brand"])
    text = "\n".join(a.text for a in compose(kb, q)[0])
    lines = text.split("\n")
    assert lines[0].startswith("**Yes.**") and "brands" in lines[1]


def test_a_yes_no_placing_an_active_before_a_later_product_gets_before_first(kb):
    text = ask(kb, "ingredient", ingredients=("retinoid",), products=("moisturizer",), yes_no=True, order_of=True).text
    assert text.startswith("**Before your moisturiser.**")


def test_a_salicylic_cleanser_for_oily_skin_is_no_caution(kb):
    text = ask(kb, "ingredient", OILY, ingredients=("salicylic_acid",), yes_no=True, asks_use=True).text
    assert not text.startswith("**Better not.**")
    assert ask(kb, "ingredient", SENSITIVE, ingredients=("salicylic_acid",), yes_no=True,
               asks_use=True).text.startswith("**Better not.**")
