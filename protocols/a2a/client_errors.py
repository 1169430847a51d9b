"""The A2A client's own failures (``protocols.a2a.client``, ``call_task``)::

    A2ACallError           base: the call failed; the job is retried with backoff, then an incident
     +-- AgentUnusable     the card offers no interface this client speaks, or the token's variable is unset
     +-- RemoteTaskLost    the agent no longer knows the task it started
     +-- ResultTooLarge    the finished task's artifacts are larger than the cap
     +-- WaitEnded         (call_task) the wait stopped without an outcome: job withdrawn, or the hub stopping

Errors of the SDK (``a2a.utils.errors.A2AError``: transport failures, JSON-RPC
errors) and of the egress policy (``protocols.http.EgressDenied``,
``ConnectionFailed``) pass through unchanged. No message carries a token.
"""

from __future__ import annotations

__all__ = ["A2ACallError", "AgentUnusable", "RemoteTaskLost", "ResultTooLarge"]


class A2ACallError(Exception):
    """Base of the client's own failures; the message says which agent and what to do."""


class AgentUnusable(A2ACallError):
    pass


class RemoteTaskLost(A2ACallError):
    pass


class ResultTooLarge(A2ACallError):
    pass
