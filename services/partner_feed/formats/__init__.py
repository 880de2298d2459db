"""The partner-feed format layer: pure reading, validating and writing of partner data.

No I/O beyond the byte source handed in; no Kafka, HTTP or database.
"""

from services.partner_feed.formats.errors import (
    DecompressionBomb,
    FieldTooLarge,
    ForbiddenDeclaration,
    InputFault,
    InputTooLarge,
    InvalidEncoding,
    Location,
    MalformedInput,
    NestingTooDeep,
    UnsupportedVersion,
    WrongRootElement,
    WrongType,
)
from services.partner_feed.formats.feed_activity import (
    FeedActivity,
    FeedCountry,
    FeedOrg,
    FeedParticipant,
    FeedRegion,
    FeedSector,
)
from services.partner_feed.formats.iati_writer import write_iati
from services.partner_feed.formats.ingest import FatalError, IngestReport, IngestRun, ingest
from services.partner_feed.formats.record import PartnerRecord, SourceFormat
from services.partner_feed.formats.regional import ColumnMapping, RegionalMapping
from services.partner_feed.formats.safety import ByteSource, Limits
from services.partner_feed.formats.tfm_model import TfmRecord
from services.partner_feed.formats.tfm_writer import to_tfm, write_tfm_csv, write_tfm_json

__all__ = [
    "ByteSource",
    "ColumnMapping",
    "DecompressionBomb",
    "FatalError",
    "FeedActivity",
    "FeedCountry",
    "FeedOrg",
    "FeedParticipant",
    "FeedRegion",
    "FeedSector",
    "FieldTooLarge",
    "ForbiddenDeclaration",
    "IngestReport",
    "IngestRun",
    "InputFault",
    "InputTooLarge",
    "InvalidEncoding",
    "Limits",
    "Location",
    "MalformedInput",
    "NestingTooDeep",
    "PartnerRecord",
    "RegionalMapping",
    "SourceFormat",
    "TfmRecord",
    "UnsupportedVersion",
    "WrongRootElement",
    "WrongType",
    "ingest",
    "to_tfm",
    "write_iati",
    "write_tfm_csv",
    "write_tfm_json",
]
