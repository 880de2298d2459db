"""`python -m tools.chaos [--quick] [scenario...]`: which scenarios run, in which order."""

from __future__ import annotations

import pytest

from tools.chaos.__main__ import SCENARIOS, parse


def test_no_scenario_named_runs_them_all_in_the_tables_order() -> None:
    assert parse([]) == (list(SCENARIOS), False)
    assert parse(["all", "--quick"]) == (list(SCENARIOS), True)


def test_named_scenarios_run_in_the_tables_order_whatever_the_command_lines() -> None:
    assert parse(["cluster", "hostile", "ssrf"]) == (["hostile", "ssrf", "cluster"], False)


def test_an_unknown_scenario_is_refused_naming_it(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        parse(["ssrf", "nope"])
    assert exit_.value.code == 2
    assert "unknown scenario(s) ['nope']" in capsys.readouterr().err
