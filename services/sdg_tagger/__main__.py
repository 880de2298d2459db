"""`python -m services.sdg_tagger`: serve the sdg-tagger until SIGINT/SIGTERM."""

from __future__ import annotations

from services.sdg_tagger.app import create_app
from services.sdg_tagger.settings import TaggerSettings
from shared import load_settings, serve


def main() -> None:
    settings = load_settings(TaggerSettings)
    serve(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        header_timeout=settings.http_header_timeout,
    )


if __name__ == "__main__":
    main()
