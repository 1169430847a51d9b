"""AI-drafted process changes, deployed only when a person of the process's owner group approves them.

A draft's life, one way only::

    propose -> proposed --approve--> approved --deploy--> deployed
                        --reject---> rejected
            -> invalid  (its BPMN failed the checks: kept to be seen, never deployed)

``propose`` asks a model for a changed BPMN (``ask`` is given by the hub,
which knows the model providers; discover does not) with the brief
(``discover.draft_checks``), checks it, lays it out, diffs it against the
version it was drawn from (``discover.draft_diff``) and stores it. A model
answer with no BPMN in it (the ``offline`` model writes none) is an error,
not a draft.

Who decides: a member of the group the process names as its owner
(``agenthub:ownerGroup`` on ``<bpmn:process>`` of the version the draft was
drawn from), and never the draft's requester (four eyes). A process that
names no owner group has no approver: its drafts wait, and the refusal says
how to name one. Rejected alternative: running an internal review process
so the approval is a user task in the inbox; it would deploy a process of
ours into every hub and tie a draft's state to an instance's. The approval
is a record here instead, with who decided and when.

Approval deploys at once, as a new version, provided the process is still
at the version the draft was drawn from (else the draft is stale: 409, draft
again). The state moves to ``approved`` before the deployment, so two
approvals at once deploy once.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import insert, select, update

from discover.draft_checks import OWNER_ATTRIBUTE, DraftCheck, bpmn_of, check_draft, draft_messages, owner_group
from discover.draft_diff import marks, structural_diff
from discover.exceptions import DiscoverError, DraftConflict, DraftRefused, UnknownDraft, UnknownProcess
from discover.schema import drafts
from engine import Engine, EngineError, NotFound
from registry.store import RegistryStore, now_ms

__all__ = ["Ask", "Draft", "DraftState", "Drafts"]

Ask = Callable[[list[dict[str, Any]]], dict[str, Any]]  # the conversation -> the model's answer (engine.agent.turn)
MAX_GOAL = 4000


class DraftState(StrEnum):
    PROPOSED = "proposed"
    INVALID = "invalid"
    APPROVED = "approved"  # while it deploys
    REJECTED = "rejected"
    DEPLOYED = "deployed"


@dataclass(frozen=True, slots=True)
class Draft:
    id: int
    process_id: str
    base_version: int
    goal: str
    model: str
    bpmn: str
    checks: dict[str, Any]
    diff: dict[str, Any]
    state: DraftState
    requested_by: str
    requested_at: int
    decided_by: str | None
    decided_at: int | None
    reason: str | None
    deployed_version: int | None

    def to_json(self, *, full: bool = False) -> dict[str, Any]:
        """The draft as the CLI and REST print it; ``full`` adds its BPMN, its checks and diff in detail and the
        diagram marks."""
        found = {"id": self.id, "processId": self.process_id, "baseVersion": self.base_version, "goal": self.goal,
                 "model": self.model, "state": str(self.state), "requestedBy": self.requested_by,
                 "requestedAt": self.requested_at, "decidedBy": self.decided_by, "decidedAt": self.decided_at,
                 "reason": self.reason, "deployedVersion": self.deployed_version,
                 "checksPassed": bool(self.checks.get("passed"))}
        if full:
            found.update(checks=self.checks, diff=self.diff, marks=marks(self.diff), bpmn=self.bpmn)
        return found


def _draft(row: Any) -> Draft:
    return Draft(row.id, row.process_id, row.base_version, row.goal, row.model, row.bpmn, json.loads(row.checks),
                 json.loads(row.diff), DraftState(row.state), row.requested_by, row.requested_at, row.decided_by,
                 row.decided_at, row.reason, row.deployed_version)


class Drafts:
    def __init__(self, store: RegistryStore, engine: Engine) -> None:
        self._store = store
        self._engine = engine

    def _latest(self, process_id: str) -> int:
        versions = [int(d["version"]) for d in self._engine.definitions(process_id)]
        if not versions:
            raise UnknownProcess(f"process '{process_id}' is not deployed: there is nothing to draft a change of")
        return max(versions)

    def propose(self, process_id: str, goal: str, model: str, ask: Ask, *, by: str) -> Draft:
        """Ask the model for a change of the latest version towards ``goal`` and store what it drafted."""
        goal = goal.strip()
        if not goal or len(goal) > MAX_GOAL:
            raise DiscoverError(f"the goal must be 1 to {MAX_GOAL} characters: say what the change should achieve")
        base = self._latest(process_id)
        answer = ask(draft_messages(self._engine, process_id, base, goal))
        xml = bpmn_of(answer)
        if xml is None:
            raise DiscoverError(
                f"model '{model}' answered with no BPMN document, so there is no draft"
                + (" (the offline model cannot write BPMN: use a litellm model, or scripted:PATH whose final answer "
                   "is the BPMN)" if model == "offline" else ": ask again, or use another model"))
        with self._store.begin() as conn:
            key = conn.execute(insert(drafts).values(
                process_id=process_id, base_version=base, goal=goal, model=model[:255], bpmn="", checks="{}",
                diff="{}", state=DraftState.INVALID, requested_by=by[:255], requested_at=now_ms())
            ).inserted_primary_key
            assert key is not None
            draft_id = int(key[0])
        check = check_draft(xml, process_id, f"draft-{draft_id}.bpmn")
        diff = structural_diff(self._engine.process(process_id, base), check.process) \
            if check.process is not None else {}
        return self._store_check(draft_id, check, diff)

    def _store_check(self, draft_id: int, check: DraftCheck, diff: dict[str, Any]) -> Draft:
        state = DraftState.PROPOSED if check.process is not None else DraftState.INVALID
        with self._store.begin() as conn:
            conn.execute(update(drafts).where(drafts.c.id == draft_id).values(
                bpmn=check.bpmn, checks=json.dumps(check.to_json()), diff=json.dumps(diff), state=state))
        return self.get(draft_id)

    def get(self, draft_id: int) -> Draft:
        with self._store.read() as conn:
            row = conn.execute(select(drafts).where(drafts.c.id == draft_id)).first()
        if row is None:
            raise UnknownDraft(f"no draft has id {draft_id}: `agenthub draft list` lists them")
        return _draft(row)

    def all(self, process_id: str | None = None, state: str | None = None, *, limit: int = 100,
            after: int | None = None) -> list[Draft]:
        """Drafts, newest first (ids below ``after``), of one process and in one state where given."""
        query = select(drafts).order_by(drafts.c.id.desc()).limit(limit)
        if process_id is not None:
            query = query.where(drafts.c.process_id == process_id)
        if state is not None:
            try:
                query = query.where(drafts.c.state == DraftState(state))
            except ValueError:
                raise DiscoverError(f"'{state}' is not a draft state: use one of "
                                    f"{', '.join(s.value for s in DraftState)}") from None
        if after is not None:
            query = query.where(drafts.c.id < after)
        with self._store.read() as conn:
            return [_draft(r) for r in conn.execute(query)]

    def _may_decide(self, draft: Draft, who: str, groups: frozenset[str], verb: str) -> None:
        if draft.state != DraftState.PROPOSED:
            raise DraftConflict(f"draft {draft.id} is {draft.state}: only a proposed draft can be {verb}d"
                                + (" (its BPMN failed the checks: see `agenthub draft show`)"
                                   if draft.state == DraftState.INVALID else ""))
        if verb == "reject" and who == draft.requested_by:
            return  # a requester may withdraw their own draft
        if verb == "approve" and who == draft.requested_by:
            raise DraftRefused(f"'{who}' requested draft {draft.id} and may not approve it: another member of the "
                               "process's owner group must")
        group = self.owner_of(draft)
        if group is None:
            raise DraftRefused(f"process '{draft.process_id}' names no owner group, so no one may {verb} its drafts: "
                               f"add agenthub:{OWNER_ATTRIBUTE}=\"GROUP\" to its <bpmn:process> and deploy it")
        if group not in groups:
            raise DraftRefused(f"'{who}' may not {verb} draft {draft.id}: only members of group '{group}', the owner "
                               f"group of process '{draft.process_id}', may")

    def owner_of(self, draft: Draft) -> str | None:
        """The owner group of the version the draft was drawn from: whose members decide it."""
        return owner_group(self._engine.process(draft.process_id, draft.base_version))

    def may_decide(self, draft: Draft, who: str, groups: frozenset[str], verb: str) -> bool:
        """Whether ``who`` may ``verb`` ("approve" or "reject") the draft now (what the console offers)."""
        try:
            self._may_decide(draft, who, groups, verb)
        except (DraftRefused, DraftConflict):
            return False
        return True

    def _decide(self, draft: Draft, state: DraftState, who: str, reason: str | None) -> bool:
        with self._store.begin() as conn:
            return bool(conn.execute(update(drafts).where(
                drafts.c.id == draft.id, drafts.c.state == DraftState.PROPOSED).values(
                state=state, decided_by=who[:255], decided_at=now_ms(), reason=reason)).rowcount)

    def reject(self, draft_id: int, who: str, groups: frozenset[str], reason: str | None = None) -> Draft:
        """Refuse the draft (an owner-group member, or its requester withdrawing it)."""
        draft = self.get(draft_id)
        self._may_decide(draft, who, groups, "reject")
        if not self._decide(draft, DraftState.REJECTED, who, reason):
            raise DraftConflict(f"draft {draft_id} was decided by someone else just now")
        return self.get(draft_id)

    def approve(self, draft_id: int, who: str, groups: frozenset[str]) -> Draft:
        """Approve the draft and deploy it as the process's next version."""
        draft = self.get(draft_id)
        self._may_decide(draft, who, groups, "approve")
        latest = self._latest(draft.process_id)
        if latest != draft.base_version:
            raise DraftConflict(f"process '{draft.process_id}' is at version {latest} now and draft {draft_id} was "
                                f"drawn from version {draft.base_version}: draft the change again")
        if not self._decide(draft, DraftState.APPROVED, who, None):
            raise DraftConflict(f"draft {draft_id} was decided by someone else just now")
        try:
            deployed = self._engine.deploy([(f"{draft.process_id}.bpmn", draft.bpmn)], name=f"draft {draft_id}")
        except (EngineError, NotFound) as exc:
            with self._store.begin() as conn:
                conn.execute(update(drafts).where(drafts.c.id == draft_id).values(
                    state=DraftState.PROPOSED, decided_by=None, decided_at=None))
            raise DraftConflict(f"draft {draft_id} did not deploy: {exc}") from None
        version = next(d.version for d in deployed if d.process_id == draft.process_id)
        with self._store.begin() as conn:
            conn.execute(update(drafts).where(drafts.c.id == draft_id).values(
                state=DraftState.DEPLOYED, deployed_version=version))
        return self.get(draft_id)
