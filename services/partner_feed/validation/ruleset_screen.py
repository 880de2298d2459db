"""One libxml2 call per activity that tells which Standard Ruleset cases cannot fail there.

Evaluating the ruleset case by case costs about a hundred XPath calls per activity, and on a
sound activity almost every case passes. For each (context, case) this module writes a
*may-fail* XPath: true whenever the case could produce a finding on some element of its
context. Most are exact (``atleast_one`` fails exactly when no path selects anything,
``if_then`` exactly when ``if and not(then)``); the rest over-approximate (a ``startswith``
"may fail" whenever its paths select something), never the other way round. All of them go
into one expression, ``concat(...)`` of one ``'1'``/``'0'`` per case, compiled once per
ruleset, so the activity is screened by a single call in C and only the flagged cases run
through the case-by-case evaluator. A case without a may-fail expression is always run.
Findings are unchanged by construction; tests compare screened and unscreened rulesets
finding by finding on every publisher file and on edge cases of each rule.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

from lxml import etree

STRIP_WHITESPACE = (
    "\t\n\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)
"""What ``str.strip()`` removes (``str.isspace``), less the characters XML 1.0 cannot carry;
a test checks it against ``str.isspace``."""
_NO_RESERVED = r"^[^\/\&\|\?]+$"
"""The Standard Ruleset's identifier regex: it fails exactly on a value with one of these."""
_RESERVED = "/&|?"


def _paths(spec: Mapping[str, Any], key: str = "paths") -> list[str]:
    return [p for p in spec.get(key, ()) if p != "ORG-ID-PREFIX"]


def _any(paths: Sequence[str], test: str | None = None) -> str | None:
    """True when one of ``paths`` selects a node (that passes ``test``)."""
    if not paths:
        return None
    selected = [f"{p}[{test}]" if test else p for p in paths]
    return " or ".join(f"boolean({p})" for p in selected)


def _at_least_one(spec: Mapping[str, Any]) -> str | None:
    paths = _paths(spec)
    return " and ".join(f"not({p})" for p in paths) if paths else None


def _no_more_than_one(spec: Mapping[str, Any]) -> str | None:
    paths = _paths(spec)
    return " + ".join(f"count({p})" for p in paths) + " > 1" if paths else None


def _if_then(spec: Mapping[str, Any]) -> str | None:
    return f"boolean({spec['if']}) and not(boolean({spec['then']}))"


def _regex_matches(spec: Mapping[str, Any]) -> str | None:
    if spec.get("regex") == _NO_RESERVED:
        # re.search(^[^/&|?]+$) fails on a non-empty value exactly when it holds one of them.
        return _any(_paths(spec), f"translate(., '{_RESERVED}', '') != .")
    return _any(_paths(spec), "string-length(.) > 0")


def _no_spaces(spec: Mapping[str, Any]) -> str | None:
    # value != value.strip(): the first or last character is white space (an empty value
    # passes, and is screened as may-fail: the evaluator decides).
    ws = f"'{STRIP_WHITESPACE}'"
    return _any(
        _paths(spec),
        f"contains({ws}, substring(., 1, 1)) or contains({ws}, substring(., string-length(.), 1))",
    )


def _range(spec: Mapping[str, Any]) -> str | None:
    low, high = float(spec.get("min", "-inf")), float(spec.get("max", "inf"))
    if not (math.isfinite(low) and math.isfinite(high) and max(abs(low), abs(high)) < 1e15):
        return _any(_paths(spec))
    # Passes for sure: a plain decimal of at most 12 characters (digits and dots: libxml2's
    # double and Python's Decimal agree on its order against the bounds) within them.
    plain = (
        "string-length(.) > 0 and string-length(.) <= 12 and translate(., '0123456789.', '') = ''"
        f" and number(.) >= {low!r} and number(.) <= {high!r}"
    )
    return _any(_paths(spec), f"not({plain})")


def _unique(spec: Mapping[str, Any]) -> str | None:
    paths = _paths(spec)
    if len(paths) == 2:
        # At most one value per path: a duplicate is the two values being equal.
        first, second = paths
        return f"count({first}) > 1 or count({second}) > 1 or {first} = {second}"
    return " + ".join(f"count({p})" for p in paths) + " > 1" if paths else None


def _starts_with(spec: Mapping[str, Any]) -> str | None:
    paths, prefixes = _paths(spec), _paths(spec, "prefix")
    if list(spec.get("prefix", ())) == ["ORG-ID-PREFIX"] or len(paths) != 1 or not prefixes:
        return _any(paths)
    # Surely passes: one value, starting with the first value of one prefix path (a subset
    # of the prefixes the evaluator accepts) and the separator.
    sep = str(spec.get("separator", ""))
    if "'" in sep:
        return _any(paths)
    (path,) = paths
    starts = " or ".join(
        f"(boolean({p}) and starts-with(string({path}), concat(string({p}), '{sep}')))"
        for p in prefixes
    )
    return f"not(count({path}) = 1 and ({starts}))"


TODAY_VAR = "today"
"""The screen's variable: today as the number YYYYMMDD (``NOW`` in a date rule)."""


def _iso(expr: str) -> tuple[str, str]:
    """(the first selected value starts with a plain ``YYYY-MM-DD``, that date as YYYYMMDD).

    ``NOW`` is today. The evaluator reads a value starting so (a date, a datetime, or
    anything after it) as that date, or as missing when it is not a date (``2024-13-40``),
    and a rule passes on a missing date: a may-fail that compares it anyway errs on the
    side of running the case."""
    if expr == "NOW":
        return "true()", f"${TODAY_VAR}"
    day = f"substring(string({expr}), 1, 10)"
    plain = f"translate({day}, '0123456789', '0000000000') = '0000-00-00'"
    return f"({plain})", f"number(translate({day}, '-', ''))"


def _dates(*keys: str, holds: Callable[..., str]) -> Callable[[Mapping[str, Any]], str | None]:
    """A date rule passes when one of its dates is missing or unreadable; it surely passes
    when every date is a plain ``YYYY-MM-DD`` and ``holds`` (on YYYYMMDD numbers) is true.
    Otherwise it may fail when every date it needs is present."""

    def screen(spec: Mapping[str, Any]) -> str | None:
        exprs = [str(spec[k]) for k in keys if spec.get(k) is not None]
        if len(exprs) != len(keys):
            return None
        present = [f"boolean({e})" for e in exprs if e != "NOW"] or ["true()"]
        plain, numbers = zip(*(_iso(e) for e in exprs), strict=True)
        sure = " and ".join([*plain, holds(*numbers)])
        return f"{' and '.join(present)} and not({sure})"

    return screen


def _one_or_all(spec: Mapping[str, Any]) -> str | None:
    missing = {
        "lang": "descendant-or-self::narrative[not(@xml:lang)]",
        "sector": "transaction[not(sector)]",
        "recipient-country|recipient-region": (
            "transaction[not(recipient-country) and not(recipient-region)]"
        ),
        "currency": (
            "descendant-or-self::value[not(@currency)] | "
            "descendant-or-self::forecast[not(@currency)] | "
            "descendant-or-self::loan-status[not(@currency)]"
        ),
    }.get(str(spec.get("all")))
    if missing is None:
        return "false()"  # an unknown kind passes when ``one`` is absent, and when present
    return f"not({spec['one']}) and boolean({missing})"


_MAY_FAIL: dict[str, Callable[[Mapping[str, Any]], str | None]] = {
    "atleast_one": _at_least_one,
    "no_more_than_one": _no_more_than_one,
    "if_then": _if_then,
    "regex_matches": _regex_matches,
    "regex_no_matches": lambda spec: _any(_paths(spec), "string-length(.) > 0"),
    "no_spaces": _no_spaces,
    "range": _range,
    "sum": lambda spec: _any(_paths(spec)),
    "unique": _unique,
    "startswith": _starts_with,
    "one_or_all": _one_or_all,
    "date_order": _dates("less", "more", holds=lambda less, more: f"{less} <= {more}"),
    "date_now": _dates("date", holds=lambda when: f"{when} <= ${TODAY_VAR}"),
    # YYYYMMDD end < start + 10000 is before the same day a year on: at most 365 days.
    "time_limit": _dates("start", "end", holds=lambda start, end: f"{end} - {start} < 10000"),
    "between_dates": _dates(
        "date",
        "start",
        "end",
        holds=lambda when, start, end: f"{start} <= {when} and {when} <= {end}",
    ),
}
"""Rule → the case's may-fail XPath on its context element (None: always evaluate)."""


def may_fail(rule: str, spec: Mapping[str, Any]) -> str | None:
    """The may-fail XPath of one case (its ``condition`` included), None to always run it."""
    build = _MAY_FAIL.get(rule)
    expr = build(spec) if build is not None else None
    condition = spec.get("condition")
    if expr is None:
        # A case is skipped where its condition is false, whatever its rule.
        return f"boolean({condition})" if condition else None
    return f"boolean({condition}) and ({expr})" if condition else expr


def loop_may_fail(foreach: str) -> str:
    """A loop runs only where its ``foreach`` selects a value."""
    return f"boolean({foreach})"


class Screen:
    """The compiled screen: ``flags(activity)`` is one character per slot, ``'0'`` when the
    slot's case cannot fail anywhere in its context of that activity."""

    def __init__(self, slots: Sequence[tuple[str, str]]) -> None:
        """``slots``: (context XPath relative to the activity, may-fail XPath) per slot."""
        parts = [f"substring('10', 2 - boolean({ctx}[{expr}]), 1)" for ctx, expr in slots]
        self.size = len(parts)
        if len(parts) < 2:
            parts += ["''"] * (2 - len(parts))
        self._xpath = etree.XPath("concat(" + ", ".join(parts) + ")")

    def flags(self, activity: Any, today: date) -> str:
        number = float(today.year * 10000 + today.month * 100 + today.day)
        flags = str(self._xpath(activity, **{TODAY_VAR: number}))
        if len(flags) != self.size:  # cannot happen: one character per slot
            return "1" * self.size
        return flags
