"""What a service task of type ``http`` asks for: its task headers and input variables, read and checked.

Everything is read and checked before any request is sent, so a mistake in the
model (a FEEL syntax error in ``resultExpression``, a bad header) never fails a
job after a non-idempotent request went out.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from engine.feel import Expression, FeelError, compile_expression, is_expression, strip_marker, to_json
from engine.redaction import is_credential_name
from engine.scheduler import Job
from protocols.http.exceptions import InvalidTask
from protocols.http.secrets import SecretProvider, SecretResolver, environ_secret

__all__ = ["METHODS", "HttpTask", "RequestInputs", "StatusSet", "build_task", "display_url", "read_task", "where_of"]

METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
# Framing and routing are the connector's: Host always names the URL's host, the others follow the body.
_RESERVED_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_STATUS = re.compile(r"^(?:([1-5])xx|([1-5][0-9][0-9]))$")
_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def display_url(url: httpx.URL) -> str:
    """The URL for messages: no user info, no query (either may carry credentials), no fragment."""
    return f"{url.scheme}://{url.netloc.decode('ascii')}{url.path}"


@dataclass(frozen=True, slots=True)
class StatusSet:
    """Statuses such as ``404, 409, 5xx``: single codes and whole classes."""

    codes: frozenset[int] = frozenset()
    classes: frozenset[int] = frozenset()  # 5 for "5xx"

    def __contains__(self, status: object) -> bool:
        return isinstance(status, int) and (status in self.codes or status // 100 in self.classes)

    @classmethod
    def parse(cls, value: Any, where: str) -> StatusSet:
        """From ``"404, 5xx"``, a FEEL list ``[404, 409]`` or None (nothing)."""
        if value is None:
            return cls()
        items = value if isinstance(value, list) else str(value).split(",")
        codes: set[int] = set()
        classes: set[int] = set()
        for item in items:
            text = str(item).strip().lower()
            if not text:
                continue
            match = _STATUS.match(text)
            if match is None:
                raise InvalidTask(f"{where}: errorStatuses entry '{text}' is not a status (404) or a class (4xx)")
            if match.group(1):
                classes.add(int(match.group(1)))
            else:
                codes.add(int(match.group(2)))
        return cls(frozenset(codes), frozenset(classes))


@dataclass(frozen=True, slots=True)
class HttpTask:
    """One request to make and what to do with its answer."""

    method: str
    url: httpx.URL
    headers: tuple[tuple[str, str], ...]
    content: bytes | None
    timeout_s: float
    follow_redirects: bool
    error_statuses: StatusSet
    result_variable: str | None
    result_expression: Expression | None
    where: str  # "task 'Charge' of process 'order'", for messages
    resolved: tuple[str, ...] = ()  # the values put in for ``{{secrets.NAME}}`` placeholders

    @property
    def credentials(self) -> tuple[str, ...]:
        """Values nothing the connector returns may hold: ``{{secrets.*}}`` values, the URL's password, and the
        values of credential-named request headers and query parameters (``Authorization``, ``X-Api-Key``,
        ``api_key``), with the part after an auth scheme (``Bearer <token>``) on its own, as servers echo it."""
        values = [*self.resolved, self.url.password or ""]
        named = [v for n, v in self.headers if is_credential_name(n)]
        named += [v for n, v in self.url.params.multi_items() if is_credential_name(n)]
        for value in named:
            values += [value, value.partition(" ")[2].strip()]
        return _long_enough(values)

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values that must not appear in any message: the credentials and every request header value."""
        return _long_enough([*self.credentials, *(value for _, value in self.headers)])


def _long_enough(values: list[str]) -> tuple[str, ...]:
    """Distinct values worth masking, longest first (so none is left half-masked)."""
    # Shorter ones would garble messages and hide nothing.
    return tuple(sorted({v for v in values if len(v) >= 4}, key=len, reverse=True))


@dataclass(frozen=True, slots=True)
class RequestInputs:
    """What a task asks for, as found (unchecked): ``build_task`` checks it and makes the ``HttpTask``.

    ``url_from`` and ``query_from`` name where the url and the query came from, for messages.
    """

    method: Any
    url: Any
    headers: Any = None
    query: Any = None
    body: Any = None
    timeout: Any = None
    follow_redirects: Any = None
    url_from: str = "the task header 'url'"
    query_from: str = "the variable 'query'"


def where_of(job: Job) -> str:
    """How messages name a job's task: ``task 'Charge' of process 'order'``."""
    return f"task '{job.element_id}' of process '{job.process_id}'"


def read_task(job: Job, *, default_timeout_s: float, secrets: SecretProvider = environ_secret) -> HttpTask:
    """The request a job of type ``http`` describes; raises InvalidTask naming the header or variable at fault.

    ``{{secrets.NAME}}`` placeholders are replaced from ``secrets`` here, the last step before sending.
    """
    where = where_of(job)
    inputs = RequestInputs(
        method=_setting(job, "method", where),
        url=_setting(job, "url", where),
        headers=job.variables.get("headers"),
        query=job.variables.get("query"),
        body=job.variables.get("body"),
        timeout=_setting(job, "timeout", where),
        follow_redirects=_setting(job, "followRedirects", where),
    )
    return build_task(
        inputs,
        where=where,
        default_timeout_s=default_timeout_s,
        secrets=secrets,
        error_statuses=StatusSet.parse(_setting(job, "errorStatuses", where), where),
        result_variable=_result_variable(_setting(job, "resultVariable", where), where),
        result_expression=_result_expression(job.headers.get("resultExpression"), where),
    )


def build_task(
    inputs: RequestInputs,
    *,
    where: str,
    default_timeout_s: float,
    secrets: SecretProvider = environ_secret,
    error_statuses: StatusSet | None = None,
    result_variable: str | None = None,
    result_expression: Expression | None = None,
    known_secrets: tuple[str, ...] = (),
) -> HttpTask:
    """The checked request; raises InvalidTask naming the input at fault. Placeholders are replaced here.

    ``known_secrets`` are values already put into ``inputs`` (a password inside a Basic header) to mask too.
    """
    resolver = SecretResolver(secrets, where)
    method = str(inputs.method or "GET").strip().upper()
    if method not in METHODS:
        raise InvalidTask(f"{where}: method '{method}' is not one of {', '.join(sorted(METHODS))}")
    headers = _request_headers(inputs.headers, where, resolver)
    url = _url(inputs, where, resolver)
    content, content_type = _content(resolver.data(inputs.body, "the variable 'body'"), where)
    if content_type and not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("Content-Type", content_type))
    return HttpTask(
        method=method,
        url=url,
        headers=tuple(headers),
        content=content,
        timeout_s=_timeout(inputs.timeout, default_timeout_s, where),
        follow_redirects=_flag(inputs.follow_redirects, where),
        error_statuses=error_statuses or StatusSet(),
        result_variable=result_variable,
        result_expression=result_expression,
        where=where,
        resolved=(*known_secrets, *resolver.values),
    )


def _setting(job: Job, name: str, where: str) -> Any:
    """A task header: its text, or for an ``=`` value, the FEEL result over the job's variables."""
    raw = job.headers.get(name)
    if raw is None or not is_expression(raw):
        return raw
    try:
        return to_json(compile_expression(strip_marker(raw)).evaluate(job.variables))
    except FeelError as exc:
        raise InvalidTask(f"{where}: task header '{name}' ({raw.strip()!r}) cannot be evaluated: {exc}") from None


def _url(inputs: RequestInputs, where: str, resolver: SecretResolver) -> httpx.URL:
    value, named = inputs.url, inputs.url_from
    if value is None:
        raise InvalidTask(f"{where}: {named} is missing (or its expression gave null)")
    if not isinstance(value, str):
        raise InvalidTask(f"{where}: {named} gave {type(value).__name__}, expected a string")
    try:
        url = httpx.URL(resolver.text(value.strip(), "the url"))
    except httpx.InvalidURL as exc:
        raise InvalidTask(resolver.mask(f"{where}: the url is not a valid URL: {exc}")) from None
    if url.scheme not in ("http", "https") or not url.host:
        raise InvalidTask(resolver.mask(f"{where}: the url must be an absolute http:// or https:// URL, "
                                        f"got '{display_url(url)}'"))
    query = inputs.query
    if query is None:
        return url
    if not isinstance(query, Mapping):
        raise InvalidTask(f"{where}: {inputs.query_from} must be a context (object), not {type(query).__name__}")
    params: list[tuple[str, str]] = []
    for key, item in query.items():
        params.extend((str(key), resolver.text(text, f"query parameter '{key}'"))
                      for text in _query_values(item, str(key), where))
    merged: httpx.URL = url.copy_merge_params(httpx.QueryParams(tuple(params))) if params else url
    return merged


def _scalar_text(value: Any) -> str | None:
    """A JSON scalar as it reads in a URL or header (``true``, ``3``, ``2.5``); None for anything else."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float) and not (isinstance(value, float) and not math.isfinite(value)):
        return str(value)
    if isinstance(value, str):
        return value
    return None


def _query_values(value: Any, key: str, where: str) -> list[str]:
    texts: list[str] = []
    for item in [] if value is None else value if isinstance(value, list) else [value]:
        text = _scalar_text(item)
        if text is None:
            raise InvalidTask(f"{where}: query parameter '{key}' must be a string, number, boolean or list of them")
        texts.append(text)
    return texts


def _request_headers(value: Any, where: str, resolver: SecretResolver) -> list[tuple[str, str]]:
    if value is None:
        return []
    if not isinstance(value, Mapping):
        raise InvalidTask(f"{where}: the variable 'headers' must be a context (object), not {type(value).__name__}")
    headers: list[tuple[str, str]] = []
    for name, item in value.items():
        name = str(name)
        if not _TOKEN.match(name):
            raise InvalidTask(f"{where}: request header name {name!r} is not a valid HTTP header name")
        if name.lower() in _RESERVED_HEADERS:
            raise InvalidTask(f"{where}: request header '{name}' is set by the connector and may not be given")
        if item is None:
            continue
        text = _scalar_text(item)
        # The value itself is never quoted in a message: it may be a credential.
        if text is None:
            raise InvalidTask(f"{where}: the value of request header '{name}' must be a string, number or boolean")
        text = resolver.text(text, f"request header '{name}'")
        if any(c in text for c in "\r\n\0"):
            raise InvalidTask(f"{where}: the value of request header '{name}' contains a line break or NUL")
        headers.append((name, text))
    return headers


def _content(body: Any, where: str) -> tuple[bytes | None, str | None]:
    """The bytes to send and their default Content-Type: text for a string, JSON for anything else."""
    if body is None:
        return None, None
    if isinstance(body, str):
        return body.encode("utf-8"), "text/plain; charset=utf-8"
    try:
        text = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidTask(f"{where}: the variable 'body' cannot be sent as JSON: {exc}") from None
    return text.encode("utf-8"), "application/json"


def _timeout(value: Any, default: float, where: str) -> float:
    if value is None or value == "":
        return default
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise InvalidTask(f"{where}: timeout '{value}' is not a number of seconds") from None
    if not math.isfinite(seconds) or seconds <= 0:
        raise InvalidTask(f"{where}: timeout must be a positive number of seconds, got '{value}'")
    return seconds


def _flag(value: Any, where: str) -> bool:
    if value is None or value is True or str(value).strip().lower() in ("", "true"):
        return True
    if value is False or str(value).strip().lower() == "false":
        return False
    raise InvalidTask(f"{where}: followRedirects must be 'true' or 'false', got '{value}'")


def _result_variable(value: Any, where: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _VARIABLE.match(value.strip()):
        raise InvalidTask(f"{where}: resultVariable must be a variable name, got '{value}'")
    return value.strip()


def _result_expression(raw: str | None, where: str) -> Expression | None:
    if raw is None or not raw.strip():
        return None
    try:
        return compile_expression(strip_marker(raw))
    except FeelError as exc:
        raise InvalidTask(f"{where}: resultExpression is not valid FEEL: {exc}") from None
