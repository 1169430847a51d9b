"""The CLI's printers on their own: run hints for jobs no worker took, tables, times in UTC."""

from __future__ import annotations

from typing import Any

import pytest

from engine import InstanceView
from hub.output import print_instance, print_run_hints
from hub.tables import clip, compact, due_time, table, utc_time


def _waiting(job_type: str, *, claims: int = 0, since: str = "2026-12-06T10:00:00Z", job: int = 7) -> dict[str, Any]:
    return {"jobType": job_type, "since": since, "job": job, "retries": 3, "claims": claims}


def _view(*waits: dict[str, Any] | None) -> InstanceView:
    elements = [
        {"elementId": f"e{i}", "elementInstance": i, "state": "active", **({"waitingFor": w} if w else {})}
        for i, w in enumerate(waits)
    ]
    return InstanceView(key=12, process_id="order", version=1, state="active", variables={}, active_elements=elements)


def test_a_run_hint_names_the_job_type_and_how_to_run_a_worker_for_it_on_stderr(
    capsys: pytest.CaptureFixture[str],
) -> None:
    print_run_hints(_view(_waiting("charge-card"), None))
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        "hint: instance 12 waits for a worker of job type 'charge-card': run `agenthub worker --workers MODULE` "
        '(or pass --workers MODULE here) with a module that has @worker("charge-card")\n'
    )


def test_one_hint_per_job_type_and_none_for_a_job_a_worker_has_taken_before(
    capsys: pytest.CaptureFixture[str],
) -> None:
    print_run_hints(_view(_waiting("ship", job=1), _waiting("ship", job=2), _waiting("bill", claims=2)))
    lines = capsys.readouterr().err.splitlines()
    assert [line.split("'")[1] for line in lines] == ["ship"]


def test_hints_for_job_types_the_hub_runs_and_for_camunda_connectors_say_what_to_do_instead(
    capsys: pytest.CaptureFixture[str],
) -> None:
    print_run_hints(_view(_waiting("http"), _waiting("io.camunda:sendgrid:1"), _waiting("mcp:roots")))
    http, camunda, roots = capsys.readouterr().err.splitlines()
    assert http.endswith("which the hub runs itself: start `agenthub worker` or `agenthub serve` on this database")
    assert "a Camunda connector that agenthub does not run" in camunda
    assert "asks the MCP client whose tool call started the instance: it runs in `agenthub serve`" in roots


def test_a_job_waiting_on_remote_work_says_on_what_and_when_it_is_checked_next_and_gets_no_hint(
    capsys: pytest.CaptureFixture[str],
) -> None:
    remote = {"reason": "A2A task t-1 of agent 'helper' (working)", "nextCheck": "2026-12-06T10:00:30Z"}
    view = _view({**_waiting("a2a", claims=1), "remoteWait": remote})
    print_instance(view, as_json=False)
    print_run_hints(view)
    out, err = capsys.readouterr()
    assert ("    waiting on A2A task t-1 of agent 'helper' (working); checked next at 2026-12-06 10:00:30 UTC "
            "(job 7, no worker slot held)") in out.splitlines()
    assert err == ""


def test_an_instance_waiting_for_nothing_gets_no_hint(capsys: pytest.CaptureFixture[str]) -> None:
    print_run_hints(_view(None))
    assert capsys.readouterr() == ("", "")


def test_a_table_aligns_columns_under_their_headers_and_leaves_the_last_one_unpadded() -> None:
    assert table(["ID", "NAME", "NOTE"], [["1", "a long name", ""], ["22", "b", "x y"]]) == [
        "ID  NAME         NOTE",
        "1   a long name",
        "22  b            x y",
    ]


def test_times_are_shown_in_utc_to_the_second() -> None:
    assert utc_time(1_796_551_452_692) == "2026-12-06 10:04:12"
    assert utc_time(None) == ""
    assert due_time("2030-01-02T12:30:00+02:00") == "2030-01-02 10:30:00"
    assert due_time("2030-01-02T12:30:00Z") == "2030-01-02 12:30:00"
    assert due_time("next week") == "next week" and due_time(None) == ""


def test_long_cells_are_one_line_and_shortened() -> None:
    assert clip("two\nlines", 20) == "two lines"
    assert clip("x" * 30, 10) == "x" * 9 + "…"
    assert compact({"question": "Which size?", "amount": 120}) == 'question="Which size?", amount=120'
