"""Job handlers for the complaint example: the order system, the refund system and the notifier.

Each passes ``job.key`` on as the idempotency key: a job runs at least once.
"""

from __future__ import annotations

from typing import Any

from engine import Job, worker

ORDERS = {
    "A-100": {"orderId": "A-100", "status": "lost", "total": 120.0, "items": ["kettle"]},
    "A-200": {"orderId": "A-200", "status": "damaged", "total": 35.0, "items": ["mug", "mug"]},
    "A-300": {"orderId": "A-300", "status": "delivered", "total": 80.0, "items": ["lamp"]},
}


@worker("complaint-lookup-order")
def lookup_order(job: Job) -> dict[str, Any]:
    order = ORDERS.get(str(job.variables.get("orderId")))
    if order is None:
        return {"toolCallResult": {"error": f"no order {job.variables.get('orderId')!r}"}}
    return {"toolCallResult": order}


@worker("complaint-refund")
def refund(job: Job) -> dict[str, Any]:
    return {"toolCallResult": {"refundId": f"R-{job.key}", "orderId": job.variables["orderId"],
                               "amount": job.variables["amount"], "status": "refunded"}}


@worker("complaint-notify")
def notify(job: Job) -> dict[str, Any]:
    resolution = job.variables.get("resolution") or {}
    message = resolution.get("response") if isinstance(resolution, dict) else None
    return {"notified": True, "notification": message or "Your complaint was resolved by our team."}
