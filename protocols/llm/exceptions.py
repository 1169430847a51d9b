"""The model providers' error tree.

ModelError                 base: the model step failed; the job fails, is retried with backoff, then an incident
 +-- UnknownModel          the model string is empty, malformed or names no known kind of model (also a ValueError)
 +-- ModelFileInvalid      a ``scripted:`` or ``rules:`` file is missing, not JSON, or malformed; lists every problem
 +-- ScriptExhausted       a scripted model was asked for a turn its file does not hold
 +-- NoRuleMatched         no rule of a rules file applies to the conversation
 +-- RuleFailed            a rule's FEEL expression could not be evaluated
 +-- ModelCallFailed       the provider call failed: connection, HTTP status, timeout or an unreadable response
 +-- ModelUnavailable      no retry can help this step (``mcp:sampling`` with no caller to ask): an incident at once

None of them is a BPMN error on purpose: a model that cannot answer is an
operational problem (a key, an endpoint, a file), and an incident is where an
operator sees it and retries once it is fixed. No message ever contains an API
key: provider errors are scrubbed of every secret found in the environment.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

__all__ = [
    "ModelCallFailed",
    "ModelError",
    "ModelFileInvalid",
    "ModelUnavailable",
    "NoRuleMatched",
    "RuleFailed",
    "ScriptExhausted",
    "UnknownModel",
]


class ModelError(Exception):
    """Base class of the model providers' failures; any of them fails the model job's attempt."""


class UnknownModel(ModelError, ValueError):
    """The model string cannot be resolved; the message says which kinds exist."""


class ModelFileInvalid(ModelError):
    """A scripted or rules file cannot be used. ``problems`` holds each one as ``"<where>: <what>"``."""

    def __init__(self, path: Path, problems: Sequence[str]) -> None:
        self.path = path
        self.problems = tuple(problems)
        listed = "\n".join(f"  {problem}" for problem in self.problems)
        super().__init__(f"{path}: {len(self.problems)} problem(s):\n{listed}")


class ScriptExhausted(ModelError):
    pass


class NoRuleMatched(ModelError):
    pass


class RuleFailed(ModelError):
    pass


class ModelCallFailed(ModelError):
    pass


class ModelUnavailable(ModelError):
    """The model cannot answer this step and retrying will not change that: ``ModelTask`` fails the job without
    retries, so the incident says why at once (``ModelTask`` turns it into ``JobFailure(retries=0)``)."""
