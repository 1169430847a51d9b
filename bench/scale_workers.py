"""Job handlers for ``bench/scale.py``: ``agenthub worker --workers bench/scale_workers.py``.

Each handler sleeps a little (``$AGENTHUB_SCALE_WORK_MS``, default 1.5 ms) to stand for the I/O a real handler
waits on, and returns one small variable.
"""

from __future__ import annotations

import os
import time
from typing import Any

from engine import Job, worker

WORK_S = float(os.environ.get("AGENTHUB_SCALE_WORK_MS", "1.5")) / 1000


@worker("scale-a")
def task_a(job: Job) -> dict[str, Any]:
    time.sleep(WORK_S)
    return {"a": "done"}


@worker("scale-b")
def task_b(job: Job) -> dict[str, Any]:
    time.sleep(WORK_S)
    return {"b": "done" if job.variables.get("a") == "done" else "missing a"}


@worker("scale-one")
def task_one(job: Job) -> dict[str, Any]:
    time.sleep(WORK_S)
    return {"done": True}
