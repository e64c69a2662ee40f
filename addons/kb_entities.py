"""Rasa NLU component: extract skin types, tones, concerns, ingredients … from the knowledge base.

The vocabulary is the knowledge base's (``actions/knowledge/protocol.yml``), matched with spaCy on the
docs ``SpacyNLP`` already made, so there is one list of terms for the NLU and the answers.
Entity values are the knowledge base's ids (``oily``, ``darker``, ``retinoid`` …), ready for slots.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text, Type

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.nlu.utils.spacy_utils import SpacyModel, SpacyNLP
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from actions.knowledge import load_knowledge
from actions.knowledge.entities import VocabularyMatcher

SPACY_DOC = "text_spacy_doc"  # where SpacyNLP leaves the parsed text


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False, model_from="SpacyNLP"
)
class KnowledgeBaseEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Entity extractor built from the knowledge base's vocabulary."""

    @classmethod
    def required_components(cls) -> List[Type]:
        return [SpacyNLP]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # knowledge_base: path of protocol.yml (default: the bundled one or $PROTOCOL_KB_PATH)
        # dimensions: restrict to these entity names (default: all)
        return {"knowledge_base": None, "dimensions": None}

    def __init__(self, config: Dict[Text, Any]) -> None:
        self._config = config
        self._matcher: Optional[VocabularyMatcher] = None

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> GraphComponent:
        return cls(config)

    @staticmethod
    def required_packages() -> List[Text]:
        return ["spacy"]

    def _matcher_for(self, model: SpacyModel) -> VocabularyMatcher:
        if self._matcher is None or self._matcher.nlp is not model.model:
            self._matcher = VocabularyMatcher(model.model, load_knowledge(self._config["knowledge_base"]))
        return self._matcher

    def process(self, messages: List[Message], model: SpacyModel) -> List[Message]:
        matcher = self._matcher_for(model)
        for message in messages:
            text = message.get(TEXT)
            if not text:
                continue
            found = [
                {"entity": m.entity, "value": m.value, "start": m.start, "end": m.end,
                 "confidence": 1.0 if m.exact else 0.8, **({"role": m.role} if m.role else {})}
                for m in matcher(text, message.get(SPACY_DOC))
            ]
            found = self.filter_irrelevant_entities(self.add_extractor_name(found), self._config["dimensions"])
            message.set(ENTITIES, message.get(ENTITIES, []) + found, add_to_output=True)
        return messages
