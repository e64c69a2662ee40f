"""The safety table: message (+ remembered context) -> severity, conditions and gates, before anything else.

Entities come from the real knowledge-base matcher, as in the NLU; the intent classifier is left out, so each
row must be decided by the words alone.
"""
import pytest

from actions.knowledge.resolve import State, Turn, group_entities, resolve
from actions.knowledge.triage import triage


@pytest.fixture(scope="module")
def read(kb, entities_of):
    return lambda text, intent=None: triage(text, entities_of(text), kb, intent)


@pytest.fixture(scope="module")
def ask(kb, entities_of):
    def ask(text, state=None, intent=None):
        found = entities_of(text)
        turn = Turn(intent, text, group_entities(found), found=found)
        return resolve(turn, state or State(), kb.question_cues, kb)
    return ask


EMERGENCIES = [
    "my lips are swelling up since I put the serum on",
    "throat feels tight after applying it",
    "its hard to breath and my face is hot",
    "my tongue is swollen, is that the serum?",
    "I feel dizzy and faint after using it",
    "hives spreading down my arms and chest",
    "face swelling a lot, what do I do",
    "my eyes are swollen shut this morning",
    "lips kinda puffy since i used it lol, how long do i wait before moisturiser?",
    "struggling to breathe",
    "trouble swallowing since I applied it",
]


@pytest.mark.parametrize("text", EMERGENCIES)
def test_emergency_signs_are_emergencies(read, text):
    assert read(text).severity == "emergency"


REACTIONS = [
    "I got an itchy rash after the serum",
    "the redness from the serum keeps getting worse",
    "since I started using it I have little bumps everywhere",
    "my skin is peeling since I started the serum",
    "burning on my cheeks, it won't stop",
    "blisters where I applied it",
    "stinging that won't settle after applying",
    "my face went red after applying it and it's spreading",
    "it's been 3 days and the dryness is getting worse",
    "breaking out since i started the serum",
    "itchy and red after i put it on",
    "it made my skin all blotchy",
]


@pytest.mark.parametrize("text", REACTIONS)
def test_reactions_are_reactions(read, text):
    assert read(text).severity == "reaction"


@pytest.mark.parametrize("text", [
    "a slight tingle when I put it on, normal?",
    "it tingles a bit for a minute then stops",
    "stings a little for a few seconds",
])
def test_brief_sensations_are_mild(read, text):
    assert read(text).severity == "mild"


@pytest.mark.parametrize("text", [
    "I have redness on my cheeks, can the serum help?",
    "I have oily skin and breakouts",
    "my skin is dry and flaky",
    "had a breakout last summer, it left dark marks",
    "no swelling or trouble breathing, it just feels a bit warm",
    "how long do I wait before moisturiser?",
    "puffy eyes in the morning, will this help?",
    "everything stings on me, what cleanser do i use before the serum",  # how the skin always is
    "his skin goes red and stings with most products",
])
def test_concerns_and_denials_are_not_reactions(read, text):
    assert read(text).severity in (None, "mild")


@pytest.mark.parametrize("text, severity", [
    # how it was applied, even when the classifier guesses a reaction report
    ("i've been putting my hyaluronic on literally 30 sec after the serum, whoops", None),
    # a sign named beside the slip is still a reaction
    ("put my retinol on right after the serum, whoops, now my face is burning and red", "reaction"),
])
def test_a_slip_in_the_routine_is_no_reaction_unless_a_sign_is_named(read, text, severity):
    assert read(text, intent="report_reaction").severity == severity


@pytest.mark.parametrize("text", ["now my eyelids are puffing up too", "my lips look a bit puffy now"])
def test_puffiness_after_a_reaction_told_earlier_is_an_emergency(kb, entities_of, text):
    assert triage(text, entities_of(text), kb, earlier="reaction").severity == "emergency"
    assert triage(text, entities_of(text), kb).severity != "emergency"  # alone, puffy eyes can be cosmetic


def test_a_flare_of_a_condition_pauses_the_serum(read):
    assert read("my eczema is flaring up, can I keep using it?").severity == "flare"
    assert read("I have eczema, which moisturiser?").severity is None


@pytest.mark.parametrize("text, stated, denied", [
    ("I'm pregnant, can I use retinol?", ["pregnancy"], []),
    ("I'm not pregnant", [], ["pregnancy"]),
    ("i am breastfeeding", ["pregnancy"], []),
    ("I'm on accutane right now", ["prescription"], []),
    ("I stopped accutane last year", [], ["prescription"]),
    ("no longer on isotretinoin", [], ["prescription"]),
    ("I'm 15", ["minor"], []),
    ("I have psoriasis", ["condition"], []),
    ("I don't have eczema", [], ["condition"]),
])
def test_medical_context_is_read_with_its_polarity(read, text, stated, denied):
    tri = read(text)
    assert (tri.stated(), tri.denied()) == (stated, denied)


@pytest.mark.parametrize("text, claim", [
    ("is the serum FDA approved?", "approval"),
    ("is it clinically proven", "approval"),
    ("is this medical grade?", "approval"),
    ("will it cure my rosacea?", "cure"),
    ("how much serum do I use?", None),
])
def test_claims_are_recognised(read, text, claim):
    assert read(text).claim == claim


@pytest.mark.parametrize("text", ["can I use a dermaroller right before the serum?", "microneedling then serum ok?",
                                  "I had laser last week, can I use it?"])
def test_procedures_are_recognised(read, text):
    assert read(text).procedure


# --------------------------------------------------------------------------- what the turn then answers

def test_an_emergency_answers_nothing_else(ask):
    q = ask("my throat is closing up, also how often can I use it?")
    assert q.triage.severity == "emergency" and q.topic is None and q.safety[0] == "emergency"


def test_a_reaction_interrupts_the_question(ask):
    q = ask("redness from the serum is getting worse, what moisturiser should I use?")
    assert q.safety[0] == "reaction" and q.topic is None


def test_a_mild_sensation_still_gets_its_answer(ask):
    q = ask("it tingles a bit, how long do I wait before moisturiser?")
    assert q.safety[0] == "mild" and (q.topic is not None or len(q.safety) > 1)


@pytest.mark.parametrize("condition, said", [("pregnancy", "I'm pregnant"), ("prescription", "I'm on isotretinoin"),
                                             ("minor", "I'm 16"), ("condition", "I have eczema")])
def test_a_remembered_condition_gates_later_active_advice(ask, condition, said):
    first = ask(said)
    assert condition in first.context.profile.conditions
    later = ask("can I use retinol after the serum?", State(conditions=[condition]))
    assert condition in later.safety and later.context.profile.conditions == (condition,)


def test_a_denied_condition_lifts_the_gate(ask):
    q = ask("I'm not pregnant anymore, can I use retinol?", State(conditions=["pregnancy"]))
    assert "pregnancy" not in q.safety and q.context.profile.conditions == ()


def test_after_a_reaction_routine_advice_waits_for_a_doctor(ask):
    q = ask("can I finish my routine now?", State(reaction="reaction"))
    assert q.safety[0] == "reaction_remembered" and q.topic is None
    q = ask("ok it's not that bad, can I just keep going?", State(reaction="emergency"))
    assert q.safety[0] == "emergency_remembered"


def test_claims_and_procedures_get_their_honest_answer(ask):
    assert ask("is it FDA approved?").safety == ["approval"]
    q = ask("can I use a dermaroller right before the serum?")
    assert "procedures" in q.safety and q.topic is None


def test_after_a_procedure_restarting_is_the_clinics_call(ask):
    q = ask("when can I start the serum again? and my vitamin c?", State(procedure=True))
    assert q.safety[0] == "procedure_remembered" and q.topic is None
    assert ask("how much sunscreen?", State(procedure=True)).safety[:1] != ["procedure_remembered"]


@pytest.mark.parametrize("text, gated", [
    ("my sister has rosacea and uses tretinoin, but my skin is just normal. how much do I put on?", False),
    ("my derm put me on tretinoin, can I use the serum?", True),
    ("i'm on tret, what order?", True),
])
def test_a_prescription_retinoid_is_the_users_only_when_they_hold_it(read, text, gated):
    assert ("prescription" in read(text).stated()) is gated


def test_someone_elses_condition_refers_them_only_when_the_question_is_about_them(ask):
    mine = ask("my friend is pregnant and she's the one who told me about this. I'm not pregnant myself. "
               "how long do I wait between the serum and my retinol?")
    assert "pregnancy" not in mine.safety and mine.topic is not None
    theirs = ask("my daughter is pregnant, can she use it?")
    assert theirs.safety == ["pregnancy"] and theirs.topic is None


def test_a_question_about_someone_else_is_answered_for_their_skin(ask):
    q = ask("buying this for my mom, she's 62 and her skin is really dry. what moisturizer should she use with it",
            State(skin_types=["oily"]), "ask_product")
    assert q.frame.about == "other" and q.context.profile.skin_types == ("dry",) and q.topic == "product"
    assert ask("what moisturiser should I use?", State(skin_types=["oily"]), "ask_product").context.profile.skin_types == ("oily",)


@pytest.mark.parametrize("text", [
    "the patch test spot on my inner arm is puffy and its getting bigger every hour. should i push through?",
    "bit of redness where i put it on",
])
def test_a_sign_where_the_serum_went_on_is_a_reaction(read, text):
    assert read(text).severity == "reaction"


@pytest.mark.parametrize("text, severity", [
    ("tiny sting for a few secs on freshly washed skin, gone right after. should i worry", "mild"),
    ("got a rash on my wrist from my new watch strap lol, nothing to do w skincare. how long do i let it sink in?", None),
    ("rosacea flare up, face red n hot for 3 days (had rosacea long before the serum). can i add vit c?", "flare"),
])
def test_how_severe_it_is_depends_on_what_it_is_tied_to(read, text, severity):
    assert read(text).severity == severity


@pytest.mark.parametrize("text, claim", [
    ("its 100% safe w no side effects right?", "promise"),
    ("guaranteed results? or do i get my money back", "promise"),
    ("exosome serum a scam or legit?", "approval"),
])
def test_promises_the_protocol_never_makes(read, text, claim):
    assert read(text).claim == claim


def test_trying_to_conceive_and_a_childs_age_gate_active_advice(ask):
    assert "pregnancy" in ask("we're ttc at the moment, is it ok to keep my retinoid at night?").safety
    son = ask("my son is 15 w pretty bad acne, can he use the serum plus salicylic acid and retinol??")
    assert son.safety == ["minor"]
    assert ask("my daughter is 14 and wants to use it for her spots, is that ok?").topic is None


def test_a_condition_taken_back_to_someone_else_is_not_the_users(read):
    tri = read("wait sorry typo, my SISTER is on accutane, not me. so can i use a salicylic acid cleanser w it?")
    assert "prescription" in tri.denied() and "prescription" not in tri.stated()


def test_a_procedure_answers_alone(ask):
    q = ask("how long after a chemical peel do i wait b4 using this?")
    assert q.safety == ["procedures"] and (q.topic, q.also) == (None, None)


@pytest.mark.parametrize("text, state, severity", [
    # a reaction told earlier getting worse is the reaction again (stop, rinse, doctor), not only the reminder
    ("its getting worse and spreading down my neck", State(reaction="reaction"), "reaction"),
    ("its getting worse and spreading down my neck", State(), None),
    # a rash the skin has had for months, apart from the product, is a question for a doctor, not a reaction
    ("I have this bumpy rash on my forehead thats been there for months, will the serum fix it?", State(), None),
    ("got a rash since i started the serum, had it for months before too", State(), "reaction"),
])
def test_an_earlier_reaction_or_a_lasting_rash_decides_the_severity(ask, text, state, severity):
    assert ask(text, state).triage.severity == severity


@pytest.mark.parametrize("text", ["bit pink after my first use, is that okay?",
                                  "it stung for a minute then stopped, is that ok?"])
def test_brief_pinkness_or_a_sting_that_stopped_is_mild(read, text):
    assert read(text).severity == "mild"


def test_a_breakout_asked_as_purging_gets_the_reaction_advice_and_the_honest_gap(ask):
    q = ask("broke out a week after starting, is this purging?", intent="report_reaction")
    assert q.safety[0] == "reaction" and "gap:purging" in q.safety


def test_is_the_serum_itself_fine_while_pregnant_is_the_doctors_call(ask):
    q = ask("and the serum itself, fine?", State(conditions=["pregnancy"], skin_types=["combination"]), intent="followup")
    assert "pregnancy" in q.safety and q.topic is None


def test_the_serum_in_an_eye_gets_the_eyes_advice_not_the_skins(ask):
    q = ask("ugh got some serum in my eye and it burns")
    assert q.safety == ["eye"]


def test_a_skin_that_stings_with_lots_of_stuff_is_sensitive_not_a_reaction(ask):
    q = ask("my skin is pretty sensitive, it stings with lots of stuff", intent="inform_profile")
    assert not q.safety and q.topic == "profile"


def test_only_at_night_is_the_condition_of_a_sunscreen_question(ask):
    q = ask("I only use the serum at night, do I still need sunscreen?", intent="ask_sunscreen")
    assert q.context.time is None or q.safety and q.safety[0].startswith("verdict:skip_sunscreen")
