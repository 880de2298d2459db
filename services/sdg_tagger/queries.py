"""The Aurora Universities Network's SDG queries, evaluated on a text (no search engine).

Source: Aurora-Network-Global/sdg-queries v5.0 (CC BY 4.0, attribute the Aurora
Universities Network), one Boolean query per SDG target in Scopus syntax, validated for
precision and recall against an expert survey. ``tools/train_sdg.py`` extracts the
``TITLE-ABS-KEY`` query lines into ``model/aurora_queries.json``; this module parses and
evaluates them on one text.

Scopus semantics, as far as a single text allows:

- ``"word"`` / ``"two words"``: a phrase of consecutive words; ``*`` at the end of a word
  is a prefix wildcard; a trailing ``s``/``es`` plural is accepted as Scopus does;
- operator precedence, tightest first: ``OR``, ``W/n`` (within n words, either order),
  ``AND``, ``AND NOT`` (Scopus documents this order); parentheses group.

A query line *fires* when it is true for the text; its evidence is the words it matched.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

__all__ = [
    "QUERY_FEATURE_SCALE",
    "QueryHit",
    "QueryLine",
    "QuerySet",
    "parse_query",
    "query_features",
    "text_words",
]

_TOKEN = re.compile(r'"([^"]*)"|\(|\)|W/\d+|PRE/\d+|AND\s+NOT|AND|OR|[^\s()"]+', re.IGNORECASE)
_WORD = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)?")
_MAX_EVIDENCE = 5

Span = tuple[int, int]  # first and last word position, inclusive


def text_words(text: str) -> list[str]:
    """Lower-cased words; hyphens and punctuation split words, as Scopus indexing does."""
    return _WORD.findall(text.lower())


@dataclass(frozen=True, slots=True, eq=False)
class Phrase:
    words: tuple[str, ...]  # each word is exact, or a prefix when it ends with "*"


@dataclass(frozen=True, slots=True, eq=False)
class Node:
    op: str  # "or", "and", "not", "near"
    children: tuple[Node | Phrase, ...]
    distance: int = 0


Expr = Node | Phrase


class _Parser:
    def __init__(self, source: str) -> None:
        self.tokens: list[tuple[str, str]] = []
        for match in _TOKEN.finditer(source):
            raw = match.group(0)
            if match.group(1) is not None:
                self.tokens.append(("phrase", match.group(1)))
            elif raw in "()":
                self.tokens.append((raw, raw))
            else:
                upper = re.sub(r"\s+", " ", raw.upper())
                if upper in {"AND", "OR", "AND NOT"} or upper.startswith(("W/", "PRE/")):
                    self.tokens.append(("op", upper))
                else:  # a bare word is a one-word phrase
                    self.tokens.append(("phrase", raw))
        self.at = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take_op(self, *names: str) -> str | None:
        token = self.peek()
        if token and token[0] == "op" and any(token[1].startswith(n) for n in names):
            self.at += 1
            return token[1]
        return None

    def parse(self) -> Expr:
        expr = self.not_expr()
        if self.peek() is not None:
            msg = f"unexpected {self.peek()!r} at token {self.at}"
            raise ValueError(msg)
        return expr

    def not_expr(self) -> Expr:
        left = self.and_expr()
        while self.take_op("AND NOT"):
            left = Node("not", (left, self.and_expr()))
        return left

    def and_expr(self) -> Expr:
        parts = [self.near_expr()]
        while True:
            token = self.peek()
            if token and token == ("op", "AND"):
                self.at += 1
                parts.append(self.near_expr())
            else:
                break
        return parts[0] if len(parts) == 1 else Node("and", tuple(parts))

    def near_expr(self) -> Expr:
        left = self.or_expr()
        while (op := self.take_op("W/", "PRE/")) is not None:
            left = Node("near", (left, self.or_expr()), int(op.split("/")[1]))
        return left

    def or_expr(self) -> Expr:
        parts = [self.atom()]
        while self.take_op("OR"):
            parts.append(self.atom())
        return parts[0] if len(parts) == 1 else Node("or", tuple(parts))

    def atom(self) -> Expr:
        token = self.peek()
        if token is None:
            msg = "query ends where a term was expected"
            raise ValueError(msg)
        self.at += 1
        if token[0] == "(":
            inner = self.not_expr()
            if self.peek() != (")", ")"):
                msg = "unbalanced parentheses"
                raise ValueError(msg)
            self.at += 1
            return inner
        if token[0] == "phrase":
            words = tuple(w for w in re.split(r"[^\w*]+", token[1].lower()) if w and w != "*")
            if not words:
                msg = f"empty phrase {token[1]!r}"
                raise ValueError(msg)
            return Phrase(words)
        msg = f"unexpected {token[1]!r}"
        raise ValueError(msg)


def parse_query(source: str) -> Expr:
    """Parse one Scopus query line; raises ``ValueError`` when it is not well formed."""
    return _Parser(source).parse()


def _phrases(expr: Expr) -> list[Phrase]:
    if isinstance(expr, Phrase):
        return [expr]
    return [p for child in expr.children for p in _phrases(child)]


def _positive_words(expr: Expr) -> set[str]:
    """Words of the phrases that can make ``expr`` true (``AND NOT`` right sides excluded)."""
    if isinstance(expr, Phrase):
        return set(expr.words)
    if expr.op == "not":
        return _positive_words(expr.children[0])
    return {w for child in expr.children for w in _positive_words(child)}


def _required(expr: Expr) -> list[frozenset[str]]:
    """Word sets that must each meet the text for ``expr`` to be true (a cheap pre-test)."""
    if isinstance(expr, Phrase):
        return [frozenset(expr.words[:1])]
    if expr.op == "not":
        return _required(expr.children[0])
    if expr.op in ("and", "near"):
        return [req for child in expr.children for req in _required(child)]
    return [frozenset(_positive_words(expr))]


@dataclass(frozen=True, slots=True)
class QueryLine:
    target: str  # SDG target id, e.g. "1.1"; "" when the query is for the goal as a whole
    goal: int
    source: str
    expr: Expr
    required: tuple[frozenset[str], ...]  # each set must meet the text's words


@dataclass(frozen=True, slots=True)
class QueryHit:
    goal: int
    target: str
    query: str
    matched: tuple[str, ...]


class _TextIndex:
    """Where each query word occurs in one text."""

    def __init__(self, words: Sequence[str], keys_of: Callable[[str], tuple[str, ...]]) -> None:
        self.words = words
        self.positions: dict[str, list[int]] = {}
        for at, word in enumerate(words):
            for key in keys_of(word):
                self.positions.setdefault(key, []).append(at)
        self.present = frozenset(self.positions)
        self._memo: dict[Phrase, list[Span]] = {}

    def phrase(self, phrase: Phrase) -> list[Span]:
        found = self._memo.get(phrase)
        if found is not None:
            return found
        first = self.positions.get(phrase.words[0], [])
        spans: list[Span] = []
        if len(phrase.words) == 1:
            spans = [(start, start) for start in first]
        elif first:
            rest = [set(self.positions.get(w, ())) for w in phrase.words[1:]]
            spans = [
                (start, start + len(rest))
                for start in first
                if all(start + k in at for k, at in enumerate(rest, 1))
            ]
        self._memo[phrase] = spans
        return spans

    def evaluate(self, expr: Expr) -> list[Span]:  # noqa: PLR0911 - one return per operator
        if isinstance(expr, Phrase):
            return self.phrase(expr)
        if expr.op == "or":
            return [s for child in expr.children for s in self.evaluate(child)]
        if expr.op == "and":
            spans: list[Span] = []
            for child in expr.children:
                found = self.evaluate(child)
                if not found:
                    return []
                spans.extend(found)
            return spans
        if expr.op == "not":
            left = self.evaluate(expr.children[0])
            return left if left and not self.evaluate(expr.children[1]) else []
        left = self.evaluate(expr.children[0])
        if not left:
            return []
        right = self.evaluate(expr.children[1])
        near = [
            (min(a[0], b[0]), max(a[1], b[1]))
            for a in left
            for b in right
            if b[0] - a[1] <= expr.distance + 1 and a[0] - b[1] <= expr.distance + 1
        ]
        return near


class QuerySet:
    """All query lines, evaluated on a text; lines whose words are absent are skipped."""

    _CACHE_LIMIT = 200_000

    def __init__(self, lines: Sequence[QueryLine]) -> None:
        self.lines = tuple(lines)
        words = {w for line in self.lines for p in _phrases(line.expr) for w in p.words}
        self._exact = frozenset(w for w in words if not w.endswith("*"))
        self._prefixes = frozenset(w for w in words if w.endswith("*"))
        self._keys: dict[str, tuple[str, ...]] = {}
        # Each line is listed under the words of its first required set: a text only
        # evaluates the lines one of whose words it contains.
        self._lines_of: dict[str, list[int]] = {}
        for number, line in enumerate(self.lines):
            for word in line.required[0] if line.required else ():
                self._lines_of.setdefault(word, []).append(number)

    def _keys_of(self, word: str) -> tuple[str, ...]:
        found = self._keys.get(word)
        if found is not None:
            return found
        keys: list[str] = []
        if word in self._exact:
            keys.append(word)
        if word.endswith("s"):
            keys.extend(stem for stem in (word[:-1], word[:-2]) if stem in self._exact)
        keys.extend(
            prefix
            for cut in range(1, len(word) + 1)
            if (prefix := word[:cut] + "*") in self._prefixes
        )
        found = tuple(keys)
        if len(self._keys) < self._CACHE_LIMIT:
            self._keys[word] = found
        return found

    @classmethod
    def from_json(cls, document: Mapping[str, object]) -> QuerySet:
        """Build from ``model/aurora_queries.json``; raises ``ValueError`` if malformed."""
        entries = document.get("queries")
        if not isinstance(entries, list):
            msg = "aurora queries: 'queries' must be a list"
            raise ValueError(msg)
        lines: list[QueryLine] = []
        for entry in entries:
            expr = parse_query(str(entry["query"]))
            lines.append(
                QueryLine(
                    target=str(entry["target"]),
                    goal=int(entry["goal"]),
                    source=str(entry["query"]),
                    expr=expr,
                    required=tuple(_required(expr)),
                )
            )
        return cls(lines)

    def match(self, text: str) -> list[QueryHit]:
        """The query lines true for ``text``, in file order, with the words they matched."""
        words = text_words(text)
        index = _TextIndex(words, self._keys_of)
        present = index.present
        candidates = sorted({n for key in present for n in self._lines_of.get(key, ())})
        hits: list[QueryHit] = []
        for number in candidates:
            line = self.lines[number]
            if any(req.isdisjoint(present) for req in line.required[1:]):
                continue
            spans = index.evaluate(line.expr)
            if spans:
                matched = tuple(
                    dict.fromkeys(" ".join(words[a : b + 1]) for a, b in sorted(spans))
                )[:_MAX_EVIDENCE]
                hits.append(QueryHit(line.goal, line.target, line.source, matched))
        return hits


QUERY_FEATURE_SCALE = 0.6


def query_features(hits: Sequence[QueryHit]) -> list[float]:
    """The 17 query features of a text: ``scale * log(1 + lines fired)`` per goal."""
    counts = [0] * 17
    for hit in hits:
        counts[hit.goal - 1] += 1
    return [QUERY_FEATURE_SCALE * math.log1p(c) for c in counts]
