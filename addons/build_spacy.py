"""Write the blank English spaCy pipeline that ``SpacyNLP`` loads (no pretrained model is needed).

usage: python -m addons.build_spacy DIR
"""
import sys
from pathlib import Path

import spacy


def build(target: Path) -> Path:
    nlp = spacy.blank("en")
    nlp.meta["name"] = "blank_en_exosome"
    nlp.meta["description"] = "Blank English tokenizer for the exosome assistant; vocabulary comes from the KB."
    target.parent.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(target)
    return target


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    print(f"spaCy pipeline written to {build(Path(sys.argv[1]))}")
