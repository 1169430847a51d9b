"""The HTTP connector's error tree.

HttpConnectorError               base: the call failed; the job fails, is retried with backoff, then an incident
 +-- InvalidTask                 the task's headers or input variables are wrong (names the header or variable)
 +-- EgressDenied                the destination is not on the egress allow-list (says what to add)
 +-- ConnectionFailed            the name did not resolve, no address accepted a connection, or the exchange broke
 +-- HttpTimeout                 no complete answer within the timeout
 +-- ResponseTooLarge            the response body is larger than the connector's cap
 +-- RedirectFailed              more than five redirects, or a Location that is not an http(s) URL
 +-- HttpStatusFailure           a 4xx or 5xx status that ``errorStatuses`` does not turn into a BPMN error

EgressConfigError (a ValueError) is raised when the allow-list itself is
malformed, at start-up, never while a job runs. A status listed in
``errorStatuses`` is not an error of the connector: it raises
``engine.BpmnError`` so that the process can catch it.

No message ever contains a request header value, the URL's user info or its
query: they may carry credentials.
"""

from __future__ import annotations

from collections.abc import Sequence


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
