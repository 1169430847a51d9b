"""The push-config methods of the A2A server: create, get, list and delete a task's webhook configs.

A config belongs to the principal that set it on its own task: every method
first finds the task as the caller's (``owned``, which answers "task not
found" for anyone else's, RELIABILITY.md A2), then reads the registry rows
of that owner. A webhook URL is checked (``push_url.check_push_url``, the A3
rules) before anything is stored. The token and the authentication
credentials are write-only: they are sent to the webhook, never read back
over A2A.

A config set with CreateTaskPushNotificationConfig hears of the task's next
change; one sent with the message that starts or continues a task
(``configuration.taskPushNotificationConfig``) also hears the state the
task is in. Delivery is the dispatcher's (``push_dispatch``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

from a2a.server.context import ServerCallContext
from a2a.server.request_handlers.request_handler import validate_request_params
from a2a.types import (
    AuthenticationInfo,
    DeleteTaskPushNotificationConfigRequest,
    GetTaskPushNotificationConfigRequest,
    InvalidParamsError,
    ListTaskPushNotificationConfigsRequest,
    ListTaskPushNotificationConfigsResponse,
    PushNotificationNotSupportedError,
    TaskNotFoundError,
    TaskPushNotificationConfig,
)
from a2a.utils.task import decode_page_token, encode_page_token

from protocols.a2a._convert import Snapshot
from protocols.a2a.push_url import PushUrlRefused, check_push_url
from protocols.a2a.push_watch import task_signature
from protocols.http import EgressPolicy
from registry import InvalidEntry, PushConfig, PushStore

__all__ = ["PushConfigMethods", "PushConfigs", "wire"]

T = TypeVar("T")

MAX_ID = 255
MAX_SECRET = 4096
MAX_PAGE = 100
_SCHEME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$")  # an HTTP auth scheme is a token (RFC 9110)
_NOT_OFFERED = "push notifications are not offered by this hub; stream or poll the task"


class PushConfigs:
    """Checking and storing configs, and showing them back without their secrets."""

    def __init__(self, store: PushStore, egress: EgressPolicy) -> None:
        self.store = store
        self.egress = egress

    def check(self, config: TaskPushNotificationConfig) -> None:
        """``InvalidParamsError`` unless the config may be stored: URL, id, token and authentication."""
        try:
            check_push_url(config.url, self.egress)
        except PushUrlRefused as exc:
            raise InvalidParamsError(message=str(exc)) from None
        if len(config.id) > MAX_ID or not config.id.isprintable():
            raise InvalidParamsError(message=f"a push config id is at most {MAX_ID} printable characters")
        for name, value in (("token", config.token), ("authentication.credentials", config.authentication.credentials)):
            if len(value) > MAX_SECRET or not (value.isascii() and value.isprintable()):
                raise InvalidParamsError(
                    message=f"the push config's {name} must be at most {MAX_SECRET} printable ASCII characters"
                )
        scheme = config.authentication.scheme
        if scheme and not _SCHEME.match(scheme):
            raise InvalidParamsError(message=f"'{scheme[:64]}' is not an HTTP authentication scheme (such as Bearer)")

    def set(self, snapshot: Snapshot, config: TaskPushNotificationConfig, *, hear_current: bool) -> PushConfig:
        """Store a checked config on the caller's task (``snapshot``); blocking, run it in a thread."""
        assert snapshot.caller is not None  # an owned task has a caller
        task_id = str(snapshot.key)
        try:
            return self.store.put(
                PushConfig(
                    task_id=task_id,
                    config_id=config.id or task_id,  # as the SDK does: one config per task needs no id
                    owner=snapshot.caller,
                    url=config.url,
                    token=config.token or None,
                    auth_scheme=config.authentication.scheme or None,
                    auth_credentials=config.authentication.credentials or None,
                    notified=None if hear_current else task_signature(snapshot),
                    done=not hear_current and snapshot.view.state in ("completed", "terminated"),
                )
            )
        except InvalidEntry as exc:
            raise InvalidParamsError(message=str(exc)) from None

    def get(self, task_id: str, config_id: str, owner: str) -> PushConfig:
        found = self.store.get(task_id, config_id, owner)
        if found is None:
            raise TaskNotFoundError(message=f"task {task_id} has no push notification config '{config_id[:MAX_ID]}'")
        return found

    def page(
        self, params: ListTaskPushNotificationConfigsRequest, owner: str
    ) -> ListTaskPushNotificationConfigsResponse:
        size = params.page_size or MAX_PAGE
        if not 0 < size <= MAX_PAGE:
            raise InvalidParamsError(message=f"pageSize must be between 1 and {MAX_PAGE}")
        after = decode_page_token(params.page_token) if params.page_token else None
        found = self.store.of_task(params.task_id, owner, limit=size + 1, after=after)
        response = ListTaskPushNotificationConfigsResponse(configs=[wire(c) for c in found[:size]])
        if len(found) > size:
            response.next_page_token = encode_page_token(found[size - 1].config_id)
        return response


def wire(config: PushConfig) -> TaskPushNotificationConfig:
    """A stored config as A2A shows it: without the token and the credentials."""
    shown = TaskPushNotificationConfig(id=config.config_id, task_id=config.task_id, url=config.url)
    if config.auth_scheme:
        shown.authentication.CopyFrom(AuthenticationInfo(scheme=config.auth_scheme))
    return shown


class PushConfigMethods:
    """The four push-config methods, mixed into ``ProcessTaskHandler`` (which provides the rest)."""

    push: PushConfigs | None

    async def owned(self, task_id: str, context: ServerCallContext) -> Snapshot:
        raise NotImplementedError

    async def _io(self, work: Callable[[], T]) -> T:
        raise NotImplementedError

    def _may_start(self, context: ServerCallContext, action: str) -> None:
        raise NotImplementedError

    def _configs(self) -> PushConfigs:
        if self.push is None:
            raise PushNotificationNotSupportedError(message=_NOT_OFFERED)
        return self.push

    async def attach(self, snapshot: Snapshot, config: TaskPushNotificationConfig) -> None:
        """Store the config a message carried on the task it started or continued (checked before that)."""
        configs = self._configs()
        await self._io(lambda: configs.set(snapshot, config, hear_current=True))

    @validate_request_params
    async def on_create_task_push_notification_config(
        self, params: TaskPushNotificationConfig, context: ServerCallContext
    ) -> TaskPushNotificationConfig:
        configs = self._configs()
        snapshot = await self.owned(params.task_id, context)
        self._may_start(context, "setting a push notification config")
        configs.check(params)
        return wire(await self._io(lambda: configs.set(snapshot, params, hear_current=False)))

    @validate_request_params
    async def on_get_task_push_notification_config(
        self, params: GetTaskPushNotificationConfigRequest, context: ServerCallContext
    ) -> TaskPushNotificationConfig:
        configs = self._configs()
        owner = await self._owner(params.task_id, context)
        return wire(await self._io(lambda: configs.get(params.task_id, params.id, owner)))

    @validate_request_params
    async def on_list_task_push_notification_configs(
        self, params: ListTaskPushNotificationConfigsRequest, context: ServerCallContext
    ) -> ListTaskPushNotificationConfigsResponse:
        configs = self._configs()
        owner = await self._owner(params.task_id, context)
        return await self._io(lambda: configs.page(params, owner))

    @validate_request_params
    async def on_delete_task_push_notification_config(
        self, params: DeleteTaskPushNotificationConfigRequest, context: ServerCallContext
    ) -> None:
        configs = self._configs()
        owner = await self._owner(params.task_id, context)
        # Deleting what is not there succeeds: a retried delete must not fail (A2A: delete is idempotent).
        await self._io(lambda: configs.store.delete(params.task_id, params.id, owner))

    async def _owner(self, task_id: str, context: ServerCallContext) -> str:
        snapshot = await self.owned(task_id, context)
        assert snapshot.caller is not None
        return snapshot.caller
