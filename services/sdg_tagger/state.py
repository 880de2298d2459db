"""sdg-tagger's typed application state: every `AppKey` in one place."""

from __future__ import annotations

from aiohttp import web

from services.sdg_tagger.db import TagStore
from services.sdg_tagger.metrics import TaggerMetrics
from services.sdg_tagger.settings import TaggerSettings
from services.sdg_tagger.tagger import SdgTagger
from shared import ConsumerRunner, EventPublisher

SETTINGS = web.AppKey("settings", TaggerSettings)
TAGGER = web.AppKey("tagger", SdgTagger)
METRICS = web.AppKey("tagger_metrics", TaggerMetrics)
STORE = web.AppKey("tag_store", TagStore)
PUBLISHER = web.AppKey("publisher", EventPublisher)
CONSUMER = web.AppKey("consumer", ConsumerRunner)
