//! The MCP server through the real binary over stdio: handshake, tool listing,
//! every tool on the synthetic and the real demo data, and protocol robustness.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::{self, McpChild, demo, is_tool_error, synthetic_data_dir, tool_text};
use crate::csv_reader::read_csv_gz;

const TOOLS: [&str; 8] = [
    "list_datasets",
    "search_items",
    "get_database_schema",
    "get_table_info",
    "execute_query",
    "get_icu_stays",
    "get_lab_results",
    "get_race_distribution",
];

fn structured_rows(result: &Value) -> Vec<Value> {
    result["structuredContent"]["rows"]
        .as_array()
        .cloned()
        .unwrap_or_else(|| panic!("no structured rows: {result}"))
}

fn single_number(result: &Value) -> i64 {
    assert!(!is_tool_error(result), "tool error: {result}");
    structured_rows(result)[0][0]
        .as_i64()
        .unwrap_or_else(|| panic!("not a number: {result}"))
}

#[test]
fn initialize_announces_tools_and_instructions() {
    let mut server = McpChild::spawn(synthetic_data_dir(), &[]);
    let info = server.initialize();
    assert_eq!(info["serverInfo"]["name"], "m4");
    assert!(info["capabilities"]["tools"].is_object(), "{info}");
    let instructions = info["instructions"].as_str().expect("instructions");
    assert!(instructions.contains("get_database_schema"));
    assert!(instructions.contains("truncated"));
    assert!(server.close(), "m4 should exit 0 when stdin closes");
}

#[test]
fn every_tool_is_listed_with_schema_description_and_read_only_hint() {
    let mut server = McpChild::spawn(synthetic_data_dir(), &[]);
    server.initialize();
    let tools = server.list_tools();
    let names: Vec<&str> = tools.iter().filter_map(|t| t["name"].as_str()).collect();
    for tool in TOOLS {
        assert!(names.contains(&tool), "{tool} missing from {names:?}");
    }
    for tool in &tools {
        assert!(
            tool["description"].as_str().is_some_and(|d| d.len() > 40),
            "{tool}"
        );
        assert_eq!(tool["inputSchema"]["type"], "object", "{tool}");
        assert_eq!(tool["annotations"]["readOnlyHint"], true, "{tool}");
        assert_eq!(tool["annotations"]["destructiveHint"], false, "{tool}");
    }
    let execute = tools.iter().find(|t| t["name"] == "execute_query").unwrap();
    assert_eq!(execute["inputSchema"]["required"], json!(["sql_query"]));
}

#[test]
fn synthetic_results_are_labelled_synthetic() {
    let mut server = McpChild::spawn(synthetic_data_dir(), &[]);
    server.initialize();
    let result = server.call_tool("execute_query", json!({"sql_query": "select 1 as one"}));
    assert!(!is_tool_error(&result), "{result}");
    assert!(tool_text(&result).contains("SYNTHETIC"), "{result}");
    let datasets = server.call_tool("list_datasets", json!({}));
    let listed = &datasets["structuredContent"]["datasets"];
    let synthetic = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "synthetic")
        .unwrap();
    assert_eq!(synthetic["initialised"], true);
    assert_eq!(synthetic["default"], true);
    assert_eq!(synthetic["synthetic"], true);
}

#[test]
fn tools_agree_with_each_other_on_synthetic_data() {
    let mut server = McpChild::spawn(synthetic_data_dir(), &[]);
    server.initialize();
    let schema = server.call_tool("get_database_schema", json!({}));
    let tables = schema["structuredContent"]["tables"]
        .as_array()
        .unwrap()
        .clone();
    for wanted in [
        "patients",
        "admissions",
        "icustays",
        "labevents",
        "d_labitems",
    ] {
        assert!(
            tables.iter().any(|t| t["table"] == wanted),
            "{wanted} not in {schema}"
        );
    }
    // The schema's row counts are the tables' real counts.
    for table in &tables {
        let name = format!(
            "{}.{}",
            table["schema"].as_str().unwrap(),
            table["table"].as_str().unwrap()
        );
        let counted = single_number(&server.call_tool(
            "execute_query",
            json!({"sql_query": format!("select count(*) from {name}")}),
        ));
        assert_eq!(Some(counted), table["rows"].as_i64(), "{name}");
    }
    // One patient's ICU stays, two ways.
    let patient = single_number(&server.call_tool(
        "execute_query",
        json!({"sql_query": "select min(subject_id) from mimiciv_icu.icustays"}),
    ));
    let stays = single_number(&server.call_tool(
        "execute_query",
        json!({"sql_query": format!("select count(*) from mimiciv_icu.icustays where subject_id = {patient}")}),
    ));
    let tool = server.call_tool(
        "get_icu_stays",
        json!({"patient_id": patient, "limit": 1000}),
    );
    assert!(!is_tool_error(&tool), "{tool}");
    assert_eq!(structured_rows(&tool).len() as i64, stays);
}

#[test]
fn get_table_info_resolves_names_and_suggests_real_ones() {
    let mut server = McpChild::spawn(synthetic_data_dir(), &[]);
    server.initialize();
    let info = server.call_tool("get_table_info", json!({"table_name": "patients"}));
    assert!(!is_tool_error(&info), "{info}");
    let text = tool_text(&info);
    assert!(text.contains("mimiciv_hosp.patients"), "{text}");
    assert!(text.contains("subject_id"), "{text}");
    assert!(text.contains("Sample rows"), "{text}");
    let columns = info["structuredContent"]["table"]["columns"]
        .as_array()
        .unwrap();
    assert!(columns.iter().any(|c| c["name"] == "anchor_age"), "{info}");

    let no_sample = server.call_tool(
        "get_table_info",
        json!({"table_name": "mimiciv_icu.icustays", "show_sample": false}),
    );
    assert!(!tool_text(&no_sample).contains("Sample rows"));

    let unknown = server.call_tool("get_table_info", json!({"table_name": "patient"}));
    assert!(is_tool_error(&unknown));
    assert!(
        tool_text(&unknown).contains("Did you mean `mimiciv_hosp.patients`"),
        "{unknown}"
    );

    // A hostile name is looked up, never pasted into SQL.
    let hostile = server.call_tool(
        "get_table_info",
        json!({"table_name": "patients; drop table mimiciv_hosp.patients"}),
    );
    assert!(is_tool_error(&hostile));
    assert!(tool_text(&hostile).contains("not found"), "{hostile}");
}

#[test]
fn limits_are_validated_with_the_enforced_bound() {
    let mut server = McpChild::spawn(synthetic_data_dir(), &[]);
    server.initialize();
    for (tool, limit) in [
        ("get_icu_stays", 0),
        ("get_lab_results", 1001),
        ("get_race_distribution", -5),
    ] {
        let result = server.call_tool(tool, json!({"limit": limit}));
        assert!(is_tool_error(&result), "{tool} {limit}: {result}");
        assert!(
            tool_text(&result).contains("between 1 and 1000"),
            "{result}"
        );
    }
    let ok = server.call_tool("get_lab_results", json!({"limit": 3}));
    assert_eq!(structured_rows(&ok).len(), 3);
}

#[test]
fn limit_ranges_are_in_the_json_schema() {
    let mut server = McpChild::spawn(synthetic_data_dir(), &[]);
    server.initialize();
    let tools = server.list_tools();
    for name in ["get_icu_stays", "get_lab_results", "get_race_distribution"] {
        let tool = tools.iter().find(|t| t["name"] == name).expect(name);
        let limit = &tool["inputSchema"]["properties"]["limit"];
        assert_eq!(limit["minimum"], 1, "{name}: {limit}");
        assert_eq!(limit["maximum"], 1000, "{name}: {limit}");
    }
}

/// execute_query's per-call `max_rows`: its range is the server's cap, in the
/// schema and in the check; without it a call gets the default, not the cap.
#[test]
fn execute_query_rows_per_call_default_and_range_follow_the_servers_cap() {
    let mut server = McpChild::spawn(synthetic_data_dir(), &[("M4_MAX_ROWS", "300")]);
    server.initialize();
    let tools = server.list_tools();
    let execute = tools
        .iter()
        .find(|t| t["name"] == "execute_query")
        .expect("execute_query");
    let max_rows = &execute["inputSchema"]["properties"]["max_rows"];
    assert_eq!(max_rows["minimum"], 1, "{max_rows}");
    assert_eq!(max_rows["maximum"], 300, "{max_rows}");
    assert_eq!(max_rows["default"], 100, "{max_rows}");
    let description = execute["description"].as_str().expect("description");
    assert!(description.contains("up to 300"), "{description}");
    let sql = "select * from range(1000)";

    let default = server.call_tool("execute_query", json!({"sql_query": sql}));
    assert_eq!(structured_rows(&default).len(), 100, "{default}");
    assert!(tool_text(&default).contains("row limit 100"), "{default}");
    assert!(
        tool_text(&default).contains("Aggregate in SQL"),
        "{default}"
    );

    let fewer = server.call_tool("execute_query", json!({"sql_query": sql, "max_rows": 7}));
    assert_eq!(structured_rows(&fewer).len(), 7, "{fewer}");
    assert_eq!(fewer["structuredContent"]["truncated_by"], "rows");
    let more = server.call_tool("execute_query", json!({"sql_query": sql, "max_rows": 300}));
    assert_eq!(structured_rows(&more).len(), 300, "{more}");
    let all = server.call_tool(
        "execute_query",
        json!({"sql_query": "select * from range(5)", "max_rows": 5}),
    );
    assert_eq!(all["structuredContent"]["truncated"], false, "{all}");

    for bad in [0, 301, -1] {
        let result = server.call_tool("execute_query", json!({"sql_query": sql, "max_rows": bad}));
        assert!(is_tool_error(&result), "{bad}: {result}");
        let text = tool_text(&result);
        assert!(text.contains("between 1 and 300"), "{text}");
        assert!(text.contains("aggregate in SQL"), "{text}");
    }
}

/// A server cap below the default call size lowers the default to the cap.
#[test]
fn a_server_cap_below_the_default_is_the_default() {
    let mut server = McpChild::spawn(synthetic_data_dir(), &[("M4_MAX_ROWS", "20")]);
    server.initialize();
    let result = server.call_tool(
        "execute_query",
        json!({"sql_query": "select * from range(50)"}),
    );
    assert_eq!(structured_rows(&result).len(), 20, "{result}");
}

/// One source of truth: after a data set is initialised mid-session,
/// list_datasets names the default that calls then use.
#[test]
fn list_datasets_names_the_default_calls_use_after_an_init_mid_session() {
    let Some(src) = common::demo_source_dir("list_datasets_names_the_default_calls_use") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = McpChild::spawn(dir.path(), &[]);
    server.initialize();
    let default_of = |result: &Value| -> String {
        result["structuredContent"]["datasets"]
            .as_array()
            .expect("datasets")
            .iter()
            .find(|d| d["default"] == true)
            .and_then(|d| d["name"].as_str())
            .expect("a default")
            .to_string()
    };
    let before = server.call_tool("list_datasets", json!({}));
    assert_eq!(default_of(&before), "synthetic", "{before}");
    let (ok, _, stderr) = common::run_m4(
        dir.path(),
        &["init", "mimic-iv-demo", "--src", &src.to_string_lossy()],
        &[],
    );
    assert!(ok, "{stderr}");
    let after = server.call_tool("list_datasets", json!({}));
    assert_eq!(default_of(&after), "mimic-iv-demo", "{after}");
    let count = server.call_tool(
        "execute_query",
        json!({"sql_query": "select count(*) from mimiciv_hosp.admissions"}),
    );
    assert!(!tool_text(&count).contains("SYNTHETIC"), "{count}");
    assert_eq!(single_number(&count), 275);
}

#[test]
fn results_are_capped_at_the_row_limit_and_say_so() {
    let mut server = McpChild::spawn(synthetic_data_dir(), &[("M4_MAX_ROWS", "50")]);
    server.initialize();
    let result = server.call_tool(
        "execute_query",
        json!({"sql_query": "select * from range(100000)"}),
    );
    assert!(!is_tool_error(&result), "{result}");
    assert_eq!(structured_rows(&result).len(), 50);
    assert_eq!(result["structuredContent"]["truncated"], true);
    assert!(tool_text(&result).contains("Result truncated"));
    assert!(tool_text(&result).contains("Aggregate in SQL"));
}

#[test]
fn results_are_capped_at_the_byte_limit_and_long_cells_are_marked() {
    let mut server = McpChild::spawn(synthetic_data_dir(), &[("M4_MAX_BYTES", "5000")]);
    server.initialize();
    let result = server.call_tool(
        "execute_query",
        json!({"sql_query": "select repeat('x', 2000) as long_text from range(100)"}),
    );
    assert!(!is_tool_error(&result), "{result}");
    let text = tool_text(&result);
    assert!(text.len() < 12_000, "text is {} bytes", text.len());
    assert_eq!(result["structuredContent"]["truncated_by"], "bytes");
    assert!(text.contains("…[+1500 chars]"), "{text}");
}

#[test]
fn types_render_faithfully() {
    let mut server = McpChild::spawn(synthetic_data_dir(), &[]);
    server.initialize();
    let result = server.call_tool(
        "execute_query",
        json!({"sql_query": "select NULL as n, TIMESTAMP '2180-07-23 14:05:06' as ts, 12345.67::DECIMAL(10,2) as d, \
                              9007199254740993::BIGINT as big, 170141183460469231731687303715884105727::HUGEINT as huge, \
                              [1, 2, 3] as list, DATE '2150-01-02' as day, true as flag"}),
    );
    assert!(!is_tool_error(&result), "{result}");
    let row = &structured_rows(&result)[0];
    assert!(row[0].is_null());
    assert_eq!(row[1], "2180-07-23 14:05:06");
    // A decimal a double holds exactly is a number; the table keeps its scale.
    assert_eq!(row[2], json!(12345.67));
    assert_eq!(row[3], json!(9007199254740993_i64));
    assert_eq!(row[4], "170141183460469231731687303715884105727");
    let sum = server.call_tool(
        "execute_query",
        json!({"sql_query": "select sum(x) as total, 6::HUGEINT as small_huge from (values (1), (2), (3)) t(x)"}),
    );
    let sums = &structured_rows(&sum)[0];
    assert_eq!(
        sums[0],
        json!(6),
        "a sum over integers stays a number: {sum}"
    );
    assert_eq!(sums[1], json!(6), "{sum}");
    assert_eq!(row[5], "[1, 2, 3]");
    assert_eq!(row[6], "2150-01-02");
    assert_eq!(row[7], true);
    // Names and types once each, in column order, not an object per column.
    assert_eq!(result["structuredContent"]["columns"][1], "ts", "{result}");
    let types: Vec<&str> = result["structuredContent"]["types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(types[1], "TIMESTAMP");
    assert_eq!(types[2], "DECIMAL(10,2)");
    assert_eq!(types[3], "BIGINT");
    let text = tool_text(&result);
    assert!(
        text.contains("| NULL | 2180-07-23 14:05:06 | 12345.67 |"),
        "{text}"
    );
}

#[test]
fn sql_errors_keep_duckdbs_message() {
    let mut server = McpChild::spawn(synthetic_data_dir(), &[]);
    server.initialize();
    let result = server.call_tool(
        "execute_query",
        json!({"sql_query": "select * from patients"}),
    );
    assert!(is_tool_error(&result));
    let text = tool_text(&result);
    assert!(text.contains("patients"), "{text}");
    assert!(
        text.contains("mimiciv_hosp.patients"),
        "DuckDB's candidate is kept: {text}"
    );
    let result = server.call_tool(
        "execute_query",
        json!({"sql_query": "select no_such_column from mimiciv_hosp.patients"}),
    );
    assert!(tool_text(&result).contains("no_such_column"), "{result}");
}

#[test]
fn a_runaway_query_times_out_and_the_server_stays_responsive() {
    let mut server = McpChild::spawn(synthetic_data_dir(), &[("M4_QUERY_TIMEOUT", "1")]);
    server.initialize();
    let started = std::time::Instant::now();
    let result = server.call_tool(
        "execute_query",
        json!({"sql_query": "select count(*) from range(1000000) a, range(1000000) b where (a.range * b.range) % 7 = 3"}),
    );
    assert!(is_tool_error(&result), "{result}");
    assert!(
        tool_text(&result).contains("timed out after 1 s"),
        "{result}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
    let after = server.call_tool("execute_query", json!({"sql_query": "select 42"}));
    assert_eq!(single_number(&after), 42);
}

#[test]
fn a_client_cancellation_interrupts_the_running_query() {
    let mut server = McpChild::spawn(
        synthetic_data_dir(),
        &[("M4_QUERY_TIMEOUT", "600"), ("M4_LOG_LEVEL", "m4=debug")],
    );
    server.initialize();
    let id = server.send_request(
        "tools/call",
        json!({"name": "execute_query", "arguments": {"sql_query":
            "select count(*) from range(1000000) a, range(1000000) b where (a.range * b.range) % 7 = 3"}}),
    );
    // Cancel once m4 says the query is on its way to the engine.
    wait_for_stderr(&server, "execute_query");
    server.notify(
        "notifications/cancelled",
        json!({"requestId": id, "reason": "test"}),
    );
    // m4's own line, logged only when the engine's query ended as cancelled
    // (rmcp logs the word "cancelled" itself as soon as the notification arrives).
    wait_for_stderr(&server, "query cancelled by the client");
    // The interrupted query freed its thread: the server answers a new call.
    let after = server.call_tool("execute_query", json!({"sql_query": "select 7"}));
    assert_eq!(single_number(&after), 7);
}

/// Waits until the server's stderr contains `needle`, failing after a minute.
fn wait_for_stderr(server: &McpChild, needle: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !server.stderr().contains(needle) {
        assert!(
            std::time::Instant::now() < deadline,
            "no `{needle}` in m4's log:\n{}",
            server.stderr()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn malformed_input_gets_json_rpc_errors_not_a_crash() {
    let mut server = McpChild::spawn(synthetic_data_dir(), &[]);
    server.initialize();
    server.send_raw("{this is not json");
    let unknown = server.request(
        "tools/call",
        json!({"name": "no_such_tool", "arguments": {}}),
    );
    assert!(
        unknown.get("error").is_some() || is_tool_error(&unknown["result"]),
        "{unknown}"
    );
    let wrong_type = server.request(
        "tools/call",
        json!({"name": "get_icu_stays", "arguments": {"limit": "ten"}}),
    );
    assert!(
        wrong_type.get("error").is_some() || is_tool_error(&wrong_type["result"]),
        "{wrong_type}"
    );
    let huge = "x".repeat(2_000_000);
    let result = server.call_tool("execute_query", json!({"sql_query": huge}));
    assert!(is_tool_error(&result));
    assert!(tool_text(&result).contains("limit"), "{result}");
    // Still serving.
    let after = server.call_tool("execute_query", json!({"sql_query": "select 1"}));
    assert_eq!(single_number(&after), 1);
    assert!(server.close());
}

#[test]
fn stdin_closed_mid_call_ends_the_server_cleanly() {
    let mut server = McpChild::spawn(synthetic_data_dir(), &[("M4_QUERY_TIMEOUT", "3")]);
    server.initialize();
    server.send_request(
        "tools/call",
        json!({"name": "execute_query", "arguments": {"sql_query":
            "select count(*) from range(1000000) a, range(1000000) b"}}),
    );
    assert!(
        server.close(),
        "m4 should exit 0 when stdin closes mid-call"
    );
}

#[test]
fn several_servers_share_one_database_file() {
    let mut first = McpChild::spawn(synthetic_data_dir(), &[]);
    let mut second = McpChild::spawn(synthetic_data_dir(), &[]);
    first.initialize();
    second.initialize();
    let query = json!({"sql_query": "select count(*) from mimiciv_hosp.patients"});
    let a = single_number(&first.call_tool("execute_query", query.clone()));
    let b = single_number(&second.call_tool("execute_query", query));
    assert_eq!(a, b);
    assert!(a > 0);
}

#[cfg(unix)]
#[test]
fn a_client_that_connects_stdio_with_socket_pairs_is_served() {
    // Node's child_process (Claude Desktop, Claude Code, Cursor, VS Code) gives
    // the server a Unix socket for stdin and another for stdout, not pipes.
    let mut cmd = common::m4_command(synthetic_data_dir());
    cmd.arg("serve");
    let mut server = McpChild::spawn_wired(cmd, common::Wiring::Sockets);
    server.initialize();
    assert_eq!(server.list_tools().len(), TOOLS.len());
    let answer = server.call_tool("execute_query", json!({"sql_query": "select 6 * 7"}));
    assert_eq!(single_number(&answer), 42);
    assert!(
        server.close(),
        "m4 should exit 0 when its stdin socket closes"
    );
}

/// Whether the open file behind `fd` is in non-blocking mode.
#[cfg(unix)]
fn non_blocking(fd: &std::os::fd::OwnedFd) -> bool {
    rustix::fs::fcntl_getfl(fd)
        .expect("fcntl")
        .contains(rustix::fs::OFlags::NONBLOCK)
}

#[cfg(unix)]
#[test]
fn stdio_is_served_non_blocking_and_its_blocking_mode_is_put_back_at_exit() {
    use std::io::{BufRead, BufReader, Write};
    use std::os::fd::OwnedFd;
    use std::os::unix::net::UnixStream;

    type Ends = (OwnedFd, OwnedFd);
    // (what the client writes to, what the server reads) and
    // (what the server writes to, what the client reads).
    let pipes = || -> (Ends, Ends) {
        let (server_reads, client_writes) = std::io::pipe().expect("pipe");
        let (client_reads, server_writes) = std::io::pipe().expect("pipe");
        (
            (client_writes.into(), server_reads.into()),
            (server_writes.into(), client_reads.into()),
        )
    };
    let sockets = || -> (Ends, Ends) {
        let (client_writes, server_reads) = UnixStream::pair().expect("socket pair");
        let (server_writes, client_reads) = UnixStream::pair().expect("socket pair");
        (
            (client_writes.into(), server_reads.into()),
            (server_writes.into(), client_reads.into()),
        )
    };
    // One socket for both, as `socat` and inetd-style launchers connect a program.
    let one_socket = || -> (Ends, Ends) {
        let (client, server) = UnixStream::pair().expect("socket pair");
        let (client_reads, server_writes) = (
            client.try_clone().expect("dup"),
            server.try_clone().expect("dup"),
        );
        (
            (client.into(), server.into()),
            (server_writes.into(), client_reads.into()),
        )
    };
    for (wiring, ends) in [
        ("pipes", pipes()),
        ("sockets", sockets()),
        ("one socket", one_socket()),
    ] {
        let ((client_writes, server_reads), (server_writes, client_reads)) = ends;
        // Copies of the server's own ends share their open files, and so their mode.
        let watched = [
            server_reads.try_clone().expect("dup"),
            server_writes.try_clone().expect("dup"),
        ];
        assert!(
            !watched.iter().any(non_blocking),
            "{wiring}: blocking to start with"
        );
        let mut child = common::m4_command(synthetic_data_dir())
            .arg("serve")
            .stdin(std::process::Stdio::from(server_reads))
            .stdout(std::process::Stdio::from(server_writes))
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start m4 serve");
        let mut to_server = std::fs::File::from(client_writes);
        let mut from_server = BufReader::new(std::fs::File::from(client_reads));
        let mut exchange = |request: Value| -> Value {
            writeln!(to_server, "{request}").expect("write a request");
            let mut line = String::new();
            from_server.read_line(&mut line).expect("read a reply");
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("{wiring}: {e}: {line:?}"))
        };
        let reply = exchange(
            json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "m4-tests", "version": "0"}}}),
        );
        assert!(reply.get("result").is_some(), "{wiring}: {reply}");
        assert!(
            watched.iter().all(non_blocking),
            "{wiring}: the server reads and writes its stdio on its event loop"
        );
        let reply = exchange(json!({"jsonrpc": "2.0", "id": 2, "method": "ping"}));
        assert_eq!(reply["id"], 2, "{wiring}: {reply}");
        // Both, so that a socket shared by the two directions closes too.
        drop((to_server, from_server));
        let status = child.wait().expect("wait for m4");
        assert!(
            status.success(),
            "{wiring}: m4 exits 0 at the end of its stdin"
        );
        assert!(
            !watched.iter().any(non_blocking),
            "{wiring}: the server puts back the blocking mode of the files it was given"
        );
    }
}

#[test]
fn requests_in_a_file_on_stdin_are_answered_to_its_end() {
    // Not a pipe or a socket: served through the runtime's blocking stdin.
    let dir = tempfile::tempdir().expect("tempdir");
    let requests = dir.path().join("requests.jsonl");
    let lines = [
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "m4-tests", "version": "0"}}}),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
            "name": "execute_query", "arguments": {"sql_query": "select 6 * 7"}}}),
    ];
    let text: String = lines.iter().map(|line| format!("{line}\n")).collect();
    std::fs::write(&requests, text).expect("write requests");
    let output = common::m4_command(synthetic_data_dir())
        .arg("serve")
        .stdin(std::fs::File::open(&requests).expect("open requests"))
        .output()
        .expect("run m4 serve");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let replies: Vec<Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON-RPC line"))
        .collect();
    let call = replies
        .iter()
        .find(|reply| reply["id"] == 2)
        .unwrap_or_else(|| panic!("no answer to the call: {replies:?}"));
    assert_eq!(single_number(&call["result"]), 42);
}

// --- the real MIMIC-IV demo --------------------------------------------------

fn demo_server(test: &str) -> Option<(McpChild, std::path::PathBuf)> {
    let (built, source) = demo(test)?;
    let mut server = McpChild::spawn(&built.data_dir, &[("M4_DATASET", "mimic-iv-demo")]);
    server.initialize();
    Some((server, source))
}

#[test]
fn demo_schema_lists_every_loaded_table_with_source_row_counts() {
    let Some((mut server, source)) = demo_server("demo_schema") else {
        return;
    };
    let schema = server.call_tool("get_database_schema", json!({}));
    assert!(!tool_text(&schema).contains("SYNTHETIC"));
    let tables = schema["structuredContent"]["tables"].as_array().unwrap();
    let raw = tables
        .iter()
        .filter(|t| t["schema"] == "mimiciv_hosp" || t["schema"] == "mimiciv_icu")
        .count();
    assert_eq!(raw, 30, "{schema}");
    // The derived concepts are tables like the others (issue 11).
    assert!(
        tables
            .iter()
            .any(|t| t["schema"] == "mimiciv_derived" && t["table"] == "kdigo_stages"),
        "{schema}"
    );
    let find = |name: &str| {
        tables
            .iter()
            .find(|t| t["table"] == name)
            .and_then(|t| t["rows"].as_i64())
            .unwrap_or_else(|| panic!("{name} missing"))
    };
    for (table, file) in [
        ("patients", "hosp/patients.csv.gz"),
        ("icustays", "icu/icustays.csv.gz"),
        ("admissions", "hosp/admissions.csv.gz"),
    ] {
        assert_eq!(
            find(table),
            read_csv_gz(&source.join(file)).len() as i64,
            "{table}"
        );
    }
}

#[test]
fn demo_icu_stays_match_the_source_file() {
    let Some((mut server, source)) = demo_server("demo_icu_stays") else {
        return;
    };
    let stays = read_csv_gz(&source.join("icu/icustays.csv.gz"));
    let mut per_patient: HashMap<String, usize> = HashMap::new();
    for stay in &stays {
        *per_patient.entry(stay["subject_id"].clone()).or_default() += 1;
    }
    let (patient, count) = per_patient
        .iter()
        .max_by_key(|(id, n)| (**n, (*id).clone()))
        .unwrap();
    let result = server.call_tool(
        "get_icu_stays",
        json!({"patient_id": patient.parse::<i64>().unwrap(), "limit": 100}),
    );
    let rows = structured_rows(&result);
    assert_eq!(rows.len(), *count);
    let expected_ids: std::collections::BTreeSet<String> = stays
        .iter()
        .filter(|s| &s["subject_id"] == patient)
        .map(|s| s["stay_id"].clone())
        .collect();
    let got_ids: std::collections::BTreeSet<String> =
        rows.iter().map(|r| r[2].to_string()).collect();
    assert_eq!(got_ids, expected_ids);
    let all = server.call_tool("get_icu_stays", json!({"limit": 1000}));
    assert_eq!(structured_rows(&all).len(), stays.len());
}

#[test]
fn demo_lab_results_by_label_and_itemid_match_the_source_file() {
    let Some((mut server, source)) = demo_server("demo_lab_results") else {
        return;
    };
    let labs = read_csv_gz(&source.join("hosp/labevents.csv.gz"));
    let creatinine: Vec<_> = labs.iter().filter(|l| l["itemid"] == "50912").collect();
    let patient = creatinine[0]["subject_id"].clone();
    let expected = creatinine
        .iter()
        .filter(|l| l["subject_id"] == patient)
        .count();
    let by_id = server.call_tool(
        "get_lab_results",
        json!({"patient_id": patient.parse::<i64>().unwrap(), "lab_item": 50912, "limit": 1000}),
    );
    assert_eq!(structured_rows(&by_id).len(), expected, "{by_id}");
    // "creatinine" as a label also matches other creatinine tests (urine, whole blood).
    let dictionary = read_csv_gz(&source.join("hosp/d_labitems.csv.gz"));
    let creatinine_items: std::collections::HashSet<&str> = dictionary
        .iter()
        .filter(|d| d["label"].to_lowercase().contains("creatinine"))
        .map(|d| d["itemid"].as_str())
        .collect();
    let expected_by_label = labs
        .iter()
        .filter(|l| l["subject_id"] == patient && creatinine_items.contains(l["itemid"].as_str()))
        .count();
    let by_label = server.call_tool(
        "get_lab_results",
        json!({"patient_id": patient.parse::<i64>().unwrap(), "lab_item": "Creatinine", "limit": 1000}),
    );
    assert_eq!(structured_rows(&by_label).len(), expected_by_label);
    assert!(
        structured_rows(&by_label).iter().all(|r| r[4]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("creatinine"))
    );
}

#[test]
fn demo_race_distribution_matches_the_source_file() {
    let Some((mut server, source)) = demo_server("demo_race") else {
        return;
    };
    let admissions = read_csv_gz(&source.join("hosp/admissions.csv.gz"));
    let mut counts: HashMap<String, i64> = HashMap::new();
    for admission in &admissions {
        *counts.entry(admission["race"].clone()).or_default() += 1;
    }
    let result = server.call_tool("get_race_distribution", json!({"limit": 1000}));
    let rows = structured_rows(&result);
    assert_eq!(rows.len(), counts.len());
    for row in &rows {
        let race = row[0].as_str().unwrap();
        assert_eq!(row[1].as_i64(), counts.get(race).copied(), "{race}");
    }
    let top = server.call_tool("get_race_distribution", json!({}));
    let top_rows = structured_rows(&top);
    assert_eq!(top_rows.len(), 10.min(counts.len()));
    assert_eq!(top_rows[0][1].as_i64(), counts.values().max().copied());
}

#[test]
fn demo_answers_known_clinical_questions() {
    let Some((mut server, source)) = demo_server("demo_questions") else {
        return;
    };
    let icu_patients: std::collections::HashSet<String> =
        read_csv_gz(&source.join("icu/icustays.csv.gz"))
            .into_iter()
            .map(|stay| stay["subject_id"].clone())
            .collect();
    for (sql, expected) in [
        ("select count(*) from mimiciv_hosp.patients", 100),
        ("select count(*) from mimiciv_hosp.admissions", 275),
        ("select count(*) from mimiciv_icu.icustays", 140),
        (
            "select count(distinct subject_id) from mimiciv_icu.icustays",
            icu_patients.len() as i64,
        ),
    ] {
        let result = server.call_tool("execute_query", json!({"sql_query": sql}));
        assert_eq!(single_number(&result), expected, "{sql}");
    }
}

#[test]
fn search_items_finds_the_codes_a_model_needs_on_the_demo() {
    let Some((mut server, _)) = demo_server("search_items_finds_the_codes") else {
        return;
    };
    let ids = |result: &Value| -> Vec<String> {
        result["structuredContent"]["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|item| item["id"].as_str().map(str::to_string))
            .collect()
    };
    let heart_rate = server.call_tool("search_items", json!({"query": "heart rate"}));
    assert!(!is_tool_error(&heart_rate), "{heart_rate}");
    assert_eq!(
        ids(&heart_rate).first().map(String::as_str),
        Some("220045"),
        "{heart_rate}"
    );
    let first = &heart_rate["structuredContent"]["items"][0];
    assert_eq!(first["recorded_in"], "mimiciv_icu.chartevents", "{first}");
    let creatinine = server.call_tool("search_items", json!({"query": "creatinine", "limit": 50}));
    assert!(
        ids(&creatinine).contains(&"50912".to_string()),
        "{creatinine}"
    );
    let abbreviation = server.call_tool("search_items", json!({"query": "hr"}));
    assert!(
        ids(&abbreviation).contains(&"220045".to_string()),
        "{abbreviation}"
    );
    let empty = server.call_tool("search_items", json!({"query": "  "}));
    assert!(is_tool_error(&empty), "{empty}");
}

#[test]
fn tables_and_columns_explain_themselves() {
    let Some((mut server, _)) = demo_server("tables_and_columns_explain_themselves") else {
        return;
    };
    let info = server.call_tool(
        "get_table_info",
        json!({"table_name": "mimiciv_hosp.patients", "show_sample": false}),
    );
    let table = &info["structuredContent"]["table"];
    assert!(
        table["description"].as_str().is_some_and(|d| d.len() > 20),
        "{table}"
    );
    for column in table["columns"].as_array().expect("columns") {
        assert!(
            column["description"]
                .as_str()
                .is_some_and(|d| !d.is_empty()),
            "no description: {column}"
        );
    }
    let schema = server.call_tool("get_database_schema", json!({}));
    let tables = schema["structuredContent"]["tables"]
        .as_array()
        .expect("tables")
        .clone();
    let kdigo = tables
        .iter()
        .find(|t| t["schema"] == "mimiciv_derived" && t["table"] == "kdigo_stages")
        .expect("mimiciv_derived.kdigo_stages is listed");
    assert!(
        kdigo["description"].as_str().is_some_and(|d| !d.is_empty()),
        "{kdigo}"
    );
    let stages = server.call_tool(
        "execute_query",
        json!({"sql_query": "select count(*) from mimiciv_derived.kdigo_stages"}),
    );
    assert!(single_number(&stages) > 0, "{stages}");
}

#[test]
fn resources_and_prompts_are_served() {
    let mut server = McpChild::spawn(synthetic_data_dir(), &[]);
    let init = server.initialize();
    assert!(init["capabilities"]["resources"].is_object(), "{init}");
    assert!(init["capabilities"]["prompts"].is_object(), "{init}");
    let list = server.request("resources/list", json!({}));
    let uris: Vec<&str> = list["result"]["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .filter_map(|r| r["uri"].as_str())
        .collect();
    assert!(uris.contains(&"m4://mimic-iv/primer"), "{list}");
    assert!(uris.iter().any(|u| u.ends_with("/sepsis3")), "{list}");
    let primer = server.request("resources/read", json!({"uri": "m4://mimic-iv/primer"}));
    let text = primer["result"]["contents"][0]["text"]
        .as_str()
        .unwrap_or("");
    assert!(text.contains("anchor_age"), "{primer}");
    let missing = server.request("resources/read", json!({"uri": "m4://nothing"}));
    assert!(
        missing["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("resources/list")),
        "{missing}"
    );
    let prompts = server.request("prompts/list", json!({}));
    let names: Vec<&str> = prompts["result"]["prompts"]
        .as_array()
        .expect("prompts")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert!(names.contains(&"build_cohort"), "{prompts}");
    let filled = server.request(
        "prompts/get",
        json!({"name": "build_cohort", "arguments": {"criteria": "adults with sepsis"}}),
    );
    let message = filled["result"]["messages"][0]["content"]["text"]
        .as_str()
        .unwrap_or("");
    assert!(message.contains("adults with sepsis"), "{filled}");
    assert!(!message.contains("{criteria}"), "{filled}");
    let without = server.request("prompts/get", json!({"name": "build_cohort"}));
    assert!(
        without["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("criteria")),
        "{without}"
    );
}
