"""`python -m services.registry`: serve the registry until SIGINT/SIGTERM."""

from __future__ import annotations

from services.registry.app import create_app
from services.registry.settings import RegistrySettings
from shared import load_settings, serve


def main() -> None:
    settings = load_settings(RegistrySettings)
    serve(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        header_timeout=settings.http_header_timeout,
    )


if __name__ == "__main__":
    main()
