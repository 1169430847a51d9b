"""Jobs and workers: handlers registered by type, and the loop that claims and runs due jobs with leases.

Owns: the ``@worker`` registry, the worker loop (claim, heartbeat, report,
retry with backoff) and its settings. The loop is one asyncio event loop:
``async def`` handlers run on it as tasks, ``def`` handlers on its threads,
the engine's SQL on a thread of its own.

Does not know: BPMN. A job is a type, variables, headers and a stable key;
what it means is the handler's business.
"""

from engine.scheduler.loop import WorkerLoop, WorkerSettings, run_until_idle
from engine.scheduler.registry import Job, WorkerRegistry, default_registry, worker

__all__ = ["Job", "WorkerLoop", "WorkerRegistry", "WorkerSettings", "default_registry", "run_until_idle", "worker"]
