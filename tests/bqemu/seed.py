"""Seeds a running bqemulator with an m4-built DuckDB database, as PhysioNet lays
MIMIC-IV out on BigQuery: project physionet-data, datasets mimiciv_3_1_hosp,
mimiciv_3_1_icu, mimiciv_3_1_derived (the tables of m4's mimiciv_hosp, mimiciv_icu
and mimiciv_derived schemas, with the same rows), loaded from Parquet.

Usage: python seed.py PORT DATABASE.duckdb GCS_ROOT
(GCS_ROOT: the folder the emulator was started with as BQEMU_GCS_LOCAL_ROOT.)
"""
import json
import os
import sys
import urllib.request

import duckdb

PORT, DATABASE, GCS_ROOT = sys.argv[1], sys.argv[2], sys.argv[3]
BASE = f"http://127.0.0.1:{PORT}/bigquery/v2"
PROJECT = "physionet-data"
DATASETS = {"mimiciv_hosp": "mimiciv_3_1_hosp", "mimiciv_icu": "mimiciv_3_1_icu",
            "mimiciv_derived": "mimiciv_3_1_derived"}


def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(BASE + path, data=data, method=method,
                                     headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read() or b"null")


def bq_type(duck):
    duck = duck.upper()
    if duck in ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT", "UBIGINT", "UINTEGER"):
        return "INT64"
    if duck in ("DOUBLE", "FLOAT", "REAL"):
        return "FLOAT64"
    if duck.startswith("DECIMAL"):
        return "NUMERIC"
    if duck == "BOOLEAN":
        return "BOOL"
    if duck == "DATE":
        return "DATE"
    if duck == "TIME":
        return "TIME"
    if duck.startswith("TIMESTAMP WITH"):
        return "TIMESTAMP"
    if duck.startswith("TIMESTAMP"):
        return "DATETIME"  # as PhysioNet publishes MIMIC's times on BigQuery
    return "STRING"


con = duckdb.connect(DATABASE, read_only=True)
bucket = os.path.join(GCS_ROOT, "seed")
os.makedirs(bucket, exist_ok=True)
loaded = 0
for schema, dataset in DATASETS.items():
    call("POST", f"/projects/{PROJECT}/datasets",
         {"datasetReference": {"projectId": PROJECT, "datasetId": dataset}, "location": "US"})
    tables = con.execute(
        "SELECT table_name, comment FROM duckdb_tables() WHERE schema_name = ? ORDER BY table_name",
        [schema]).fetchall()
    for table, comment in tables:
        columns = con.execute(
            "SELECT column_name, data_type, is_nullable, comment FROM duckdb_columns() "
            "WHERE schema_name = ? AND table_name = ? ORDER BY column_index", [schema, table]).fetchall()
        fields = [{"name": n, "type": bq_type(t), "mode": "NULLABLE" if nullable else "REQUIRED",
                   **({"description": c} if c else {})} for n, t, nullable, c in columns]
        resource = {"tableReference": {"projectId": PROJECT, "datasetId": dataset, "tableId": table},
                    "schema": {"fields": fields}}
        if comment:
            resource["description"] = comment
        call("POST", f"/projects/{PROJECT}/datasets/{dataset}/tables", resource)
        # Timestamps go over as DuckDB TIMESTAMP (the notes' measured path into DATETIME).
        name = f"{dataset}.{table}.parquet"
        con.execute(f'COPY (SELECT * FROM "{schema}"."{table}") TO \'{os.path.join(bucket, name)}\' (FORMAT PARQUET)')
        job = call("POST", "/projects/m4-test/jobs", {"configuration": {"load": {
            "sourceUris": [f"gs://seed/{name}"], "sourceFormat": "PARQUET",
            "writeDisposition": "WRITE_APPEND",
            "destinationTable": {"projectId": PROJECT, "datasetId": dataset, "tableId": table}}}})
        error = job.get("status", {}).get("errorResult")
        if error:
            sys.exit(f"loading {schema}.{table} failed: {error}")
        loaded += 1
print(f"seeded {loaded} tables")
