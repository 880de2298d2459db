"""Tolerant reading: what a publisher obviously meant is read so, with a warning.

Applied in place to one ``iati-activity`` element before the schema, the Standard Ruleset
and the mapping see it, so all three agree on the value read:

* attribute values are trimmed (``code=" AF "``); the trim is reported under the Standard
  Ruleset's ``no_spaces`` rule where it has one for that attribute;
* an empty attribute (``significance=""``) counts as absent, as the Datastore treats it;
* ``xml:lang`` is read case-insensitively, ISO 639-2 codes (``eng``, ``fre``) as their
  ISO 639-1 code (``en``, ``fr``) and tags with a region (``en-GB``) as their language;
* codes are matched case-insensitively against their codelist (``1.A`` → ``1.a``,
  ``af`` → ``AF``) and rewritten to the codelist's spelling.

Every rewrite is a warning finding; nothing here blocks a record.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, lru_cache
from typing import Any

from lxml import etree

from services.partner_feed.formats.errors import Location
from services.partner_feed.validation.codelists import codelist
from services.partner_feed.validation.findings import Category, Finding, Severity

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

ISO_639_2 = {
    "ara": "ar", "chi": "zh", "zho": "zh", "eng": "en", "fre": "fr", "fra": "fr", "rus": "ru",
    "spa": "es", "por": "pt", "ger": "de", "deu": "de", "ita": "it", "dut": "nl", "nld": "nl",
    "jpn": "ja", "kor": "ko", "swa": "sw", "amh": "am", "hin": "hi", "ben": "bn", "urd": "ur",
    "per": "fa", "fas": "fa", "tur": "tr", "vie": "vi", "tha": "th", "ind": "id", "msa": "ms",
    "may": "ms", "hau": "ha", "yor": "yo", "ibo": "ig", "som": "so", "mlg": "mg", "kin": "rw",
    "nep": "ne", "sin": "si", "tam": "ta", "khm": "km", "lao": "lo", "mya": "my", "bur": "my",
    "ukr": "uk", "pol": "pl", "ron": "ro", "rum": "ro", "hat": "ht", "tet": "tet", "dan": "da",
    "swe": "sv", "nor": "no", "fin": "fi", "gre": "el", "ell": "el", "heb": "he", "pus": "ps",
}  # fmt: skip
"""ISO 639-2 (bibliographic and terminology) → ISO 639-1, for the languages IATI publishers
use; a code not listed is left as it is and checked against the Language codelist."""

NO_SPACES_RULES = {
    ("reporting-org", "ref"): "1.14.1",
    ("participating-org", "ref"): "1.8.1",
    ("participating-org", "activity-id"): "1.9.1",
    ("related-activity", "ref"): "1.7.1",
    ("owner-org", "ref"): "1.11.1",
    ("provider-org", "ref"): "1.10.1",
    ("provider-org", "provider-activity-id"): "1.4.1",
    ("receiver-org", "ref"): "1.15.1",
    ("receiver-org", "receiver-activity-id"): "1.5.1",
}
"""Standard Ruleset ``no_spaces`` rules on attributes: (element, attribute) → rule id."""

_DEFAULT_VOCABULARY = {"sector": "1", "recipient-region": "1", "policy-marker": "1"}
_CODE_LISTS: dict[tuple[str, str | None], str] = {
    ("recipient-country", None): "Country",
    ("recipient-region", "1"): "Region",
    ("sector", "1"): "Sector",
    ("sector", "2"): "SectorCategory",
    ("sector", "7"): "UNSDG-Goals",
    ("sector", "8"): "UNSDG-Targets",
    ("tag", "2"): "UNSDG-Goals",
    ("tag", "3"): "UNSDG-Targets",
    ("activity-status", None): "ActivityStatus",
}
"""Which codelist a ``code`` attribute is read against, by element and vocabulary."""
_CODE_TAGS = frozenset(tag for tag, _ in _CODE_LISTS)

Locate = Callable[[Any], Location]


@cache
def _folded(name: str) -> dict[str, str]:
    listed = codelist(name)
    return {code.casefold(): code for code in (*listed.withdrawn, *listed.active)}


def canonical_code(name: str, code: str) -> str:
    """``code`` as the codelist spells it when it matches case-insensitively, else as is."""
    if code in codelist(name):
        return code
    return _folded(name).get(code.casefold(), code)


@lru_cache(maxsize=256)
def canonical_language(code: str) -> str:
    """``EN`` → ``en``, ``fre`` → ``fr``, ``en-GB`` → ``en`` (the codelist has no regions)."""
    lowered = code.strip().lower().replace("_", "-")
    primary = lowered.split("-", 1)[0]
    return ISO_639_2.get(primary, primary) if primary else lowered


def _warning(code: str, message: str, location: Location, rule: str | None = None) -> Finding:
    return Finding(
        code=code,
        severity=Severity.WARNING,
        category=Category.FORMAT,
        message=message,
        location=location,
        rule=rule,
    )


def normalise_activity(activity: Any, locate: Locate) -> list[Finding]:
    """Rewrite ``activity`` in place as read tolerantly; one warning per kind of rewrite
    (the same rewrite repeated, ``xml:lang="EN"`` on every narrative, is reported once, at
    its first place, with the count)."""
    seen: dict[tuple[str, str], _Rewrite] = {}

    def note(code: str, message: str, el: Any, rule: str | None = None) -> None:
        found = seen.get((code, message))
        if found is None:
            seen[(code, message)] = _Rewrite(code, message, el, rule)
        else:
            found.count += 1

    for el in activity.iter(etree.Element):  # elements only, not comments or PIs
        items = el.items()  # a snapshot: the loop may rewrite them
        if not items:
            continue
        tag = str(el.tag)
        for name, value in items:
            stripped = value.strip()
            if stripped and stripped == value:
                continue
            if not stripped:
                del el.attrib[name]
                note(
                    "format.empty_attribute",
                    f'{_attr_name(name)}="" on <{tag}> is read as absent',
                    el,
                )
            else:
                el.set(name, stripped)
                note(
                    "format.whitespace",
                    f"{_attr_name(name)}={value!r} on <{tag}> read as {stripped!r}",
                    el,
                    NO_SPACES_RULES.get((tag, name)),
                )
        lang = el.get(XML_LANG)
        if lang is not None and (canon := canonical_language(lang)) != lang:
            el.set(XML_LANG, canon)
            note("format.language_code", f"xml:lang={lang!r} on <{tag}> read as {canon!r}", el)
        if tag in _CODE_TAGS and el.get("code") is not None:
            _code_case(el, tag, note)
    return [r.finding(locate) for r in seen.values()]


class _Rewrite:
    __slots__ = ("code", "count", "el", "message", "rule")

    def __init__(self, code: str, message: str, el: Any, rule: str | None) -> None:
        self.code, self.message, self.el, self.rule, self.count = code, message, el, rule, 1

    def finding(self, locate: Locate) -> Finding:
        message = self.message if self.count == 1 else f"{self.message} ({self.count} times)"
        return _warning(self.code, message, locate(self.el), self.rule)


def _code_case(el: Any, tag: str, note: Callable[[str, str, Any], None]) -> None:
    code = el.get("code")
    vocabulary = el.get("vocabulary", _DEFAULT_VOCABULARY.get(tag))
    name = _CODE_LISTS.get((tag, vocabulary)) or _CODE_LISTS.get((tag, None))
    if name is None:
        return
    canon = canonical_code(name, code)
    if canon != code:
        el.set("code", canon)
        note("format.code_case", f"code={code!r} on <{tag}> read as {name} code {canon!r}", el)


def _attr_name(name: str) -> str:
    return "xml:lang" if name == XML_LANG else name
