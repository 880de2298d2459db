"""What the deployment files must agree with: the four services, their modules and ports."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pydantic_settings import BaseSettings

from services.notifier.settings import NotifierSettings
from services.partner_feed.settings import FeedSettings
from services.registry.settings import RegistrySettings
from services.sdg_tagger.settings import TaggerSettings

ROOT = Path(__file__).resolve().parents[3]
DESIGN = ROOT.parent / "shared" / "DESIGN.md"


@dataclass(frozen=True, slots=True)
class Service:
    name: str
    """The name in docker-compose.yml and deploy/k8s (and in DESIGN.md's table)."""
    module: str
    settings: type[BaseSettings]

    @property
    def port(self) -> int:
        """The port the service listens on by default (its settings class says)."""
        default = self.settings.model_fields["port"].default
        assert isinstance(default, int)
        return default


SERVICES = (
    Service("registry", "services.registry", RegistrySettings),
    Service("partner-feed", "services.partner_feed", FeedSettings),
    Service("notifier", "services.notifier", NotifierSettings),
    Service("sdg-tagger", "services.sdg_tagger", TaggerSettings),
)


def design_ports() -> dict[str, int]:
    """Service name -> port from DESIGN.md's "Interfaces agreed up front" table."""
    text = DESIGN.read_text(encoding="utf-8")
    found = re.findall(r"^\| ([a-z-]+) HTTP \| `127\.0\.0\.1:(\d+)`", text, flags=re.MULTILINE)
    return {name: int(port) for name, port in found}
