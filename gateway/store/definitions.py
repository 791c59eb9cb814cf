"""Definitions every database serves (the screening forms, mappers.questionnaire): projected when a handle opens a
database whose definition rows have no resource yet (a new database, or a migration that added forms).

Their tables are no chart tables (store.CHART_TABLES): no practice writes them, and copying a chart copies none.
"""

from mappers import REGISTRY

from .chart import utc_now
from .connection import transaction
from .projection import project

DEFINITION_TABLES = tuple(rt.table for rt in REGISTRY.values() if rt.definitional)


def project_definitions(conn):
    """Project the definition rows that have no resource yet; return how many rows were projected."""
    projected = 0
    for table in DEFINITION_TABLES:
        names = [rt.name for rt in REGISTRY.values() if rt.table == table]
        marks = ",".join("?" * len(names))
        missing = [
            row[0]
            for row in conn.execute(
                f"SELECT t.id FROM {table} t WHERE NOT EXISTS (SELECT 1 FROM resources r"
                f" WHERE r.type IN ({marks}) AND r.id = t.uid)",
                names,
            )
        ]
        if missing:
            with transaction(conn):
                project(conn, table, missing, utc_now())
            projected += len(missing)
    return projected
