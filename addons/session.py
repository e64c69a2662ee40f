"""Widget conversations bound to a secret the server issues: signed session tokens (JWT, HS256).

The socket.io channel (``addons/socketio.py``) answers ``session_request`` with a token it signs — the
conversation's id inside, the signature made with a key only the server holds — and takes a conversation
only from a token that verifies. Knowing a conversation's id (from a log, the tracker store, a shared
screen) is then not enough to read or write it: a forged, altered or self-chosen id gets a new conversation.

The key comes from ``SESSION_SECRET`` or, unset, from the file ``SESSION_SECRET_FILE`` names
(``scripts/stack.py`` creates one under ``var/`` for ``make run`` and the tests, so conversations survive
a restart and replicas share it). With neither, each process makes its own: widgets then start over after
every restart, and replicas cannot take over each other's conversations.
"""
from __future__ import annotations

import logging
import os
import secrets
import time
import uuid
from pathlib import Path
from typing import Any, Mapping, Optional, Tuple

import jwt

logger = logging.getLogger(__name__)

SECRET_ENV = "SESSION_SECRET"
SECRET_FILE_ENV = "SESSION_SECRET_FILE"
ALGORITHM = "HS256"
#: The tokens' audience: no other JWT signed with the same key (e.g. Rasa's ``jwt_key``) passes for one.
AUDIENCE = "chat-session"
#: Longest token read at all (ours are ~170 characters).
MAX_TOKEN_CHARS = 1000


def create_secret_file(path: Path) -> Path:
    """A random key in ``path`` (readable by its owner only), unless the file already exists."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path
    with os.fdopen(descriptor, "w") as file:
        file.write(secrets.token_urlsafe(48) + "\n")
    return path


def secret_from(env: Mapping[str, str]) -> Optional[str]:
    """The signing key the environment configures, or None."""
    if env.get(SECRET_ENV):
        return env[SECRET_ENV]
    if env.get(SECRET_FILE_ENV):
        key = Path(env[SECRET_FILE_ENV]).read_text(encoding="utf-8").strip()
        if key:
            return key
        raise ValueError(f"{SECRET_FILE_ENV}: {env[SECRET_FILE_ENV]} is empty")
    return None


class Sessions:
    """Issues and verifies the tokens that name a conversation."""

    def __init__(self, secret: Optional[str] = None) -> None:
        if not secret:
            logger.warning("Neither %s nor %s is set: widget sessions are signed with a key of this process "
                           "only, so they start over after a restart", SECRET_ENV, SECRET_FILE_ENV)
        self._key = secret or secrets.token_urlsafe(48)

    @classmethod
    def from_environment(cls) -> "Sessions":
        return cls(secret_from(os.environ))

    def issue(self) -> Tuple[str, str]:
        """A new conversation: (token for the client, conversation id)."""
        conversation = uuid.uuid4().hex
        token = jwt.encode({"sub": conversation, "aud": AUDIENCE, "iat": int(time.time())}, self._key,
                           algorithm=ALGORITHM)
        return token, conversation

    def verify(self, token: Any) -> Optional[str]:
        """The conversation a token names, or None if it is not one of ours (forged, altered, not a token)."""
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
            return None
        try:
            claims = jwt.decode(token, self._key, algorithms=[ALGORITHM], audience=AUDIENCE,
                                options={"require": ["sub", "aud"]})
        except jwt.PyJWTError:
            return None
        conversation = claims.get("sub")
        return conversation if isinstance(conversation, str) and conversation else None
