"""Turning a turn plus memory into a question: safety first, entities over weak intents, follow-ups."""
import pytest

from actions.knowledge.resolve import State, Turn, group_entities, resolve


def turn(intent, text="", **entities):
    return Turn(intent, text, {k: v if isinstance(v, list) else [v] for k, v in entities.items()})


def test_a_reaction_interrupts_any_question():
    q = resolve(turn("ask_ingredient", "I got a rash from retinol", symptom="reaction", ingredient="retinoid"), State())
    assert q.safety == ["reaction", "stop_named:retinoid"] and q.topic is None  # the retinol stops too


def test_pregnancy_is_flagged_and_the_question_still_answered():
    q = resolve(turn("ask_ingredient", "I'm pregnant, can I use retinol?", life_stage="pregnancy", ingredient="retinoid"), State())
    assert q.safety == ["pregnancy"] and q.topic == "ingredient"


def test_a_condition_alone_is_not_a_skin_profile():
    assert resolve(turn("inform_profile", "I'm pregnant", life_stage="pregnancy"), State()).topic is None


def test_follow_up_reuses_last_topic_with_the_new_time():
    q = resolve(turn("followup", "and in the morning?", time_of_day="am"), State(last_topic="routine"))
    assert (q.topic, q.context.time) == ("routine", "am")


def test_follow_up_with_an_ingredient_asks_about_it():
    q = resolve(turn("followup", "what about vitamin C?", ingredient="vitamin_c"), State(last_topic="routine"))
    assert (q.topic, q.context.ingredients) == ("ingredient", ("vitamin_c",))


def test_before_or_after_refers_back_to_the_last_ingredient():
    state = State(last_topic="ingredient", ingredients=["retinoid"])
    q = resolve(turn("ask_layering", "should it go before or after the serum?", product="serum"), state)
    assert (q.topic, q.context.ingredients) == ("ingredient", ("retinoid",))
    general = resolve(turn("ask_layering", "what order do products go in?"), state)
    assert general.context.ingredients == ()


def test_ingredient_question_without_a_name_uses_the_remembered_one():
    q = resolve(turn("ask_ingredient", "can I use that every day?"), State(ingredients=["niacinamide"]))
    assert q.context.ingredients == ("niacinamide",)


def test_unclassified_message_with_entities_still_gets_an_answer():
    assert resolve(turn(None, "retinol??", ingredient="retinoid"), State()).topic == "ingredient"
    assert resolve(turn(None, "oily", skin_type="oily"), State()).topic == "profile"
    assert resolve(turn(None, "book a flight"), State()).topic is None


def test_profile_comes_from_memory():
    q = resolve(turn("ask_product", "which cleanser?", product="cleanser"),
                State(skin_types=["dry", "dry"], skin_tone="darker", conditions=["pregnancy"]))
    assert q.context.profile.skin_types == ("dry",) and q.context.profile.pigment_prone
    assert q.context.profile.conditions == ("pregnancy",)


def test_step_detail_follows_the_named_product_or_number():
    assert resolve(turn("ask_step", "why do I cleanse first?", product="cleanser"), State()).context.step == "cleanse"
    # the protocol's numbering: 3 is the optional actives, 4 the moisturiser, 5 sunscreen
    assert resolve(turn("ask_step", "what's step 3?"), State()).context.step == "treatments"
    assert resolve(turn("ask_step", "what's step 4?"), State()).context.step == "moisturize"
    assert resolve(turn("ask_step", "and step 5?"), State()).context.step == "sunscreen"


def test_group_entities_keeps_order_and_drops_duplicates():
    entities = [{"entity": "skin_type", "value": "oily"}, {"entity": "skin_type", "value": "oily"},
                {"entity": "concern", "value": "pih"}]
    assert group_entities(entities) == {"skin_type": ["oily"], "concern": ["pih"]}


def test_a_profile_given_on_request_resumes_the_question_that_asked_for_it():
    state = State(skin_types=["dry"], pending_topic="product", product="moisturizer")
    q = resolve(turn("inform_profile", "dry", skin_type="dry"), state)
    assert (q.topic, q.context.product, q.resumed) == ("product", "moisturizer", True)
    assert resolve(turn("inform_profile", "dry", skin_type="dry"), State(skin_types=["dry"])).topic == "profile"


def test_medical_conditions_are_flagged_whatever_the_intent():
    q = resolve(turn("ask_ingredient", "can I use retinol with eczema?", medical="condition", ingredient="retinoid"), State())
    assert q.safety == ["condition"] and q.topic == "ingredient"


def test_oily_and_dry_together_is_combination_skin():
    assert State(skin_types=["oily", "dry"]).profile().skin_types == ("combination",)


def test_a_named_ingredient_narrows_a_broad_question():
    q = resolve(turn("ask_adjustments", "kojic acid for my dark spots, does it fit?", ingredient="brightening_acids",
                     concern="hyperpigmentation"), State())
    assert q.topic == "ingredient"


def test_profile_message_without_recognised_facts_does_not_invent_a_profile():
    q = resolve(turn("inform_profile", "my skin is weird, which moisturiser?", product="moisturizer"), State())
    assert q.topic == "product"
    assert resolve(turn("inform_profile", "my skin is weird"), State()).topic == "adjustments"


def test_body_areas_beyond_face_and_neck_are_not_covered():
    t = Turn("medical_question", "can I put it on my scalp?", {"body_area": ["other"]}, {"body_area": ["scalp"]})
    q = resolve(t, State(), {"application": ["put it on"]})
    assert (q.topic, q.context.area) == ("not_covered", "scalp")


def test_a_product_and_an_ingredient_are_both_answered():
    q = resolve(turn("ask_product", "I use an alcohol toner after cleansing, ok?", product="cleanser",
                     ingredient="alcohol"), State())
    assert (q.topic, q.also) == ("ingredient", "product")  # the ingredient is what is asked about


CUES = {"amount": ["how much"], "absorption": ["how long do i wait"], "patch_test": ["patch test"],
        "layering": ["pair with"], "product": ["what cleanser"]}


def test_two_questions_in_one_message_are_both_answered():
    q = resolve(turn("ask_absorption", "how much serum do i use and how long is the wait?"), State(), CUES)
    assert (q.topic, q.also) == ("absorption", "amount")
    q = resolve(turn("ask_absorption", "how much serum do i use and do i wait before moisturiser?"), State(), CUES)
    assert (q.safety, q.also) == (["verdict:wait_to_absorb"], "amount")


def test_a_cue_decides_when_the_intent_is_unsure():
    t = Turn("ask_step", "dry skin. what should i pair with the serum?", {"skin_type": ["dry"]}, confidence=0.3)
    assert resolve(t, State(), CUES).topic == "layering"
    t.confidence = 0.9
    assert resolve(t, State(), CUES).topic == "layering"  # pairing is a layering question whatever the intent
    t = Turn("ask_step", "dry skin. why do i pat the serum in? my friend said pair with a cream", {"skin_type": ["dry"]},
             confidence=0.9)
    assert resolve(t, State(), CUES).topic == "step"  # a confident intent beats a cue outside the question


def test_short_continuations_move_a_walkthrough_on():
    q = resolve(turn("followup", "ok and after that?"), State(walkthrough_step=0, last_topic="routine"))
    assert q.topic == "walkthrough_next"
    assert resolve(turn("followup", "and at night?", time_of_day="pm"), State(walkthrough_step=0)).topic != "walkthrough_next"


def test_a_past_breakout_described_as_skin_is_not_a_reaction():
    q = resolve(turn("report_reaction", "had a breakout in summer, it left brown marks", skin_type="oily", concern="pih"),
                State())
    assert q.safety == [] and q.topic == "profile"
    assert resolve(turn("report_reaction", "my face is on fire since I used it"), State()).safety == ["reaction"]


def test_asking_about_a_time_of_day_gets_that_routine():
    q = resolve(turn("ask_adjustments", "oily skin, what do i do in the morning", skin_type="oily", time_of_day="am"), State())
    assert (q.topic, q.context.time) == ("routine", "am")


def test_an_order_question_listing_products_gets_them_in_the_protocols_order():
    q = resolve(turn("ask_layering", "order? serum, moisturiser, sunscreen, vit c", ingredient="vitamin_c",
                     product=["serum", "moisturizer", "sunscreen"]), State())
    assert (q.topic, q.also) == (None, None)
    assert q.safety == ["sequence:product:serum|ingredient:vitamin_c|product:moisturizer|product:sunscreen"]


def test_a_listed_order_holds_back_actives_while_a_condition_gates_them():
    q = resolve(turn("ask_layering", "order? serum, moisturiser, sunscreen, retinol", ingredient="retinoid",
                     product=["serum", "moisturizer", "sunscreen"]), State(conditions=["pregnancy"]))
    assert not any(k.startswith("sequence:") for k in q.safety)


def test_the_serum_is_the_product_only_when_nothing_else_is_named():
    t = turn("ask_product", "bought the serum, what cleanser should I get?", product=["serum", "cleanser"])
    assert t.product == "cleanser" and turn("ask_step", "the serum", product="serum").product == "serum"


def test_am_and_pm_together_mean_the_whole_day():
    assert turn("ask_summary", "am/pm overview", time_of_day=["am", "pm"]).time is None
    assert turn("ask_routine", "at night", time_of_day="pm").time == "pm"


def test_the_neck_is_part_of_the_application_step():
    t = Turn("ask_layering", "and the neck?", {"body_area": ["face_neck"]}, {"body_area": ["neck"]})
    assert (resolve(t, State()).topic, resolve(t, State()).context.step) == ("step", "apply_serum")
    too = resolve(Turn("ask_layering", "does this go on the neck too?", {"body_area": ["face_neck"]}), State())
    assert too.safety == ["verdict:neck_too:yes"]  # a yes/no question: "Yes." first, then face and neck
    # an either/or question has no yes or no: "face and neck, together" is its answer
    each = resolve(Turn("ask_amount", "is the pea sized amount for face and neck together or for each",
                        {"body_area": ["face_neck"]}), State())
    assert each.safety == ["verdict:neck_too"]


@pytest.mark.parametrize("text, intent", [
    ("ok face is clean and patted dry", "ask_step"),
    ("applied it, next?", "ask_step"),
    ("it's morning btw, anything else after that?", "ask_frequency"),
    ("done, my skin is oily btw", "inform_profile"),
])
def test_saying_the_step_is_done_moves_the_walkthrough_on(text, intent):
    q = resolve(Turn(intent, text), State(walkthrough_step=1))
    assert q.topic == "walkthrough_next"


@pytest.mark.parametrize("text", ["ok how long do I wait?", "done, can I use retinol now?", "what was step 3 again?"])
def test_a_question_of_its_own_is_answered_mid_walkthrough(text):
    from actions.knowledge.loader import load_knowledge
    kb = load_knowledge()
    ingredient = {"ingredient": ["retinoid"]} if "retinol" in text else {}
    assert resolve(Turn("ask_step", text, ingredient), State(walkthrough_step=1), kb.question_cues, kb).topic != "walkthrough_next"


def test_an_unnamed_addition_after_a_prescription_brings_the_caution_back():
    q = resolve(turn("ask_ingredient", "can i use the exosome serum with it?", product="serum"),
                State(conditions=["prescription"]))
    assert q.safety == ["prescription"] and q.topic == "ingredient"


def test_pairing_without_a_named_ingredient_is_a_layering_question():
    q = resolve(turn("ask_ingredient", "what can I pair the serum with?", product="serum"), State(), {"layering": ["pair"]})
    assert q.topic == "layering"


def test_a_back_reference_after_an_ingredient_keeps_the_ingredient():
    q = resolve(turn("ask_uncovered", "can i use it the same night?"), State(last_topic="ingredient", ingredients=["retinoid"]))
    assert (q.topic, q.context.ingredients) == ("ingredient", ("retinoid",))


def test_a_time_follow_up_after_a_timeless_answer_gets_that_routine():
    q = resolve(turn("followup", "and in the morning?", time_of_day="am"), State(last_topic="avoid"))
    assert (q.topic, q.context.time) == ("routine", "am")


def test_a_named_product_turns_a_serum_amount_question_into_a_product_question():
    q = resolve(turn("ask_frequency", "how often do I use the cleanser with the serum?",
                     product=["cleanser", "serum"]), State())
    assert (q.topic, q.context.product) == ("product", "cleanser")


def test_a_yes_no_question_the_protocol_answers_gets_its_verdict_alone():
    q = resolve(turn("ask_amount", "do I need a moisturizer after this or is the serum enough?",
                     product=["moisturizer", "serum"]), State())
    assert q.safety == ["verdict:skip_moisturiser:yes"] and q.topic is None  # "do I need …?": yes, first


def test_a_routine_request_that_mentions_an_ingredient_gets_both():
    q = resolve(turn("ask_routine", "I use vitamin C in the AM. what's my routine?", ingredient="vitamin_c"), State())
    assert (q.topic, q.also) == ("routine", "ingredient")


def test_a_body_part_named_in_passing_is_not_an_application_question():
    cues = {"application": ["put it on"]}
    t = Turn("inform_profile", "a bit of melasma on my upper lip", {"concern": ["melasma"], "body_area": ["other"]},
             {"body_area": ["lip"]})
    assert resolve(t, State(), cues).topic != "not_covered"
    t = Turn("ask_benefits", "can I put it on my lips?", {"body_area": ["other"]}, {"body_area": ["lips"]})
    assert resolve(t, State(), cues).topic == "not_covered"


def test_a_bare_how_often_refers_to_the_last_aspect_not_the_serum():
    assert resolve(turn("ask_frequency", "how often?"), State(last_topic="exfoliation")).topic == "exfoliation"
    assert resolve(turn("ask_frequency", "how often?"), State(last_topic="routine")).topic == "frequency"


def test_short_elliptical_questions_lean_on_the_last_answer():
    assert resolve(turn("nlu_fallback", "how long then?"), State(last_topic="results")).topic == "results"
    assert resolve(turn("help", "and where?"), State(last_topic="amount")).topic == "step"
    assert resolve(turn("affirm", "then what"), State(last_topic="amount")).topic == "routine"


def test_small_talk_is_not_a_follow_up():
    assert resolve(turn("greet", "hi"), State(last_topic="absorption")).topic is None
    assert resolve(turn("affirm", "ok cool"), State(last_topic="absorption")).topic is None


@pytest.fixture(scope="module")
def ask(kb, entities_of):
    def ask(text, state=None, intent=None):
        found = entities_of(text)
        return resolve(Turn(intent, text, group_entities(found), found=found), state or State(), kb.question_cues, kb)
    return ask


@pytest.mark.parametrize("text, state, lead", [
    ("ok it stopped after a minute", State(), "ack:settled"),
    ("it went away after a minute or so", State(), "ack:settled"),
    ("used it this morning, looked fine", State(), "ack:fine"),
    ("did the patch test behind my ear yesterday, nothing happened", State(), "ack:patch_test"),
    ("it went away", State(reaction="reaction"), "ack:settled_reaction"),
])
def test_a_statement_is_acknowledged_not_answered_as_a_question(ask, text, state, lead):
    """Whatever topic the classifier guesses ("it went away after a minute" as the absorption time), a
    statement that something settled or went fine gets a short acknowledgement and nothing else."""
    q = ask(text, state, intent="ask_absorption")
    assert (q.topic, q.also, q.safety) == (None, None, [lead])


@pytest.mark.parametrize("text, state", [
    ("it stopped stinging, can I put my moisturiser on now?", State()),  # a question of its own
    ("looked fine, my skin is oily btw", State()),  # a profile: acknowledged as one
    ("did that, looked fine", State(walkthrough_step=1)),  # the walkthrough moves on
    ("the burning stopped but my lips are swelling", State()),  # an emergency first
])
def test_what_is_not_a_plain_statement_is_not_acknowledged(ask, text, state):
    assert not any(k.startswith("ack:") for k in ask(text, state, intent="affirm").safety)


def test_after_a_reaction_a_statement_gets_the_doctor_first(ask):
    q = ask("ok its calmer now", State(reaction="reaction"), intent="affirm")
    assert q.topic is None and q.safety[0] == "reaction_remembered"


@pytest.mark.parametrize("text", ["where would I find that?", "ok so where do i find that out", "who do i ask then"])
def test_where_to_find_out_after_a_gap_says_who_can_tell(ask, text):
    q = ask(text, State(last_gap="price", last_topic="routine"), intent="affirm")
    assert (q.topic, q.safety) == (None, ["elsewhere:price"])


def test_where_without_a_gap_before_is_not_about_one(ask):
    assert "elsewhere:price" not in ask("where would I find that?", State(last_topic="amount"), intent="affirm").safety


def test_a_gap_and_a_second_question_in_another_sentence_are_both_answered(ask):
    q = ask("do u ship to canada? also how long does it take to absorb", intent="ask_uncovered")
    assert (q.safety, q.topic) == (["gap:price"], "absorption")
    q = ask("how much does a bottle cost?", intent="ask_uncovered")
    assert (q.safety, q.topic) == (["gap:price"], None)  # its own "how much" is no amount question


def test_a_device_told_before_a_short_placing_question_is_the_gap(ask):
    q = ask("I have an led mask. before or after the serum?", intent="ask_layering")
    assert (q.safety, q.topic) == (["gap:devices"], None)


@pytest.mark.parametrize("text", ["walk me thru the night routine, my skin is super dry and flaky around my nose",
                                  "morning routine walkthrough please - normal skin, pretty fair, no real issues",
                                  "step by step pls, my skin is dry"])
def test_a_walkthrough_asked_beside_a_profile_starts_the_walkthrough(ask, text):
    assert ask(text, intent="inform_profile").topic == "walkthrough_start"


def test_a_walkthrough_word_beside_a_specific_question_answers_the_question(ask):
    assert ask("walk me through how long I wait after the serum", intent="ask_absorption").topic == "absorption"


def test_a_correction_replaces_the_skin_type_and_gives_the_last_answer_again(ask):
    """"which moisturiser?" for dry skin, then "wait actually its oily, it just feels tight after washing": the
    moisturiser for oily skin — not a verdict on washing, and not combination skin from "feels tight"."""
    state = State(skin_types=["dry", "oily"], last_topic="product", product="moisturizer")
    q = ask("wait actually its oily, it just feels tight right after washing", state, intent="ask_absorption")
    assert (q.topic, q.resumed, q.context.profile.skin_types, q.safety) == ("product", True, ("oily",), [])


def test_a_statement_gets_no_verdict_for_words_it_only_mentions(ask):
    q = ask("my skin feels tight right after washing", State(), intent="inform_profile")
    assert not any(k.startswith("verdict:") for k in q.safety)


@pytest.mark.parametrize("text, intent, safety, topic", [
    # the question asked first decides: the cleanse step removes makeup, not "the protocol doesn't cover makeup"
    ("do i have to take my makeup off first or can i put it on over foundation", "ask_step",
     ["verdict:makeup_off:yes"], None),
    ("can I wear makeup over it?", "ask_step", ["gap:makeup"], None),
    # an active "same time or separately?": separately, then what the protocol says of it
    ("benzoyl peroxide - same time as the serum or separately?", "ask_ingredient", ["verdict:active_apart"], "ingredient"),
    # "and if I skip the wait?" asks what follows: the reason to wait, not a bare "No."
    ("and if I skip the wait?", "ask_absorption", ["verdict:wait_to_absorb"], None),
    ("can i skip the wait?", "ask_absorption", ["verdict:wait_to_absorb:no"], None),
])
def test_which_verdict_or_gap_answers_first(ask, text, intent, safety, topic):
    q = ask(text, State(), intent=intent)
    assert (q.safety, q.topic) == (safety, topic)


@pytest.mark.parametrize("text", ["does it help eczema? my doctor gave me a steroid cream for it",
                                  "can it remove my acne scars completely"])
def test_a_condition_or_a_complete_removal_gets_the_honest_no(ask, text):
    assert ask(text, State(), intent="medical_question").safety[0] == "cure"


@pytest.mark.parametrize("text, intent", [("what do I do first?", "nlu_fallback"), ("ok where do I start", "ask_routine"),
                                          ("what's the first step", "ask_step")])
def test_asking_what_comes_first_gets_step_1_not_the_routine(ask, text, intent):
    q = ask(text, intent=intent)
    assert (q.topic, q.context.step, q.also) == ("step", "cleanse", None)


def test_asking_what_comes_first_between_two_things_is_their_order(ask):
    assert ask("which goes first, vitamin c or the serum?", intent="ask_layering").topic == "ingredient"


def test_where_to_start_inside_a_walkthrough_request_starts_the_walkthrough(ask):
    assert ask("walk me through it, where do i start", intent="walkthrough_start").topic == "walkthrough_start"


def test_a_yes_no_question_after_a_told_clause_gets_its_verdict(ask):
    q = ask("I have rosacea, can I use glycolic acid with the serum?", intent="ask_ingredient")
    assert q.context.yes_no


def test_an_active_placed_against_a_later_product_goes_before_it(kb, ask):
    from actions.knowledge.reply import compose
    answers, _ = compose(kb, ask("does retinol go before or after my moisturizer?", intent="ask_layering"))
    assert answers[0].text.startswith("**Before your moisturiser.**")
    answers, _ = compose(kb, ask("vitamin c before or after the serum?", intent="ask_layering"))
    assert answers[0].text.startswith("**After the serum.**")


def test_each_of_several_questions_gets_its_own_answer(kb, ask):
    from actions.knowledge.reply import compose
    q = ask("my skin is dry. how much serum? and how long do I wait? and can I use vitamin c?", intent="ask_absorption")
    assert [p.topic or p.safety[0] for p in q.parts] == ["amount", "verdict:wait_to_absorb", "ingredient"]
    text = "\n".join(a.text for a in compose(kb, q)[0])
    assert "pea-sized" in text and "5–15 minutes" in text and "vitamin C" in text


@pytest.mark.parametrize("text", ["can I use vitamin c and retinol?", "how much do I use? how much do I use?",
                                  "do I apply serum and then moisturizer?"])
def test_one_question_is_not_split(ask, text):
    assert not ask(text, intent="ask_layering").parts


def _reply(kb, q):
    from actions.knowledge.reply import compose
    return "\n".join(a.text for a in compose(kb, q)[0])


@pytest.mark.parametrize("text, state, first", [
    ("is it optional?", State(last_step="treatments", last_topic="step"), "**Yes.** Step 3 is optional"),
    ("is step 4 mandatory?", State(), "**Yes.** Step 4, moisturise, is part of the routine"),
    ("is step 3 required or can I skip it", State(), "**No.** Step 3 is optional"),
    ("is step 4 optional?", State(), "**No.** Step 4"),
])
def test_whether_a_step_is_optional_follows_the_protocol(kb, ask, text, state, first):
    q = ask(text, state, intent="ask_uncovered")
    assert _reply(kb, q).startswith(first)


def test_a_yes_no_asked_the_other_way_round_gets_no_bare_yes_or_no(kb, ask):
    q = ask("would it be bad to put my moisturizer on straight away?", intent="ask_absorption")
    assert q.frame.inverted and not _reply(kb, q).startswith(("**No.**", "**Yes.**"))
    assert "5–15 minutes" in _reply(kb, q)


def test_keep_going_is_answered_with_consistency_but_not_past_a_referral(kb, ask):
    assert ask("6 weeks in and my skin looks way brighter!! keep going the same way?").safety == ["verdict:keep_going"]
    q = ask("can i keep using it?", State(conditions=["pregnancy"]))
    assert q.safety == ["pregnancy"]


def test_a_time_in_an_if_clause_is_the_condition_not_the_time_asked(kb, ask):
    q = ask("if I only use the serum at night do I still need sunscreen?", intent="ask_sunscreen")
    assert q.context.time is None and _reply(kb, q).startswith("**Yes.**")
    assert ask("do i need sunscreen at night?", intent="ask_sunscreen").context.time == "pm"


def test_after_the_doctor_okays_it_the_protocol_answers_and_the_referral_is_forgotten(kb, ask):
    from actions.common import remember
    q = ask("ok she said its fine. so when do i put the tret on", State(conditions=["prescription"]))
    text = _reply(kb, q)
    assert q.okayed == ["prescription"] and "doctor has okayed" in text and "after the exosome serum" in text
    assert {"event": "slot", "name": "medication", "value": None} in [dict(e, timestamp=None) and
                                                                       {k: e[k] for k in ("event", "name", "value")}
                                                                       for e in remember(None, None, q)]


@pytest.mark.parametrize("state", [State(conditions=["minor"]), State(conditions=["prescription"], reaction="reaction")])
def test_a_doctor_s_yes_does_not_lift_an_under_18_gate_or_follow_a_reaction(ask, state):
    assert not ask("she said its fine, when do i put the retinol on", state).okayed


@pytest.mark.parametrize("text, words", [("where does my essence go?", "doesn't mention essences"),
                                         ("and the eye cream?", "doesn't mention eye creams")])
def test_a_product_type_the_protocol_never_names_is_said_so(kb, ask, text, words):
    assert words in _reply(kb, ask(text, State(last_topic="layering"), intent="followup"))


def test_new_bumps_weeks_into_use_are_a_reaction(ask):
    assert ask("been on it 2 weeks, now getting tiny bumps on my forehead. normal??").triage.severity == "reaction"


def test_travelling_with_the_serum_is_an_honest_gap(ask):
    assert ask("travelling to thailand for 3 weeks, can i take it in my carry-on?", intent="ask_absorption").safety == ["gap:travel"]


def test_it_in_an_order_question_is_the_serum(kb, ask):
    q = ask("do I put it on before or after washing my face", intent="ask_layering")
    assert _reply(kb, q).startswith("**After** — the serum goes after washing your face.")


def test_asking_whether_something_would_be_bad_is_not_a_reaction_report(ask):
    q = ask("would it be bad to use my LED mask after putting the serum on", intent="report_reaction")
    assert q.triage.severity is None and q.safety == ["gap:devices"]
    told = ask("my cheeks flared up really bad after i applied it last night and they're still hot this morning",
               State(skin_types=["sensitive"]), intent="report_reaction")
    assert told.triage.severity == "reaction"  # "really bad" in a report is no question


def test_a_sensation_that_goes_away_is_acknowledged(ask):
    assert ask("it goes away after a minute tho", intent="ask_absorption").safety == ["ack:settled"]


def test_skipping_days_is_the_missed_days_gap(ask):
    assert ask("is it a problem if i skip it a couple days a week? i forget sometimes", intent="ask_frequency").safety == ["gap:missed_days"]


def test_a_cure_question_about_a_condition_gets_one_referral_not_two(ask):
    assert ask("i have eczema on my cheeks, will this heal it", intent="ask_benefits").safety == ["cure"]


def test_after_a_named_product_in_a_walkthrough_is_the_next_step(ask):
    q = ask("and after the moisturiser?", State(walkthrough_step=2), intent="followup")
    assert (q.topic, q.context.step) == ("step", "sunscreen")


def test_marks_from_old_breakouts_are_pih_not_oily_skin(ask):
    q = ask("sensitive skin + dark brown tone + PIH from old breakouts. i want to fade the spots", intent="inform_profile")
    facts = {(entity, value) for entity, value, role in q.frame.facts if role is None}
    assert {v for e, v in facts if e == "skin_type"} == {"sensitive"} and ("skin_tone", "darker") in facts


def test_a_clause_leaning_on_the_one_before_gets_one_answer(kb, ask):
    q = ask("where does an essence go? before or after the exosome one?", intent="ask_layering")
    assert _reply(kb, q).count("thinnest to thickest") == 1


def test_what_exosomes_are_is_an_honest_gap(ask):
    assert ask("wait what even is an exosome", intent="ask_benefits").safety == ["gap:what_exosomes_are"]


def test_a_denied_need_gets_the_answer_without_a_backwards_yes(kb, ask):
    q = ask("im black so i dont really need sunscreen, right?", intent="ask_sunscreen")
    assert q.safety == ["verdict:skip_sunscreen"] and not _reply(kb, q).startswith("**Yes.**")


def test_a_time_in_an_if_clause_after_the_question_is_the_condition_too(kb, ask):
    q = ask("do i need sunscreen if i only use it at night?", intent="ask_sunscreen")
    assert q.context.time is None and "Every morning" in _reply(kb, q)


def test_a_statement_then_a_question_about_it_gets_the_statements_verdict(ask):
    q = ask("my friend says to put serum on wet skin so it soaks in better. should i do that instead?",
            intent="ask_absorption")
    assert q.safety == ["verdict:wet_or_dry"]


def test_with_no_profile_a_named_topic_beats_the_skin_type_menu(ask):
    assert ask("anything i should change while im there? gonna be super sunny", intent="ask_adjustments").topic == "sunscreen"


def test_after_a_reaction_the_doctors_okay_clears_it(ask):
    q = ask("saw my derm today, she said its fine and i can keep using it", State(reaction="reaction"), intent="inform")
    assert q.triage.cleared


@pytest.mark.parametrize("state, verdict", [(State(last_topic="sunscreen", product="serum"), "skip_sunscreen"),
                                            (State(last_topic="product", product="moisturizer"), "skip_moisturiser")])
def test_skipping_it_right_after_a_product_is_that_products_verdict(ask, state, verdict):
    q = ask("ok but it's cloudy all winter where i live, so i can skip it right?", state, intent="ask_uncovered")
    assert q.safety == [f"verdict:{verdict}:no"]


@pytest.mark.parametrize("text, last", [("are you sure? the girl at the store said 3x a day minimum", "frequency"),
                                        ("hm are you sure? another site said 1 minute is plenty", "absorption")])
def test_doubting_the_last_answer_gets_the_protocols_answer_again(kb, ask, text, last):
    q = ask(text, State(last_topic=last), intent="bot_challenge")
    assert (q.topic, q.safety) == (last, ["pushback"]) and "protocol" in _reply(kb, q)


def test_asking_whether_it_is_a_bot_is_not_doubting_an_answer(ask):
    assert "pushback" not in ask("are you sure you're not a bot?", State(last_topic="absorption"), intent="bot_challenge").safety


def test_wait_as_an_interjection_is_not_the_serums_wait():
    q = resolve(turn("ask_absorption", "oh wait sorry, it's actually oily. which moisturizer should I use?",
                     skin_type="oily", product="moisturizer"), State(skin_types=["dry"]))
    assert q.topic == "product"


def test_does_that_change_asks_for_a_verdict_on_what_the_profile_changes():
    q = resolve(turn("ask_sunscreen", "i'm dark-skinned. does that change the sunscreen?", skin_tone="darker",
                     product="sunscreen"), State())
    assert q.context.asks_change and q.topic == "sunscreen"


def test_a_device_beside_a_procedure_gets_both_answers():
    q = resolve(turn("ask_uncovered", "can i use it with my derma roller or my LED mask?"), State())
    assert "procedures" in q.safety and "gap:devices" in q.safety


def test_pair_it_with_instead_is_this_skins_pairing_not_the_active_just_declined():
    q = resolve(turn("ask_layering", "what can i pair it with instead then"),
                State(skin_types=["sensitive"], last_topic="ingredient", ingredients=["vitamin_c"]))
    assert (q.topic, q.context.ingredients) == ("layering", ())


def test_the_known_skin_named_again_in_a_follow_up_gets_the_last_answer_for_it():
    state = State(skin_types=["oily"], last_topic="product", product="moisturizer")
    q = resolve(turn("inform_profile", "even with my skin that shiny??", skin_type="oily"), state)
    assert (q.topic, q.context.product) == ("product", "moisturizer")
    new = resolve(turn("inform_profile", "what else helps with my melasma then?", concern="melasma"),
                  State(concerns=["melasma"], last_topic="ingredient", ingredients=["hydroquinone"]))
    assert new.topic != "ingredient" or new.context.ingredients != ("hydroquinone",)


def test_will_it_work_on_my_hands_asks_whether_it_goes_there():
    q = resolve(Turn("ask_results", "will it work on my hands and chest too?", {"body_area": ["other"]},
                     {"body_area": ["hands", "chest"]}), State())
    assert q.topic == "not_covered" and q.context.area
