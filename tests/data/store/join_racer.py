"""Run in a spawned process by the parallel-join race test: complete user tasks in step with a twin process."""

from __future__ import annotations

import json
import traceback
from pathlib import Path
from typing import Any


def complete_in_step(url: str, task_keys: list[int], barrier: Any, report: str) -> None:
    """For each task: wait until the twin is ready too, then complete it. Errors go to ``report``, never raised."""
    from engine import Engine

    errors: list[str] = []
    engine = Engine.open(url, synchronous="NORMAL")
    try:
        for key in task_keys:
            barrier.wait(timeout=30)
            try:
                engine.complete_user_task(key, {f"approved_{key}": True})
            except Exception:
                errors.append(traceback.format_exc())
    finally:
        engine.close()
        Path(report).write_text(json.dumps({"errors": errors, "tasks": len(task_keys)}))
