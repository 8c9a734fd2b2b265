"""The SQLAlchemy dialect the gates run Great Expectations on DuckDB through.

GX 1.24 has no DuckDB support of its own; it runs on ``duckdb-engine``'s dialect with two gaps
this subclass closes:

- GX reads a query's rows after it has closed the connection (``execute_query``). Closing
  rolls back, and DuckDB drops a connection's pending result when anything else runs on it, so
  every metric came back empty (GX then fails with ``IndexError``). Results are fetched whole
  before the connection is released: GX's queries return aggregates and small samples.
- GX chooses its SQL spellings (regular expressions, above all) by a dialect module it knows
  and has none for DuckDB, so regex expectations could not be evaluated. ``spell_as_postgres``
  hands it SQLAlchemy's PostgreSQL module, the dialect duckdb-engine derives from; GX then
  writes ``column ~ 'regex'``, which DuckDB reads as a *full* match, so the compiler writes
  ``regexp_matches`` instead: a search anywhere in the value, as PostgreSQL's ``~`` and GX's
  pandas check (``str.contains``) do.

Its connections also show no progress bars: at 1,000,000 customers a gate's longer queries
printed DuckDB's bar into the task's log, whose summary is the gate's report. The setting
belongs to each connection (DuckDB refuses it in a new database's configuration).
"""

from __future__ import annotations

import duckdb_engine
from sqlalchemy.dialects import postgresql, registry
from sqlalchemy.engine.cursor import FullyBufferedCursorFetchStrategy

#: the SQLAlchemy URL scheme of the dialect, e.g. ``duckdb+cdp_buffered:///:memory:``
URL_SCHEME = "duckdb+cdp_buffered"
_REGEX_OPERATORS = {"~": "", "!~": "NOT "}


class _BufferedExecutionContext(duckdb_engine.Dialect.execution_ctx_cls):
    def post_exec(self) -> None:
        super().post_exec()
        if self.cursor.description is not None:
            self.cursor_fetch_strategy = FullyBufferedCursorFetchStrategy(self.cursor)


class _Compiler(duckdb_engine.Dialect.statement_compiler):
    def visit_custom_op_binary(self, element, operator, **kw) -> str:
        negation = _REGEX_OPERATORS.get(operator.opstring)
        if negation is None:
            return super().visit_custom_op_binary(element, operator, **kw)
        return (
            f"{negation}regexp_matches({self.process(element.left, **kw)}, "
            f"{self.process(element.right, **kw)})"
        )


class BufferedDuckDBDialect(duckdb_engine.Dialect):
    """duckdb-engine with results fetched at execution, regex matches as searches and no
    progress bars."""

    execution_ctx_cls = _BufferedExecutionContext
    statement_compiler = _Compiler
    supports_statement_cache = False

    def connect(self, *cargs, **cparams):
        connection = super().connect(*cargs, **cparams)
        connection.execute("SET enable_progress_bar = false")
        return connection


# Importing the module makes ``URL_SCHEME`` URLs resolve to the dialect.
registry.register(URL_SCHEME.replace("+", "."), __name__, BufferedDuckDBDialect.__name__)


def spell_as_postgres(execution_engine) -> None:
    """Let a GX ``SqlAlchemyExecutionEngine`` on this dialect write PostgreSQL's SQL."""
    if not isinstance(execution_engine.engine.dialect, BufferedDuckDBDialect):
        raise TypeError(
            f"expected an engine on {URL_SCHEME}, got {execution_engine.engine.dialect.name}"
        )
    execution_engine.dialect_module = postgresql
