"""notifier's typed application state: every `AppKey` in one place."""

from __future__ import annotations

import aiohttp
from aiohttp import web

from shared import ConsumerRunner, EventPublisher

from .activity_index import SqliteActivityIndex
from .dead_letters import KafkaDeadLetters
from .dispatcher import Dispatcher
from .settings import NotifierSettings
from .sqlite_store import SqliteStore

SETTINGS = web.AppKey("notifier_settings", NotifierSettings)
STORE = web.AppKey("notifier_store", SqliteStore)
INDEX = web.AppKey("activity_index", SqliteActivityIndex)
SESSION = web.AppKey("webhook_session", aiohttp.ClientSession)
PUBLISHER = web.AppKey("publisher", EventPublisher)
DEAD_LETTERS = web.AppKey("dead_letters", KafkaDeadLetters)
DISPATCHER = web.AppKey("dispatcher", Dispatcher)
CONSUMER = web.AppKey("notifier_consumer", ConsumerRunner)
