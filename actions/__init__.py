"""The action server: thin Rasa actions over the protocol knowledge base.

Importing the package validates the knowledge base, so a mistake in protocol.yml stops the action
server at start-up with a message naming the file, the entry and the field.
"""
import sys

from actions.knowledge import KnowledgeBaseError, load_knowledge

try:
    load_knowledge()
except KnowledgeBaseError as error:
    print(f"error: the knowledge base is not valid — the action server cannot start.\n{error}", file=sys.stderr)
    raise SystemExit(2) from None
