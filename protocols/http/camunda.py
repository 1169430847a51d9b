"""Camunda's REST connector, job type ``io.camunda:http-json:1``, on our ``http`` implementation.

A Camunda model sets the request with ``zeebe:ioMapping`` inputs, which reach
the job as variables under Camunda's names: ``method``, ``url``, ``headers``,
``queryParameters``, ``body``, ``ignoreNullValues``, ``followRedirects``
(default false), ``connectionTimeoutInSeconds`` and ``readTimeoutInSeconds``
(20 each; here their sum bounds the whole exchange) and ``authentication``:

- ``type`` ``noAuth`` (or none);
- ``basic``: ``username``, ``password``;
- ``bearer``: ``token``;
- ``apiKey``: ``name``, ``value``, ``apiKeyLocation`` ``headers`` or ``query``;
- ``oauth-client-credentials-flow``: ``oauthTokenEndpoint``, ``clientId``,
  ``clientSecret``, ``audience``, ``scopes``, ``clientAuthentication``
  ``basicAuthHeader`` or ``credentialsBody``. The token is fetched with a form
  POST through the same egress policy and kept until shortly before it expires
  (``expires_in``); a token without an expiry is fetched for every call.

The request is made by ``HttpConnector.send``: one egress allow-list, one
redirect rule, one size cap, one way of masking credentials. The answer is
Camunda's ``{status, headers, body, reason}``; a status of 400 or more is an
error with ``code`` the status (``"404"``) and ``variables.response`` its
``headers`` and ``body``. ``outbound.run_outbound`` then applies the task
headers (``resultVariable``, ``resultExpression``, ``errorExpression``,
``retryBackoff``). Not supported: ``oauth-refresh-token``, client TLS
certificates, document storage of the response (``storeResponse``,
``documentReturnFormat`` DOCUMENT): a task asking for them fails with a message
that says so.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Callable, Mapping
from typing import Any, Final
from urllib.parse import urlencode

from engine.scheduler import Job
from protocols.http.connector import HttpConnector, masked, redact
from protocols.http.exceptions import ConnectorError, ConnectorInputError, HttpConnectorError, InvalidTask
from protocols.http.outbound import run_outbound
from protocols.http.secrets import SecretResolver
from protocols.http.task import HttpTask, RequestInputs, build_task, display_url, where_of

__all__ = ["CAMUNDA_REST_JOB_TYPE", "CamundaRestConnector", "OAuthTokens"]

CAMUNDA_REST_JOB_TYPE: Final = "io.camunda:http-json:1"
_DEFAULT_TIMEOUT_S: Final = 20.0
_EARLY_S: Final = 30.0  # a cached token is renewed this long before it expires
_FORM: Final = "application/x-www-form-urlencoded"
_UNSUPPORTED: Final = {
    "oauth-refresh-token": "the OAuth refresh-token flow is not supported; use oauth-client-credentials-flow or "
                           "give the token as bearer",
}


class OAuthTokens:
    """Access tokens of the client-credentials flow, kept per token endpoint and client until they expire."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._tokens: dict[tuple[str, ...], tuple[str, float]] = {}

    def get(self, key: tuple[str, ...]) -> str | None:
        found = self._tokens.get(key)
        if found is None or found[1] <= self._clock():
            self._tokens.pop(key, None)
            return None
        return found[0]

    def put(self, key: tuple[str, ...], token: str, expires_in_s: float | None) -> None:
        if expires_in_s is not None and expires_in_s > 0:
            self._tokens[key] = (token, self._clock() + max(expires_in_s - _EARLY_S, expires_in_s / 2))


class CamundaRestConnector:
    """Handler for ``io.camunda:http-json:1``: ``registry.register(CAMUNDA_REST_JOB_TYPE, CamundaRestConnector(http))``.

    ``http`` is the ``http`` job type's connector, whose egress policy, limits and secret provider apply.
    """

    def __init__(self, http: HttpConnector, *, tokens: OAuthTokens | None = None) -> None:
        self._http = http
        self._tokens = tokens or OAuthTokens()
        self._pending: dict[tuple[str, ...], asyncio.Future[str]] = {}

    @property
    def http(self) -> HttpConnector:
        """The ``http`` job type's connector, which makes every request of this one."""
        return self._http

    async def __call__(self, job: Job) -> dict[str, Any]:
        where = where_of(job)
        return await run_outbound(job, lambda: self._respond(job, where), where)

    async def _respond(self, job: Job, where: str) -> Any:
        values = job.variables
        returned = values.get("documentReturnFormat")
        if values.get("storeResponse") is True or (isinstance(returned, dict) and returned.get("choice") == "DOCUMENT"):
            raise ConnectorInputError(f"{where}: storing the response as a document is not supported; "
                                      "remove storeResponse, or return the body as JSON or TEXT")
        resolver = SecretResolver(self._http.secrets, where)
        headers = _string_map(values.get("headers"), "headers", where)
        query = _string_map(values.get("queryParameters"), "queryParameters", where)
        await self._authenticate(values.get("authentication"), headers, query, resolver, where)
        body = values.get("body")
        if values.get("ignoreNullValues") is True:
            body = _without_nulls(body)
        inputs = RequestInputs(
            method=values.get("method"), url=values.get("url"), headers=headers, query=query, body=body,
            timeout=_timeout(values, where), follow_redirects=values.get("followRedirects") is True,
            url_from="the input 'url'", query_from="the input 'queryParameters'",
        )
        task = self._task(inputs, where, tuple(resolver.values))
        return await self._answer(task)

    def _task(self, inputs: RequestInputs, where: str, known: tuple[str, ...]) -> HttpTask:
        try:
            return build_task(inputs, where=where, default_timeout_s=self._http.timeout_s,
                              secrets=self._http.secrets, known_secrets=known)
        except InvalidTask as exc:
            raise ConnectorInputError(str(exc)) from None

    async def _answer(self, task: HttpTask) -> dict[str, Any]:
        """Camunda's ``{status, headers, body, reason}``; ConnectorError for a failure or a status of 400 or more."""
        try:
            response = await self._http.send(task)
        except InvalidTask as exc:
            raise ConnectorInputError(str(exc)) from None
        except HttpConnectorError as exc:
            raise ConnectorError(str(exc)) from None
        value: dict[str, Any] = masked({**response.to_variable(), "reason": response.reason}, task.credentials)
        if response.status >= 400:
            said = f"{task.where}: {task.method} {display_url(task.url)} answered {response.status} {response.reason}"
            raise ConnectorError(redact(said.rstrip(), task.secrets), code=str(response.status),
                                 variables={"response": {"headers": value["headers"], "body": value["body"]}})
        return value

    async def _authenticate(
        self, auth: Any, headers: dict[str, str], query: dict[str, str], resolver: SecretResolver, where: str
    ) -> None:
        """Add what ``authentication`` asks for to the request's headers or query."""
        if auth is None:
            return
        if not isinstance(auth, Mapping):
            raise ConnectorInputError(f"{where}: the input 'authentication' must be a context, not "
                                      f"{type(auth).__name__}")
        kind = auth.get("type") or "noAuth"

        def field(name: str, *, required: bool = True) -> str:
            value = auth.get(name)
            if value is None or value == "":
                if required:
                    raise ConnectorInputError(f"{where}: authentication type '{kind}' needs authentication.{name}")
                return ""
            if not isinstance(value, str | int | float) or isinstance(value, bool):
                raise ConnectorInputError(f"{where}: authentication.{name} must be a string")
            return resolver.text(str(value), f"authentication.{name}")

        try:
            if kind == "noAuth":
                return
            if kind == "basic":
                pair = f"{field('username')}:{field('password', required=False)}".encode()
                headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
            elif kind == "bearer":
                headers["Authorization"] = "Bearer " + field("token")
            elif kind == "apiKey":
                location = auth.get("apiKeyLocation") or "headers"
                if location not in ("headers", "query"):
                    raise ConnectorInputError(f"{where}: authentication.apiKeyLocation must be 'headers' or 'query', "
                                              f"got '{location}'")
                (headers if location == "headers" else query)[field("name")] = field("value")
            elif kind == "oauth-client-credentials-flow":
                headers["Authorization"] = "Bearer " + await self._token(field, resolver, where)
            elif kind in _UNSUPPORTED:
                raise ConnectorInputError(f"{where}: authentication type '{kind}': {_UNSUPPORTED[kind]}")
            else:
                raise ConnectorInputError(f"{where}: authentication.type '{kind}' is not one of noAuth, basic, "
                                          "bearer, apiKey, oauth-client-credentials-flow")
        except InvalidTask as exc:  # a secret without a value
            raise ConnectorInputError(str(exc)) from None

    async def _token(self, field: Callable[..., str], resolver: SecretResolver, where: str) -> str:
        endpoint, client, secret = field("oauthTokenEndpoint"), field("clientId"), field("clientSecret")
        audience, scopes = field("audience", required=False), field("scopes", required=False)
        how = field("clientAuthentication", required=False) or "credentialsBody"
        key = (endpoint, client, secret, audience, scopes, how)
        cached = self._tokens.get(key)
        if cached is not None:
            resolver.values.append(cached)
            return cached
        # Jobs that need the same token at once wait for one request rather than each asking for a token.
        pending = self._pending.get(key)
        if pending is None or pending.done() or pending.get_loop() is not asyncio.get_running_loop():
            pending = asyncio.ensure_future(self._fetch(key, where))
            self._pending[key] = pending
        try:
            token = await asyncio.shield(pending)
        finally:
            if pending.done() and self._pending.get(key) is pending:
                del self._pending[key]
        resolver.values.append(token)
        return token

    async def _fetch(self, key: tuple[str, ...], where: str) -> str:
        endpoint, client, secret, audience, scopes, how = key
        form = {"grant_type": "client_credentials"}
        form.update({k: v for k, v in (("audience", audience), ("scope", scopes)) if v})
        headers = {"Content-Type": _FORM, "Accept": "application/json"}
        if how == "basicAuthHeader":
            pair = f"{client}:{secret}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        elif how == "credentialsBody":
            form.update(client_id=client, client_secret=secret)
        else:
            raise ConnectorInputError(f"{where}: authentication.clientAuthentication must be 'basicAuthHeader' or "
                                      f"'credentialsBody', got '{how}'")
        inputs = RequestInputs(method="POST", url=endpoint, headers=headers, body=urlencode(form),
                               timeout=self._http.timeout_s, follow_redirects=False,
                               url_from="authentication.oauthTokenEndpoint")
        task = self._task(inputs, where, (client, secret))
        try:
            answer = await self._answer(task)
        except ConnectorError as exc:
            said = str(exc).removeprefix(f"{where}: ")
            raise ConnectorError(f"{where}: cannot get an OAuth token: {said}", code=exc.code) from None
        body = answer.get("body")
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise ConnectorError(f"{where}: the OAuth token endpoint {display_url(task.url)} answered without an "
                                 "access_token", code="OAUTH_TOKEN_ERROR")
        expires = body.get("expires_in") if isinstance(body, dict) else None
        self._tokens.put(key, token, float(expires) if isinstance(expires, int | float) else None)
        return token


def _string_map(value: Any, name: str, where: str) -> dict[str, str]:
    """Camunda's ``headers`` or ``queryParameters``: a context of strings (numbers and booleans as text)."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConnectorInputError(f"{where}: the input '{name}' must be a context, not {type(value).__name__}")
    return {str(k): v for k, v in value.items() if v is not None}


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value if v is not None]
    return value


def _timeout(values: Mapping[str, Any], where: str) -> float:
    """The whole exchange's limit: connection plus read timeout (20 s each when not given)."""
    total = 0.0
    for name in ("connectionTimeoutInSeconds", "readTimeoutInSeconds"):
        value = values.get(name)
        try:
            seconds = float(value) if value is not None and str(value).strip() else _DEFAULT_TIMEOUT_S
        except (TypeError, ValueError):
            raise ConnectorInputError(f"{where}: the input '{name}' must be a number of seconds, got "
                                      f"'{value}'") from None
        total += seconds if seconds > 0 and seconds == seconds else _DEFAULT_TIMEOUT_S
    return total
