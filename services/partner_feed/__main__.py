"""`python -m services.partner_feed`: serve partner-feed until SIGINT/SIGTERM."""

from __future__ import annotations

from services.partner_feed.app import create_app
from services.partner_feed.settings import FeedSettings
from shared import load_settings, serve


def main() -> None:
    settings = load_settings(FeedSettings)
    serve(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        header_timeout=settings.http_header_timeout,
    )


if __name__ == "__main__":
    main()
