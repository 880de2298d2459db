"""The IATI Standard Ruleset, evaluated on one ``iati-activity`` element at a time.

The rules, their ids and their severities are not written here: they are read from the
Standard Ruleset JSON the IATI Validator uses (``rulesets/standard.json``, IATI/IATI-Rulesets
branch version-2.03, MIT licence; see ``rulesets/SOURCE.txt``), shipped as package data so
the product never reads ``../shared`` at run time. This module is an evaluator of that
format (``../shared/data/iati/rulesets/SPEC.rst``, "JS edition"): each context XPath
selects elements, each named rule tests its cases there, and every failing case becomes a
:class:`Finding` that names the Validator's rule id and carries its severity.

Where the Validator consults data we do not have, the substitute is stated:

* ``idCondition`` (``NOT_EXISTING_ORG_ID``, ``..._PREFIX``) skips a rule for identifiers of
  publishers registered with IATI; without the registry list every identifier counts as
  not registered, so the rule is always evaluated (as the Validator does for a new
  publisher).
* ``startswith`` with ``ORG-ID-PREFIX`` checks against the org-id.guide agency list; we check
  the shape of an organisation identifier instead (:func:`is_org_identifier`).
* ``NOW`` and ``date_now`` use the ``today`` handed in, so tests never read the clock.

Loop values (``$1``) are bound as XPath variables, never pasted into the expression, so a
partner's attribute value cannot change what an XPath means.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from typing import Any

import orjson
from lxml import etree

from services.partner_feed.formats.errors import Location
from services.partner_feed.formats.vocabularies import is_org_identifier
from services.partner_feed.validation.findings import Category, Finding, Severity
from services.partner_feed.validation.ruleset_screen import Screen, loop_may_fail, may_fail

_PACKAGE = "services.partner_feed.validation.rulesets"
STANDARD = "standard.json"
ACTIVITY_CONTEXT = "/iati-activities/iati-activity"
_LOOP_VAR = "loopvalue"
MAX_LOOP_VALUES = 32
"""Distinct ``foreach`` values (vocabularies) evaluated per loop case and element."""
_SEVERITIES = {"error": Severity.ERROR, "warning": Severity.WARNING, "critical": Severity.CRITICAL}


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """A rule's metadata as the ruleset states it."""

    id: str
    severity: Severity
    category: str
    message: str


Locate = Callable[[Any], Location]


@dataclass(frozen=True, slots=True)
class _Case:
    rule: str
    info: RuleInfo
    spec: Mapping[str, Any]
    xpaths: Mapping[str, Any]
    """Compiled XPath per single-expression key (``condition``, ``if``, ``less``, ...)."""
    lists: Mapping[str, tuple[Any, ...]]
    """Compiled XPaths per list key (``paths``, ``prefix``, ``excluded``), without the
    ``ORG-ID-PREFIX`` placeholder."""
    needs: frozenset[str] | None = None
    """For a rule that passes when its expressions select nothing: the child element names
    (``@name`` for attributes) those expressions start from; when none is on the context
    element the case passes without evaluating anything. None: always evaluate."""
    condition: Any = None
    """The compiled ``condition`` XPath, None without one (looked up once, not per run)."""
    id_condition: str | None = None
    check: Callable[[_Eval, date], Outcome] | None = None
    """The rule's evaluator (``RULES[rule]``), None for a rule without one."""
    may_fail: str | None = None
    """The case's may-fail XPath for the screen (:mod:`ruleset_screen`); None: always run."""


@dataclass(frozen=True, slots=True)
class _Loop:
    foreach: Any
    cases: tuple[_Case, ...]
    may_fail: str | None = None


@dataclass
class _Context:
    xpath: Any
    source: str
    relative: str
    cases: list[_Case | _Loop] = field(default_factory=list)
    slots: list[int | None] = field(default_factory=list)
    """Per case, its character in the screen's flags (None: not screened, always run)."""

    def flagged(self, flags: str) -> list[_Case | _Loop]:
        """The cases the screen's ``flags`` say may fail here, in ruleset order."""
        return [
            item
            for item, slot in zip(self.cases, self.slots, strict=True)
            if slot is None or flags[slot] == "1"
        ]


XPathCompiler = Callable[[str, bool], Any]


def _xpath(expr: str, loop: bool = False) -> Any:
    if loop:
        expr = expr.replace("'$1'", f"${_LOOP_VAR}").replace("$1", f"${_LOOP_VAR}")
    return etree.XPath(expr)


def _relative(context: str) -> str | None:
    """An activity context re-rooted at the ``iati-activity`` element; None for the others."""
    context = context.strip()
    if context == ACTIVITY_CONTEXT:
        return "self::iati-activity"
    if context.startswith(ACTIVITY_CONTEXT + "/"):
        return "self::iati-activity" + context[len(ACTIVITY_CONTEXT) :]
    if context.startswith("//"):
        return "descendant-or-self::" + context[2:]
    return None


_XPATH_KEYS = ("condition", "if", "then", "one", "less", "more", "date", "start", "end", "eval")
_LIST_KEYS = ("paths", "prefix", "excluded")


def _compile_case(
    rule: str, spec: Mapping[str, Any], *, loop: bool, prefilter: bool, xpath: XPathCompiler
) -> _Case:
    raw = spec["ruleInfo"]
    info = RuleInfo(
        id=str(raw["id"]),
        severity=_SEVERITIES[raw["severity"]],
        category=str(raw.get("category", "")),
        message=str(raw.get("message", "")),
    )
    xpaths: dict[str, Any] = {}
    for key in _XPATH_KEYS:
        value = spec.get(key)
        if (
            isinstance(value, str)
            and value != "NOW"
            and not (rule == "one_or_all" and key == "all")
        ):
            xpaths[key] = xpath(value, loop)
    lists = {
        key: tuple(xpath(v, loop) for v in spec.get(key, ()) if v != "ORG-ID-PREFIX")
        for key in _LIST_KEYS
    }
    return _Case(
        rule=rule,
        info=info,
        spec=spec,
        xpaths=xpaths,
        lists=lists,
        needs=_needs(rule, spec) if prefilter else None,
        condition=xpaths.get("condition"),
        id_condition=spec.get("idCondition"),
        check=RULES.get(rule),
        may_fail=may_fail(rule, spec),
    )


_VACUOUS_PATHS = frozenset(
    {"no_more_than_one", "unique", "regex_matches", "regex_no_matches", "startswith", "range",
     "no_spaces", "sum"}
)  # fmt: skip
"""Rules that pass when ``paths`` selects nothing."""
_VACUOUS_DATES = {"date_order": ("less", "more"), "time_limit": ("start", "end"),
                  "between_dates": ("date", "start", "end"), "date_now": ("date",)}  # fmt: skip
"""Rules that pass when any one of these dates is missing."""
_FIRST_STEP = re.compile(r"^(@?[A-Za-z][\w.:-]*)(?:\[|/|$)")


def _first_step(expr: str) -> str | None:
    match = _FIRST_STEP.match(expr)
    if match is None:
        return None
    name = match.group(1)
    return "@" + _XML_LANG if name == "@xml:lang" else name


def _needs(rule: str, spec: Mapping[str, Any]) -> frozenset[str] | None:
    if rule in _VACUOUS_PATHS:
        exprs = list(spec.get("paths", ()))
    elif rule in _VACUOUS_DATES:
        exprs = [spec[k] for k in _VACUOUS_DATES[rule] if spec.get(k) not in (None, "NOW")]
        # Any one date missing passes: requiring the first one's element is enough.
        exprs = exprs[:1]
    else:
        return None
    steps = [_first_step(e) for e in exprs]
    if not steps or any(step is None for step in steps):
        return None
    return frozenset(step for step in steps if step is not None)


def _present(element: Any) -> frozenset[str]:
    return frozenset(
        [*(c.tag for c in element if isinstance(c.tag, str)), *("@" + a for a in element.attrib)]
    )


class Ruleset:
    """A compiled ruleset: ``evaluate`` one activity, ``rules`` by id."""

    def __init__(
        self, document: Mapping[str, Any], *, prefilter: bool = True, screen: bool = True
    ) -> None:
        """``prefilter``: skip a case that passes anyway because the elements its
        expressions start from are absent (same findings, fewer XPath calls; a test holds
        the two equal). ``screen``: first ask one combined XPath which cases may fail on
        the activity, and run only those (:mod:`ruleset_screen`; same findings, tested)."""
        self._prefilter = prefilter
        self._compiled: dict[tuple[str, bool], Any] = {}
        self.rules: dict[str, RuleInfo] = {}
        self.activity_rule_ids: set[str] = set()
        self.cases = 0
        self._contexts: list[_Context] = []
        for context, named in document.items():
            parts = [_relative(part) for part in context.split("|")]
            for name, body in named.items():
                for spec in body["cases"]:
                    compiled = self._compile(name, spec, self._prefilter, self._xpath)
                    for info in _infos(compiled):
                        self.cases += 1
                        self.rules.setdefault(info.id, info)
                        if any(parts):
                            self.activity_rule_ids.add(info.id)
                    for part, source in zip(parts, context.split("|"), strict=True):
                        if part is not None:
                            self._context(part, source.strip()).cases.append(compiled)
        self._screen: Screen | None = None
        if screen:
            slots: list[tuple[str, str]] = []
            for ctx in self._contexts:
                for item in ctx.cases:
                    ctx.slots.append(len(slots) if item.may_fail is not None else None)
                    if item.may_fail is not None:
                        slots.append((ctx.relative, item.may_fail))
            self._screen = Screen(slots)

    def _context(self, relative: str, source: str) -> _Context:
        for ctx in self._contexts:
            if ctx.source == source:
                return ctx
        ctx = _Context(xpath=etree.XPath(relative), source=source, relative=relative)
        self._contexts.append(ctx)
        return ctx

    @staticmethod
    def _compile(
        name: str, spec: Mapping[str, Any], prefilter: bool, xpath: XPathCompiler
    ) -> _Case | _Loop:
        if name != "loop":
            return _compile_case(name, spec, loop=False, prefilter=prefilter, xpath=xpath)
        cases = tuple(
            _compile_case(sub, sub_spec, loop=True, prefilter=prefilter, xpath=xpath)
            for sub, body in spec["do"].items()
            for sub_spec in body["cases"]
        )
        # Compiled through the shared compiler: loops over the same vocabulary (three
        # ``recipient-region/@vocabulary`` loops, ...) share one memoised result.
        return _Loop(
            foreach=xpath(spec["foreach"], False),
            cases=cases,
            may_fail=loop_may_fail(spec["foreach"]),
        )

    def _xpath(self, expr: str, loop: bool) -> Any:
        """Each distinct expression compiled once per ruleset: cases share the compiled
        XPath, so the per-activity memo also shares its result."""
        key = (expr, loop)
        if key not in self._compiled:
            self._compiled[key] = _xpath(expr, loop)
        return self._compiled[key]

    def severity(self, rule_id: str) -> Severity:
        return self.rules[rule_id].severity

    def evaluate(
        self, activity: Any, *, today: date, locate: Locate, org_ids: frozenset[str] = frozenset()
    ) -> list[Finding]:
        """Every failing rule case on one ``iati-activity`` element, in ruleset order.

        ``org_ids`` are identifiers of registered publishers (the Validator's ``ORG-ID`` set);
        rules with an ``idCondition`` skip them.
        """
        out: list[Finding] = []
        memo: _Memo = {}
        flags = self._screen.flags(activity, today) if self._screen is not None else None
        for ctx in self._contexts:
            items = ctx.cases if flags is None else ctx.flagged(flags)
            if not items:
                continue
            for element in ctx.xpath(activity):
                _evaluate_at(element, items, today, locate, org_ids, memo, out)
        return out


def _evaluate_at(
    element: Any,
    items: list[_Case | _Loop],
    today: date,
    locate: Locate,
    org_ids: frozenset[str],
    memo: _Memo,
    out: list[Finding],
) -> None:
    """Append the findings of ``items`` on one context element to ``out``."""
    present: frozenset[str] | None = None
    for item in items:
        needs = item.needs if isinstance(item, _Case) else None
        if needs is not None:
            if present is None:
                present = _present(element)
            if present.isdisjoint(needs):
                continue
        if isinstance(item, _Loop):
            values = _loop_values(item, element, memo)
            for case in item.cases:
                for value in values:
                    found = _run(case, element, today, locate, org_ids, value, memo)
                    if found is not None:
                        out.append(found)
        else:
            found = _run(item, element, today, locate, org_ids, None, memo)
            if found is not None:
                out.append(found)


def _loop_values(loop: _Loop, element: Any, memo: _Memo) -> list[str]:
    key = (loop.foreach, element, None)
    found = memo.get(key, _MISSING)
    if found is _MISSING:
        found = memo[key] = loop.foreach(element)
    values = list(dict.fromkeys(str(v) for v in found))
    # Vocabularies are codelists of a dozen codes; a hostile file with thousands of
    # distinct ones must not make evaluation quadratic.
    return values[:MAX_LOOP_VALUES]


def _infos(item: _Case | _Loop) -> Iterator[RuleInfo]:
    if isinstance(item, _Loop):
        for case in item.cases:
            yield case.info
    else:
        yield item.info


@cache
def _standard_document() -> Mapping[str, Any]:
    raw = resources.files(_PACKAGE).joinpath(STANDARD).read_bytes()
    result: Mapping[str, Any] = orjson.loads(raw)
    return result


_PER_THREAD = threading.local()


def standard_ruleset() -> Ruleset:
    """The shipped IATI Standard Ruleset, compiled once per thread (imports run in worker
    threads, and compiled lxml XPath objects are not shared between threads; ~25 ms)."""
    ruleset: Ruleset | None = getattr(_PER_THREAD, "ruleset", None)
    if ruleset is None:
        ruleset = _PER_THREAD.ruleset = Ruleset(_standard_document())
    return ruleset


@cache
def _rule_infos() -> Mapping[str, RuleInfo]:
    return standard_ruleset().rules


def rule_info(rule_id: str) -> RuleInfo:
    """The Standard Ruleset's metadata for ``rule_id`` (KeyError for an unknown id)."""
    return _rule_infos()[rule_id]


# --- evaluation ----------------------------------------------------------------------------


class _Eval:
    """One case on one element; XPath results are memoised per activity evaluation (cases
    share expressions such as ``recipient-country`` or ``reporting-org/@ref``)."""

    __slots__ = ("_paths", "_texts", "case", "element", "memo", "value")

    def __init__(self, case: _Case, element: Any, value: str | None, memo: _Memo) -> None:
        self.case = case
        self.element = element
        self.value = value
        self.memo = memo
        self._paths: list[Any] | None = None
        self._texts: list[str] | None = None

    @property
    def paths(self) -> list[Any]:
        if self._paths is None:
            self._paths = self.matches("paths")
        return self._paths

    @property
    def texts(self) -> list[str]:
        if self._texts is None:
            self._texts = [_text(n) for n in self.paths]
        return self._texts

    def pairs(self) -> list[tuple[Any, str]]:
        return list(zip(self.paths, self.texts, strict=True))

    def _eval(self, xpath: Any) -> Any:
        key = (xpath, self.element, self.value)
        result = self.memo.get(key, _MISSING)
        if result is not _MISSING:
            return result
        if self.value is None:
            result = xpath(self.element)
        else:
            result = xpath(self.element, **{_LOOP_VAR: self.value})
        self.memo[key] = result
        return result

    def raw(self, key: str) -> Any:
        return self._eval(self.case.xpaths[key])

    def truthy(self, key: str) -> bool:
        return _boolean(self.raw(key))

    def nodes(self, key: str) -> list[Any]:
        result = self.raw(key)
        return result if isinstance(result, list) else []

    def matches(self, key: str) -> list[Any]:
        out: list[Any] = []
        for xpath in self.case.lists[key]:
            result = self._eval(xpath)
            if isinstance(result, list):
                out += result
        return out

    def first_date(self, key: str, today: date) -> date | None:
        if self.case.spec.get(key) == "NOW":
            return today
        nodes = self.nodes(key)
        return _parse_date(_text(nodes[0])) if nodes else None


_Memo = dict[tuple[Any, Any, str | None], Any]
_MISSING: Any = object()
"""A memo miss (an XPath result is never this object)."""


def _boolean(result: Any) -> bool:
    if isinstance(result, list):
        return len(result) > 0
    if isinstance(result, float):
        return not math.isnan(result) and result != 0
    return bool(result)


def _text(node: Any) -> str:
    if isinstance(node, str):
        return str(node)
    return "".join(node.itertext()) if hasattr(node, "itertext") else str(node)


def _owner(node: Any, fallback: Any) -> Any:
    if isinstance(node, str):
        parent = getattr(node, "getparent", lambda: None)()
        return parent if parent is not None else fallback
    return node if hasattr(node, "sourceline") else fallback


def _parse_date(text: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        try:
            return date.fromisoformat(text[:10])
        except ValueError:
            return None


def _number(text: str) -> Decimal | None:
    """JavaScript ``Number()`` on a value: blank is 0, anything else must be a number."""
    text = text.strip()
    if not text:
        return Decimal(0)
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


Outcome = tuple[bool, list[Any], str]
"""(passed, the nodes to point a finding at, a detail for the message)."""
_PASS: Outcome = (True, [], "")


def _bad(bad: list[Any]) -> Outcome:
    return (not bad, bad, "")


def _at_least_one(ev: _Eval, today: date) -> Outcome:
    return (len(ev.paths) >= 1, [], "")


def _no_more_than_one(ev: _Eval, today: date) -> Outcome:
    return (len(ev.paths) <= 1, ev.paths[1:], "")


def _only_one_of(ev: _Eval, today: date) -> Outcome:
    excluded = ev.matches("excluded")
    return ((len(ev.paths) == 0) if excluded else (len(ev.paths) == 1), ev.paths, "")


def _unique(ev: _Eval, today: date) -> Outcome:
    return (len(set(ev.texts)) == len(ev.texts), ev.paths, "")


def _strict_sum(ev: _Eval, today: date) -> Outcome:
    numbers = [_number(t) for t in ev.texts]
    if any(n is None for n in numbers):
        return (False, ev.paths, "a value is not a number")
    total = sum((n for n in numbers if n is not None), Decimal(0))
    expected = Decimal(str(ev.case.spec["sum"]))
    return (total.quantize(_PLACES) == expected, ev.paths, f"the sum is {total.normalize():f}")


def _sum(ev: _Eval, today: date) -> Outcome:
    return _strict_sum(ev, today) if ev.paths else _PASS


def _regex(ev: _Eval, want: bool) -> Outcome:
    regex = re.compile(ev.case.spec["regex"])
    return _bad([n for n, t in ev.pairs() if t and bool(regex.search(t)) != want])


def _starts_with(ev: _Eval, today: date) -> Outcome:
    if list(ev.case.spec.get("prefix", ())) == ["ORG-ID-PREFIX"]:
        return _bad([n for n, t in ev.pairs() if not is_org_identifier(t)])
    sep = ev.case.spec.get("separator", "")
    starts = [_text(n) + sep for n in ev.matches("prefix")]
    return _bad([n for n, t in ev.pairs() if not any(t.startswith(s) for s in starts)])


def _if_then(ev: _Eval, today: date) -> Outcome:
    return ((not ev.truthy("if")) or ev.truthy("then"), ev.paths, "")


def _range(ev: _Eval, today: date) -> Outcome:
    spec = ev.case.spec
    low = Decimal(str(spec.get("min", "-Infinity")))
    high = Decimal(str(spec.get("max", "Infinity")))
    return _bad([n for n, t in ev.pairs() if (v := _number(t)) is None or not low <= v <= high])


def _no_spaces(ev: _Eval, today: date) -> Outcome:
    return _bad([n for n, t in ev.pairs() if t != t.strip()])


def _one_or_all(ev: _Eval, today: date) -> Outcome:
    if ev.nodes("one"):
        return _PASS
    el, kind = ev.element, ev.case.spec.get("all")
    if kind == "lang":
        return _bad([n for n in el.iter("narrative") if n.get(_XML_LANG) is None])
    if kind == "sector":
        return _bad([t for t in el.findall("transaction") if t.find("sector") is None])
    if kind == "recipient-country|recipient-region":
        return _bad(
            [
                t
                for t in el.findall("transaction")
                if t.find("recipient-country") is None and t.find("recipient-region") is None
            ]
        )
    if kind == "currency":
        return _bad(
            [
                v
                for tag in ("value", "forecast", "loan-status")
                for v in el.iter(tag)
                if v.get("currency") is None
            ]
        )
    return _PASS


def _date_order(ev: _Eval, today: date) -> Outcome:
    less, more = ev.first_date("less", today), ev.first_date("more", today)
    if less is None or more is None:
        return _PASS
    return (less <= more, ev.nodes("less")[:1], f"{less} is after {more}")


def _date_now(ev: _Eval, today: date) -> Outcome:
    when = ev.first_date("date", today)
    if when is None:
        return _PASS
    return (when <= today, ev.nodes("date")[:1], f"{when} is after {today}")


def _time_limit(ev: _Eval, today: date) -> Outcome:
    start, end = ev.first_date("start", today), ev.first_date("end", today)
    if start is None or end is None:
        return _PASS
    return ((end - start).days <= 365, ev.nodes("end")[:1], f"{start} to {end}")


def _between_dates(ev: _Eval, today: date) -> Outcome:
    when = ev.first_date("date", today)
    start, end = ev.first_date("start", today), ev.first_date("end", today)
    if when is None or start is None or end is None:
        return _PASS
    return (start <= when <= end, ev.nodes("date")[:1], f"{when} is outside {start} to {end}")


_PLACES = Decimal("0.0001")
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
RULES: dict[str, Callable[[_Eval, date], Outcome]] = {
    "atleast_one": _at_least_one,
    "no_more_than_one": _no_more_than_one,
    "only_one_of": _only_one_of,
    "one_or_all": _one_or_all,
    "unique": _unique,
    "sum": _sum,
    "strict_sum": _strict_sum,
    "date_order": _date_order,
    "date_now": _date_now,
    "time_limit": _time_limit,
    "between_dates": _between_dates,
    "regex_matches": lambda ev, today: _regex(ev, True),
    "regex_no_matches": lambda ev, today: _regex(ev, False),
    "startswith": _starts_with,
    "if_then": _if_then,
    "range": _range,
    "no_spaces": _no_spaces,
}
"""Every rule name of the ruleset spec, by its snake-case name (``dependent`` is not
implemented by the Validator either, and is not used by the Standard Ruleset)."""


def _skipped(ev: _Eval, org_ids: frozenset[str]) -> bool:
    case = ev.case
    if case.condition is not None and not _boolean(ev._eval(case.condition)):
        return True
    condition = case.id_condition
    if condition is None:
        return False
    if condition == "NOT_EXISTING_ORG_ID":
        return any(t in org_ids for t in ev.texts)
    if condition == "NOT_EXISTING_ORG_ID_PREFIX":
        return any(t.startswith(f"{o}-") for t in ev.texts for o in org_ids)
    return False


def _run(
    case: _Case,
    element: Any,
    today: date,
    locate: Locate,
    org_ids: frozenset[str],
    value: str | None,
    memo: _Memo,
) -> Finding | None:
    ev = _Eval(case, element, value, memo)
    if _skipped(ev, org_ids):
        return None
    check = case.check if case.check is not None else RULES[case.rule]
    passed, nodes, detail = check(ev, today)
    if passed:
        return None
    at = _owner(nodes[0], element) if nodes else element
    message = case.info.message + (f" ({detail})" if detail else "")
    return Finding(
        code=f"iati-rule.{case.info.id}",
        rule=case.info.id,
        severity=case.info.severity,
        category=Category.RULE,
        message=message,
        location=locate(at),
    )
