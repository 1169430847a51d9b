"""Workers for the CLI tests: `pay` fails while the file named by $PAY_BROKEN exists."""

import os
from pathlib import Path

from engine import worker


@worker("pay")
def pay(job):
    flag = os.environ.get("PAY_BROKEN")
    if flag and Path(flag).exists():
        raise RuntimeError("the bank is closed")
    return {"paidWith": f"transfer-{job.key}"}
