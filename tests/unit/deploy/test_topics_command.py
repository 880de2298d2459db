"""`python -m tools.topics`: the failures that need no broker to show."""

from __future__ import annotations

import pytest

from tools.topics.command import EXIT_FAILED, main


def test_an_unreachable_cluster_is_exit_1_with_the_reason(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["plan", "--profile", "local", "--bootstrap-servers", "127.0.0.1:1"])
    assert code == EXIT_FAILED
    assert "Kafka not reachable" in capsys.readouterr().err


def test_an_impossible_profile_is_refused_before_connecting(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["apply", "--profile", "local", "--min-insync-replicas", "2"])
    assert code == EXIT_FAILED
    assert "exceeds replication factor 1" in capsys.readouterr().err


def test_unknown_commands_and_profiles_are_usage_errors() -> None:
    for argv in (["destroy"], ["apply", "--profile", "staging"]):
        with pytest.raises(SystemExit) as exited:
            main(argv)
        assert exited.value.code == 2
