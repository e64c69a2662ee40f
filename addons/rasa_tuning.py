"""Narrow run-time adjustments to Rasa 3.6 that its configuration cannot express.

:func:`configure` applies them once, from the one server entry point :mod:`addons.server` that every way
of starting the Rasa server goes through (``make run``, each ``make run-scaled`` replica, ``make shell``),
whichever channels are configured. It first checks (:func:`check`) that this is the Rasa version they
were written for and that every name they patch is still there, and refuses to start otherwise. Each
keeps Rasa's behaviour — same requests, verdicts, predictions and errors — and was measured with
``make bench`` (docs/performance.md):

* the action server gets a short time bound instead of 5 minutes (reliability);
* action server responses are validated without re-checking the schema every time (~40% of CPU);
* the intent classifier's weights are laid out so a prediction does not copy them (~8% of CPU);
* stored events find their class by name in a table instead of a walk of all Event subclasses (~6%);
* a closed socket.io websocket no longer logs a Sanic traceback (logs).
"""
from __future__ import annotations

import importlib
import logging
import os
from typing import Any, Dict, List, Optional, Tuple

logger = logging.getLogger(__name__)

#: The Rasa release these adjustments were written and measured for (pyproject.toml pins it).
RASA_VERSION = "3.6.21"
#: ``(module, attribute path)`` of everything the adjustments replace or rely on.
PATCHED: Tuple[Tuple[str, str], ...] = (
    ("rasa.core.actions.action", "DEFAULT_REQUEST_TIMEOUT"),
    ("rasa.core.actions.action", "RemoteAction.run"),
    ("rasa.core.actions.action", "RemoteAction._validate_action_result"),
    ("rasa.core.actions.action", "RemoteAction.action_response_format_spec"),
    ("rasa.nlu.classifiers.logistic_regression_classifier", "LogisticRegressionClassifier.process"),
    ("rasa.shared.core.events", "Event.resolve_by_type"),
)
#: ``(owner, attribute, Rasa's own value)`` of every replacement made, for :func:`restore`.
_ORIGINALS: List[Tuple[Any, str, Any]] = []


class RasaMismatch(RuntimeError):
    """The installed Rasa is not the one these adjustments were written for."""


def _resolve(module: str, path: str) -> Any:
    found: Any = importlib.import_module(module)
    for part in path.split("."):
        found = getattr(found, part)
    return found


def check() -> None:
    """Raise :class:`RasaMismatch`, naming every problem, unless Rasa is the version and shape expected."""
    import rasa

    problems = []
    if rasa.__version__ != RASA_VERSION:
        problems.append(f"Rasa {rasa.__version__} is installed, not {RASA_VERSION}")
    for module, path in PATCHED:
        try:
            _resolve(module, path)
        except (ImportError, AttributeError):
            problems.append(f"{module}.{path} does not exist")
    if not problems:
        run = _resolve("rasa.core.actions.action", "RemoteAction.run")
        if "DEFAULT_REQUEST_TIMEOUT" not in run.__code__.co_names:
            problems.append("rasa.core.actions.action.RemoteAction.run no longer reads DEFAULT_REQUEST_TIMEOUT")
        problems += _tracker_problems()
    if problems:
        raise RasaMismatch(
            f"addons/rasa_tuning.py adjusts Rasa {RASA_VERSION} and cannot run on this one: "
            + "; ".join(problems)
            + f". Install the pinned version (pip install -e .) or update addons/rasa_tuning.py."
        )


_INHERITED = object()


def _tracker_problems() -> List[str]:
    """What addons/tracker_store.py's recent-turn tracker relies on: Rasa's names and its state fields."""
    import dis

    from addons import tracker_store

    problems = []
    for module, path in tracker_store.RASA_NAMES:
        try:
            _resolve(module, path)
        except (ImportError, AttributeError):
            problems.append(f"{module}.{path} does not exist")
    if problems:
        return problems
    tracker = _resolve("rasa.shared.core.trackers", "DialogueStateTracker")

    def assigned(function: Any) -> set:
        return {i.argval for i in dis.get_instructions(function) if i.opname == "STORE_ATTR"}

    state = assigned(tracker._reset) | {"slots"}
    if state != tracker_store.STATE_FIELDS:
        problems.append(f"DialogueStateTracker._reset resets {sorted(state)}, "
                        f"not the state addons/tracker_store.py snapshots ({sorted(tracker_store.STATE_FIELDS)})")
    unknown = assigned(tracker.__init__) - state - tracker_store.NOT_STATE
    if unknown:
        problems.append(f"DialogueStateTracker has attributes addons/tracker_store.py does not know: {sorted(unknown)}")
    return problems


def _replace(owner: Any, name: str, value: Any) -> None:
    """``owner.name = value``, remembering what was there (a class's own entry, or that it was inherited)."""
    _ORIGINALS.append((owner, name, vars(owner).get(name, _INHERITED)))
    setattr(owner, name, value)


def applied() -> bool:
    """Whether :func:`configure` has run in this process (and not been undone)."""
    return bool(_ORIGINALS)

#: Seconds the Rasa server waits for the action server before answering without it.
ACTION_TIMEOUT_ENV = "ACTION_TIMEOUT"
DEFAULT_ACTION_TIMEOUT = 4.0


def action_timeout() -> float:
    """The action-call bound from ``ACTION_TIMEOUT`` (seconds), else the default."""
    try:
        seconds = float(os.environ.get(ACTION_TIMEOUT_ENV) or DEFAULT_ACTION_TIMEOUT)
    except ValueError:
        logger.warning("%s is not a number; using %ss", ACTION_TIMEOUT_ENV, DEFAULT_ACTION_TIMEOUT)
        return DEFAULT_ACTION_TIMEOUT
    return seconds if seconds > 0 else DEFAULT_ACTION_TIMEOUT


def bound_action_calls(seconds: float) -> None:
    """Make Rasa give up on a custom action after ``seconds`` instead of 5 minutes.

    ``RemoteAction.run`` passes the module global ``rasa.core.actions.action.DEFAULT_REQUEST_TIMEOUT``
    (300 s) to ``EndpointConfig.request`` on every call; endpoints.yml has no key for it and
    ``--request-timeout`` only applies to ``rasa shell``. Setting that one global bounds the action
    server calls and nothing else. A timed-out action then fails like any other: Rasa keeps the user's
    message and slots and logs the error, and the channel answers with its fallback.
    """
    import rasa.core.actions.action as rasa_action

    _replace(rasa_action, "DEFAULT_REQUEST_TIMEOUT", seconds)


def validate_with_one_validator() -> None:
    """Check action server responses against Rasa's schema without re-checking the schema each time.

    ``RemoteAction._validate_action_result`` calls ``jsonschema.validate``, which first validates the
    (large, constant) events schema against its metaschema — about 40% of the Rasa server's CPU under
    load in ``make bench``. A validator built once gives the same verdict; an invalid response still
    goes through Rasa's own method, so the error and its message are unchanged.
    """
    from jsonschema import validators
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    validator = validators.validator_for(schema)(schema)
    rasa_validate = RemoteAction._validate_action_result

    def validate(self: RemoteAction, result: Dict[str, Any]) -> bool:
        return validator.is_valid(result) or rasa_validate(self, result)

    _replace(RemoteAction, "_validate_action_result", validate)


def contiguous_intent_weights() -> None:
    """Keep the logistic-regression intent weights in the layout a sparse product reads directly.

    scikit-learn predicts with ``X @ coef_.T``; for a C-ordered ``coef_`` (intents x features) the
    transpose is not contiguous, so SciPy copies all weights (~38,000 x 39 here) on every message:
    2.1 ms instead of 0.03 ms per prediction. Fortran order makes the transpose contiguous; the
    numbers, and so the predictions, are identical.
    """
    import numpy as np
    from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier

    rasa_process = LogisticRegressionClassifier.process

    def process(self: LogisticRegressionClassifier, messages: List[Any]) -> List[Any]:
        coef = getattr(self.clf, "coef_", None)
        if coef is not None and not coef.flags.f_contiguous:
            self.clf.coef_ = np.asfortranarray(coef)
        return rasa_process(self, messages)

    _replace(LogisticRegressionClassifier, "process", process)


def event_classes_by_name() -> None:
    """Find an event's class by its type name in a table, not by walking every ``Event`` subclass.

    Reading a conversation turns each stored event back into an object through
    ``Event.resolve_by_type``, which lists all (~40) subclasses recursively for every event. The table
    remembers what Rasa's own lookup found; names it does not know still go to Rasa's lookup (so
    defaults, old "topic" events and errors are unchanged).
    """
    from rasa.shared.core.events import Event

    rasa_resolve = Event.resolve_by_type
    known: Dict[str, type] = {}

    def resolve_by_type(type_name: str, default: Optional[type] = None) -> Optional[type]:
        found = known.get(type_name)
        if found is None:
            found = rasa_resolve(type_name, default)
            if found is not None and getattr(found, "type_name", None) == type_name:
                known[type_name] = found
        return found

    _replace(Event, "resolve_by_type", staticmethod(resolve_by_type))


class ClosedWebsocketFilter(logging.Filter):
    """Drops the one error Sanic logs, with a traceback, each time a socket.io websocket closes.

    engine.io's Sanic driver (``engineio/async_drivers/sanic.py``, ``create_route``) serves ``/socket.io/`` as a
    plain HTTP route whose handler does the websocket handshake itself and returns ``None`` when the websocket
    ends. Sanic 21.12's ``Sanic.handle_request`` (``sanic/app.py``) expects a response from any handler not
    marked ``is_websocket`` and raises ``ServerError("Invalid response type None (need HTTPResponse)")``, which
    ``ErrorHandler.log`` (``sanic/handlers.py``) logs as "Exception occurred while handling uri: …" on the
    ``sanic.error`` logger. The websocket is already closed; nothing reaches the client. Only that record, for a
    ``transport=websocket`` URI, is dropped: every other error is logged as before.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        from sanic.exceptions import ServerError

        error = record.exc_info[1] if record.exc_info else None
        return not (isinstance(error, ServerError) and str(error).startswith("Invalid response type None")
                    and "transport=websocket" in record.getMessage())


def quiet_closed_websockets() -> None:
    """Stop the traceback Sanic logs for every closed socket.io websocket (:class:`ClosedWebsocketFilter`)."""
    sanic_errors = logging.getLogger("sanic.error")
    if not any(isinstance(f, ClosedWebsocketFilter) for f in sanic_errors.filters):
        sanic_errors.addFilter(ClosedWebsocketFilter())


def configure() -> None:
    """Check Rasa (:func:`check`), then apply every adjustment (idempotent)."""
    check()
    quiet_closed_websockets()
    if applied():
        return
    bound_action_calls(action_timeout())
    validate_with_one_validator()
    contiguous_intent_weights()
    event_classes_by_name()


def restore() -> None:
    """Undo :func:`configure`: Rasa's own values back, newest replacement first (for tests)."""
    while _ORIGINALS:
        owner, name, original = _ORIGINALS.pop()
        if original is _INHERITED:
            delattr(owner, name)
        else:
            setattr(owner, name, original)


def summary() -> str:
    """One line for the server's start-up log: what is applied."""
    import rasa.core.actions.action as rasa_action

    return (f"Rasa {RASA_VERSION} checked; action calls bounded to {rasa_action.DEFAULT_REQUEST_TIMEOUT:g} s, "
            "one response validator, contiguous intent weights, event classes by name")
