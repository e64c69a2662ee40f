"""The exosome-serum protocol as validated data, and a pure-Python query layer over it.

Nothing here imports Rasa: the knowledge base can be read, tested and reused on its own.
"""
from .loader import KnowledgeBaseError, load_file, load_knowledge, parse_knowledge
from .schema import KnowledgeBase

__all__ = ["KnowledgeBase", "KnowledgeBaseError", "load_file", "load_knowledge", "parse_knowledge"]
