"""TFM JSON/CSV writers and readers share one contract; regional mappings are config."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import orjson

from services.partner_feed.formats import (
    ColumnMapping,
    FeedActivity,
    RegionalMapping,
    SourceFormat,
    TfmRecord,
    ingest,
    to_tfm,
    write_tfm_csv,
    write_tfm_json,
)
from services.partner_feed.formats.tfm_contract import (
    COLUMNS_FILE,
    SCHEMA_FILE,
    csv_columns,
    json_schema,
)
from services.partner_feed.formats.tfm_csv import HEADER
from services.partner_feed.validation.rules import check_rules

TODAY = date(2025, 6, 30)
CONTRACTS = Path(__file__).resolve().parents[3] / "contracts" / "tfm"


def test_checked_in_contract_matches_the_model() -> None:
    hint = "run: python -m services.partner_feed.formats.tfm_contract contracts/tfm"
    assert (CONTRACTS / SCHEMA_FILE).read_bytes() == json_schema(), hint
    assert (CONTRACTS / COLUMNS_FILE).read_text() == csv_columns(), hint


def test_tfm_json_and_csv_round_trip(activity: FeedActivity) -> None:
    tfm = to_tfm(activity)
    for fmt, body in (
        (SourceFormat.TFM_JSON, b"".join(write_tfm_json([tfm, tfm]))),
        (SourceFormat.TFM_CSV, b"".join(write_tfm_csv([tfm, tfm]))),
    ):
        outcomes = list(ingest(body, source_format=fmt, partner_id="tfm", today=TODAY))
        assert [o.accepted for o in outcomes] == [True, True], outcomes[0].findings
        record = outcomes[0].record
        assert record is not None
        assert record.record_id == activity.identifier
        assert record.titles == activity.titles
        assert record.status == activity.status
        assert record.actual_start == activity.actual_start
        assert record.sdg_targets == activity.sdg_targets
        assert record.da_recommendations == activity.da_recommendations
        assert record.regional_communities == activity.regional_communities
        assert [c.code for c in record.recipient_countries] == [
            c.code for c in activity.recipient_countries
        ]
        assert record.last_updated == activity.last_updated


def test_csv_header_is_the_published_column_list(activity: FeedActivity) -> None:
    first = next(iter(write_tfm_csv([to_tfm(activity)])))
    assert first.decode().strip() == ",".join(HEADER)


def test_json_written_is_valid_against_the_published_schema(activity: FeedActivity) -> None:
    import jsonschema  # type: ignore[import-untyped]  # no stubs in the dev set

    schema = orjson.loads((CONTRACTS / SCHEMA_FILE).read_bytes())
    for item in orjson.loads(b"".join(write_tfm_json([to_tfm(activity)]))):
        jsonschema.validate(item, schema)
        TfmRecord.model_validate(item)


EAC = RegionalMapping(
    partner_id="eac",
    community="EAC",
    columns=(
        ColumnMapping(source="Ref", field="record_id"),
        ColumnMapping(source="Intitulé", field="title", language="fr"),
        ColumnMapping(source="Title", field="title"),
        ColumnMapping(source="Etat", field="status", value_map={"En cours": "2", "Terminé": "4"}),
        ColumnMapping(source="Début", field="actual_start"),
        ColumnMapping(source="Pays", field="recipient_countries", separator=","),
        ColumnMapping(source="ODD", field="sdg_goals", separator=","),
        ColumnMapping(source="Partenaire", field="participating_org", role="4"),
    ),
)


def test_regional_csv_through_a_column_mapping() -> None:
    body = (
        "Ref,Intitulé,Title,Etat,Début,Pays,ODD,Partenaire\n"
        'EAC-1,Stratégie PI,IP strategy,En cours,2024-03-01,"ke, tz","9,17",KIPI\n'
        "EAC-2,,,Inconnu,pas une date,KE,9,\n"
    ).encode()
    outcomes = list(
        ingest(
            body,
            source_format=SourceFormat.REGIONAL_CSV,
            partner_id="eac",
            today=TODAY,
            regional_mapping=EAC,
        )
    )
    assert [o.accepted for o in outcomes] == [True, False]
    record = outcomes[0].record
    assert record is not None
    assert record.titles == {"fr": "Stratégie PI", "en": "IP strategy"}
    assert record.status == "2" and record.actual_start == date(2024, 3, 1)
    assert [c.code for c in record.recipient_countries] == ["KE", "TZ"]
    assert record.sdg_goals == ("9", "17") and record.regional_communities == ("EAC",)
    assert record.participating_orgs[0].name == {"en": "KIPI"}
    assert outcomes[1].findings[0].location.line == 3


def test_regional_json_through_a_column_mapping() -> None:
    mapping = EAC.model_copy(update={"records_key": "items"})
    body = orjson.dumps(
        {"items": [{"Ref": "EAC-9", "Title": "TISC network", "Etat": "Terminé", "Pays": ["RW"]}, 7]}
    )
    outcomes = list(
        ingest(
            body,
            source_format=SourceFormat.REGIONAL_JSON,
            partner_id="eac",
            today=TODAY,
            regional_mapping=mapping,
        )
    )
    assert [o.accepted for o in outcomes] == [True, False]
    assert outcomes[1].location.path == "/items/1"


def test_percentage_and_date_rules_as_the_standard_ruleset_words_them(
    activity: FeedActivity,
) -> None:
    from services.partner_feed.formats.record import CountryShare, PartnerRecord

    def rec(*shares: str, **kw: object) -> PartnerRecord:
        countries = tuple(CountryShare(code="KE", percentage=Decimal(s)) for s in shares)
        return PartnerRecord.model_validate(
            {
                "partner_id": "p",
                "record_id": "X-1",
                "source_format": "iati-xml",
                "titles": {"en": "t"},
                "identifiers": {"iati_identifier": "XM-1-a"},
                "recipient_countries": countries,
                **kw,
            }
        )

    def codes(r: PartnerRecord) -> set[str]:
        return {f.code for f in check_rules(r, {}, today=TODAY)}

    assert "iati-rule.3.1.2" not in codes(rec(*["14.28"] * 3, *["14.29"] * 4))
    # strict_sum: 99.99 is not 100 for the Validator either (an error, not a quarantine).
    assert "iati-rule.3.1.2" in codes(rec("33.33", "33.33", "33.33"))
    assert "iati-rule.3.1.2" in codes(rec("50", "40"))
    assert "iati-rule.3.1.4" in codes(rec("90"))
    late = rec(
        planned_start=date(2025, 2, 1), planned_end=date(2025, 1, 1), actual_start=date(2030, 1, 1)
    )
    assert {"iati-rule.11.1.2", "iati-rule.11.1.4"} <= codes(late)
