"""DuckDB over an hfharvest output folder: the same question asked of history/ (Parquet)
and of every night's models.csv and leaderboard.csv (CSV). Prints the times; run by
benches/history.rs.

The question: each model's downloads over the nights, its change from the first night to
the last, the 20 biggest risers; and the scores table's rows per night. Each is timed
from nothing (a new connection), best of 3.

usage: history_query.py OUTPUT_DIR
"""

import sys
import time

import duckdb

QUESTION = """
WITH series AS (
    SELECT model_id, date, downloads FROM models
), span AS (
    SELECT model_id,
           arg_min(downloads, date) AS first, arg_max(downloads, date) AS last,
           count(*) AS nights
    FROM series GROUP BY model_id
)
SELECT model_id, last - first AS change, nights FROM span
ORDER BY change DESC LIMIT 20
"""


def timed(make_views: str) -> tuple[float, int, int]:
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        con = duckdb.connect()
        con.execute(make_views)
        risers = con.execute(QUESTION).fetchall()
        per_night = con.execute("SELECT date, count(*) FROM scores GROUP BY date").fetchall()
        rows = con.execute("SELECT count(*) FROM models").fetchone()[0]
        best = min(best, time.perf_counter() - started)
        con.close()
    return best, len(risers) + len(per_night), rows


def main() -> None:
    out = sys.argv[1]
    parquet = f"""
        CREATE VIEW models AS SELECT * FROM read_parquet('{out}/history/models/*/*.parquet', hive_partitioning = true);
        CREATE VIEW scores AS SELECT * FROM read_parquet('{out}/history/scores/*/*.parquet', hive_partitioning = true);
    """
    # The CSVs carry no date: it comes from each run's folder name (night01 ...), and the
    # whole file must be read and typed (sniffed) before any question.
    csv = f"""
        CREATE TABLE models AS SELECT *, DATE '2026-01-01' + CAST(regexp_extract(filename, 'night(\\d+)', 1) AS INTEGER) - 1 AS date
            FROM read_csv('{out}/runs/*/models.csv', filename = true, union_by_name = true);
        CREATE TABLE scores AS SELECT *, DATE '2026-01-01' + CAST(regexp_extract(filename, 'night(\\d+)', 1) AS INTEGER) - 1 AS date
            FROM read_csv('{out}/runs/*/leaderboard.csv', filename = true, union_by_name = true);
    """
    p_time, p_answers, p_rows = timed(parquet)
    c_time, c_answers, c_rows = timed(csv)
    assert (p_rows, p_answers) == (c_rows, c_answers), (p_rows, c_rows, p_answers, c_answers)
    print(f"DuckDB {duckdb.__version__}, {p_rows} model rows over the nights")
    print(f"query over history/ (Parquet, read in place): {p_time:.2f} s")
    print(f"load the CSVs and the same query:             {c_time:.2f} s ({c_time / p_time:.1f}x)")


if __name__ == "__main__":
    main()
