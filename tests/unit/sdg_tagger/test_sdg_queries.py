"""The Aurora query evaluator: Scopus precedence, proximity, wildcards, evidence."""

from __future__ import annotations

import pytest

from services.sdg_tagger import SdgTagger
from services.sdg_tagger.queries import QueryLine, QuerySet, parse_query, query_features


def _set(*queries: str, goal: int = 1, target: str = "1.1") -> QuerySet:
    return QuerySet.from_json(
        {"queries": [{"goal": goal, "target": target, "query": q} for q in queries]}
    )


def _fires(query: str, text: str) -> bool:
    return bool(_set(query).match(text))


def test_or_binds_tighter_than_proximity_and_proximity_counts_words_between() -> None:
    query = '( "poverty" ) W/3 ( "eradicat*" OR "reduc*" OR "end" )'

    assert _fires(query, "Programmes to reduce extreme rural poverty.")
    assert not _fires(query, "Poverty in remote areas was eradicated.")  # 4 words between
    assert _fires(query, "Poverty was eradicated.")  # either order
    assert not _fires(query, "Poverty is, in many of the poorest districts, reduced.")
    assert not _fires(query, "Reducing costs of fertiliser.")


def test_and_not_excludes_and_and_needs_both_sides() -> None:
    query = '("poaching" OR "trafficking") AND ("wildlife") AND NOT ("marine" OR "ocean*")'

    assert _fires(query, "Rangers fight poaching of wildlife in the savannah.")
    assert not _fires(query, "Poaching of marine wildlife on the coast.")
    assert not _fires(query, "Wildlife tourism grows.")


def test_phrases_wildcards_and_plurals() -> None:
    assert _fires('"poverty line*"', "Households below the poverty lines of 2015.")
    assert _fires('"coral reef"', "Bleaching of coral reefs.")
    assert _fires('"socio-economic*"', "socio economic status")
    assert not _fires('"poverty line*"', "Poverty and the line of credit.")


def test_malformed_queries_are_rejected() -> None:
    with pytest.raises(ValueError, match="unbalanced"):
        parse_query('( "water" OR "sanitation"')
    with pytest.raises(ValueError, match="expected"):
        parse_query('"water" OR')


def test_hits_carry_the_target_the_query_and_the_words_matched() -> None:
    hits = _set('"drinking water"', goal=6, target="6.1").match("Safe drinking water for all.")

    assert [(h.goal, h.target, h.matched) for h in hits] == [(6, "6.1", ("drinking water",))]
    assert query_features(hits)[5] > 0.0
    assert sum(query_features(hits)) == query_features(hits)[5]


def test_every_shipped_query_line_parses_and_names_a_real_target(tagger: SdgTagger) -> None:
    lines: tuple[QueryLine, ...] = tagger.queries.lines

    assert len(lines) >= 300
    assert {line.goal for line in lines} == set(range(1, 18))
    for line in lines:
        assert not line.target or tagger.catalogue.has_target(line.target), line.target


def test_a_query_that_fires_is_evidence_down_to_the_target(tagger: SdgTagger) -> None:
    result = tagger.tag(
        "The programme expands access to safe and affordable drinking water and adequate "
        "sanitation in informal settlements."
    )

    water = next(g for g in result.goals if g.goal == 6)
    assert water.decision == "assigned"
    assert any(rule.startswith("aurora.6.") for rule in water.evidence.rules)
    assert any(
        t.goal == 6
        and t.decision == "assigned"
        and any(r.startswith("aurora.") for r in t.evidence.rules)
        for t in result.targets
    )
