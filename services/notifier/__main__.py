"""`python -m services.notifier`: serve the notifier until SIGINT/SIGTERM."""

from __future__ import annotations

from services.notifier.app import create_app
from services.notifier.settings import NotifierSettings
from shared import load_settings, serve


def main() -> None:
    settings = load_settings(NotifierSettings)
    serve(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        header_timeout=settings.http_header_timeout,
    )


if __name__ == "__main__":
    main()
