"""The REST API under /api/v1, driven over real HTTP the way a program would."""

from __future__ import annotations

import threading
import time

import httpx

from tests.hub.harness import DATA, LiveHub


def test_health_needs_no_token_and_reports_the_worker(live_hub: LiveHub) -> None:
    answer = httpx.get(f"{live_hub.url}/health")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "database": "sqlite", "worker": "running"}


def test_a_multipart_deployment_lists_its_processes_and_versions(live_hub: LiveHub) -> None:
    deployed = live_hub.deploy("straight.bpmn", "review.bpmn")
    assert {(p["processId"], p["version"]) for p in deployed["processes"]} == {("straight", 1), ("review", 1)}
    with live_hub.client() as c:
        definitions = c.get("/api/v1/process-definitions").json()
        assert {d["processId"] for d in definitions["items"]} == {"straight", "review"}
        straight = next(d for d in definitions["items"] if d["processId"] == "straight")
        assert straight["exposed"] is True  # <agenthub:tool> in the model
        assert next(d for d in definitions["items"] if d["processId"] == "review")["exposed"] is False
        versions = c.get("/api/v1/process-definitions/review").json()
        assert versions["latestVersion"] == 1
        xml = c.get("/api/v1/process-definitions/review/xml")
        assert xml.headers["content-type"].startswith("application/xml")
        assert xml.text == (DATA / "review.bpmn").read_text()
        deployments = c.get("/api/v1/deployments").json()["items"]
        assert len(deployments) == 1 and len(deployments[0]["processes"]) == 2


def test_a_raw_xml_deployment_with_expose_offers_the_process_as_a_tool(live_hub: LiveHub) -> None:
    with live_hub.client() as c:
        answer = c.post(
            "/api/v1/deployments?expose=true&resourceName=review.bpmn",
            content=(DATA / "review.bpmn").read_bytes(),
            headers={"Content-Type": "application/xml"},
        )
        assert answer.status_code == 201, answer.text
        assert answer.json()["exposed"] is True
        review = c.get("/api/v1/process-definitions/review").json()["versions"][-1]
        assert review["exposed"] is True


def test_invalid_bpmn_is_a_problem_naming_the_line_and_element_and_deploys_nothing(live_hub: LiveHub) -> None:
    broken = (DATA / "review.bpmn").read_text().replace('targetRef="approve"', 'targetRef="nowhere"')
    with live_hub.client() as c:
        answer = c.post("/api/v1/deployments", content=broken, headers={"Content-Type": "application/xml"})
        assert answer.status_code == 400
        assert answer.headers["content-type"] == "application/problem+json"
        body = answer.json()
        assert "nowhere" in body["detail"]
        assert body["problems"][0]["line"] is not None and body["problems"][0]["element"] == "f2"
        assert c.get("/api/v1/process-definitions").json()["items"] == []


def test_an_unsupported_media_type_and_malformed_json_get_clear_problems(live_hub: LiveHub) -> None:
    with live_hub.client() as c:
        answer = c.post("/api/v1/deployments", content=b"{}", headers={"Content-Type": "application/json"})
        assert answer.status_code == 415 and "multipart/form-data" in answer.json()["detail"]
        answer = c.post("/api/v1/process-instances", content=b'{"processId": "x", "processId": "y"}')
        assert answer.status_code == 400 and "duplicate key" in answer.json()["detail"]
        answer = c.post("/api/v1/process-instances", content=b'{"processId": NaN}')
        assert answer.status_code == 400
        answer = c.post("/api/v1/process-instances", content=b"[" * 100_000 + b"]" * 100_000)
        assert answer.status_code == 400
        answer = c.post("/api/v1/process-instances", json={"processId": 7})
        assert answer.status_code == 400 and answer.json()["detail"] == "'processId' must be a string, not int"
        answer = c.post("/api/v1/process-instances", json={"processId": "straight", "awaitCompletion": 9999})
        assert answer.status_code == 400
        assert c.get("/api/v1/no-such-thing").status_code == 404
        assert c.delete("/api/v1/process-instances").json()["status"] == 405


def test_starting_with_await_completion_answers_with_the_finished_instance(live_hub: LiveHub) -> None:
    live_hub.deploy("straight.bpmn")
    with live_hub.client() as c:
        answer = c.post(
            "/api/v1/process-instances",
            json={"processId": "straight", "variables": {"amount": 21}, "awaitCompletion": 10},
        )
        assert answer.status_code == 201
        body = answer.json()
        assert body["process"] == "straight" and body["state"] == "completed"
        assert body["variables"] == {"amount": 21, "doubled": 42}
        assert answer.headers["location"] == f"/api/v1/process-instances/{body['instance']}"
        unknown = c.post("/api/v1/process-instances", json={"processId": "missing"})
        assert unknown.status_code == 404 and "missing" in unknown.json()["detail"]


def test_an_instance_that_waits_says_what_it_waits_for_until_a_person_and_a_message_finish_it(
    live_hub: LiveHub,
) -> None:
    live_hub.deploy("review.bpmn")
    with live_hub.client() as c:
        started = c.post(
            "/api/v1/process-instances",
            json={"processId": "review", "variables": {"text": "hi", "orderId": "o-1"}, "awaitCompletion": 10},
        ).json()
        assert started["state"] == "active"
        assert started["variables"]["echoed"] == "hi"  # the in-process worker ran the service task
        waits = started["waitingFor"]
        assert [w["kind"] for w in waits] == ["userTask"]
        assert waits[0]["name"] == "Approve the request" and waits[0]["candidateGroups"] == ["managers"]
        key = started["instance"]

        tasks = c.get("/api/v1/user-tasks", params={"candidateGroup": "managers"}).json()
        assert [t["instance"] for t in tasks["items"]] == [key]
        task = tasks["items"][0]
        assert {"id", "instance", "element", "name"} <= set(task) and task["element"] == "approve"
        assert c.get(f"/api/v1/user-tasks/{task['id']}").json()["name"] == "Approve the request"
        assert c.post(f"/api/v1/user-tasks/{task['id']}/claim", json={"assignee": "ann"}).json()["assignee"] == "ann"
        done = c.post(f"/api/v1/user-tasks/{task['id']}/complete", json={"variables": {"approved": True}})
        assert done.status_code == 200 and done.json()["state"] == "completed"
        again = c.post(f"/api/v1/user-tasks/{task['id']}/complete", json={"variables": {}})
        assert again.status_code == 409 and again.headers["content-type"] == "application/problem+json"

        instance = c.get(f"/api/v1/process-instances/{key}").json()
        assert instance["state"] == "active" and instance["variables"]["approved"] is True
        assert [(w["kind"], w["name"], w["correlationKey"]) for w in instance["waitingFor"]] == [
            ("message", "paid", "o-1")
        ]
        assert {e["elementId"] for e in instance["activeElements"]} == {"wait"}

        published = c.post("/api/v1/messages", json={"name": "paid", "correlationKey": "o-1", "variables": {"n": 1}})
        assert published.status_code == 201 and published.json()["correlatedInstances"] == [key]
        final = c.get(f"/api/v1/process-instances/{key}").json()
        assert final["state"] == "completed" and "waitingFor" not in final
        journal = c.get(f"/api/v1/process-instances/{key}/journal", params={"limit": 3}).json()
        assert len(journal["items"]) == 3 and journal["page"]["next"] == journal["items"][-1]["position"]
        rest = c.get(f"/api/v1/process-instances/{key}/journal", params={"after": journal["page"]["next"]}).json()
        assert rest["items"][0]["position"] > journal["page"]["next"]


def test_instances_are_listed_by_state_and_page_by_page(live_hub: LiveHub) -> None:
    live_hub.deploy("straight.bpmn", "review.bpmn")
    with live_hub.client() as c:
        keys = [
            c.post("/api/v1/process-instances", json={"processId": "straight", "variables": {"amount": i}}).json()[
                "instance"
            ]
            for i in range(5)
        ]
        c.post("/api/v1/process-instances", json={"processId": "review", "variables": {"orderId": "x"}})
        first = c.get("/api/v1/process-instances", params={"processId": "straight", "limit": 2}).json()
        assert [i["instance"] for i in first["items"]] == keys[:2]
        second = c.get(
            "/api/v1/process-instances", params={"processId": "straight", "limit": 2, "after": first["page"]["next"]}
        ).json()
        assert [i["instance"] for i in second["items"]] == keys[2:4]
        assert {
            i["process"] for i in c.get("/api/v1/process-instances", params={"state": "active"}).json()["items"]
        } == {"review"}
        assert c.get("/api/v1/process-instances", params={"state": "sleeping"}).status_code == 400
        assert c.get("/api/v1/process-instances", params={"limit": 0}).status_code == 400


def test_cancel_ends_an_instance_and_signals_reach_no_one_when_nobody_waits(live_hub: LiveHub) -> None:
    live_hub.deploy("review.bpmn")
    with live_hub.client() as c:
        key = c.post("/api/v1/process-instances", json={"processId": "review", "variables": {"orderId": "z"}}).json()[
            "instance"
        ]
        assert c.post(f"/api/v1/process-instances/{key}/cancel").json()["state"] == "terminated"
        assert c.post("/api/v1/signals", json={"name": "nobody"}).json() == {"name": "nobody", "reached": 0}
        assert c.get("/api/v1/process-instances/999999999").status_code == 404
        assert c.get("/api/v1/process-instances/abc").status_code == 404


def test_external_workers_long_poll_for_jobs_and_report_results(live_hub: LiveHub) -> None:
    live_hub.deploy("external.bpmn")
    with live_hub.client() as c:
        empty = c.post("/api/v1/jobs/activate", json={"type": "remote-work", "requestTimeout": 0.2})
        assert empty.json() == {"jobs": []}

        got: dict[str, object] = {}

        def poll() -> None:
            with live_hub.client() as worker:
                got["answer"] = worker.post(
                    "/api/v1/jobs/activate",
                    json={"type": "remote-work", "maxJobs": 5, "leaseSeconds": 30, "requestTimeout": 20},
                ).json()

        poller = threading.Thread(target=poll)
        began = time.monotonic()
        poller.start()
        key = c.post("/api/v1/process-instances", json={"processId": "external", "variables": {"n": 1}}).json()[
            "instance"
        ]
        poller.join(timeout=25)
        assert time.monotonic() - began < 20  # answered when the job appeared, not at the timeout
        jobs = got["answer"]["jobs"]  # type: ignore[index]
        assert [(j["instance"], j["element"], j["variables"]) for j in jobs] == [(key, "work", {"n": 1})]
        job = jobs[0]
        stale = c.post(f"/api/v1/jobs/{job['key']}/complete", json={"worker": job["worker"], "lockVersion": 999})
        assert stale.status_code == 409
        done = c.post(
            f"/api/v1/jobs/{job['key']}/complete",
            json={"variables": {"result": "ok"}, "worker": job["worker"], "lockVersion": job["lockVersion"]},
        )
        assert done.status_code == 200
        assert c.get(f"/api/v1/process-instances/{key}").json()["variables"] == {"n": 1, "result": "ok"}


def test_a_failed_job_becomes_an_incident_that_resolve_retries_and_errors_reach_boundary_events(
    live_hub: LiveHub,
) -> None:
    live_hub.deploy("external.bpmn")
    with live_hub.client() as c:
        failing = c.post("/api/v1/process-instances", json={"processId": "external"}).json()["instance"]
        job = c.post("/api/v1/jobs/activate", json={"type": "remote-work"}).json()["jobs"][0]
        lease = {"worker": job["worker"], "lockVersion": job["lockVersion"]}
        failed = c.post(f"/api/v1/jobs/{job['key']}/fail", json={"errorMessage": "disk full", "retries": 0, **lease})
        assert failed.json() == {"key": job["key"], "retries": 0, "state": "failed"}
        incidents = c.get("/api/v1/incidents").json()["items"]
        assert [(i["instance"], i["message"]) for i in incidents] == [(failing, "disk full")]
        assert c.get(f"/api/v1/process-instances/{failing}").json()["state"] == "incident"
        assert c.post(f"/api/v1/incidents/{incidents[0]['id']}/resolve").json()["state"] == "resolved"
        assert c.get("/api/v1/incidents").json()["items"] == []
        retried = c.post("/api/v1/jobs/activate", json={"type": "remote-work"}).json()["jobs"]
        assert [j["key"] for j in retried] == [job["key"]]
        lease = {"worker": retried[0]["worker"], "lockVersion": retried[0]["lockVersion"]}
        thrown = c.post(
            f"/api/v1/jobs/{job['key']}/error", json={"errorCode": "REJECTED", "errorMessage": "no", **lease}
        )
        assert thrown.status_code == 200
        final = c.get(f"/api/v1/process-instances/{failing}").json()
        assert final["state"] == "completed"
        assert c.post(f"/api/v1/jobs/{job['key']}/complete", json=lease).status_code == 404


def test_the_openapi_document_names_every_route_the_api_serves(live_hub: LiveHub) -> None:
    from starlette.routing import Route

    with live_hub.client() as c:
        document = c.get("/api/v1/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    documented = {(path, method.upper()) for path, item in document["paths"].items() for method in item}
    served = {
        (route.path, method)
        for route in live_hub.app.routes
        if isinstance(route, Route) and route.path.startswith("/api/v1/") and route.path != "/api/v1/openapi.json"
        for method in (route.methods or set()) - {"HEAD"}
    }
    assert documented == served


def test_a_deployment_answers_warnings_about_what_the_engine_will_not_act_on_with_file_line_and_element(
    live_hub: LiveHub,
) -> None:
    model = DATA.parent / "deploy" / "unacted.bpmn"
    with live_hub.client() as c:
        answer = c.post("/api/v1/deployments", files=[("files", ("unacted.bpmn", model.read_bytes(), "text/xml"))])
    assert answer.status_code == 201, answer.text
    body = answer.json()
    [process] = body["processes"]
    assert process["processId"] == "unacted" and process["warnings"] == body["warnings"]
    assert [(w["file"], w["element"]) for w in body["warnings"]] == [
        ("unacted.bpmn", "agent"),
        ("unacted.bpmn", "fetch"),
        ("unacted.bpmn", "hook"),
    ]
    agent = body["warnings"][0]
    assert isinstance(agent["line"], int) and "implemented by a job worker are not supported" in agent["message"]
    plain = live_hub.deploy("straight.bpmn")
    assert plain["warnings"] == [] and plain["processes"][0]["warnings"] == []


def test_an_instance_waiting_for_a_job_type_no_worker_runs_says_so_on_its_active_element(live_hub: LiveHub) -> None:
    live_hub.deploy("external.bpmn")  # 'remote-work': the hub's own worker does not run it
    with live_hub.client() as c:
        key = c.post("/api/v1/process-instances", json={"processId": "external"}).json()["instance"]
        [element] = c.get(f"/api/v1/process-instances/{key}").json()["activeElements"]
        waiting = element["waitingFor"]
        assert element["elementId"] == "work"
        assert {k: waiting[k] for k in ("jobType", "retries", "claims")} == {
            "jobType": "remote-work",
            "retries": 2,
            "claims": 0,
        }
        assert waiting["since"].endswith("Z") and isinstance(waiting["job"], int)
        [listed] = c.get("/api/v1/process-instances", params={"processId": "external"}).json()["items"]
        assert listed["activeElements"][0]["waitingFor"] == waiting
        c.post("/api/v1/jobs/activate", json={"type": "remote-work"}).raise_for_status()
        [claimed] = c.get(f"/api/v1/process-instances/{key}").json()["activeElements"]
        assert "waitingFor" not in claimed


def test_user_tasks_list_the_inputs_the_person_needs_to_act(live_hub: LiveHub) -> None:
    model = DATA.parent / "cli" / "refund_review.bpmn"
    order = {"customer": "ada", "total": 120, "reason": "never arrived"}
    with live_hub.client() as c:
        c.post("/api/v1/deployments", content=model.read_bytes(), headers={"Content-Type": "application/xml"})
        key = c.post("/api/v1/process-instances", json={"processId": "refund_review", "variables": {"order": order}})
        instance = key.json()["instance"]
        [task] = c.get("/api/v1/user-tasks", params={"instance": instance}).json()["items"]
        expected = {"customer": "ada", "refund": {"amount": 60, "reason": "never arrived"}}
        assert task["inputs"] == expected and isinstance(task["createdAt"], int)
        assert task["dueDate"] == "2030-01-02T12:30:00+02:00"
        assert c.get(f"/api/v1/user-tasks/{task['id']}").json()["inputs"] == expected


def test_the_openapi_document_describes_waiting_for_a_worker_task_inputs_and_deployment_warnings(
    live_hub: LiveHub,
) -> None:
    with live_hub.client() as c:
        schemas = c.get("/api/v1/openapi.json").json()["components"]["schemas"]
    assert schemas["ActiveElement"]["properties"]["waitingFor"] == {"oneOf": [
        {"$ref": "#/components/schemas/WaitingForWorker"}, {"$ref": "#/components/schemas/WaitingForMessage"}]}
    assert {"jobType", "since", "job", "claims"} <= set(schemas["WaitingForWorker"]["properties"])
    assert {"message", "lastError", "failures", "nextCheck"} <= set(schemas["WaitingForMessage"]["properties"])
    assert "inputs" in schemas["UserTask"]["required"]
    assert schemas["Deployment"]["properties"]["warnings"]["items"] == {
        "$ref": "#/components/schemas/DeploymentProblem"
    }
