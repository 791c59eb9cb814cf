"""The chart store: SQLite through sqlite-utils. All SQL of the gateway lives in this package.

Chart rows are written here and, in the same transaction, projected to FHIR (``projection``); reads
select that stored JSON (``read``, ``search``) and never run a mapper.
"""
from .connection import access_log, access_log_path, connect, optimize, reader, transaction
from .bulk import insert_chunks
from .chart import CHART_TABLES, chart_row, chart_rows, insert_rows, next_ids, update_row
from .read import read_resource, read_resources
from .search import compartment_rows, references_from, search
from .tokens import find_token, revoke_token, save_token

__all__ = [
    "CHART_TABLES", "access_log", "access_log_path", "chart_row", "chart_rows", "compartment_rows", "connect", "find_token",
    "insert_chunks", "insert_rows", "next_ids", "optimize", "read_resource", "read_resources", "reader",
    "references_from", "revoke_token", "save_token", "search", "transaction", "update_row",
]
