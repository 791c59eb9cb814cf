"""The store: all SQL of the gateway, behind one handle. It imports nothing of ours but mappers.

Chart rows are written here and, in the same transaction, projected to FHIR (``projection``); reads
select that stored JSON (``read``, ``search``) and never run a mapper.

The handle: ``connect(path)`` opens one (creating and migrating the database), ``current()`` is this
thread's long-lived one on the configured database (``configure``; the app factory sets it), and every
named function here takes a handle first. A handle promises ``transaction()``, ``close()`` and ``path``
(see :class:`Store`); callers never run SQL on it. SQLite is the default engine; a ``postgresql://`` URL in place
of the path selects PostgreSQL (``postgres``), whose handle keeps the same promise and runs the same SQL.

Stored times: chart columns (and ``resources.last_updated``) keep FHIR's ISO 8601 text, instants in UTC
with an offset and calendar dates as dates, because they are served as written. The gateway's own
bookkeeping (created, expires, used, revoked, queued) is INTEGER seconds since the Unix epoch in UTC, in a
column named ``*_at`` (JWT's NumericDate, RFC 7519 section 2, which the tokens already carry); where order
within a second matters, INTEGER milliseconds in a column named ``*_ms``. New columns follow this; older
ones that do not are left as they are (no data migrations).
"""

from . import postgres, replicas
from .accounts import save_proxy_policy
from .bulk import insert_chunks
from .chart import CHART_TABLES, chart_row, chart_rows, insert_rows, next_ids, update_row
from .connection import Store, access_log, access_log_path, configure, connect, current, optimize, transaction
from .provenance import provenance_facts, provenance_target
from .read import note_document, read_resource, read_resources
from .search import record_rows, references_from, search
from .tokens import find_token, revoke_token, save_token

__all__ = [
    "CHART_TABLES",
    "Store",
    "access_log",
    "access_log_path",
    "chart_row",
    "chart_rows",
    "configure",
    "connect",
    "current",
    "find_token",
    "insert_chunks",
    "insert_rows",
    "next_ids",
    "note_document",
    "optimize",
    "postgres",
    "provenance_facts",
    "provenance_target",
    "read_resource",
    "read_resources",
    "replicas",
    "record_rows",
    "references_from",
    "revoke_token",
    "save_proxy_policy",
    "save_token",
    "search",
    "transaction",
    "update_row",
]
