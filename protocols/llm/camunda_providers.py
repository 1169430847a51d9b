"""Camunda's AI Agent provider configuration (``provider.*``), mapped to a litellm call.

A Camunda agent (``engine.agent.camunda``) keeps the provider its element
template configured in the subprocess's ``provider`` variable; each model step
(``ModelTask``) turns it into litellm's model string and keyword arguments:

    provider.type      litellm model                 from
    openai             openai/<model.model>          authentication.apiKey, organizationId, projectId
    anthropic          anthropic/<model.model>       endpoint, authentication.apiKey
    bedrock            bedrock/<model.model>         region, endpoint, authentication.{accessKey, secretKey,
                                                     apiKey} (defaultCredentialsChain: litellm's own)
    azureOpenAi        azure/<model.deploymentName>  endpoint, authentication.{apiKey | clientId, clientSecret,
                                                     tenantId}
    google-vertex-ai   vertex_ai/<model.model>       projectId, region, authentication.jsonKey
    (or googleVertexAi)
    openaiCompatible   openai/<model.model>          endpoint, authentication.apiKey, headers,
                                                     model.parameters.customParameters (sent in the body)

``model.parameters`` (maxTokens, maxCompletionTokens, maxOutputTokens,
temperature, topP, topK) become litellm's parameters, ``timeouts.timeout`` (an
ISO duration) the call's timeout. Credentials are ``{{secrets.NAME}}``
placeholders in the variables, as Camunda's connector runtime has them; they
are replaced here, at the call, from a ``SecretProvider``, and their values
are handed back as ``hidden`` so that whatever the call returns or raises is
scrubbed of them. They are never written to variables or to the journal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from engine.scheduler.timers import TimerDefinitionError, duration_seconds
from protocols.http.exceptions import InvalidTask
from protocols.http.secrets import SecretProvider, SecretResolver
from protocols.llm.exceptions import UnknownModel

__all__ = ["PROVIDERS", "ProviderCall", "litellm_call"]



@dataclass(frozen=True, slots=True)
class ProviderCall:
    """What litellm is called with for a Camunda provider configuration."""

    model: str  # litellm's model string
    options: dict[str, Any] = field(default_factory=dict)  # keyword arguments of litellm.completion
    api_base: str | None = None
    timeout_s: float | None = None
    hidden: tuple[str, ...] = ()  # the secret values in ``options``, longest first: scrubbed from what comes back


# provider.type -> (the key of its settings in provider, litellm's prefix, where the model name is)
PROVIDERS: Final[dict[str, tuple[str, str, str]]] = {
    "openai": ("openai", "openai", "model"),
    "anthropic": ("anthropic", "anthropic", "model"),
    "bedrock": ("bedrock", "bedrock", "model"),
    "azureOpenAi": ("azureOpenAi", "azure", "deploymentName"),
    "google-vertex-ai": ("googleVertexAi", "vertex_ai", "model"),
    "googleVertexAi": ("googleVertexAi", "vertex_ai", "model"),
    "openaiCompatible": ("openaiCompatible", "openai", "model"),
}
# Camunda's model.parameters -> litellm's
_PARAMETERS: Final = {"maxTokens": "max_tokens", "maxCompletionTokens": "max_completion_tokens",
                      "maxOutputTokens": "max_tokens", "temperature": "temperature", "topP": "top_p", "topK": "top_k"}
# authentication field -> litellm keyword, per provider (type selects among them where Camunda has several)
_CREDENTIALS: Final[dict[str, dict[str, str]]] = {
    "openai": {"apiKey": "api_key", "organizationId": "organization", "projectId": "project"},
    "anthropic": {"apiKey": "api_key"},
    "bedrock": {"accessKey": "aws_access_key_id", "secretKey": "aws_secret_access_key", "apiKey": "api_key"},
    "azureOpenAi": {"apiKey": "api_key", "clientId": "client_id", "clientSecret": "client_secret",
                    "tenantId": "tenant_id"},
    "googleVertexAi": {"jsonKey": "vertex_credentials"},
    "openaiCompatible": {"apiKey": "api_key"},
}
_SECRET_FIELDS: Final = frozenset({"apiKey", "accessKey", "secretKey", "clientSecret", "jsonKey"})


def _timeout(raw: Any, where: str) -> float | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, int | float) and not isinstance(raw, bool) and raw > 0:
        return float(raw)
    try:
        seconds = duration_seconds(str(raw))
    except TimerDefinitionError:
        raise UnknownModel(f"{where}.timeouts.timeout must be an ISO 8601 duration such as PT60S, not {raw!r}") \
            from None
    return seconds if seconds > 0 else None


def _context(raw: Any, where: str) -> dict[str, Any]:
    if raw is None or raw == "":
        return {}
    if not isinstance(raw, dict):
        raise UnknownModel(f"{where} must be a context, not {type(raw).__name__}")
    return raw


def litellm_call(provider: Mapping[str, Any], secrets: SecretProvider) -> ProviderCall:
    """The litellm call for Camunda's ``provider`` variable; raises UnknownModel for a configuration it cannot use."""
    kind = provider.get("type")
    if kind not in PROVIDERS:
        raise UnknownModel(f"provider.type {kind!r} is not one of {', '.join(PROVIDERS)}")
    key, prefix, model_field = PROVIDERS[str(kind)]
    where = f"provider.{key}"
    resolver = SecretResolver(secrets, f"the Camunda agent's {where}")
    try:
        settings = resolver.data(_context(provider.get(key), where), where)
    except InvalidTask as exc:
        raise UnknownModel(str(exc)) from None
    model_settings = _context(settings.get("model"), f"{where}.model")
    name = model_settings.get(model_field)
    if not isinstance(name, str) or not name.strip():
        raise UnknownModel(f"{where}.model.{model_field} names no model")
    options: dict[str, Any] = {}
    for camunda_name, value in _context(model_settings.get("parameters"), f"{where}.model.parameters").items():
        if camunda_name in _PARAMETERS and value is not None:
            options[_PARAMETERS[camunda_name]] = value
    authentication = _context(settings.get("authentication"), f"{where}.authentication")
    hidden = list(resolver.values)
    for field_name, keyword in _CREDENTIALS[key].items():
        value = authentication.get(field_name)
        if isinstance(value, str) and value:
            options[keyword] = value
            if field_name in _SECRET_FIELDS:
                hidden.append(value)  # a literal key in the model is a secret too
    if key == "bedrock" and settings.get("region"):
        options["aws_region_name"] = settings["region"]
    if key == "googleVertexAi":
        options.update({k: settings[c] for c, k in (("projectId", "vertex_project"), ("region", "vertex_location"))
                        if settings.get(c)})
    if key == "openaiCompatible":
        headers = _context(settings.get("headers"), f"{where}.headers")
        if headers:
            options["extra_headers"] = {str(k): str(v) for k, v in headers.items()}
        custom = _context(model_settings.get("parameters", {}).get("customParameters")
                          if isinstance(model_settings.get("parameters"), dict) else None,
                          f"{where}.model.parameters.customParameters")
        if custom:
            options["extra_body"] = custom
        options.setdefault("api_key", "none")  # a local server without keys; litellm's OpenAI client wants one
    endpoint = settings.get("endpoint")
    api_base = endpoint if isinstance(endpoint, str) and endpoint.strip() else None
    if key == "bedrock" and api_base:  # Bedrock's endpoint is the runtime endpoint, not an OpenAI base URL
        options["aws_bedrock_runtime_endpoint"], api_base = api_base, None
    timeout = _timeout(_context(settings.get("timeouts"), f"{where}.timeouts").get("timeout"), where)
    return ProviderCall(model=f"{prefix}/{name.strip()}", options=options, api_base=api_base, timeout_s=timeout,
                        hidden=tuple(sorted(set(hidden), key=len, reverse=True)))
