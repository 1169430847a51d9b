"""Workers for CLI tests of the straight scenario."""

from engine import worker


@worker("charge")
def charge(job):
    return {"charged": True}
