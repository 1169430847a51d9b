"""The ``decisions`` table (store revision 0013): a database from before it is migrated and then takes DMN."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from engine import Engine
from tests.engine.store.old_database import database_at

DATA = Path(__file__).resolve().parents[2] / "data" / "dmn"


def test_a_database_from_before_decisions_is_migrated_and_runs_a_business_rule_task(tmp_path: Path) -> None:
    url = database_at(tmp_path / "old.db", "0012", "SELECT 1")
    engine = Engine.open(url)
    try:
        engine.deploy([("discount.bpmn", (DATA / "discount.bpmn").read_text()),
                       ("discount.dmn", (DATA / "discount.dmn").read_text())])
        instance = engine.start("pricing", {"customer": {"orders": 1}, "total": 10})
        assert instance.variables["discount"] == {"rate": 0, "amount": 0}
    finally:
        engine.close()
    db = sa.create_engine(url)
    try:
        with db.connect() as conn:
            rows = conn.execute(sa.text("SELECT decision_id, version, version_tag FROM decisions ORDER BY key")).all()
            indexes = {i["name"] for i in sa.inspect(conn).get_indexes("decisions")}
    finally:
        db.dispose()
    assert [tuple(r) for r in rows] == [("customerLevel", 1, None), ("discount", 1, "v1")]
    assert {"ix_decisions_tag", "ix_decisions_checksum"} <= indexes
