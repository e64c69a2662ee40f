"""The widget's session tokens and their key (addons/session.py), without servers."""
from __future__ import annotations

import stat

import jwt

from addons.session import AUDIENCE, SECRET_ENV, SECRET_FILE_ENV, Sessions, create_secret_file, secret_from


def test_a_token_names_its_conversation_only_under_its_own_key():
    sessions = Sessions("k" * 48)
    token, conversation = sessions.issue()
    assert sessions.verify(token) == conversation
    assert Sessions("other" * 10).verify(token) is None
    claims = jwt.decode(token, options={"verify_signature": False})
    assert sessions.verify(jwt.encode({**claims, "aud": "someone-else"}, "k" * 48, algorithm="HS256")) is None
    assert sessions.verify(jwt.encode({"aud": AUDIENCE}, "k" * 48, algorithm="HS256")) is None  # no conversation
    assert all(sessions.verify(v) is None for v in (None, 42, "", conversation, token + "x", ["x"]))


def test_two_new_sessions_are_two_conversations():
    sessions = Sessions("k" * 48)
    assert sessions.issue()[1] != sessions.issue()[1]


def test_the_key_file_is_private_and_kept(tmp_path):
    path = create_secret_file(tmp_path / "var" / "session-secret")
    key = path.read_text()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and len(key.strip()) >= 48
    assert create_secret_file(path).read_text() == key  # an existing key is never replaced
    assert secret_from({SECRET_FILE_ENV: str(path)}) == key.strip()
    assert secret_from({SECRET_ENV: "from-env", SECRET_FILE_ENV: str(path)}) == "from-env"
    assert secret_from({}) is None
