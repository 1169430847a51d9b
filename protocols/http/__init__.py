"""The built-in HTTP connector: service tasks of job type ``http`` that call plain REST endpoints.

Owns: reading a task's headers (``method``, ``url``, ``resultVariable``,
``resultExpression``, ``timeout``, ``errorStatuses``, ``followRedirects``; ``=``
values are FEEL) and input variables (``headers``, ``query``, ``body``), making
the call, turning its status into variables, a BPMN error or a job failure, and
the egress policy that decides which addresses the call may reach (resolved
once, every address checked, the connection made to a checked address).

Does not know: the hub, its configuration or environment (the hub builds the
policy with ``EgressPolicy.from_env(os.environ.get("AGENTHUB_HTTP_ALLOW"))`` and
registers ``HttpConnector(policy)`` for ``http``), retries and incidents (the
engine's worker loop applies them to the failures raised here), where secrets
are kept (``{{secrets.NAME}}`` placeholders are replaced at call time from a
``SecretProvider``, by default ``AGENTHUB_SECRET_<NAME>``; the values sent as
credentials are masked in every variable and message the connector produces).

    from engine.scheduler import WorkerRegistry
    from protocols.http import EgressPolicy, HttpConnector

    registry = WorkerRegistry()
    registry.register("http", HttpConnector(EgressPolicy.from_env("public,10.1.0.0/16")))

The reference for modellers is ``docs/CONNECTORS.md``.
"""

from protocols.http.connector import MAX_REDIRECTS, HttpConnector, HttpResponse
from protocols.http.egress import ENV_VAR, EgressPolicy, IPAddress, Resolver, address_kind, system_resolver
from protocols.http.exceptions import (
    ConnectionFailed,
    EgressConfigError,
    EgressDenied,
    HttpConnectorError,
    HttpStatusFailure,
    HttpTimeout,
    InvalidTask,
    RedirectFailed,
    ResponseTooLarge,
)
from protocols.http.secrets import SECRET_ENV_PREFIX, SecretProvider, environ_secret

JOB_TYPE = "http"

__all__ = [
    "ENV_VAR",
    "JOB_TYPE",
    "MAX_REDIRECTS",
    "SECRET_ENV_PREFIX",
    "ConnectionFailed",
    "EgressConfigError",
    "EgressDenied",
    "EgressPolicy",
    "HttpConnector",
    "HttpConnectorError",
    "HttpResponse",
    "HttpStatusFailure",
    "HttpTimeout",
    "IPAddress",
    "InvalidTask",
    "RedirectFailed",
    "Resolver",
    "ResponseTooLarge",
    "SecretProvider",
    "address_kind",
    "environ_secret",
    "system_resolver",
]
