"""A worker for the claim-race test: each run of a job appends (job key, worker pid) to a ledger table.

The ledger lives in the engine's PostgreSQL database ($LEDGER_DSN) but is
written through a connection of its own and committed before the job is
reported, as a real side effect would be.
"""

import os
import time

import psycopg

from engine import worker


@worker("ledger")
def record(job):
    with psycopg.connect(os.environ["LEDGER_DSN"], autocommit=True) as conn:
        conn.execute("INSERT INTO ledger (job_key, pid) VALUES (%s, %s)", (job.key, os.getpid()))
    time.sleep(0.005)  # a little work, so that the workers overlap
    return {"recordedBy": os.getpid()}
