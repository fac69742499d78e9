"""Starts the bqemulator BigQuery emulator (PyPI bqemulator==1.4.0) offline, for m4's tests.

A stand-in for BigQuery on loopback, not BigQuery: see tests/bigquery.rs for what it
cannot do. Two changes to the emulator as shipped:
- it skips loading DuckDB's spatial extension, which it would download at start-up
  (fails offline; MIMIC-IV has no GEOGRAPHY columns);
- it exits when its standard input closes, so a test process that dies takes it along.

Usage: python launch.py PORT   (then poll http://127.0.0.1:PORT/readyz)
"""
import os
import sys
import threading

from bqemulator.storage import engine

engine.DuckDBEngine._load_spatial = lambda self: None


def exit_with_parent():
    try:
        sys.stdin.buffer.read()
    finally:
        os._exit(0)


threading.Thread(target=exit_with_parent, daemon=True).start()
os.environ.setdefault("BQEMU_ENABLE_FORMAT_EXTENSIONS", "false")
os.environ.setdefault("BQEMU_TRACING_ENABLED", "false")
port = sys.argv[1]
sys.argv = [
    "bqemulator", "start",
    "--rest-host", "127.0.0.1", "--rest-port", port,
    "--grpc-host", "127.0.0.1", "--grpc-port", "0",
    "--project", "m4-test", "--ephemeral", "--log-level", "warning",
]
from bqemulator.cli import main  # noqa: E402

sys.exit(main())
