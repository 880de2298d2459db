""":class:`FeedActivity`: what the outbound writers render, close to the registry's record."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.partner_feed.formats.record import Text

Percentage = Annotated[Decimal, Field(ge=0, le=100, decimal_places=2)]
_CENTS = Decimal("0.01")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FeedOrg(_Frozen):
    ref: str = Field(min_length=1)
    type: str = Field(min_length=1)
    """IATI OrganisationType code (40 multilateral for WIPO)."""
    name: Text = Field(min_length=1)


class FeedParticipant(_Frozen):
    role: Literal["1", "2", "3", "4"]
    ref: str | None = None
    type: str | None = None
    name: Text = {}
    activity_id: str | None = None


class FeedCountry(_Frozen):
    code: str = Field(pattern=r"^[A-Z]{2}$")
    percentage: Percentage | None = None


class FeedRegion(_Frozen):
    code: str = Field(pattern=r"^[0-9]{3}$")
    """IATI Region code (vocabulary 1, OECD DAC), e.g. ``998`` developing countries,
    unspecified."""
    percentage: Percentage | None = None


class FeedSector(_Frozen):
    code: str
    vocabulary: str = "1"
    percentage: Percentage | None = None
    vocabulary_uri: str | None = None
    """For a reporting-organisation vocabulary (98/99): where the codes are defined."""
    name: Text = {}
    """Narrative, required by rule 2.2.1 for vocabularies 98/99."""


class FeedActivity(_Frozen):
    """One WIPO TA activity as published. No personal data: there is no contact field.

    Recipient-country percentages are either all given (and sum to 100) or all omitted,
    in which case :meth:`country_shares` spreads 100 evenly, to the cent.
    """

    identifier: str = Field(pattern=r"^[A-Za-z0-9-]+-.+")
    reporting_org: FeedOrg
    titles: Text = Field(min_length=1)
    descriptions: Text = Field(min_length=1)
    status: Literal["1", "2", "3", "4", "5", "6"]
    planned_start: date | None = None
    actual_start: date | None = None
    planned_end: date | None = None
    actual_end: date | None = None
    recipient_countries: tuple[FeedCountry, ...] = ()
    recipient_regions: tuple[FeedRegion, ...] = ()
    """Only for activities without a recipient country (rule 3.7.1 wants one or the other)."""
    regional_communities: tuple[str, ...] = ()
    sdg_goals: tuple[Annotated[str, Field(pattern=r"^([1-9]|1[0-7])$")], ...] = ()
    sdg_targets: tuple[Annotated[str, Field(pattern=r"^([1-9]|1[0-7])\.[0-9a-z]+$")], ...] = ()
    gender_marker: Annotated[int, Field(ge=0, le=2)] | None = None
    participating_orgs: tuple[FeedParticipant, ...] = Field(min_length=1)
    da_recommendations: tuple[Annotated[int, Field(ge=1, le=45)], ...] = ()
    sectors: tuple[FeedSector, ...] = ()
    last_updated: datetime
    default_language: str = "en"

    @model_validator(mode="after")
    def _consistent(self) -> FeedActivity:
        if not (self.planned_start or self.actual_start):
            raise ValueError("an activity needs a planned or an actual start date")
        if not self.identifier.startswith(self.reporting_org.ref):
            raise ValueError("identifier must start with the reporting organisation's ref")
        given = [c.percentage for c in self.recipient_countries]
        if any(p is not None for p in given):
            if None in given:
                raise ValueError("give every recipient-country percentage or none")
            if sum(p for p in given if p is not None) != 100:
                raise ValueError("recipient-country percentages must sum to 100")
        return self

    def country_shares(self) -> tuple[tuple[str, Decimal], ...]:
        """Each recipient country with its percentage; even split when none were given.

        The split is in hundredths with the remainder on the first countries, so seven
        countries get 14.29 x 1 ... and the total is exactly 100.00.
        """
        countries = self.recipient_countries
        if not countries:
            return ()
        if countries[0].percentage is not None:
            return tuple((c.code, c.percentage or Decimal(0)) for c in countries)
        base, extra = divmod(10_000, len(countries))
        return tuple(
            (c.code, (Decimal(base + (1 if i < extra else 0)) * _CENTS).normalize())
            for i, c in enumerate(countries)
        )
