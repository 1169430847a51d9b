"""The HTTP connector's error tree.

HttpConnectorError               base: the call failed; the job fails, is retried with backoff, then an incident
 +-- InvalidTask                 the task's headers or input variables are wrong (names the header or variable)
 +-- EgressDenied                the destination is not on the egress allow-list (says what to add)
 +-- ConnectionFailed            the name did not resolve, no address accepted a connection, or the exchange broke
 +-- HttpTimeout                 no complete answer within the timeout
 +-- ResponseTooLarge            the response body is larger than the connector's cap
 +-- RedirectFailed              more than five redirects, or a Location that is not an http(s) URL
 +-- HttpStatusFailure           a 4xx or 5xx status that ``errorStatuses`` does not turn into a BPMN error

ConnectorError                   a Camunda connector's failure as its errorExpression sees it (``error.code``,
 |                               ``error.message``, ``error.variables``): retried, after ``retryBackoff``
 +-- ConnectorInputError         the task's inputs or headers are wrong: no retries, an incident at once

``outbound.run_outbound`` turns these into ``engine.exceptions.JobFailure`` (or a BPMN error, as the
``errorExpression`` says); they never reach the worker loop themselves.

EgressConfigError (a ValueError) is raised when the allow-list itself is
malformed, at start-up, never while a job runs. A status listed in
``errorStatuses`` is not an error of the connector: it raises
``engine.BpmnError`` so that the process can catch it.

No message ever contains a request header value, the URL's user info or its
query: they may carry credentials.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class HttpConnectorError(Exception):
    """Base class of the connector's failures; any of them fails the job attempt."""


class InvalidTask(HttpConnectorError):
    pass


class EgressDenied(HttpConnectorError):
    """The destination, or one of the addresses its name resolves to, is not allowed."""

    def __init__(self, message: str, host: str, refused: Sequence[str]) -> None:
        super().__init__(message)
        self.host = host
        self.refused = tuple(refused)


class ConnectionFailed(HttpConnectorError):
    pass


class HttpTimeout(HttpConnectorError):
    pass


class ResponseTooLarge(HttpConnectorError):
    pass


class RedirectFailed(HttpConnectorError):
    pass


class HttpStatusFailure(HttpConnectorError):
    """The server answered with a status of 400 or more that is not mapped to a BPMN error."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class EgressConfigError(ValueError):
    """An entry of the allow-list (``AGENTHUB_HTTP_ALLOW``) is not one of the accepted forms."""


MESSAGE_CAP = 2000  # characters of a message an errorExpression sees as error.message


class ConnectorError(Exception):
    """A connector's failure as an error expression sees it: ``error.code``, ``error.message``, ``error.variables``.

    ``code`` is what a BPMN error thrown for it would carry (an HTTP status as text, ``"404"``);
    ``variables`` may hold what the connector got back (``{"response": {"headers", "body"}}``), masked.
    """

    def __init__(self, message: str, *, code: str | None = None, variables: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.variables = variables

    def as_variable(self) -> dict[str, Any]:
        found: dict[str, Any] = {"type": type(self).__name__, "message": str(self)[:MESSAGE_CAP]}
        if self.code is not None:
            found["code"] = self.code
        if self.variables is not None:
            found["variables"] = self.variables
        return found


class ConnectorInputError(ConnectorError):
    """The task's inputs or headers are wrong: retrying cannot help, so the job fails with no retries left."""
