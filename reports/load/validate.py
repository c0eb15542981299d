"""Validation of staged snapshot files: every rule of DESIGN.md section 3, set-based in DuckDB.

Two phases, each reporting every violation it finds (up to ``MAX_SHOWN_PER_FILE`` per file, with
the total count):

1. Column rules on the staging tables ``raw_<file>``: required values, types, enums, signs.
   One scan per file evaluates every column (a CASE per column yields the expected text or
   NULL), so a 5M-row file is read once, not once per column. Text columns are checked with
   regular expressions; a column staged typed from Parquet (reader.StagedFile.types) is already
   exact, so only its required, range and sign rules remain.
2. Once every cell is well-typed: typed views ``staged_<file>`` (defaults applied) and the
   cross-row and cross-file rules: uniqueness (spec.FileSpec.unique), instruments, tier tables,
   referential integrity and prices (queries/load/rules_*.sql).

The column-rule SQL is generated from ``reports.spec`` (the contract as data); the
cross-file rules are plain SQL files, each returning rows of (file, row_no, column_name, value, expected).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from reports.errors import Violation
from reports.load.reader import (
    TIMESTAMP_TEXT,
    TIMESTAMP_TEXT_NS,
    TYPED_TIMESTAMP_NS,
    declared_decimal,
    parsed_column,
    quote_ident,
)
from reports.paths import queries_dir
from reports.spec import (
    CAPITAL_ITEMS_REQUIRED,
    DECIMAL_INTEGER_DIGITS,
    DECIMAL_SCALE,
    FILES,
    ColumnSpec,
    FileSpec,
)

if TYPE_CHECKING:
    import duckdb

MAX_SHOWN_PER_FILE = 20

# Plain decimal notation: optional sign, at most 20 integer digits (leading zeros aside) and at
# most 18 decimals (trailing zeros aside), so the value fits DECIMAL(38,18) exactly. No exponent,
# no thousands separator, no spaces, no NaN/Infinity.
DECIMAL_RE = (
    rf"[+-]?(0*[0-9]{{1,{DECIMAL_INTEGER_DIGITS}}}(\.[0-9]{{0,{DECIMAL_SCALE}}}0*)?"
    rf"|\.[0-9]{{1,{DECIMAL_SCALE}}}0*)"
)
INTEGER_RE = r"[+-]?[0-9]{1,9}"
DATE_RE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
# ISO 8601 in UTC: 'Z' or '+00:00'; up to microseconds (what TIMESTAMP holds). A naive time
# or another offset is rejected: the contract says UTC, and guessing a zone would move money
# movements across days.
# Trailing zeros beyond the sixth decimal are the same instant (Polars writes nanoseconds so).
TIMESTAMP_RE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6}0*)?(Z|\+00:00)"
# A fraction finer than microseconds (not zeros): named as such, not as a malformed timestamp.
TIMESTAMP_FINER_RE = (
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}0*[1-9][0-9]*(Z|\+00:00)"
)


# The timestamps the text path accepts (a four-digit year from 0001; finite): the same range for
# a typed UTC timestamp, so both paths store the same values. Year 0000 is refused: DuckDB
# stores it, but Python's datetime starts at year 1, and `mir sql` failed on every stored row of
# that year (loader review of 2026-12-05).
TIMESTAMP_RANGE = (
    "TIMESTAMP '0001-01-01 00:00:00'",
    "TIMESTAMP '10000-01-01 00:00:00'",
)
YEAR_ZERO = "'0000'"  # the text paths' four-digit year that no datetime holds

EXPECTED_DECIMAL = (
    "a decimal number like -1234.56 (plain notation: no exponent, no thousands separator; "
    f"at most {DECIMAL_INTEGER_DIGITS} integer digits and {DECIMAL_SCALE} decimals)"
)
EXPECTED_INTEGER = "an integer of at most 9 digits"
EXPECTED_DATE = "a date YYYY-MM-DD (year 0001 or later)"
EXPECTED_TIMESTAMP = (
    "a UTC timestamp in ISO 8601 like 2026-03-03T14:05:00Z (or +00:00), year 0001 or later"
)
EXPECTED_TIMESTAMP_US = "a timestamp in whole microseconds (the database holds no finer time)"
EXPECTED_NO_NUL = (
    "text without NUL bytes (a NUL byte is the mark of a damaged export: deliver the file again)"
)

RULE_FILES = (
    "rules_instruments.sql",
    "rules_risk_tiers.sql",
    "rules_positions.sql",
    "rules_balances.sql",
    "rules_custody.sql",
    "rules_movements.sql",
    "rules_prices.sql",
    "rules_capital.sql",
    "rules_magnitudes.sql",
)


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _largest_decimal(digits: int, scale: int) -> str:
    """The largest decimal with these integer digits and decimals, e.g. 999.99 for (3, 2)."""
    return ("9" * digits or "0") + ("." + "9" * scale if scale else "")


def _column_check(
    col: ColumnSpec,
    staged_type: str | None = None,
    *,
    whether_only: bool = False,
    nul: bool = True,
) -> str:
    """A CASE yielding the expected text when the cell breaks a column rule, else NULL.

    ``staged_type``: the column's type in ``raw_<file>`` when staged typed (reader.StagedFile.types),
    None for text. ``whether_only``: the CASE only says whether the cell is broken (NULL or
    not), not which rule it breaks; it then leaves out the clauses that only choose a more
    precise message for a cell that a later clause refuses anyway. ``nul``: whether an id or
    text cell may hold a NUL byte, so must be looked at for one (False for a plain CSV whose
    bytes, scanned as they were hashed, hold none: reader.Digest).
    """
    c = quote_ident(col.name)
    whens: list[str] = []
    if col.nullable:
        whens.append(f"WHEN {c} IS NULL THEN NULL")
    else:
        whens.append(f"WHEN {c} IS NULL THEN 'a value (the column is required; the cell is empty)'")
    if staged_type is not None and col.type == "decimal":
        # Already an exact number with at most 18 decimals: only its magnitude may be too large.
        declared = declared_decimal(staged_type)
        if declared is not None:
            # One bound per cell: the contract's 20 integer digits, or the column's own
            # DECIMAL(p,s) when it holds fewer (Parquet does not stop a writer from storing
            # more digits than the declared type, and DuckDB reads them unchecked: a cast would
            # then fail inside DuckDB instead of naming the cell). No abs(): it could overflow
            # on such a cell. Integer columns (at most 64 bits) always fit.
            precision, scale = declared
            digits = precision - scale
            largest = f"CAST('{_largest_decimal(min(digits, DECIMAL_INTEGER_DIGITS), scale)}' AS {staged_type})"
            expected = (
                EXPECTED_DECIMAL
                if digits > DECIMAL_INTEGER_DIGITS
                else f"a value that fits the column type {staged_type} "
                "(the file stores more digits than its own type holds)"
            )
            whens.append(f"WHEN {c} > {largest} OR {c} < -{largest} THEN {_lit(expected)}")
        if col.positive:
            whens.append(f"WHEN {c} <= 0 THEN 'a number > 0'")
        elif col.non_negative:
            whens.append(f"WHEN {c} < 0 THEN 'a number >= 0'")
    elif staged_type is not None and col.type == "timestamp":
        if staged_type == TYPED_TIMESTAMP_NS:
            # Within years 1677-2262, or +-infinity (the 64-bit extremes, read as such: found
            # in review, -infinity loaded and broke every later read); TIMESTAMP holds
            # microseconds: a finer cell would be rounded (the text path refuses it too).
            whens.append(f"WHEN NOT isfinite({c}) THEN {_lit(EXPECTED_TIMESTAMP)}")
            whens.append(f"WHEN epoch_ns({c}) % 1000 <> 0 THEN {_lit(EXPECTED_TIMESTAMP_US)}")
        else:
            low, high = TIMESTAMP_RANGE
            whens.append(
                f"WHEN NOT ({c} >= {low} AND {c} < {high}) THEN {_lit(EXPECTED_TIMESTAMP)}"
            )
    elif col.type in ("id", "text") and nul and not col.references:
        # A NUL byte is valid UTF-8 but no venue's text: the mark of a damaged export (zeros
        # written over part of the file). Loaded, a group_id G00<NUL>003 reached the
        # regulator's concentration.csv as a raw NUL byte, which many CSV readers cut or refuse
        # (input review of 2026-12-07). An enum cell holding one fails its choices already, and
        # a column that references another file's checked column (ColumnSpec.references) its
        # cross-file rule.
        whens.append(f"WHEN contains({c}, chr(0)) THEN {_lit(EXPECTED_NO_NUL)}")
    elif col.type == "enum":
        choices = ", ".join(_lit(x) for x in col.choices)
        whens.append(f"WHEN {c} NOT IN ({choices}) THEN {_lit('one of ' + ', '.join(col.choices))}")
    elif col.type == "decimal":
        whens.append(
            f"WHEN NOT regexp_full_match({c}, {_lit(DECIMAL_RE)}) THEN {_lit(EXPECTED_DECIMAL)}"
        )
        if col.positive:
            whens.append(f"WHEN CAST({c} AS DECIMAL(38,18)) <= 0 THEN 'a number > 0'")
        elif col.non_negative:
            whens.append(f"WHEN CAST({c} AS DECIMAL(38,18)) < 0 THEN 'a number >= 0'")
    elif col.type == "integer":
        whens.append(
            f"WHEN NOT regexp_full_match({c}, {_lit(INTEGER_RE)}) THEN {_lit(EXPECTED_INTEGER)}"
        )
    elif col.type == "date":
        whens.append(
            f"WHEN NOT regexp_full_match({c}, {_lit(DATE_RE)}) OR try_cast({c} AS DATE) IS NULL "
            f"OR starts_with({c}, {YEAR_ZERO}) THEN {_lit(EXPECTED_DATE)}"
        )
    elif col.type == "timestamp":
        if not whether_only:
            # a cell it matches does not match TIMESTAMP_RE either (below): it only names the
            # finer fraction. Left out of the pass over a clean file: one regular expression
            # less on each of 5M timestamps (0.3-0.4 s of the load at 1M accounts).
            whens.append(
                f"WHEN regexp_full_match({c}, {_lit(TIMESTAMP_FINER_RE)}) "
                f"THEN {_lit(EXPECTED_TIMESTAMP_US)}"
            )
        # parsed once, in staging (reader.parsed_column): NULL where no format reads the text
        parsed = quote_ident(parsed_column(col.name))
        whens.append(
            f"WHEN NOT regexp_full_match({c}, {_lit(TIMESTAMP_RE)}) OR {parsed} IS NULL "
            f"OR starts_with({c}, {YEAR_ZERO}) THEN {_lit(EXPECTED_TIMESTAMP)}"
        )
    if len(whens) == 1 and col.nullable:
        return ""
    return "CASE " + " ".join(whens) + " END"


def _value_text(col: ColumnSpec, staged_type: str | None) -> str:
    """A cell as the text an error message quotes: as the text path would have staged it."""
    c = quote_ident(col.name)
    if staged_type is None:
        return c
    if col.type == "timestamp":
        text = TIMESTAMP_TEXT_NS if staged_type == TYPED_TIMESTAMP_NS else TIMESTAMP_TEXT
        return f"strftime({c}, {text})"
    return f"CAST({c} AS VARCHAR)"


def _column_checks(
    spec: FileSpec,
    present: Iterable[str],
    types: Mapping[str, str],
    *,
    whether_only: bool = False,
    nul: bool = True,
) -> list[tuple[ColumnSpec, str]]:
    """The columns of the file with a cell-level rule, each with its CASE (_column_check)."""
    return [
        (col, expr)
        for col in spec.columns
        if col.name in present
        and (expr := _column_check(col, types.get(col.name), whether_only=whether_only, nul=nul))
    ]


def column_rules_pass_sql(
    spec: FileSpec,
    present: Iterable[str],
    types: Mapping[str, str] | None = None,
    *,
    nul: bool = True,
) -> str | None:
    """One query over ``raw_<file>`` returning whether every cell keeps its column rules: the
    same CASEs as column_rules_sql without numbering, collecting and sorting the broken cells,
    which cost as much again on a clean 5M-row file. None when no column has a rule."""
    checks = _column_checks(spec, present, types or {}, whether_only=True, nul=nul)
    if not checks:
        return None
    any_bad = " OR ".join(f"({expr}) IS NOT NULL" for _, expr in checks)
    return f"SELECT NOT EXISTS (SELECT 1 FROM raw_{spec.name} WHERE {any_bad})"


def column_rules_sql(
    spec: FileSpec,
    present: Iterable[str],
    limit: int = MAX_SHOWN_PER_FILE,
    types: Mapping[str, str] | None = None,
    *,
    nul: bool = True,
) -> str | None:
    """One query over ``raw_<file>`` returning (row, column, value, expected, total) for the
    first ``limit`` broken cells; None when no column of the file has a cell-level rule.

    ``types``: the columns staged typed and their staged type (reader.StagedFile.types);
    ``nul``: as _column_check's."""
    types = types or {}
    checks = _column_checks(spec, present, types, nul=nul)
    if not checks:
        return None
    items = ", ".join(
        f"{{'pos': {i}, 'col': {_lit(col.name)}, "
        f"'value': {_value_text(col, types.get(col.name))}, 'expected': e{i}}}"
        for i, (col, _) in enumerate(checks)
    )
    aliased = ", ".join(f"{expr} AS e{i}" for i, (_, expr) in enumerate(checks))
    any_bad = " OR ".join(f"e{i} IS NOT NULL" for i in range(len(checks)))
    return f"""
        WITH flagged AS (
            SELECT rowid + 1 AS row_no, {", ".join(quote_ident(c.name) for c, _ in checks)}, {aliased}
            FROM raw_{spec.name}
        ),
        cells AS (
            SELECT row_no, unnest(list_filter([{items}], lambda x: x.expected IS NOT NULL)) AS cell
            FROM flagged WHERE {any_bad}
        )
        SELECT row_no, cell.col, cell.value, cell.expected, count(*) OVER () AS total
        FROM cells ORDER BY row_no, cell.pos LIMIT {limit}
    """


def column_violations(
    con: duckdb.DuckDBPyConnection,
    spec: FileSpec,
    display: str,
    present: Iterable[str],
    types: Mapping[str, str] | None = None,
    *,
    nul: bool = True,
) -> tuple[list[Violation], int]:
    """The cell-level violations of one staged file (first MAX_SHOWN_PER_FILE) and their total.
    ``nul``: as _column_check's."""
    passes = column_rules_pass_sql(spec, present, types, nul=nul)
    if passes is None or con.execute(passes).fetchall()[0][0]:
        return [], 0
    sql = column_rules_sql(spec, present, types=types, nul=nul)
    assert sql is not None  # the same checks as the pass query
    rows = con.execute(sql).fetchall()
    total = int(rows[0][4]) if rows else 0
    return [Violation(display, int(r[0]), r[1], r[2], r[3]) for r in rows], total


def _typed_expr(col: ColumnSpec, present: set[str], types: Mapping[str, str]) -> str:
    c = quote_ident(col.name)
    if col.name not in present:
        value = col.default if col.default is not None else "NULL"
        return f"CAST({value} AS {col.sql_type}) AS {c}"
    staged_type = types.get(col.name)
    if staged_type == col.sql_type:
        expr = c
    elif staged_type is not None:
        # A typed decimal (its range checked when the type could exceed it): an exact widening
        # to DECIMAL(38,18), no text; or a nanosecond timestamp checked to whole microseconds.
        expr = f"CAST({c} AS {col.sql_type})"
    elif col.type == "timestamp":
        expr = quote_ident(parsed_column(col.name))  # every cell passed the column rule
    elif col.sql_type == "VARCHAR":
        expr = c
    else:
        expr = f"CAST({c} AS {col.sql_type})"
    if col.default is not None:
        expr = f"coalesce({expr}, CAST({col.default} AS {col.sql_type}))"
    return f"{expr} AS {c}"


def create_typed_view(
    con: duckdb.DuckDBPyConnection,
    spec: FileSpec,
    present: Iterable[str],
    types: Mapping[str, str] | None = None,
) -> None:
    """``staged_<file>``: the file's rows typed as in the database, defaults applied, with _row.

    ``types``: the columns staged typed (reader.StagedFile.types); the others are text."""
    have = set(present)
    cols = ", ".join(_typed_expr(col, have, types or {}) for col in spec.columns)
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW staged_{spec.name} AS "
        f"SELECT rowid + 1 AS _row, {cols} FROM raw_{spec.name}"
    )


def repeats_sql(spec: FileSpec, key: tuple[str, ...]) -> str:
    """Whether a value of `key` repeats in ``staged_<file>``: one aggregation and nothing more.
    On a clean file that is all the rule costs (5M movement ids: 0.45 s, against 0.6-0.9 s for
    uniqueness_sql, which also finds each repeat's first row)."""
    cols = ", ".join(quote_ident(k) for k in key)
    return f"SELECT EXISTS (SELECT 1 FROM staged_{spec.name} GROUP BY {cols} HAVING count(*) > 1)"


def uniqueness_sql(spec: FileSpec, key: tuple[str, ...]) -> str:
    """Rows repeating an earlier row's `key` (the first occurrence is kept as the reference)."""
    cols = ", ".join(quote_ident(k) for k in key)
    value = " || ', ' || ".join(f"coalesce(CAST(s.{quote_ident(k)} AS VARCHAR), '')" for k in key)
    label = ", ".join(key)
    # "a unique account_id", "a unique (account_id, asset)"
    what = label if len(key) == 1 else f"({label})"
    return f"""
        SELECT {_lit(spec.name)} AS file, s._row AS row_no, {_lit(label)} AS column_name, {value} AS value,
               'a unique {what}; the same value is on row ' || d.first_row AS expected
        FROM staged_{spec.name} s
        JOIN (SELECT {cols}, min(_row) AS first_row FROM staged_{spec.name}
              GROUP BY ALL HAVING count(*) > 1) d USING ({cols})
        WHERE s._row > d.first_row
        """


def rule_queries() -> list[str]:
    """The cross-file rules, queries/load/rules_*.sql (uniqueness: repeats_sql, uniqueness_sql)."""
    root = queries_dir() / "load"
    return [(root / name).read_text(encoding="utf-8") for name in RULE_FILES]


def set_rule_variables(
    con: duckdb.DuckDBPyConnection, reporting_currency: str, as_of: dt.date
) -> None:
    con.execute(f"SET VARIABLE mir_reporting_currency = {_lit(reporting_currency)}")
    con.execute(f"SET VARIABLE mir_as_of = DATE {_lit(as_of.isoformat())}")
    items = ", ".join(_lit(i) for i in CAPITAL_ITEMS_REQUIRED)
    con.execute(f"SET VARIABLE mir_capital_items_required = [{items}]::VARCHAR[]")
    con.execute((queries_dir() / "load" / "00_macros.sql").read_text(encoding="utf-8"))


def cross_file_violations(
    con: duckdb.DuckDBPyConnection, displays: dict[str, str]
) -> tuple[list[Violation], dict[str, int]]:
    """Run every cross-row/cross-file rule; the first MAX_SHOWN_PER_FILE violations per file
    (ordered by row, then column) and the total per file."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE load_violations "
        "(file VARCHAR, row_no BIGINT, column_name VARCHAR, value VARCHAR, expected VARCHAR)"
    )
    # One statement per rule. A single UNION ALL of them all shared its scans but ran a third
    # slower at 1M accounts (1.9 against 1.3 s): its aggregates and joins competed for the two
    # threads and the memory limit at once, where one at a time each gets both. A unique key's
    # repeats are looked for first, and named only when there are some.
    repeated = [
        uniqueness_sql(spec, key)
        for spec in FILES.values()
        for key in spec.unique
        if con.execute(repeats_sql(spec, key)).fetchall()[0][0]
    ]
    for sql in [*repeated, *rule_queries()]:
        con.execute(f"INSERT INTO load_violations SELECT * FROM ({sql})")
    rows = con.execute(
        f"""
        SELECT file, row_no, column_name, value, expected, count(*) OVER (PARTITION BY file) AS total
        FROM load_violations
        QUALIFY row_number() OVER (
            PARTITION BY file ORDER BY row_no NULLS FIRST, column_name, value, expected
        ) <= {MAX_SHOWN_PER_FILE}
        ORDER BY file, row_no NULLS FIRST, column_name, value, expected
        """
    ).fetchall()
    violations = [
        Violation(displays.get(r[0], r[0]), None if r[1] is None else int(r[1]), r[2], r[3], r[4])
        for r in rows
    ]
    totals: dict[str, int] = {}
    for r in rows:
        totals[displays.get(r[0], r[0])] = int(r[5])
    return violations, totals
