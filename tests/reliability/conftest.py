"""Helpers for the reliability tests: raw HTTP (to see status codes and dropped connections) and stacks."""
from __future__ import annotations

import http.client
import json
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Dict, Iterator, Optional
from urllib.parse import urlsplit

from scripts.stack import Stack

#: How long a user may wait for any reply, including a fallback (the action call bound is 4 s).
PATIENCE = 8.0


@dataclass
class Reply:
    status: int
    headers: Dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def send(url: str, body: Optional[bytes] = None, method: str = "POST",
            headers: Optional[Dict[str, str]] = None, timeout: float = 30.0) -> Reply:
    """One HTTP request on a fresh connection; a dropped connection raises instead of returning."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    finally:
        connection.close()


def text_of(messages: list) -> str:
    """The reply as the user reads it: texts and button titles."""
    parts = []
    for message in messages:
        parts.append(message.get("text") or "")
        parts += [b.get("title", "") for b in message.get("buttons") or []]
    return "\n".join(p for p in parts if p)


@contextmanager
def running(stack: Stack, timeout: float = 240.0) -> Iterator[Stack]:
    """Start the stack, and always stop it."""
    try:
        stack.start(timeout)
        yield stack
    finally:
        stack.stop()
