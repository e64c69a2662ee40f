"""Rasa NLU component: correct unknown words before anything else reads the message (``actions/knowledge/spelling.py``).

Trained on the training examples' words plus the knowledge base's (so the vocabulary travels inside the model),
it runs right after ``SpacyNLP``: when it changes the text it re-parses it, so the tokenizer, the knowledge-base
entities, the classifier and the actions (which read the parsed text) all see the corrected message. The event
stored in the conversation keeps what the user typed.
"""
from __future__ import annotations

import json
import logging
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.utils.spacy_utils import SpacyModel
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from actions.knowledge import load_knowledge
from actions.knowledge.loader import DEFAULT_PATH, PATH_ENV
from actions.knowledge.spelling import Speller, english_words, words

logger = logging.getLogger(__name__)
SPACY_DOC = "text_spacy_doc"  # where SpacyNLP leaves the parsed text
VOCABULARY_FILE = "vocabulary.json"


def _kb_words(path: Optional[str]) -> Counter:
    import os
    text = Path(path or os.environ.get(PATH_ENV) or DEFAULT_PATH).read_text(encoding="utf-8")
    return Counter(words(text))


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True, model_from="SpacyNLP"
)
class SpellingCorrector(GraphComponent):
    """Puts unknown words back into the assistant's vocabulary."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"knowledge_base": None}

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 vocabulary: Optional[Dict[str, Any]] = None) -> None:
        self._config, self._storage, self._resource = config, model_storage, resource
        self._counts: Dict[str, int] = (vocabulary or {}).get("counts") or {}
        self._english: List[str] = (vocabulary or {}).get("english") or []
        self._speller: Optional[Speller] = None

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> GraphComponent:
        return cls(config, model_storage, resource)

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> GraphComponent:
        try:
            with model_storage.read_from(resource) as directory:
                vocabulary = json.loads((Path(directory) / VOCABULARY_FILE).read_text(encoding="utf-8"))
        except (ValueError, OSError):
            logger.warning("spelling: no trained vocabulary in the model; messages are read as typed")
            vocabulary = {}
        return cls(config, model_storage, resource, vocabulary)

    def train(self, training_data: TrainingData, model: Optional[SpacyModel] = None) -> Resource:
        counts = Counter(w for m in training_data.training_examples for w in words(m.get(TEXT) or ""))
        with self._storage.write_to(self._resource) as directory:
            (Path(directory) / VOCABULARY_FILE).write_text(
                json.dumps({"counts": dict(counts), "english": english_words()}), encoding="utf-8")
        return self._resource

    def _speller_now(self) -> Optional[Speller]:
        if self._speller is None and self._counts:
            kb = load_knowledge(self._config["knowledge_base"])
            counts = Counter(self._counts) + _kb_words(self._config["knowledge_base"])
            self._speller = Speller(counts, kb.understanding.shorthand, self._english)
        return self._speller

    def process_training_data(self, training_data: TrainingData, model: SpacyModel) -> TrainingData:
        return training_data  # the examples are the vocabulary: nothing to correct

    def process(self, messages: List[Message], model: SpacyModel) -> List[Message]:
        speller = self._speller_now()
        if speller is None:
            return messages
        for message in messages:
            text = message.get(TEXT)
            if not text:
                continue
            corrected = speller.correct(text)
            if corrected != text:
                logger.debug("spelling: %r -> %r", text, corrected)
                message.set(TEXT, corrected)
                message.set(SPACY_DOC, model.model(corrected))
        return messages
