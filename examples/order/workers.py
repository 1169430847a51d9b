"""Job handlers for the order example.

Each handler passes ``job.key`` on as the idempotency key: a job runs at
least once, so a retried charge must not charge twice.
"""

from __future__ import annotations

from typing import Any

from engine import BpmnError, Job, worker


@worker("charge-card")
def charge_card(job: Job) -> dict[str, Any]:
    amount = job.variables["amount"]
    if amount <= 0:
        raise BpmnError("INVALID_AMOUNT", f"cannot charge {amount}")
    return {"paymentId": f"pay-{job.key}"}


@worker("ship-item")
def ship_item(job: Job) -> dict[str, Any]:
    line = job.variables["line"]
    return {"parcel": {"sku": line["sku"], "carrier": job.headers.get("carrier", "post"), "tracking": f"T{job.key}"}}


@worker("send-invoice")
def send_invoice(job: Job) -> dict[str, Any]:
    return {"invoiceSent": True}
