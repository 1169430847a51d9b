"""Push-config CRUD: stored durably, scoped to the task's caller, webhook URLs checked when set (RELIABILITY.md A3)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from a2a.types import (
    AuthenticationInfo,
    DeleteTaskPushNotificationConfigRequest,
    GetTaskPushNotificationConfigRequest,
    InvalidParamsError,
    ListTaskPushNotificationConfigsRequest,
    PushNotificationNotSupportedError,
    SendMessageRequest,
    TaskNotFoundError,
    TaskPushNotificationConfig,
)

from engine import Engine
from protocols.a2a.push_configs import PushConfigs
from protocols.http import EgressPolicy
from registry import PushStore, RegistryStore
from tests.protocols.a2a.harness import BINDINGS, A2AHub, message, send

pytestmark = pytest.mark.anyio

HOOK = "https://hooks.example.com/a2a"

# RELIABILITY.md A3: every one is refused when set, under the default allow-list (public addresses only).
A3_URLS = [
    "http://127.0.0.1:9/hook",
    "http://localhost:9/hook",
    "http://sub.localhost/hook",
    "http://[::1]:9/hook",
    "http://[::ffff:127.0.0.1]:9/hook",
    "http://0.0.0.0:9/hook",
    "http://127.1:9/hook",
    "http://2130706433:9/hook",
    "http://0x7f000001:9/hook",
    "http://017700000001:9/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/hook",
    "http://172.16.0.1/hook",
    "http://192.168.1.1/hook",
    "http://100.64.0.1/hook",
    "http://[fc00::1]/hook",
    "http://[fe80::1]/hook",
    "file:///etc/passwd",
    "gopher://hooks.example.com/",
    "ftp://hooks.example.com/",
    "http://allowed@127.0.0.1/hook",
    "http://hooks.example.com@127.0.0.1/hook",
    "http://127.0.0.1#@hooks.example.com/",
    "http://" + "a" * 254 + ".com/hook",
    "http://" + "a" * 64 + ".example.com/hook",
    "http://ⅼocalhost/hook",  # U+217C SMALL ROMAN NUMERAL FIFTY: IDNA maps it to "localhost"  # noqa: RUF001
    "http://１２７.０.０.１/hook",  # fullwidth digits and dots  # noqa: RUF001
    "http://[fe80::1%25eth0]/hook",
    "http://hooks.example.com\\@127.0.0.1/hook",
    "javascript:alert(1)",
    "",
]


@pytest.fixture
def push_store(a2a_engine: Engine) -> PushStore:
    return PushStore(RegistryStore(str(a2a_engine.store.engine.url)))


@pytest.fixture
def push_hub(serve_a2a: Callable[..., A2AHub], push_store: PushStore) -> A2AHub:
    """An endpoint that offers push notifications, under the default allow-list."""
    return serve_a2a(call_timeout_s=5.0, push=PushConfigs(push_store, EgressPolicy.from_env(None)))


def _config(task_id: str, config_id: str = "c1", url: str = HOOK) -> TaskPushNotificationConfig:
    return TaskPushNotificationConfig(
        task_id=task_id,
        id=config_id,
        url=url,
        token="tok-123",
        authentication=AuthenticationInfo(scheme="Bearer", credentials="secret-456"),
    )


@pytest.mark.parametrize("binding", BINDINGS)
async def test_a_config_is_created_read_listed_and_deleted_and_deleting_again_succeeds(
    push_hub: A2AHub, push_store: PushStore, binding: str
) -> None:
    async with push_hub.client("confirm", binding=binding) as client:
        task = await send(client, message(data={"order": "o-1"}))
        created = await client.create_task_push_notification_config(_config(task.id))
        assert (created.task_id, created.id, created.url) == (task.id, "c1", HOOK)
        got = await client.get_task_push_notification_config(
            GetTaskPushNotificationConfigRequest(task_id=task.id, id="c1")
        )
        assert got.url == HOOK and got.authentication.scheme == "Bearer"
        await client.create_task_push_notification_config(_config(task.id, "c2"))
        listed = await client.list_task_push_notification_configs(
            ListTaskPushNotificationConfigsRequest(task_id=task.id)
        )
        assert [c.id for c in listed.configs] == ["c1", "c2"]
        await client.delete_task_push_notification_config(
            DeleteTaskPushNotificationConfigRequest(task_id=task.id, id="c1")
        )
        await client.delete_task_push_notification_config(
            DeleteTaskPushNotificationConfigRequest(task_id=task.id, id="c1")
        )
        with pytest.raises(TaskNotFoundError):
            await client.get_task_push_notification_config(
                GetTaskPushNotificationConfigRequest(task_id=task.id, id="c1")
            )
    stored = push_store.get(task.id, "c2", "agent")
    assert stored is not None and stored.token == "tok-123" and stored.auth_credentials == "secret-456"


async def test_the_token_and_the_credentials_are_never_read_back(push_hub: A2AHub) -> None:
    async with push_hub.client("confirm") as client:
        task = await send(client, message(data={"order": "o-1"}))
        created = await client.create_task_push_notification_config(_config(task.id))
        got = await client.get_task_push_notification_config(
            GetTaskPushNotificationConfigRequest(task_id=task.id, id="c1")
        )
        listed = await client.list_task_push_notification_configs(
            ListTaskPushNotificationConfigsRequest(task_id=task.id)
        )
    for shown in (created, got, *listed.configs):
        assert not shown.token and not shown.authentication.credentials
        assert "tok-123" not in str(shown) and "secret-456" not in str(shown)


async def test_configs_are_listed_in_pages(push_hub: A2AHub) -> None:
    async with push_hub.client("confirm") as client:
        task = await send(client, message(data={"order": "o-1"}))
        for n in range(5):
            await client.create_task_push_notification_config(_config(task.id, f"c{n}"))
        first = await client.list_task_push_notification_configs(
            ListTaskPushNotificationConfigsRequest(task_id=task.id, page_size=3)
        )
        second = await client.list_task_push_notification_configs(
            ListTaskPushNotificationConfigsRequest(task_id=task.id, page_size=3, page_token=first.next_page_token)
        )
    assert [c.id for c in first.configs] == ["c0", "c1", "c2"] and first.next_page_token
    assert [c.id for c in second.configs] == ["c3", "c4"] and not second.next_page_token


@pytest.mark.parametrize("binding", BINDINGS)
async def test_another_callers_task_and_configs_look_exactly_like_missing_ones(push_hub: A2AHub, binding: str) -> None:
    async with push_hub.client("confirm", binding=binding) as mine:
        task = await send(mine, message(data={"order": "o-1"}))
        await mine.create_task_push_notification_config(_config(task.id))
    async with push_hub.client("confirm", "other", binding=binding) as theirs:
        for task_id in (task.id, "987654321"):
            calls = [
                theirs.create_task_push_notification_config(_config(task_id, "c9")),
                theirs.get_task_push_notification_config(
                    GetTaskPushNotificationConfigRequest(task_id=task_id, id="c1")
                ),
                theirs.list_task_push_notification_configs(ListTaskPushNotificationConfigsRequest(task_id=task_id)),
                theirs.delete_task_push_notification_config(
                    DeleteTaskPushNotificationConfigRequest(task_id=task_id, id="c1")
                ),
            ]
            for call in calls:
                with pytest.raises(TaskNotFoundError) as refused:
                    await call
                assert str(task_id) in str(refused.value)
    async with push_hub.client("confirm", binding=binding) as mine:
        got = await mine.get_task_push_notification_config(
            GetTaskPushNotificationConfigRequest(task_id=task.id, id="c1")
        )
    assert got.url == HOOK  # the other caller's delete did not touch it


@pytest.mark.parametrize("url", A3_URLS)
async def test_a_webhook_url_to_a_private_or_odd_destination_is_refused_when_set(
    push_hub: A2AHub, push_store: PushStore, url: str
) -> None:
    async with push_hub.client("confirm") as client:
        task = await send(client, message(data={"order": "o-1"}))
        with pytest.raises(InvalidParamsError):
            await client.create_task_push_notification_config(_config(task.id, url=url))
    assert push_store.of_task(task.id, "agent") == []


async def test_a_message_carrying_a_refused_webhook_starts_no_task(push_hub: A2AHub, push_store: PushStore) -> None:
    before = push_hub.engine.instances(process_id="confirm")
    request = SendMessageRequest(message=message(data={"order": "o-1"}))
    request.configuration.task_push_notification_config.CopyFrom(_config("", url="http://169.254.169.254/"))
    async with push_hub.client("confirm") as client:
        with pytest.raises(InvalidParamsError, match=r"169\.254\.169\.254"):
            _ = [r async for r in client.send_message(request)]
    assert push_hub.engine.instances(process_id="confirm") == before
    assert push_store.watched() == []


async def test_a_message_may_carry_a_config_for_the_task_it_starts(push_hub: A2AHub, push_store: PushStore) -> None:
    request = SendMessageRequest(message=message(data={"order": "o-1"}))
    request.configuration.task_push_notification_config.CopyFrom(_config("", config_id=""))
    async with push_hub.client("confirm") as client:
        [response] = [r async for r in client.send_message(request)]
    task_id = response.task.id
    stored = push_store.get(task_id, task_id, "agent")  # no id given: the config's id is the task's
    assert stored is not None and stored.url == HOOK and stored.notified is None  # it hears the current state too


async def test_setting_a_config_needs_the_start_scope(push_hub: A2AHub) -> None:
    async with push_hub.client("confirm") as client:
        task = await send(client, message(data={"order": "o-1"}))
    body = {"url": HOOK}
    async with push_hub.http("reader") as http:
        rest = await http.post(f"/a2a/confirm/tasks/{task.id}/pushNotificationConfigs", json=body)
        rpc = await http.post(
            "/a2a/confirm",
            json={
                "jsonrpc": "2.0",
                "id": 1,
                "method": "CreateTaskPushNotificationConfig",
                "params": {**body, "taskId": "1"},
            },
        )
    assert rest.status_code == 403 and rpc.status_code == 403


async def test_the_card_offers_push_notifications_only_when_the_endpoint_has_a_store(
    push_hub: A2AHub, a2a_hub: A2AHub
) -> None:
    async with push_hub.http(token=None) as http:
        offered = (await http.get("/a2a/confirm/.well-known/agent-card.json")).json()
    async with a2a_hub.http(token=None) as http:
        plain = (await http.get("/a2a/confirm/.well-known/agent-card.json")).json()
    assert offered["capabilities"]["pushNotifications"] is True
    assert plain["capabilities"]["pushNotifications"] is False
    async with a2a_hub.client("confirm") as client:
        task = await send(client, message(data={"order": "o-1"}))
        with pytest.raises(PushNotificationNotSupportedError):
            await client.create_task_push_notification_config(_config(task.id))


async def test_a_task_holds_at_most_ten_configs(push_hub: A2AHub) -> None:
    async with push_hub.client("confirm") as client:
        task = await send(client, message(data={"order": "o-1"}))
        for n in range(10):
            await client.create_task_push_notification_config(_config(task.id, f"c{n}"))
        await client.create_task_push_notification_config(_config(task.id, "c3"))  # replacing one is fine
        with pytest.raises(InvalidParamsError, match="delete one first"):
            await client.create_task_push_notification_config(_config(task.id, "c10"))


def test_configs_survive_a_restart(push_store: PushStore, a2a_engine: Engine) -> None:
    from registry import PushConfig

    push_store.put(PushConfig(task_id="1", config_id="c", owner="agent", url=HOOK, token="t"))
    push_store.store.close()
    again = PushStore(RegistryStore(str(a2a_engine.store.engine.url)))
    found: Any = again.get("1", "c", "agent")
    assert found is not None and found.token == "t"
    again.store.close()
