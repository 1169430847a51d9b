"""The token bucket behind RELIABILITY.md M15, on a manual clock."""

from __future__ import annotations

from protocols.mcp._rate import CallRate


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_gives_its_burst_then_says_when_the_next_call_may_go() -> None:
    clock = Clock()
    rate = CallRate(per_minute=5, burst=5, clock=clock)
    assert [rate.take("a", "t") for _ in range(5)] == [None] * 5
    assert rate.take("a", "t") == 12  # one call refills in 60 / 5 seconds
    clock.now += 11
    assert rate.take("a", "t") == 1
    clock.now += 1
    assert rate.take("a", "t") is None
    assert rate.take("a", "t") == 12


def test_buckets_are_per_principal_and_per_tool() -> None:
    rate = CallRate(per_minute=1, burst=1, clock=Clock())
    assert rate.take("a", "t") is None
    assert rate.take("a", "t") is not None
    assert rate.take("b", "t") is None
    assert rate.take("a", "u") is None


def test_a_bucket_never_holds_more_than_its_burst() -> None:
    clock = Clock()
    rate = CallRate(per_minute=60, burst=2, clock=clock)
    clock.now += 3600
    assert [rate.take("a", "t") for _ in range(3)] == [None, None, 1]


def test_zero_per_minute_switches_the_limit_off() -> None:
    rate = CallRate(per_minute=0, burst=1, clock=Clock())
    assert all(rate.take("a", "t") is None for _ in range(100))


def test_invented_tool_names_do_not_grow_the_table_past_what_has_not_refilled() -> None:
    clock = Clock()
    rate = CallRate(per_minute=60, burst=1, clock=clock)
    for n in range(5000):
        clock.now += 0.5  # each bucket refills in a second: at most two are not full at any time
        assert rate.take("a", f"tool-{n}") is None
    assert len(rate) <= 1024
