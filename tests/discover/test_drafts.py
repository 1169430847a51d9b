"""AI-drafted improvements, governed (issue 18, part 7), in process: a draft is checked by our parser, laid out and
diffed; only a member of the process's owner group other than its requester deploys it; the brief then compares the
new version with the old on the same measures."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from discover.compare import compare_versions
from discover.draft_diff import marks, structural_diff
from discover.drafts import Ask, Drafts, DraftState
from discover.exceptions import DiscoverError, DraftConflict, DraftRefused
from engine import Engine
from engine.parser import parse_bpmn
from engine.ports import ManualClock
from registry.store import RegistryStore
from tests.discover.claims import CLAIM, Truth, run_claims

OWNED = CLAIM.read_text().replace('<bpmn:process id="claim" name="Claim" isExecutable="true">',
                                  '<bpmn:process id="claim" name="Claim" isExecutable="true" '
                                  'xmlns:agenthub="urn:agenthub:bpmn:1" agenthub:ownerGroup="claims-owners">')
# the improvement: no second look at the claim, the check straight to the review's decision; a new notification
IMPROVED = (OWNED.replace('<bpmn:sequenceFlow id="more" sourceRef="decide" targetRef="check"/>',
                          '<bpmn:sequenceFlow id="more" sourceRef="decide" targetRef="rejected"/>')
            .replace('<bpmn:sequenceFlow id="f4" sourceRef="pay" targetRef="paid"/>',
                     '<bpmn:sequenceFlow id="f4" sourceRef="pay" targetRef="notify"/>'
                     '<bpmn:serviceTask id="notify" name="Tell the customer"><bpmn:extensionElements>'
                     '<zeebe:taskDefinition type="notify"/></bpmn:extensionElements></bpmn:serviceTask>'
                     '<bpmn:sequenceFlow id="f5" sourceRef="notify" targetRef="paid"/>')
            .replace('name="Review the claim"', 'name="Review the claim quickly"'))
OWNERS = frozenset({"claims-owners"})


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[Drafts, Engine, ManualClock]]:
    clock = ManualClock()
    engine = Engine.open("memory:", clock=clock)
    store = RegistryStore(f"sqlite:///{tmp_path / 'hub.db'}")
    engine.deploy([("claim.bpmn", OWNED)])
    yield Drafts(store, engine), engine, clock
    store.close()
    engine.close()


def answering(final: Any) -> Ask:
    seen: list[list[dict[str, Any]]] = []

    def ask(messages: list[dict[str, Any]]) -> dict[str, Any]:
        seen.append(messages)
        return {"final": final, "content": None}

    ask.seen = seen  # type: ignore[attr-defined]
    return ask


def test_the_structural_diff_names_the_elements_and_flows_added_removed_and_changed() -> None:
    old, new = parse_bpmn(OWNED).processes["claim"], parse_bpmn(IMPROVED).processes["claim"]
    diff = structural_diff(old, new)
    assert [e["id"] for e in diff["elements"]["added"]] == ["notify"] and diff["elements"]["removed"] == []
    [review] = diff["elements"]["changed"]
    assert review["id"] == "review" and review["was"] == {"name": "Review the claim"}
    assert {(f["source"], f["target"]) for f in diff["flows"]["added"]} == {
        ("decide", "rejected"), ("pay", "notify"), ("notify", "paid")}
    assert {(f["source"], f["target"]) for f in diff["flows"]["removed"]} == {("decide", "check"), ("pay", "paid")}
    assert marks(diff)["notify"] == "added" and marks(diff)["review"] == "changed" and marks(diff)["more"] == "added"
    assert structural_diff(old, old)["unchanged"]


def test_a_draft_is_asked_with_the_goal_the_brief_and_the_model_and_comes_back_checked_laid_out_and_diffed(
    setup: tuple[Drafts, Engine, ManualClock],
) -> None:
    drafts, _, _ = setup
    ask = answering({"bpmn": IMPROVED})
    draft = drafts.propose("claim", "no second reviews", "scripted:x.json", ask, by="ada")
    [[system, user]] = ask.seen  # type: ignore[attr-defined]
    assert "claim" in system["content"] and "Goal: no second reviews" in user["content"]
    assert '"opportunities"' in user["content"] and "BPMNDiagram" not in user["content"]
    assert draft.state == DraftState.PROPOSED and draft.base_version == 1 and draft.checks["passed"]
    assert "BPMNShape" in draft.bpmn and 'bpmnElement="notify"' in draft.bpmn  # laid out by our layout
    assert [e["id"] for e in draft.diff["elements"]["added"]] == ["notify"]
    assert [d.id for d in drafts.all("claim", "proposed")] == [draft.id]


def test_a_draft_that_fails_the_checks_is_kept_invalid_with_its_problems_and_cannot_be_approved(
    setup: tuple[Drafts, Engine, ManualClock],
) -> None:
    drafts, _, _ = setup
    broken = IMPROVED.replace('targetRef="notify"/>', 'targetRef="nowhere"/>')
    draft = drafts.propose("claim", "notify", "m", answering(broken), by="ada")
    assert draft.state == DraftState.INVALID and not draft.checks["passed"]
    assert any("nowhere" in e and f"draft-{draft.id}.bpmn:" in e for e in draft.checks["errors"])
    with pytest.raises(DraftConflict, match="invalid"):
        drafts.approve(draft.id, "cy", OWNERS)
    other = drafts.propose("claim", "rename", "m", answering(IMPROVED.replace('id="claim"', 'id="other"')), by="ada")
    assert other.checks["errors"] == [f"draft-{other.id}.bpmn: the draft holds no executable process 'claim' "
                                      "(it holds other)"]


def test_an_answer_with_no_bpmn_is_an_error_and_no_draft(setup: tuple[Drafts, Engine, ManualClock]) -> None:
    drafts, _, _ = setup
    with pytest.raises(DiscoverError, match="offline model cannot write BPMN"):
        drafts.propose("claim", "faster", "offline", answering({"summary": "done"}), by="ada")
    assert drafts.all() == []


def test_only_an_owner_group_member_other_than_the_requester_approves_and_the_draft_deploys(
    setup: tuple[Drafts, Engine, ManualClock],
) -> None:
    drafts, engine, _ = setup
    draft = drafts.propose("claim", "notify", "m", answering(IMPROVED), by="ada")
    with pytest.raises(DraftRefused, match="'ada' requested draft"):
        drafts.approve(draft.id, "ada", OWNERS)
    with pytest.raises(DraftRefused, match="only members of group 'claims-owners'"):
        drafts.approve(draft.id, "bob", frozenset({"claims"}))
    done = drafts.approve(draft.id, "cy", OWNERS)
    assert (done.state, done.deployed_version, done.decided_by) == (DraftState.DEPLOYED, 2, "cy")
    assert "notify" in engine.process("claim", 2).nodes
    with pytest.raises(DraftConflict, match="deployed"):
        drafts.reject(draft.id, "cy", OWNERS)


def test_a_stale_draft_is_refused_and_a_process_without_owner_group_has_no_approver(
    setup: tuple[Drafts, Engine, ManualClock],
) -> None:
    drafts, engine, _ = setup
    draft = drafts.propose("claim", "notify", "m", answering(IMPROVED), by="ada")
    engine.deploy([("claim.bpmn", OWNED.replace("Claim received", "Claim in"))])
    with pytest.raises(DraftConflict, match="at version 2 now"):
        drafts.approve(draft.id, "cy", OWNERS)
    assert drafts.reject(draft.id, "ada", frozenset(), "stale").state == DraftState.REJECTED  # withdrawn
    engine.deploy([("claim.bpmn", CLAIM.read_text())])
    unowned = drafts.propose("claim", "notify", "m", answering(IMPROVED), by="ada")
    with pytest.raises(DraftRefused, match=r'names no owner group.*agenthub:ownerGroup="GROUP"'):
        drafts.approve(unowned.id, "cy", OWNERS)


def test_the_brief_compares_the_new_version_with_the_old_on_the_same_measures() -> None:
    clock = ManualClock()
    engine = Engine.open("memory:", clock=clock)
    try:
        run_claims(engine, clock, Truth(instances=4, reworked=(0, 1), rejected=(), failing=()))  # version 1
        engine.deploy([("claim.bpmn", OWNED)])  # version 2, which run_claims replaces again with version 3
        run_claims(engine, clock, Truth(instances=2, reworked=(), rejected=(), failing=(),
                                        review=timedelta(minutes=30)))
        found = compare_versions(engine, "claim", 1, 3)
        with pytest.raises(DiscoverError, match="no version 9"):
            compare_versions(engine, "claim", 1, 9)
    finally:
        engine.close()
    assert (found["old"]["instances"], found["new"]["instances"]) == (4, 2)
    # two instances ran the check and the review again: four extra passes, and none after the change
    assert (found["old"]["reworkExtraPasses"], found["new"]["reworkExtraPasses"]) == (4, 0)
    assert found["change"]["reworkExtraPasses"] == -4 and found["change"]["cycleTimeP50Ms"] < 0
