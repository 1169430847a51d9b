"""The built-in HTTP connectors: job type ``http``, and Camunda's REST connector ``io.camunda:http-json:1``.

Owns: reading a task's headers (``method``, ``url``, ``resultVariable``,
``resultExpression``, ``timeout``, ``errorStatuses``, ``followRedirects``; ``=``
values are FEEL) and input variables (``headers``, ``query``, ``body``), making
the call, turning its status into variables, a BPMN error or a job failure, and
the egress policy that decides which addresses the call may reach (resolved
once, every address checked, the connection made to a checked address).
Camunda's REST connector (``camunda.py``) reads Camunda's input names and
authentication types and makes its call through the same ``HttpConnector``;
``outbound.py`` holds Camunda's rules for any connector's ``resultVariable``,
``resultExpression``, ``errorExpression`` (``bpmnError``, ``jobError``) and
``retryBackoff`` headers.

Does not know: the hub, its configuration or environment (the hub builds the
policy with ``EgressPolicy.from_env(os.environ.get("AGENTHUB_HTTP_ALLOW"))`` and
registers ``HttpConnector(policy)`` for ``http``), retries and incidents (the
engine's worker loop applies them to the failures raised here; Camunda's
headers only say how many retries are left and how long to wait), where secrets
are kept (``{{secrets.NAME}}`` placeholders are replaced at call time from a
``SecretProvider``, by default the environment variable ``AGENTHUB_SECRET_<NAME>``
or ``NAME``; the values sent as credentials are masked in every variable and
message the connector produces).

    from engine.scheduler import WorkerRegistry
    from protocols.http import EgressPolicy, HttpConnector

    registry = WorkerRegistry()
    registry.register("http", HttpConnector(EgressPolicy.from_env("public,10.1.0.0/16")))

The reference for modellers is ``docs/CONNECTORS.md``.
"""

from protocols.http.camunda import CAMUNDA_REST_JOB_TYPE, CamundaRestConnector, OAuthTokens
from protocols.http.connector import MAX_REDIRECTS, HttpConnector, HttpResponse
from protocols.http.egress import ENV_VAR, EgressPolicy, IPAddress, Resolver, address_kind, system_resolver
from protocols.http.exceptions import (
    ConnectionFailed,
    ConnectorError,
    ConnectorInputError,
    EgressConfigError,
    EgressDenied,
    HttpConnectorError,
    HttpStatusFailure,
    HttpTimeout,
    InvalidTask,
    RedirectFailed,
    ResponseTooLarge,
)
from protocols.http.outbound import CamundaOutbound, OutboundHeaders, run_outbound
from protocols.http.secrets import (
    SECRET_ENV_PREFIX,
    SECRETS_FILE_ENV,
    FileSecrets,
    SecretProvider,
    environ_secret,
    first_of,
    secret_provider,
)

JOB_TYPE = "http"

__all__ = [
    "CAMUNDA_REST_JOB_TYPE",
    "ENV_VAR",
    "JOB_TYPE",
    "MAX_REDIRECTS",
    "SECRETS_FILE_ENV",
    "SECRET_ENV_PREFIX",
    "CamundaOutbound",
    "CamundaRestConnector",
    "ConnectionFailed",
    "ConnectorError",
    "ConnectorInputError",
    "EgressConfigError",
    "EgressDenied",
    "EgressPolicy",
    "FileSecrets",
    "HttpConnector",
    "HttpConnectorError",
    "HttpResponse",
    "HttpStatusFailure",
    "HttpTimeout",
    "IPAddress",
    "InvalidTask",
    "OAuthTokens",
    "OutboundHeaders",
    "RedirectFailed",
    "Resolver",
    "ResponseTooLarge",
    "SecretProvider",
    "address_kind",
    "environ_secret",
    "first_of",
    "run_outbound",
    "secret_provider",
    "system_resolver",
]
