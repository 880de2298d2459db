"""partner-feed's typed application state: every `AppKey` in one place."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiohttp import web

from services.partner_feed.db.database import Store
from services.partner_feed.feed_mapping import Publisher
from services.partner_feed.imports import ImportRunner
from services.partner_feed.metrics import FeedMetrics
from services.partner_feed.partners import PartnerDirectory
from services.partner_feed.puller import Puller
from services.partner_feed.settings import FeedSettings
from shared import ConsumerRunner, EventPublisher
from shared.domain import Codelists

SETTINGS = web.AppKey("settings", FeedSettings)
PARTNERS = web.AppKey("partners", PartnerDirectory)
PUBLISHER_ORG = web.AppKey("publisher_org", Publisher)
CODELISTS = web.AppKey("codelists", Codelists)
Clock = Callable[[], datetime]
CLOCK: web.AppKey[Clock] = web.AppKey("clock")
METRICS = web.AppKey("feed_metrics", FeedMetrics)
IMPORT_STORE = web.AppKey("import_store", Store)
FEED_STORE = web.AppKey("feed_store", Store)
PUBLISHER = web.AppKey("publisher", EventPublisher)
IMPORTS = web.AppKey("imports", ImportRunner)
PULLER = web.AppKey("puller", Puller)
FEED_CONSUMER = web.AppKey("feed_consumer", ConsumerRunner)
