"""A2A's HTTP+JSON refusal body, shared by the A2A routes and the hub's guard.

A refusal on the HTTP+JSON binding is Google's AIP-193 error: ``code`` (the
HTTP status), ``status`` (the gRPC status name), ``message`` and ``details``,
whose ``google.rpc.ErrorInfo`` carries a machine-readable ``reason`` (A2A's TCK,
HTTP_JSON-ERR-001). Authentication and the hub's other refusals are not A2A
errors, so their reason is the status itself, in the hub's own domain; the
errors A2A defines are answered by the a2a-sdk with its reasons and the
``a2a-protocol.org`` domain.
"""

from __future__ import annotations

from typing import Any, Final

__all__ = ["DOMAIN", "rest_refusal"]

DOMAIN: Final = "agenthub"
ERROR_INFO: Final = "type.googleapis.com/google.rpc.ErrorInfo"
_STATUS: Final = {401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND"}


def rest_refusal(status: int, message: str) -> dict[str, Any]:
    """The body of an HTTP ``status`` refusal saying ``message``."""
    name = _STATUS.get(status, "INVALID_ARGUMENT")
    info = {"@type": ERROR_INFO, "reason": name, "domain": DOMAIN, "metadata": {"httpStatus": str(status)}}
    return {"error": {"code": status, "status": name, "message": message, "details": [info]}}
