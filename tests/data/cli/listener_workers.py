"""Workers for the task listeners of tests/data/listeners/assigning.bpmn, as a Camunda listener worker would be."""

from typing import Any

from engine import Job, worker


@worker("route-review")
def route(job: Job) -> dict[str, Any]:
    return {}


@worker("check-reviewer")
def check(job: Job) -> dict[str, Any]:
    return {}


@worker("notify-reviewer")
def notify(job: Job) -> dict[str, Any]:
    return {}


@worker("withdraw-review")
def withdraw(job: Job) -> dict[str, Any]:
    return {"withdrawn": True}
