"""Read hfharvest's history straight from an S3 server with DuckDB, as docs/history.md
shows, and print the answers as JSON for tests/history.rs to compare with the per-run CSVs.

DuckDB and its httpfs extension come from PyPI (duckdb, duckdb-extension-httpfs, pinned
in scripts/test-requirements.txt); the extension is LOADed from the file that package
installs, so nothing is downloaded.

usage: history_duckdb.py ENDPOINT KEY_ID SECRET s3://bucket/prefix MODEL_ID...
"""

import json
import pathlib
import sys

import duckdb
import duckdb_extension_httpfs


def sql_text(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def main() -> None:
    endpoint, key_id, secret, root, *models = sys.argv[1:]
    extension = next(
        pathlib.Path(duckdb_extension_httpfs.__file__).parent.glob("extensions/*/httpfs.duckdb_extension")
    )
    con = duckdb.connect(config={"autoinstall_known_extensions": "false", "autoload_known_extensions": "false"})
    con.execute(f"LOAD {sql_text(str(extension))}")
    con.execute(
        f"""CREATE SECRET history (TYPE s3, KEY_ID {sql_text(key_id)}, SECRET {sql_text(secret)},
            ENDPOINT {sql_text(endpoint.removeprefix('http://'))}, REGION 'us-east-1',
            URL_STYLE 'path', USE_SSL false)"""
    )
    models_glob = sql_text(f"{root}/history/models/*/*.parquet")
    scores_glob = sql_text(f"{root}/history/scores/*/*.parquet")
    con.execute(f"CREATE VIEW models AS SELECT * FROM read_parquet({models_glob}, hive_partitioning = true)")
    con.execute(f"CREATE VIEW scores AS SELECT * FROM read_parquet({scores_glob}, hive_partitioning = true)")
    rows_by_night = con.execute(
        "SELECT strftime(date, '%Y-%m-%d'), run_id, count(*) FROM models GROUP BY ALL ORDER BY 1"
    ).fetchall()
    scores_by_night = con.execute(
        "SELECT strftime(date, '%Y-%m-%d'), count(*) FROM scores GROUP BY ALL ORDER BY 1"
    ).fetchall()
    downloads = con.execute(
        "SELECT strftime(date, '%Y-%m-%d'), model_id, downloads FROM models WHERE model_id IN (SELECT unnest(?)) ORDER BY 1, 2",
        [models],
    ).fetchall()
    types = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE models)").fetchall())
    print(
        json.dumps(
            {
                "models_rows": [[d, r, n] for d, r, n in rows_by_night],
                "scores_rows": [[d, n] for d, n in scores_by_night],
                "downloads": [[d, m, n] for d, m, n in downloads],
                "types": types,
            }
        )
    )


if __name__ == "__main__":
    main()
