"""Jobs and workers: handlers registered by type, and the loop that claims and runs due jobs with leases.

Owns: the ``@worker`` registry, the worker loop (claim, heartbeat, report,
retry with backoff) and its settings.

Does not know: BPMN. A job is a type, variables, headers and a stable key;
what it means is the handler's business.
"""

from engine.scheduler.loop import WorkerLoop, WorkerSettings, run_until_idle
from engine.scheduler.registry import Job, WorkerRegistry, default_registry, worker

__all__ = ["Job", "WorkerLoop", "WorkerRegistry", "WorkerSettings", "default_registry", "run_until_idle", "worker"]
