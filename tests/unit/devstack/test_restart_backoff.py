"""The launcher's restart backoff: doubling from `initial` to `cap`, reset after a stable run."""

from __future__ import annotations

import pytest

from services.devstack import RestartPolicy
from services.devstack.restart import Backoff, Restart


def test_delays_double_from_the_initial_one_up_to_the_cap() -> None:
    backoff = Backoff(RestartPolicy(initial=0.5, factor=2, cap=4, reset_after=10))
    delays = [backoff.after_exit(ran_for=1.0) for _ in range(6)]
    assert delays == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_a_child_that_ran_stably_starts_over_at_the_initial_delay() -> None:
    backoff = Backoff(RestartPolicy(initial=0.5, factor=2, cap=30, reset_after=10))
    assert [backoff.after_exit(ran_for=0.2) for _ in range(3)] == [0.5, 1.0, 2.0]
    assert backoff.after_exit(ran_for=10.0) == 0.5  # stable for reset_after: reset
    assert backoff.after_exit(ran_for=9.9) == 1.0  # crashed again soon: doubling resumes


def test_a_factor_of_one_restarts_at_a_constant_delay() -> None:
    backoff = Backoff(RestartPolicy(initial=2, factor=1, cap=2))
    assert {backoff.after_exit(ran_for=0) for _ in range(5)} == {2}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"initial": -1}, "initial"),
        ({"initial": 5, "cap": 1}, "cap"),
        ({"factor": 0.5}, "factor"),
        ({"reset_after": 0}, "reset_after"),
    ],
)
def test_policies_that_make_no_sense_are_refused(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RestartPolicy(**kwargs)


def test_a_restart_describes_itself_for_the_log() -> None:
    text = Restart("notifier", -9, ran_for=3.25, delay=1.0, count=2).describe()
    assert text == "notifier exited with status -9 after 3.2 s; restart 2 after 1.0 s backoff"
