"""Floor for the drift benchmark: DuckDB reads every column of both files once.

    python bench/peers/floor.py BASELINE CURRENT

Runs with the project venv (DuckDB is a project dependency). Each file is scanned once with
`sum(hash(col))` over all of its columns, so every value is decoded and nothing is kept. No drift
statistics are computed: this is the cost a drift check cannot go below on this machine.
"""

from __future__ import annotations

import argparse
import json
import time

import duckdb


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def scan(con: duckdb.DuckDBPyConnection, path: str) -> tuple[int, int]:
    columns = [
        row[0] for row in con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [path]).fetchall()
    ]
    hashes = ", ".join(f"sum(hash({_quote(c)}))" for c in columns)
    # Column names come from the file's own schema and are quoted above.
    sql = f"SELECT count(*), {hashes} FROM read_parquet(?)"  # noqa: S608
    row = con.execute(sql, [path]).fetchone()
    assert row is not None
    return int(row[0]), len(columns)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("baseline")
    parser.add_argument("current")
    args = parser.parse_args()

    started = time.perf_counter()
    con = duckdb.connect()
    n_base, cols_base = scan(con, args.baseline)
    n_cur, cols_cur = scan(con, args.current)
    print(
        json.dumps(
            {
                "method": "floor",
                "duckdb": duckdb.__version__,
                "rows_baseline": n_base,
                "rows_current": n_cur,
                "columns": [cols_base, cols_cur],
                "flagged": None,
                "seconds_in_process": round(time.perf_counter() - started, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
