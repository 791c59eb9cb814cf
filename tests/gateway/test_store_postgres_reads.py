"""What the read path costs on PostgreSQL (bench/, issue 17): results come in the binary format (the stored FHIR's bytea
unencoded on the wire) with the same Python values as in the text format, in and outside a transaction, and a
statement's column descriptions are made only when asked for."""

import psycopg
import pytest

from gateway import store
from gateway.store import postgres

BINARY = psycopg.pq.Format.BINARY


@pytest.fixture(scope="module")
def db(postgres_cluster):
    from tests import chart

    handle = store.connect(postgres_cluster.database())
    chart.build(handle)
    return handle


@pytest.fixture
def formats(monkeypatch):
    """The result format of each column of each statement run outside a transaction."""
    seen, rows = [], postgres.Rows

    def recording(cursor):
        seen.append([cursor.pgresult.fformat(i) for i in range(cursor.pgresult.nfields)])
        return rows(cursor)

    monkeypatch.setattr(postgres, "Rows", recording)
    return seen


def test_the_stored_fhir_comes_in_binary_outside_a_transaction(db, formats):
    row = db.execute("SELECT json, pk, id FROM resources WHERE type = 'Patient' ORDER BY pk LIMIT 1").fetchone()
    assert formats == [[BINARY, BINARY, BINARY]]
    assert type(row[0]) is bytes and row[0].startswith(b"{") and type(row[1]) is int and type(row[2]) is str


def test_and_inside_a_transaction(db):
    with db.transaction():
        cursor = db.execute("SELECT json FROM resources WHERE type = 'Patient' ORDER BY pk LIMIT 1")
        assert cursor.pgresult.fformat(0) == BINARY
        assert type(cursor.fetchone()[0]) is bytes


@pytest.mark.parametrize(
    ("sql", "value"),
    [
        ("SELECT count(*) FROM resources WHERE type = 'no-such-type'", 0),
        ("SELECT 'a' < 'B'", False),
        ("SELECT CAST(2.5 AS double precision)", 2.5),
        ("SELECT CAST(NULL AS text)", None),
        ("SELECT group_concat(x) FROM (VALUES ('a'), ('b')) AS v(x)", "a,b"),
        ("SELECT value FROM json_each(?)", "x"),
    ],
)
def test_values_are_the_python_values_of_the_text_format(db, sql, value):
    params = ('["x"]',) if "json_each" in sql else ()
    found = db.execute(sql, params).fetchone()[0]
    assert found == value and type(found) is type(value)


def test_a_statement_makes_its_column_descriptions_only_when_asked(db, monkeypatch):
    made = []
    described = psycopg.Cursor.description
    monkeypatch.setattr(
        psycopg.Cursor, "description", property(lambda cursor: made.append(1) or described.fget(cursor))
    )
    rows = db.execute("SELECT json, pk FROM resources WHERE type = 'Patient' ORDER BY pk LIMIT 2")
    assert len(rows.fetchall()) == 2 and made == []
    assert [column[0] for column in rows.description] == ["json", "pk"] and made == [1]


def test_a_statement_without_rows_has_none(db):
    done = db.execute("UPDATE resources SET deleted = deleted WHERE type = 'no-such-type'")
    assert (done.rowcount, done.fetchall(), done.fetchone(), done.description) == (0, [], None, None)
