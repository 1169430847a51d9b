"""MCP roots mid-run: a task of job type ``mcp:roots`` asks the calling client for its roots.

A process started by an MCP tool call may need to know where its caller
works (the client's roots: ``file://`` folders, repositories) only at some
point of its run, after a decision, or beside other questions. A service task

    <bpmn:serviceTask id="roots">
      <bpmn:extensionElements>
        <zeebe:taskDefinition type="mcp:roots"/>
      </bpmn:extensionElements>
    </bpmn:serviceTask>

asks the client whose tool call started the instance (or an instance that
called it) for them, and sets them as the variable ``clientRoots`` (a list of
``{"uri", "name"}`` objects, as MCP writes roots; the task header
``resultVariable`` names another variable). On a 2025-era session the hub
sends ``roots/list`` as a server request on the call's stream; on 2026-07-28,
which carries none, the request travels in the call's result as an input
request (multi-round-trip requests, SEP-2322) beside the instance's other
questions (its user tasks for the caller, its ``mcp:sampling`` model steps),
and the client's next call brings the answer; a call answered with an MCP
task carries it in ``tasks/get`` and takes the answer in ``tasks/update``.
The task waits at most as long as a sampling step does
(``sampling.RESULT_WAIT_S``, or the call's time budget on a session).

A tool that needs the roots before anything starts declares
``clientCapabilities="roots"`` on ``<agenthub:tool>`` instead: they are asked
before its instance starts (``_process_tools``).

Failed without retries (an incident that says why, at once): an instance no
waiting tool call of this hub process started (REST, A2A, ``agenthub
worker``, a call that has answered), a client that did not declare the
``roots`` capability, one that refused the request or sent no roots.
"""

from __future__ import annotations

import asyncio
import warnings
from typing import Any, Final

from mcp.shared.exceptions import MCPDeprecationWarning, MCPError
from mcp_types import ListRootsRequest, ListRootsResult
from pydantic import ValidationError

from engine.exceptions import JobFailure
from engine.scheduler import Job
from protocols.mcp.sampling import CALLERS, RESULT_WAIT_S, Ancestors, SamplingCaller, SamplingCallers, ask_now

__all__ = ["DEFAULT_VARIABLE", "ROOTS_JOB_TYPE", "ClientRoots"]

ROOTS_JOB_TYPE: Final = "mcp:roots"
DEFAULT_VARIABLE: Final = "clientRoots"


class ClientRoots:
    """The ``mcp:roots`` job handler (blocking: it runs on one of the worker loop's threads while it waits)."""

    def __init__(self, callers: SamplingCallers = CALLERS, ancestors: Ancestors | None = None) -> None:
        self.callers = callers
        self.ancestors = ancestors

    def __call__(self, job: Job) -> dict[str, Any]:
        found = self.callers.find_for(job.instance, self.ancestors)
        if found is None:
            raise JobFailure(
                f"no MCP tool call of this hub is waiting on instance {job.instance} or an instance that called "
                "it, so there is no client to ask for its roots: the caller's MCP session is gone (or its call has "
                "answered), or the instance was not started by an MCP tool call (REST, A2A)", retries=0)
        caller, asking = found
        if "roots" not in caller.declared:
            raise JobFailure(f"the calling MCP client did not declare the 'roots' capability, so instance "
                             f"{job.instance} cannot learn its roots", retries=0)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:  # the request runs on the session's loop: waiting for it from a loop would block that loop
            raise JobFailure("mcp:roots blocks: run it on a worker thread, not an event loop", retries=0)
        answer = self._in_result(asking, caller) if caller.in_result else self._ask(caller)
        roots = [root.model_dump(mode="json", exclude_none=True) for root in answer.roots]
        return {job.headers.get("resultVariable") or DEFAULT_VARIABLE: roots}

    def _in_result(self, instance: int, caller: SamplingCaller) -> ListRootsResult:
        answer = self.callers.ask_in_result(instance, caller, ListRootsRequest())
        if not isinstance(answer, ListRootsResult):
            raise JobFailure(f"the client did not call again with its answer to roots/list within "
                             f"{RESULT_WAIT_S:g} s (or the hub stopped meanwhile)", retries=0)
        return answer

    @staticmethod
    def _ask(caller: SamplingCaller) -> ListRootsResult:
        try:
            with warnings.catch_warnings():  # roots are deprecated from 2026-07-28 on, current before
                warnings.simplefilter("ignore", MCPDeprecationWarning)
                return ask_now(caller, ListRootsRequest(), ListRootsResult)
        except TimeoutError:
            raise JobFailure("the client did not answer roots/list within the tool call's time", retries=0) from None
        except MCPError as exc:
            raise JobFailure(f"the client refused roots/list: {exc}", retries=0) from None
        except ValidationError as exc:
            raise JobFailure(f"the client's answer to roots/list is not a list of roots ({exc.error_count()} "
                             "problems)", retries=0) from None
        except Exception as exc:  # the session closed under the request: its transport's error, whatever it is
            raise JobFailure(f"the caller's MCP session is gone: {exc}", retries=0) from None
