"""The knowledge base holds the whole protocol, each fact with its source, and rejects mistakes clearly."""
import re
from pathlib import Path

import pytest
import yaml

from actions.knowledge import KnowledgeBaseError, load_file, parse_knowledge
from actions.knowledge.loader import DEFAULT_PATH
from actions.knowledge.schema import FORBIDDEN_CLAIMS, WORD_LISTS

ROOT = Path(__file__).resolve().parents[2]
#: The brand's protocol text: the shared original when it sits beside the checkout, else the copy in docs/.
SHARED = ROOT.parent / "shared" / "protocol" / "exosome-serum-protocol.txt"
COPY = ROOT / "docs" / "source" / "exosome-serum-protocol.txt"
PROTOCOL = SHARED if SHARED.exists() else COPY


def kb_text(kb) -> str:
    return " ".join(yaml.safe_dump(kb.dict(), allow_unicode=True, width=10**6).lower().split())


def raw():
    return yaml.safe_load(DEFAULT_PATH.read_text())


def test_every_protocol_section_is_present(kb):
    titles = " ".join(s.title for s in kb.sections.values())
    for section in ["Application Steps", "Cleanse Thoroughly", "Apply Exosome Serum", "Absorption Time",
                    "Moisturize", "Sun Protection", "General Principles", "Oily/Acne-Prone", "Dry/Dehydrated",
                    "Sensitive/Rosacea-Prone", "Darker Skin Tones", "Key Considerations", "Additional Notes"]:
        assert section in titles
    assert [s.id for s in kb.steps] == ["cleanse", "apply_serum", "absorb", "treatments", "moisturize", "sunscreen"]


@pytest.mark.parametrize("fact", [
    "gentle, non-stripping cleanser", "pat your skin dry", "pea-sized", "face and neck", "5–15 minutes",
    "penetrate effectively", "retinoids", "vitamin c serums", "after the exosome serum has fully absorbed",
    "lock", "spf of 30 or higher", "broad-spectrum", "uv damage", "freshly cleansed", "regular use",
    "non-negotiable", "salicylic acid cleanser in the evening", "soothe the appearance of redness",
    "non-comedogenic", "niacinamide", "oil regulation", "gel-based or oil-free", "avoid heavy creams",
    "bha", "2–3 times a week", "clogged pores", "cream-based, hydrating cleanser", "appearance of smoothness",
    "hyaluronic acid", "ceramides", "glycerin", "facial oil", "overly aggressive exfoliants",
    "fragrance-free", "calm the appearance of irritation", "centella asiatica", "panthenol",
    "barrier-supporting", "essential oils", "alcohol-based toners", "high-percentage retinoids",
    "built tolerance", "patch test", "even-looking complexion", "alpha arbutin", "kojic acid",
    "tranexamic acid", "antioxidant", "hydroquinone", "licensed professional", "darkens existing spots",
    "mineral sunscreen", "zinc oxide", "titanium dioxide", "white cast", "shed pigmented cells",
    "harsh physical scrubs", "once or twice daily", "thinnest to thickest", "behind the", "inner forearm",
    "adjust your routine", "general skincare education", "results may vary", "dermatologist",
])
def test_every_fact_of_the_protocol_is_in_the_knowledge_base(kb, fact):
    assert fact in kb_text(kb)


def test_the_copy_of_the_protocol_text_is_current():
    assert COPY.read_text() == PROTOCOL.read_text(), "docs/source/ is out of date: copy the shared protocol text again"


def test_protocol_numbers_match_the_source_text(kb):
    """Numbers the assistant states come from the protocol text itself."""
    source = PROTOCOL.read_text()
    assert "5-15 minutes" in source and "SPF of 30" in source and "2-3 times a week" in source
    assert tuple(next(s for s in kb.steps if s.id == "absorb").minutes) == (5, 15)


def test_every_entry_names_a_known_source(kb):
    assert kb.check_references() == []
    for ingredient in kb.ingredients:
        facts = ingredient.general + [f for fs in ingredient.by_type.values() for f in fs]
        assert all(f.source in kb.sections for f in facts)


def test_the_knowledge_base_makes_no_medical_claims(kb):
    texts = [v for k, v in _strings(kb.dict()) if not k.startswith(WORD_LISTS) and not k.endswith(("id", "source"))]
    assert texts and not [t for t in texts if FORBIDDEN_CLAIMS.search(t)]


def _strings(node, path=""):
    if isinstance(node, str):
        yield path, node
    elif isinstance(node, dict):
        for k, v in node.items():
            yield from _strings(v, f"{path}.{k}" if path else str(k))
    elif isinstance(node, list):
        for v in node:
            yield from _strings(v, path)


def test_vocabulary_covers_types_tones_concerns_and_ingredients_with_synonyms(kb):
    vocab = kb.vocabulary
    assert {"oily", "dry", "sensitive", "combination", "normal"} <= set(vocab["skin_type"])
    assert "rosacea" in vocab["skin_type"]["sensitive"] and "tretinoin" in vocab["ingredient"]["retinoid"]
    assert {"pih", "melasma", "hyperpigmentation"} <= set(vocab["concern"])


# --------------------------------------------------------------------------- malformed files

def dump(data) -> str:
    return yaml.safe_dump(data, allow_unicode=True)


def test_a_missing_field_names_the_file_entry_and_field():
    data = raw()
    del next(t for t in data["skin_types"] if t["id"] == "dry")["cleansing"]
    with pytest.raises(KnowledgeBaseError) as error:
        parse_knowledge(dump(data), origin="brand/protocol.yml")
    message = str(error.value)
    assert "brand/protocol.yml" in message and "skin_types[dry]" in message and "cleansing" in message


def test_an_unknown_source_is_rejected_with_its_entry():
    data = raw()
    data["steps"][1]["source"] = "step_9"
    with pytest.raises(KnowledgeBaseError, match=r"steps\.apply_serum: source: unknown section 'step_9'"):
        parse_knowledge(dump(data))


def test_a_wrong_type_is_rejected():
    data = raw()
    data["steps"][0]["number"] = "first"
    with pytest.raises(KnowledgeBaseError, match=r"steps\[cleanse\]\.number"):
        parse_knowledge(dump(data))


def test_an_ambiguous_synonym_is_rejected():
    data = raw()
    data["vocabulary"]["skin_type"]["dry"].append("rosacea")
    with pytest.raises(KnowledgeBaseError, match=r"phrase 'rosacea' already means skin_type:(dry|sensitive)"):
        parse_knowledge(dump(data))


def test_a_medical_claim_is_rejected():
    data = raw()
    data["results"]["text"] = "This serum cures acne."
    with pytest.raises(KnowledgeBaseError, match=r"results.text: .*'cures'"):
        parse_knowledge(dump(data))


def test_unknown_fields_and_bad_yaml_are_rejected(tmp_path):
    data = raw()
    data["steps"][0]["colour"] = "blue"
    with pytest.raises(KnowledgeBaseError, match=r"steps\[cleanse\]\.colour: extra fields not permitted"):
        parse_knowledge(dump(data))
    bad = tmp_path / "protocol.yml"
    bad.write_text("steps: [unclosed")
    with pytest.raises(KnowledgeBaseError, match=re.escape(str(bad)) + ": not valid YAML"):
        load_file(bad)
    with pytest.raises(KnowledgeBaseError, match="cannot read"):
        load_file(tmp_path / "missing.yml")


def test_a_copy_that_lacks_an_id_the_code_uses_fails_at_load():
    data = raw()
    del data["phrases"]["routine_intro"]
    with pytest.raises(KnowledgeBaseError, match=r"phrases: routine_intro: used by the assistant's code but missing"):
        parse_knowledge(yaml.safe_dump(data, allow_unicode=True))


def test_every_id_the_answers_name_is_declared_in_uses():
    """`USES` is what the loader checks; it must list every phrase and button the query layer names."""
    from actions.knowledge import query
    source = Path(query.__file__).read_text()
    said = set(re.findall(r'say\((?:kb, )?"(\w+)"', source))
    pressed = {b for group in re.findall(r'buttons\(kb, ((?:"\w+"(?:, )?)+)\)', source)
               for b in re.findall(r'"(\w+)"', group)}
    assert said <= set(query.USES["phrases"]), said - set(query.USES["phrases"])
    assert pressed <= set(query.USES["buttons"]), pressed - set(query.USES["buttons"])


def test_the_assistant_has_one_non_empty_name():
    data = raw()
    data["assistant"]["name"] = "  "
    with pytest.raises(KnowledgeBaseError, match=r"assistant\.name: must not be empty"):
        parse_knowledge(dump(data))
    del data["assistant"]
    with pytest.raises(KnowledgeBaseError, match=r"assistant: field required"):
        parse_knowledge(dump(data))
