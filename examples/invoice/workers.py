"""Job handlers for the invoice example."""

from __future__ import annotations

from typing import Any

from engine import BpmnError, Job, worker


@worker("send-invoice")
def send_invoice(job: Job) -> dict[str, Any]:
    return {"invoiceSent": True}


@worker("send-reminder")
def send_reminder(job: Job) -> dict[str, Any]:
    return {"lastReminder": job.key}


@worker("book-payment")
def book_payment(job: Job) -> dict[str, Any]:
    if job.variables.get("method") == "expired-card":
        raise BpmnError("CARD_DECLINED", "the card has expired")
    return {"booked": job.variables.get("amount")}
