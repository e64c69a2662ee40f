"""The run-time adjustments to Rasa keep its answers: same verdicts, predictions and events (real Rasa classes)."""
from __future__ import annotations

from typing import Iterator

import jsonschema
import numpy as np
import pytest
from rasa.core.actions.action import RemoteAction
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.core.events import Event, SlotSet, UserUttered
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.sparse import csr_matrix

from addons import rasa_tuning


@pytest.fixture(scope="module", autouse=True)
def tuned() -> Iterator[None]:
    """Rasa tuned for this module's tests only: later tests of Rasa's own classes get them unpatched."""
    rasa_tuning.configure()
    rasa_tuning.configure()  # twice: idempotent
    yield
    rasa_tuning.restore()


def test_valid_action_responses_pass_and_invalid_ones_fail_with_rasas_message():
    action = RemoteAction("action_answer", None)
    assert action._validate_action_result({"events": [{"event": "slot", "name": "x", "value": 1}],
                                           "responses": [{"text": "hi"}]})
    with pytest.raises(jsonschema.ValidationError, match="Failed to validate Action server response"):
        action._validate_action_result({"events": [{"event": "slot", "name": 3}], "responses": "hi"})


def _message(row: list, intent: str = "") -> Message:
    message = Message(data={"text": "x", **({"intent": intent} if intent else {})})
    message.add_features(Features(csr_matrix([row], dtype=float), "sentence", "text", "test"))
    return message


def test_intent_predictions_are_unchanged_and_weights_are_not_copied(tmp_path):
    context = ExecutionContext(GraphSchema({}), "test")
    classifier = LogisticRegressionClassifier.create(
        LogisticRegressionClassifier.get_default_config(), LocalModelStorage(tmp_path), Resource("lr"), context)
    rows = {"greet": [1, 0, 0, 1], "goodbye": [0, 1, 0, 1], "thank": [0, 0, 1, 0]}
    classifier.train(TrainingData([_message(row, intent) for intent, row in rows.items() for _ in range(3)]))
    weights = np.ascontiguousarray(classifier.clf.coef_)
    classifier.clf.coef_ = weights
    expected = classifier.clf.predict_proba(csr_matrix([[1, 0, 0, 1]], dtype=float))[0]
    [message] = classifier.process([_message([1, 0, 0, 1])])
    assert classifier.clf.coef_.flags.f_contiguous and np.array_equal(classifier.clf.coef_, weights)
    assert message.get("intent")["name"] == "greet"
    by_name = dict(zip(classifier.clf.classes_, expected))
    assert all(r["confidence"] == pytest.approx(by_name[r["name"]]) for r in message.get("intent_ranking"))


def test_events_are_read_back_as_the_same_classes():
    assert Event.resolve_by_type("user") is UserUttered and Event.resolve_by_type("slot") is SlotSet
    assert Event.resolve_by_type("topic") is None
    assert Event.resolve_by_type("no_such_event", SlotSet) is SlotSet
    with pytest.raises(ValueError, match="Unknown event name"):
        Event.resolve_by_type("no_such_event")
    event = Event.from_parameters({"event": "slot", "name": "skin_type", "value": ["dry"]})
    assert event == SlotSet("skin_type", ["dry"])
