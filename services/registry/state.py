"""The registry's typed application state: every `AppKey` in one place."""

from __future__ import annotations

from aiohttp import web

from services.registry.auth import KeyCache
from services.registry.commands import ActivityCommands
from services.registry.db.activities import ActivityTable
from services.registry.db.api_keys import ApiKeyTable
from services.registry.db.computed_tags import ComputedTagTable
from services.registry.db.outbox import OutboxTable
from services.registry.relay import OutboxRelay
from services.registry.settings import RegistrySettings
from shared import ConsumerRunner, EventPublisher
from shared.db import Database

SETTINGS = web.AppKey("settings", RegistrySettings)
DB = web.AppKey("db", Database)
PUBLISHER = web.AppKey("publisher", EventPublisher)
RELAY = web.AppKey("relay", OutboxRelay)
TAGS_CONSUMER = web.AppKey("tags_consumer", ConsumerRunner)
KEYS = web.AppKey("api_keys", ApiKeyTable)
KEY_CACHE = web.AppKey("key_cache", KeyCache)
COMMANDS = web.AppKey("commands", ActivityCommands)
ACTIVITIES = web.AppKey("activities", ActivityTable)
COMPUTED = web.AppKey("computed_tags", ComputedTagTable)
OUTBOX = web.AppKey("outbox", OutboxTable)
