"""The Camunda 8 REST API (/v2) under OpenID Connect: the same guard as the rest of the hub.

Camunda's Python SDK, holding a token its issuer signed, reads the topology,
deploys and starts an instance; a token from another issuer or one that has
expired is a 401, and a person without the scope a 403, both in Camunda's
problem shape. The issuers are ``tests.oidc_issuer`` on 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from camunda_orchestration_sdk import CamundaClient
from camunda_orchestration_sdk.errors import ApiError
from camunda_orchestration_sdk.models import ProcessCreationById

from tests.hub.harness import LiveHub, oidc_hub
from tests.oidc_issuer import Issuer, serve_issuer

DATA = Path(__file__).resolve().parents[1] / "data" / "hub" / "camunda_v2"


@pytest.fixture(scope="module")
def issuer() -> Iterator[Issuer]:
    with serve_issuer() as served:
        yield served


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory, issuer: Issuer) -> Iterator[LiveHub]:
    with oidc_hub(tmp_path_factory.mktemp("camunda-v2-oidc"), issuer) as live:
        yield live


class Bearer:
    """The SDK's ``AuthProvider``: the issuer's token on every request."""

    def __init__(self, token: str) -> None:
        self.token = token

    def get_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def sdk(hub: LiveHub, token: str) -> CamundaClient:
    config = {"CAMUNDA_REST_ADDRESS": hub.url, "CAMUNDA_AUTH_STRATEGY": "NONE"}
    return CamundaClient(configuration=config, auth_provider=Bearer(token))


def test_camundas_sdk_with_an_issuer_signed_token_reads_the_topology_deploys_and_starts(
    hub: LiveHub, issuer: Issuer
) -> None:
    token = issuer.token(sub="ada", name="Ada Lovelace", scope="openid read deploy start")
    with sdk(hub, token) as client:
        assert client.get_topology().brokers[0].port == hub.port
        deployed = client.deploy_resources_from_files([DATA / "order.bpmn"])
        assert [p.process_definition_id for p in deployed.processes] == ["v2_order"]
        started = client.create_process_instance(
            data=ProcessCreationById.from_dict({"processDefinitionId": "v2_order", "variables": {"orderId": "O-1"}})
        )
    with hub.client() as rest:
        instance = rest.get(f"/api/v1/process-instances/{started.process_instance_key}").json()
    assert (instance["process"], instance["startedBy"]) == ("v2_order", "ada")


@pytest.mark.parametrize("which", ["another-issuer", "expired"])
def test_a_token_from_another_issuer_or_expired_is_a_401_in_camundas_problem_shape(
    hub: LiveHub, issuer: Issuer, which: str
) -> None:
    if which == "expired":
        token = issuer.token(scope="read deploy start", lifetime_s=-120)
    else:
        with serve_issuer() as other:  # its own keys and URL: nothing the hub trusts
            token = other.token(scope="read deploy start")
    with hub.client(token) as http:
        refused = http.get("/v2/topology")
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.headers["www-authenticate"].startswith("Bearer ")
    body = refused.json()
    assert set(body) == {"type", "title", "status", "detail", "instance"}
    # the guard's refusal, before any route: the HTTP reason as title, as Spring's ProblemDetail for an
    # authentication failure writes it (a route's refusals carry Camunda's rejection titles, FORBIDDEN below)
    assert (body["title"], body["status"], body["instance"]) == ("Unauthorized", 401, "/v2/topology")
    assert body["detail"] and token not in body["detail"]
    with sdk(hub, token) as client, pytest.raises(ApiError) as caught:
        client.get_topology()
    assert caught.value.status_code == 401


def test_a_person_without_the_scope_is_a_403_in_camundas_problem_shape(hub: LiveHub, issuer: Issuer) -> None:
    token = issuer.token(sub="bob", scope="openid read")
    with hub.client(token) as http:
        assert http.get("/v2/topology").status_code == 200
        upload = [("resources", ("order.bpmn", (DATA / "order.bpmn").read_bytes(), "application/octet-stream"))]
        refused = http.post("/v2/deployments", files=upload)
        start = http.post("/v2/process-instances", json={"processDefinitionId": "v2_order"})
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    body = refused.json()
    assert (body["title"], body["status"], body["instance"]) == ("FORBIDDEN", 403, "/v2/deployments")
    assert "deploy" in body["detail"]
    assert (start.status_code, start.json()["title"]) == (403, "FORBIDDEN")
    with sdk(hub, token) as client, pytest.raises(ApiError) as caught:
        client.create_process_instance(data=ProcessCreationById.from_dict({"processDefinitionId": "v2_order"}))
    assert caught.value.status_code == 403
