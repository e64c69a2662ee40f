"""The question frame: subject, aspect, gaps and verdicts read from the message, context filling the rest."""
import pytest

from actions.knowledge.frame import read_aspect, read_frame
from actions.knowledge.resolve import State, Turn, group_entities, resolve


@pytest.fixture(scope="module")
def turn_of(entities_of):
    def turn_of(text, intent=None):
        found = entities_of(text)
        texts = group_entities([{"entity": e["entity"], "value": text[e["start"]:e["end"]], "role": e.get("role")}
                                for e in found])
        return Turn(intent, text, group_entities(found), texts, found=found)
    return turn_of


@pytest.fixture(scope="module")
def frame(kb, turn_of):
    return lambda text, state=State(): read_frame(turn_of(text), state, kb)


@pytest.mark.parametrize("text, aspect", [
    ("how long should I leave it before moisturiser?", "duration"),
    ("how much do I use", "amount"),
    ("how often can i exfoliate", "frequency"),
    ("does SPF go before or after moisturiser?", "order"),
    ("vitamin c morning or night?", "time"),
    ("where do i put it", "where"),
    ("why do I have to wait?", "why"),
    ("hey there", None),
])
def test_the_aspect_is_the_first_thing_asked(kb, text, aspect):
    assert read_aspect(text, kb) == aspect


@pytest.mark.parametrize("text, subject", [
    ("how long does a patch test take?", "patch_test"),
    ("what was step 3 again?", "step:3"),
    ("can I use CeraVe moisturising cream after?", "brand"),
    ("how much moisturiser?", "product:moisturizer"),
    ("can i use retinol after", "ingredient:retinoid"),
    ("how much serum?", "serum"),
])
def test_the_subject_is_what_the_message_names(frame, text, subject):
    assert frame(text).subject == subject


def test_a_follow_up_takes_its_subject_from_context(frame):
    f = frame("how long for that one?", State(last_topic="ingredient", ingredients=["retinoid"]))
    assert (f.subject, f.subject_from, f.aspect) == ("ingredient:retinoid", "context", "duration")


@pytest.mark.parametrize("text, gap", [
    ("how long do I wait before I know the patch test is fine?", "patch_test_duration"),
    ("how long after retinol before moisturiser?", "active_wait"),
    ("how much sunscreen should I put on?", "product_amount"),
    ("should I keep the serum in the fridge?", "storage"),
    ("can I mix it into my moisturiser?", "mixing"),
    ("is it ok to use before makeup?", "makeup"),
    ("how much does the serum cost?", "price"),
    ("how long after moisturizer before sunscreen?", "moisturiser_wait"),
    ("can i put spf right after my moisturizer?", "moisturiser_wait"),
    ("acne or dark spots, which should I tackle first?", "concern_priority"),
    ("where's my order, it's been two weeks", "price"),
    ("does cutting dairy help the serum work better?", "diet"),
    ("and in winter when it gets even worse?", "seasons"),
    ("broke out a week after starting, is this purging?", "purging"),
])
def test_the_protocol_is_silent_on_these(frame, text, gap):
    assert frame(text).gap == gap


@pytest.mark.parametrize("text", ["how long do I wait before vitamin C?", "how much serum do I use?",
                                  "how long b4 moisturizer", "how long should the serum sit before moisturiser and spf?",
                                  "how long should the serum absorb?", "where do I patch test?"])
def test_what_the_protocol_answers_is_no_gap(frame, text):
    assert frame(text).gap is None


def test_either_or_questions_get_the_protocols_verdict(frame):
    assert frame("after washing, serum on wet or dry skin?").verdict == "wet_or_dry"
    assert frame("do i pat it in or rub it?").verdict == "pat_or_rub"
    assert frame("is my skin dry or oily?").verdict is None


@pytest.mark.parametrize("text, verdict", [
    ("do i put it on my neck too or just face", "neck_too"),
    ("is necessary to wash face before? or i can put direct on face", "skip_cleansing"),
    ("i don't wear makeup, do i still have to cleanse before it", "skip_cleansing"),  # denied makeup: no gap
    ("do i have to dry my face before putting it on", "wet_or_dry"),
    ("do i only dab it on my wrinkles or over the whole face", "all_over"),
    ("does sunscreen even matter that much for me", "skip_sunscreen"),
    ("is 3 pumps overkill", "more_serum"),
    ("one drop or more?", "drop_or_more"),
    ("is one pea-sized blob really enough for my face and my neck or should I double it?", "pea_enough"),
    ("morning or night - which is better for this serum?", "serum_time"),
    ("is splashing water on my face enough in the morning or do I need an actual cleanser first?", "skip_cleansing"),
    ("I use an apricot scrub every day to fade my dark marks, I'm Black. good idea?", "physical_scrub"),
    ("my skin isn't sensitive at all, totally normal. do I still have to bother with a patch test?", "skip_patch_test"),
    ("can I just skip the waiting bit and slap my moisturizer straight on?", "wait_to_absorb"),
    ("how do i know when it's absorbed?", "absorbed_sign"),
    ("how can I tell it's dry enough for my moisturiser", "absorbed_sign"),
    ("5 to 15 min is forever, can i just do 1 minute?", "shorter_wait"),
    ("do i scrub it in hard or what", "rub_hard"),  # scrubbing it in is how it is applied, not a scrub
    ("aha or bha?", "aha_or_bha"),
    ("just on the face?", "neck_too"),
    ("can I put it on over my makeup to save time?", "makeup_off"),
    ("so mornings are fine too?", "serum_time_ok"),
    ("should i just put moisturizer on anyway?", "wait_to_absorb"),
    ("can i do moisturizer yet", "wait_to_absorb"),
])
def test_yes_no_questions_whose_words_the_verdict_asks_for(frame, text, verdict):
    f = frame(text)
    assert (f.verdict, f.gap) == (verdict, None)


@pytest.mark.parametrize("last, text, verdict", [
    ("frequency", "and at night?", "serum_time_ok"),  # after how often: used at night too
    ("frequency", "what about in the morning?", "serum_time_ok"),
    ("routine", "and at night?", None),  # after the routine: the evening routine, no yes/no
    ("frequency", "and at night with retinol?", None),  # names something: not a bare time
])
def test_a_bare_time_after_how_often_asks_whether_then_too(frame, last, text, verdict):
    assert frame(text, State(last_topic=last)).verdict == verdict


@pytest.mark.parametrize("text, polarity", [
    ("forgot it 4 days on vacation, should i use double now to catch up", "no"),
    ("a pea for my whole face, is that enough?", "yes"),
])
def test_enough_is_yes_and_doubling_is_no(frame, text, polarity):
    f = frame(text)
    assert (f.verdict, f.polarity) == ("pea_enough", polarity)


@pytest.mark.parametrize("text", [
    "my face is flaky and tight especially in winter, what kind of moisturiser after the serum",  # not sunscreen
    "running late most mornings, can i just skip the waiting part?",  # no workout
])
def test_a_circumstance_in_passing_is_no_verdict_or_gap_of_its_own(frame, text):
    f = frame(text)
    assert f.verdict != "skip_sunscreen" and f.gap is None


@pytest.mark.parametrize("text, about", [
    ("what moisturizer should she use with it", "other"),
    ("and for him?", "other"),
    ("my sister has rosacea. how much do I put on?", "self"),
    ("my boyfriend uses retinol, can I use it with the serum?", "self"),
    ("and the retinol? she didn't say anything about that one", "self"),  # the doctor, not someone to answer for
    ("what should my son use?", "other"),
])
def test_whom_the_question_is_about(frame, text, about):
    assert frame(text).about == about


def test_facts_keep_their_role(frame):
    f = frame("my sister has rosacea but I'm oily, and I'm not pregnant")
    assert ("skin_type", "sensitive", "other") in f.facts and ("skin_type", "oily", None) in f.facts
    assert ("life_stage", "pregnancy", "not") in f.facts


def test_a_gap_is_said_instead_of_a_nearby_fact(kb, turn_of):
    q = resolve(turn_of("how long does a patch test take?", "ask_patch_test"), State(), kb.question_cues, kb)
    assert q.safety == ["gap:patch_test_duration"] and q.topic is None
    assert ("gap_or_verdict", "gap patch_test_duration") in q.trace


def test_a_brand_gets_the_honest_sentence_then_the_product_type(kb, turn_of):
    q = resolve(turn_of("can I use CeraVe moisturising cream after the serum?", "ask_product"), State(), kb.question_cues, kb)
    assert q.safety == ["gap:brand"] and q.topic == "product"


def test_every_decision_records_the_step_that_made_it(kb, turn_of):
    q = resolve(turn_of("what cleanser for dry skin?", "ask_product"), State(skin_types=["dry"]), kb.question_cues, kb)
    names = [name for name, _ in q.trace]
    assert names[0] == "triage" and "main_topic" in names


@pytest.mark.parametrize("text", [
    "how much serum do i use and how long do i wait before moisturizer?",  # the amount is the serum's
    "my foundation clings to dry patches. is there an exfoliant I can use?",  # makeup in passing
    "what order do serums and creams go in? i always mix it up",
    "I'm a guy. do I need a moisturiser after this?",
])
def test_a_mention_in_passing_is_no_gap(frame, text):
    assert frame(text).gap is None


@pytest.mark.parametrize("text, verdict, polarity", [
    ("can i just skip moisturizer??", "skip_moisturiser", "no"),
    ("do i still need spf in the morning if it's cloudy?", "skip_sunscreen", "yes"),
    ("is spf 15 enough if im mostly indoors", "skip_sunscreen", "no"),
    ("can I put the serum on without washing my face first?", "skip_cleansing", "no"),
    ("wet or dry skin for the serum?", "wet_or_dry", None),
])
def test_a_verdict_says_yes_or_no_when_the_question_asks_for_one(frame, text, verdict, polarity):
    f = frame(text)
    assert (f.verdict, f.polarity) == (verdict, polarity)


@pytest.mark.parametrize("text, proposes", [
    ("so vitamin C goes on first and then the exosome on top, right?", "before"),
    ("niacinamide after the serum, right?", "after"),
    ("where does niacinamide go?", None),
])
def test_a_yes_no_question_can_propose_where_an_active_goes(frame, text, proposes):
    assert frame(text).proposes == proposes


@pytest.mark.parametrize("last, text, order", [
    # "it" is what was just answered: sunscreen, an active; else the serum
    (State(last_topic="sunscreen"), "does it go on before or after my moisturiser?", ("moisturiser", "sunscreen")),
    (State(), "do I put it on before or after washing my face?", ("washing my face", "the serum")),
])
def test_it_in_an_order_question_is_what_the_conversation_was_about(frame, last, text, order):
    assert frame(text, last).order[:2] == order


def test_it_after_an_active_is_left_to_the_actives_own_answer(frame):
    last = State(last_topic="ingredient", ingredients=["retinoid"])
    assert frame("and that still goes before moisturiser, right?", last).order == ()
    # … but two things named are still put in order
    assert frame("does spf go before or after moisturiser?", last).order[:2] == ("moisturiser", "spf")


def test_three_named_things_in_an_order_question_are_a_sequence(frame):
    f = frame("what order do I put these on: exosome serum, vitamin c, moisturizer, sunscreen")
    assert f.sequence == ("product:serum", "ingredient:vitamin_c", "product:moisturizer", "product:sunscreen")
    assert frame("vitamin c before or after moisturiser?").sequence == ()  # two: the order lead answers it


def test_a_follow_up_opening_with_and_leans_on_the_last_subject_though_long(frame):
    f = frame("and how long do i have to wait before i know it's fine?", State(last_topic="patch_test"))
    assert (f.subject, f.gap) == ("patch_test", "patch_test_duration")


def test_an_either_or_needs_its_or_between_the_options(frame):
    assert frame("where do my AHA/BHA acids fit in, before or after exosome?").verdict is None


def test_a_season_told_in_passing_is_no_question_about_seasons(frame):
    assert frame("my face is flaky and tight especially in winter, what kind of moisturiser after the serum").gap is None
