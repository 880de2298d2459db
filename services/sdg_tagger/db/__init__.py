"""The tagger's store: the port, its SQL table and its in-memory twin."""

from services.sdg_tagger.db.emitted import EmittedTable
from services.sdg_tagger.db.memory import MemoryTagStore
from services.sdg_tagger.db.port import TagStore
from services.sdg_tagger.db.store import TAGGER_STORE, open_tagger_database

__all__ = ["TAGGER_STORE", "EmittedTable", "MemoryTagStore", "TagStore", "open_tagger_database"]
