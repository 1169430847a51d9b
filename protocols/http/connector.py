"""The ``http`` job handler: one REST call per job, its answer mapped into process variables.

Lifecycle of one job:

1. read the task (``task.read_task``): headers and variables are checked and
   ``resultExpression`` compiled before anything is sent;
2. resolve the URL's host once, check every address against the egress policy
   and connect to a checked address (the URL's host stays in ``Host`` and, for
   https, in the TLS server name, so the certificate is verified for the name);
3. follow up to five redirects, each hop checked again like the first; a hop to
   another origin carries only ``Accept``, ``Accept-Language``, ``Content-Type``
   and ``User-Agent`` of the request headers;
4. read the body up to the size cap; JSON becomes data, anything else text;
5. a status listed in ``errorStatuses`` throws the BPMN error ``HTTP_<status>``;
   any other status of 400 or more fails the job (retried, then an incident);
   otherwise the response, or what ``resultExpression`` makes of it, becomes
   the result variables.

The whole exchange, name resolution included, must end within the timeout.
Environment proxy settings (``HTTP_PROXY`` ...) are ignored: a proxy would
connect on our behalf to an address we never checked.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from collections import ChainMap
from dataclasses import dataclass, replace
from typing import Any

import httpx

from engine import BpmnError, strict_json
from engine.feel import FeelError, to_json
from engine.redaction import REDACTED
from engine.scheduler import Job
from protocols.http.egress import EgressPolicy, IPAddress, Resolver, parse_address, system_resolver
from protocols.http.exceptions import (
    ConnectionFailed,
    HttpStatusFailure,
    HttpTimeout,
    InvalidTask,
    RedirectFailed,
    ResponseTooLarge,
)
from protocols.http.routes import HttpRoutes
from protocols.http.secrets import SecretProvider, environ_secret
from protocols.http.task import HttpTask, display_url, read_task

__all__ = ["MAX_REDIRECTS", "HttpConnector", "HttpResponse", "masked", "redact"]

MIB = 1024 * 1024
MAX_REDIRECTS = 5
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CROSS_ORIGIN_HEADERS = frozenset({"accept", "accept-language", "content-type", "user-agent"})
_EXCERPT = 300


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """The final answer: what ``resultExpression`` sees as ``response`` (without ``reason``)."""

    status: int
    reason: str
    headers: dict[str, str]  # lower-case names; repeated headers joined with ", "
    body: Any  # parsed JSON, text, or None when empty
    content: bytes = b""  # the body as received, for a caller that needs the bytes (an image, a PDF)

    def to_variable(self) -> dict[str, Any]:
        return {"status": self.status, "headers": self.headers, "body": self.body}


@dataclass(frozen=True, slots=True)
class _Hop:
    """One request on the way to the answer: the first, or one a redirect asked for."""

    method: str
    url: httpx.URL
    headers: tuple[tuple[str, str], ...]
    content: bytes | None


class HttpConnector:
    """Handler for jobs of type ``http``: ``registry.register("http", HttpConnector(policy))``.

    ``timeout_s`` is the default for tasks without a ``timeout`` header;
    ``max_response_bytes`` caps a response body (after decompression).
    ``resolve`` and ``ssl_context`` replace the system resolver and the default
    trust store (certifi, or ``SSL_CERT_FILE``/``SSL_CERT_DIR``); ``secrets``
    gives the values of ``{{secrets.NAME}}`` placeholders (by default the
    environment variable ``AGENTHUB_SECRET_<NAME>`` or ``NAME``, read at call time); ``routes`` send a
    task's URL where the operator says (``AGENTHUB_HTTP_ROUTES``, ``protocols.http.routes``) before anything else.
    """

    def __init__(
        self,
        egress: EgressPolicy,
        *,
        timeout_s: float = 30.0,
        max_response_bytes: int = 10 * MIB,
        resolve: Resolver = system_resolver,
        ssl_context: ssl.SSLContext | None = None,
        secrets: SecretProvider = environ_secret,
        routes: HttpRoutes | None = None,
    ) -> None:
        if timeout_s <= 0 or max_response_bytes <= 0:
            raise ValueError("timeout_s and max_response_bytes must be positive")
        self.egress = egress
        self.timeout_s = timeout_s
        self.max_response_bytes = max_response_bytes
        self._resolve = resolve
        self._ssl = ssl_context or httpx.create_ssl_context()
        self._secrets = secrets
        self.routes = routes or HttpRoutes()

    @property
    def secrets(self) -> SecretProvider:
        """Where ``{{secrets.NAME}}`` values come from (the Camunda flavour reads them through this too)."""
        return self._secrets

    async def __call__(self, job: Job) -> dict[str, Any]:
        task = read_task(job, default_timeout_s=self.timeout_s, secrets=self._secrets)
        return _outcome(task, job, await self.send(task))

    async def send(self, task: HttpTask) -> HttpResponse:
        """Make the request ``task`` describes under the egress policy, redirects followed; the final answer.

        Any status is an answer here: what a status means is the caller's business. Credentials that a
        server echoes are still in the answer (``masked`` removes them).
        """
        if self.routes:
            routed = self.routes.route(str(task.url))
            if routed != str(task.url):
                task = replace(task, url=httpx.URL(routed))
        try:
            async with asyncio.timeout(task.timeout_s):
                return await self._follow(task)
        except TimeoutError:
            raise self._timed_out(task) from None

    async def _follow(self, task: HttpTask) -> HttpResponse:
        hop = _Hop(task.method, task.url, task.headers, task.content)
        for _ in range(MAX_REDIRECTS + 1):
            response, location = await self._send(task, hop)
            if location is None:
                return response
            hop = _redirected(hop, response.status, location)
        raise RedirectFailed(f"{task.where}: {task.method} {display_url(task.url)} redirected more than "
                             f"{MAX_REDIRECTS} times")

    async def _send(self, task: HttpTask, hop: _Hop) -> tuple[HttpResponse, httpx.URL | None]:
        host = hop.url.raw_host.decode("ascii")
        port = hop.url.port or (443 if hop.url.scheme == "https" else 80)
        addresses = await self.egress.admit(host, port, self._resolve)
        last: httpx.ConnectError | None = None
        for address in addresses:  # every one was checked; try them in the resolver's order
            try:
                return await self._exchange(task, hop, address)
            except httpx.ConnectError as exc:
                last = exc
        tried = ", ".join(str(a) for a in addresses)
        raise ConnectionFailed(
            redact(f"{task.where}: cannot connect to {display_url(hop.url)} at {tried}: {last}", task.secrets)
        )

    async def _exchange(
        self, task: HttpTask, hop: _Hop, address: IPAddress
    ) -> tuple[HttpResponse, httpx.URL | None]:
        host = hop.url.raw_host.decode("ascii")
        # Connect to the checked address; the name stays in Host and in TLS (SNI and certificate check).
        target = hop.url.copy_with(host=str(address))
        headers = [*hop.headers, ("Host", hop.url.netloc.decode("ascii"))]
        extensions = {"sni_hostname": host} if hop.url.scheme == "https" and parse_address(host) is None else {}
        # A client per hop: a pooled connection is keyed by address, and must not be reused for another name.
        try:
            async with (
                httpx.AsyncClient(verify=self._ssl, trust_env=False, timeout=task.timeout_s) as client,
                client.stream(hop.method, target, headers=headers, content=hop.content, extensions=extensions) as r,
            ):
                status, reason = r.status_code, r.reason_phrase
                found = dict(r.headers.items())
                location = _location(task, hop, status, found)
                if location is not None:
                    return HttpResponse(status, reason, found, None), location
                data = await self._read(task, hop, r)
                return HttpResponse(status, reason, found, _parse_body(hop.method, r, data), data), None
        except httpx.ConnectError:
            raise
        except httpx.TimeoutException:
            raise self._timed_out(task) from None
        except httpx.HTTPError as exc:
            message = f"{task.where}: {hop.method} {display_url(hop.url)} failed: {type(exc).__name__}: {exc}"
            raise ConnectionFailed(redact(message, task.secrets)) from None

    async def _read(self, task: HttpTask, hop: _Hop, response: httpx.Response) -> bytes:
        cap = self.max_response_bytes
        too_large = f"{task.where}: the response of {hop.method} {display_url(hop.url)} is larger than {cap} bytes"
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            raise ResponseTooLarge(f"{too_large} (Content-Length: {declared})")
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > cap:
                raise ResponseTooLarge(too_large)
            chunks.append(chunk)
        return b"".join(chunks)

    @staticmethod
    def _timed_out(task: HttpTask) -> HttpTimeout:
        return HttpTimeout(
            f"{task.where}: {task.method} {display_url(task.url)} gave no complete answer within {task.timeout_s:g} s"
        )


def _location(task: HttpTask, hop: _Hop, status: int, headers: dict[str, str]) -> httpx.URL | None:
    """Where a redirect to follow points, or None when this answer is the final one."""
    if not task.follow_redirects or status not in _REDIRECTS or "location" not in headers:
        return None
    try:
        url = hop.url.join(headers["location"])
    except httpx.InvalidURL:
        url = None
    if url is None or url.scheme not in ("http", "https") or not url.host:
        raise RedirectFailed(f"{task.where}: {hop.method} {display_url(hop.url)} redirected to a Location that is "
                             "not an http(s) URL")
    return url


def _redirected(hop: _Hop, status: int, url: httpx.URL) -> _Hop:
    """The request a redirect asks for (as browsers and httpx do it)."""
    method, content, headers = hop.method, hop.content, hop.headers
    if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
        method, content = "GET", None
        headers = tuple((n, v) for n, v in headers if n.lower() != "content-type")
    if (url.scheme, url.raw_host, url.port) != (hop.url.scheme, hop.url.raw_host, hop.url.port):
        # Another origin gets no credentials, whatever header carries them.
        headers = tuple((n, v) for n, v in headers if n.lower() in _CROSS_ORIGIN_HEADERS)
    return _Hop(method, url, headers, content)


def _parse_body(method: str, response: httpx.Response, data: bytes) -> Any:
    if method == "HEAD" or not data:
        return None
    media = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        try:
            return strict_json.loads(data)  # NaN, Infinity and lone surrogates cannot be stored as variables
        except strict_json.JsonProblem:
            pass  # mislabelled, too deep or unstorable: keep it as text rather than fail a call that succeeded
    return data.decode(response.charset_encoding or "utf-8", errors="replace")


def _outcome(task: HttpTask, job: Job, response: HttpResponse) -> dict[str, Any]:
    """The job's result variables, a BPMN error, or a failure, by status."""
    said = f"{task.method} {display_url(task.url)} answered {response.status} {response.reason}".rstrip()
    # A server may echo the request: the credentials sent are masked before anything is returned or raised.
    value = masked(response.to_variable(), task.credentials)
    if response.status in task.error_statuses:
        raise BpmnError(f"HTTP_{response.status}", redact(said, task.secrets), {"response": value})
    if response.status >= 400:
        raise HttpStatusFailure(redact(f"{task.where}: {said}{_excerpt(response.body)}", task.secrets),
                                response.status)
    if task.result_expression is None:
        return {task.result_variable or "response": value}
    try:
        result = to_json(task.result_expression.evaluate(ChainMap({"response": value}, job.variables)))
    except FeelError as exc:
        raise InvalidTask(f"{task.where}: resultExpression cannot be evaluated: {exc}") from None
    if task.result_variable:
        return {task.result_variable: result}
    if result is None:
        return {}
    if not isinstance(result, dict):
        raise InvalidTask(f"{task.where}: resultExpression gave {type(result).__name__}; without a resultVariable it "
                          "must give a context, whose entries become variables")
    return result


def _excerpt(body: Any) -> str:
    if body is None or body == "":
        return ""
    text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
    return f"; body: {text[:_EXCERPT]}" + ("..." if len(text) > _EXCERPT else "")


def redact(message: str, secrets: tuple[str, ...]) -> str:
    """Remove secrets (longest first) from a message (a server may echo them, a library may quote them)."""
    for secret in secrets:
        message = message.replace(secret, REDACTED)
    return message


def masked(value: Any, secrets: tuple[str, ...]) -> Any:
    """JSON-like ``value`` with the secrets removed from its strings, keys included."""
    if not secrets:
        return value
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, dict):
        return {redact(str(key), secrets): masked(item, secrets) for key, item in value.items()}
    if isinstance(value, list):
        return [masked(item, secrets) for item in value]
    return value
