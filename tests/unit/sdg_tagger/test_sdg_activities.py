"""The tagger on realistic WIPO technical-assistance activities (English).

The activities are written for these tests after the kinds of activity in the CDIP
technical-assistance categories (national IP strategies, IP office infrastructure,
capacity building, legislative assistance, Development Agenda projects, public-private
platforms); each lists the goals an expert would expect and goals that would be wrong.
"""

from __future__ import annotations

from typing import NamedTuple

import pytest

from services.sdg_tagger import SdgTagger
from services.sdg_tagger.decision import MAX_TARGETS


class Activity(NamedTuple):
    name: str
    text: str
    expected_goals: frozenset[int]
    unexpected_goals: frozenset[int]


ACTIVITIES: tuple[Activity, ...] = (
    Activity(
        "tisc_network",
        "Establishment of a national network of Technology and Innovation Support Centers "
        "(TISCs) in Ethiopia: training of TISC staff at universities and research centres on "
        "patent searching and on access to scientific and technical databases.",
        frozenset({9, 4, 17}),
        frozenset({6, 14}),
    ),
    Activity(
        "wipo_green",
        "WIPO GREEN acceleration project in Latin America: matchmaking between providers "
        "and seekers of climate change adaptation and renewable energy technologies, with "
        "local partners and national IP offices.",
        frozenset({13, 7, 9}),
        frozenset({3, 5}),
    ),
    Activity(
        "wipo_research",
        "WIPO Re:Search consortium: hosting agreement enabling an African scientist to "
        "work on drug discovery for neglected tropical diseases with a pharmaceutical company.",
        frozenset({3}),
        frozenset({14, 7}),
    ),
    Activity(
        "abc_capacity",
        "Accessible Books Consortium (ABC) capacity building project in Bangladesh: training "
        "local publishers and organizations serving people with print disabilities to produce "
        "educational materials in accessible formats.",
        frozenset({4, 10}),
        frozenset({14, 13}),
    ),
    Activity(
        "women_inventors",
        "Mentoring and matchmaking program for women inventors and entrepreneurs to help "
        "them file patent applications and bring their inventions to market.",
        frozenset({5}),
        frozenset({14, 6}),
    ),
    Activity(
        "sme_branding",
        "IP and branding support for SMEs in the coffee sector: registration of trademarks "
        "and collective marks to improve market access for small producers.",
        frozenset({8, 9}),
        frozenset({14, 3}),
    ),
    Activity(
        "judges_enforcement",
        "Regional colloquium for judges and prosecutors on the adjudication of IP disputes "
        "and the enforcement of intellectual property rights against counterfeiting and piracy.",
        frozenset({16}),
        frozenset({14, 6, 7}),
    ),
    Activity(
        "tk_gr",
        "Workshop on the protection of traditional knowledge and genetic resources: "
        "documentation, databases and benefit-sharing for indigenous peoples and local "
        "communities.",
        frozenset({15, 2}),
        frozenset({7, 14}),
    ),
    Activity(
        "national_ip_strategy",
        "Assistance to Mongolia in the formulation of a national intellectual property "
        "strategy aligned with the national development plan, including needs assessment "
        "and stakeholder consultations.",
        frozenset({9, 17}),
        frozenset({14, 6, 3}),
    ),
    Activity(
        "ipas_automation",
        "Deployment of WIPO IPAS for the automation of the industrial property office of "
        "Lao PDR, with digitization of trademark and patent records and online filing.",
        frozenset({16, 9}),
        frozenset({14, 3, 5}),
    ),
    Activity(
        "legislative_advice",
        "Legislative assistance: comments on the draft patent law of Zambia and advice on "
        "the use of flexibilities in the public interest.",
        frozenset({16, 17}),
        frozenset({14, 7}),
    ),
    Activity(
        "marrakesh_accession",
        "Legislative advice on the accession to and implementation of the Marrakesh Treaty "
        "to facilitate access to published works for persons who are blind, visually impaired "
        "or otherwise print disabled.",
        frozenset({4, 10}),
        frozenset({14, 7}),
    ),
    Activity(
        "geographical_indications",
        "Development Agenda project on the use of geographical indications for the "
        "branding of agricultural products of small producers in Cambodia.",
        frozenset({8, 2, 17}),
        frozenset({14, 3}),
    ),
    Activity(
        "da_tourism",
        "Development Agenda project on intellectual property and tourism: promoting local "
        "culture and heritage through IP tools in Egypt, Ecuador and Namibia.",
        frozenset({8, 17}),
        frozenset({14, 3, 7}),
    ),
    Activity(
        "wipo_academy",
        "WIPO Academy distance learning course on patent drafting for researchers and "
        "students of universities in least developed countries.",
        frozenset({4, 9}),
        frozenset({14, 6}),
    ),
    Activity(
        "technology_transfer_offices",
        "Setting up technology transfer offices in public research institutions in "
        "Tunisia and training on licensing and commercialization of inventions.",
        frozenset({9}),
        frozenset({14, 6, 5}),
    ),
    Activity(
        "copyright_cmo",
        "Support to the collective management organization for music in Senegal: copyright "
        "and related rights licensing and distribution of royalties to creators.",
        frozenset({8}),
        frozenset({14, 6, 13}),
    ),
    Activity(
        "access_to_medicines",
        "Patent landscape report on vaccines and access to medicines for public health "
        "agencies, in cooperation with WHO and WTO.",
        frozenset({3}),
        frozenset({14, 7}),
    ),
    Activity(
        "ardi_aspi",
        "Promotion of ARDI and ASPI: free access to scientific journals and specialized "
        "patent information for research institutions in developing countries.",
        frozenset({9}),
        frozenset({14, 6, 5}),
    ),
    Activity(
        "plant_varieties",
        "Seminar on plant variety protection and seed systems for farmers and breeders, "
        "to support food security.",
        frozenset({2}),
        frozenset({14, 16}),
    ),
    Activity(
        "adr_mediation",
        "Training of mediators and arbitrators on alternative dispute resolution of "
        "intellectual property and technology disputes through the WIPO Arbitration and "
        "Mediation Center.",
        frozenset({16}),
        frozenset({14, 6, 3}),
    ),
    Activity(
        "south_south",
        "South-South cooperation meeting of heads of IP offices of Latin America and Africa "
        "on the sharing of patent examination practices.",
        frozenset({17}),
        frozenset({14, 6, 3}),
    ),
)


@pytest.mark.parametrize("activity", ACTIVITIES, ids=[a.name for a in ACTIVITIES])
def test_activity_gets_the_goals_an_expert_expects(tagger: SdgTagger, activity: Activity) -> None:
    result = tagger.tag(activity.text)

    assert result.outcome == "tagged"
    assert result.language == "en"
    assert result.model_id == tagger.model_id
    assigned = set(result.assigned_goals)
    assert activity.expected_goals <= assigned, f"missing {activity.expected_goals - assigned}"
    assert not activity.unexpected_goals & assigned


@pytest.mark.parametrize("activity", ACTIVITIES, ids=[a.name for a in ACTIVITIES])
def test_every_decision_carries_its_evidence(tagger: SdgTagger, activity: Activity) -> None:
    result = tagger.tag(activity.text)

    assert [g.goal for g in result.goals] != [], "all 17 goals are reported"
    assert sorted(g.goal for g in result.goals) == list(range(1, 18))
    for goal in result.goals:
        if goal.decision == "assigned":
            assert goal.evidence.rules, goal
            assert goal.evidence.matched_terms, goal
            assert goal.score > 0.2
        closest = goal.evidence.closest_target
        assert closest is not None
        assert closest.target.split(".")[0] == str(goal.goal)
        assert closest.text == tagger.catalogue.target(closest.target).text
    assigned_targets = [t for t in result.targets if t.decision == "assigned"]
    assert 1 <= len(assigned_targets) <= MAX_TARGETS
    for target in assigned_targets:
        assert target.goal in result.assigned_goals
        assert tagger.catalogue.has_target(target.target)
        assert target.evidence.rules


def test_tisc_evidence_names_the_rule_and_the_words(tagger: SdgTagger) -> None:
    result = tagger.tag(ACTIVITIES[0].text)

    goal9 = next(g for g in result.goals if g.goal == 9)
    assert goal9.decision == "assigned"
    assert goal9.score > 0.9
    assert "knowledge.tisc" in goal9.evidence.rules
    assert "technology and innovation support centers" in goal9.evidence.matched_terms
    assert result.assigned_targets[0] == "9.5"


def test_goals_list_decided_items_first_by_score(tagger: SdgTagger) -> None:
    result = tagger.tag(ACTIVITIES[1].text)

    decided = [g for g in result.goals if g.decision == "assigned"]
    assert result.goals[: len(decided)] == tuple(decided)
    assert [g.score for g in decided] == sorted((g.score for g in decided), reverse=True)
    assert {g.goal for g in result.goals[:2]} == {7, 13}


def test_tagging_is_deterministic(tagger: SdgTagger) -> None:
    text = ACTIVITIES[5].text

    assert tagger.tag(text) == tagger.tag(text)
    assert SdgTagger.load().tag(text) == tagger.tag(text)
