//! The team server: `m4 serve --http` driven over HTTP as an MCP client, a proxy or
//! an attacker would drive it. Tokens come from the local OpenID provider
//! (tests/oidc, see tests/auth.rs); every refusal is followed by a call that works,
//! so the server is seen to keep serving.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::auth::Provider;
use crate::common;

const SCOPE: &str = "read:mimic-data";

/// A running `m4 serve --http`, stopped on drop.
struct HttpServer {
    child: Child,
    base: String,
    stderr_path: PathBuf,
    _dir: tempfile::TempDir,
}

/// A port nobody listens on right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl HttpServer {
    /// Starts on a free loopback port with `envs`, and waits for `/healthz`.
    fn start(data_dir: &Path, envs: &[(&str, &str)]) -> HttpServer {
        let port = free_port();
        let dir = tempfile::tempdir().expect("tempdir");
        let stderr_path = dir.path().join("stderr.log");
        let child = common::m4_command(data_dir)
            .args(["serve", "--http", &format!("127.0.0.1:{port}")])
            .envs(envs.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr_path).expect("stderr log"))
            .spawn()
            .expect("failed to start m4 serve --http");
        let mut server = HttpServer {
            child,
            base: format!("http://127.0.0.1:{port}"),
            stderr_path,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = server.child.try_wait().expect("wait") {
                panic!("m4 serve --http exited ({status}):\n{}", server.stderr());
            }
            if let Ok(response) = agent().get(format!("{}/healthz", server.base)).call()
                && response.status() == 200
            {
                return server;
            }
            assert!(
                Instant::now() < deadline,
                "no /healthz within 60 s:\n{}",
                server.stderr()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    fn mcp(&self) -> String {
        format!("{}/mcp", self.base)
    }

    /// POSTs one JSON-RPC message as a 2025-11-25 client does.
    fn post(&self, token: Option<&str>, body: &Value) -> Reply {
        self.post_with(token, body, &[])
    }

    fn post_with(&self, token: Option<&str>, body: &Value, headers: &[(&str, &str)]) -> Reply {
        let mut request = agent()
            .post(self.mcp())
            .header("Accept", "application/json, text/event-stream")
            .header("Content-Type", "application/json");
        if !headers
            .iter()
            .any(|(name, _)| *name == "MCP-Protocol-Version")
        {
            request = request.header("MCP-Protocol-Version", "2025-11-25");
        }
        if let Some(token) = token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        Reply::from(request.send(body.to_string()).expect("HTTP request"))
    }

    /// `tools/call` → the HTTP reply.
    fn call(&self, token: Option<&str>, tool: &str, arguments: Value) -> Reply {
        self.post(
            token,
            &json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
                    "params": {"name": tool, "arguments": arguments}}),
        )
    }

    /// A call that must work, proving the server still serves.
    fn assert_serving(&self, token: Option<&str>) {
        let reply = self.call(
            token,
            "execute_query",
            json!({"sql_query": "select 42 as answer"}),
        );
        assert_eq!(reply.status, 200, "{reply:?}\n{}", self.stderr());
        let result = reply.result();
        assert_ne!(result["isError"], json!(true), "{result}");
        assert!(common::tool_text(&result).contains("42"), "{result}");
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .new_agent()
}

/// One HTTP reply, read whole.
#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl From<ureq::http::Response<ureq::Body>> for Reply {
    fn from(mut response: ureq::http::Response<ureq::Body>) -> Reply {
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_ascii_lowercase(),
                    v.to_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        Reply {
            status: response.status().as_u16(),
            headers,
            body: response
                .body_mut()
                .with_config()
                .limit(50_000_000)
                .read_to_string()
                .unwrap_or_default(),
        }
    }
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The JSON-RPC message (a JSON body, or the last `data:` line of an SSE body).
    fn message(&self) -> Value {
        if let Ok(value) = serde_json::from_str(&self.body) {
            return value;
        }
        self.body
            .lines()
            .rev()
            .filter_map(|l| l.strip_prefix("data:"))
            .find_map(|d| serde_json::from_str(d.trim()).ok())
            .unwrap_or_else(|| panic!("no JSON-RPC message in {self:?}"))
    }

    fn result(&self) -> Value {
        self.message()["result"].clone()
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {self:?}"))
    }
}

fn initialize() -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "m4-tests", "version": "1"}}})
}

fn list_tools() -> Value {
    json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}})
}

/// The variables an operator sets for `provider`: audience = the public URL (default).
fn oauth_env(provider: &Provider) -> Vec<(&str, &str)> {
    vec![
        ("M4_OAUTH2_ENABLED", "true"),
        ("M4_OAUTH2_ISSUER_URL", provider.issuer.as_str()),
    ]
}

#[test]
fn loopback_serves_mcp_open_for_both_protocol_revisions() {
    let server = HttpServer::start(common::synthetic_data_dir(), &[]);
    let health = agent()
        .get(format!("{}/healthz", server.base))
        .call()
        .map(Reply::from)
        .unwrap();
    assert_eq!(health.json()["status"], "ok", "{health:?}");
    // 2025-11-25: initialize, then requests.
    let init = server.post(None, &initialize());
    assert_eq!(init.status, 200, "{init:?}");
    assert_eq!(init.result()["serverInfo"]["name"], "m4", "{init:?}");
    let tools = server.post(None, &list_tools()).result();
    let names: Vec<&str> = tools["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(names.contains(&"execute_query"), "{names:?}");
    server.assert_serving(None);
    // 2026-07-28: no handshake; every request carries its version and capabilities.
    let meta = json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                      "io.modelcontextprotocol/clientCapabilities": {},
                      "io.modelcontextprotocol/clientInfo": {"name": "m4-tests", "version": "1"}});
    let modern = server.post_with(
        None,
        &json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {
            "name": "execute_query", "arguments": {"sql_query": "select 7 as seven"}, "_meta": meta}}),
        &[
            ("MCP-Protocol-Version", "2026-07-28"),
            ("Mcp-Method", "tools/call"),
            ("Mcp-Name", "execute_query"),
        ],
    );
    assert_eq!(modern.status, 200, "{modern:?}\n{}", server.stderr());
    assert!(
        common::tool_text(&modern.result()).contains('7'),
        "{modern:?}"
    );
    // No OAuth2: no metadata to publish.
    let metadata = agent()
        .get(format!(
            "{}/.well-known/oauth-protected-resource",
            server.base
        ))
        .call()
        .map(Reply::from)
        .unwrap();
    assert_eq!(metadata.status, 404, "{metadata:?}");
}

#[test]
fn any_address_but_loopback_needs_oauth2() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port().to_string();
    let (ok, _, err) = common::run_m4(
        dir.path(),
        &["serve", "--http", &format!("0.0.0.0:{port}")],
        &[],
    );
    assert!(!ok, "started open on 0.0.0.0:\n{err}");
    assert!(
        err.contains("without OAuth2") && err.contains("M4_OAUTH2_ENABLED=true"),
        "{err}"
    );
    assert!(err.contains("hint:"), "{err}");
    // With OAuth2 but no public URL it still refuses, saying which variable is missing.
    let (ok, _, err) = common::run_m4(
        dir.path(),
        &["serve", "--http", &format!("0.0.0.0:{port}")],
        &[
            ("M4_OAUTH2_ENABLED", "true"),
            ("M4_OAUTH2_ISSUER_URL", "https://issuer.invalid"),
        ],
    );
    assert!(!ok, "{err}");
    assert!(err.contains("`M4_HTTP_PUBLIC_URL` is not set"), "{err}");
}

#[test]
fn bearer_tokens_are_checked_per_request_with_the_challenges_of_rfc_6750_and_9728() {
    let provider = Provider::start("rsa-a,ec-a");
    let data = common::synthetic_data_dir();
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let audit_text = audit.to_string_lossy().into_owned();
    let mut envs = oauth_env(&provider);
    envs.extend([
        ("M4_OAUTH2_LEEWAY", "0"),
        ("M4_OAUTH2_RATE_LIMIT_REQUESTS", "5"),
        ("M4_AUDIT_LOG", audit_text.as_str()),
    ]);
    let server = HttpServer::start(data, &envs);
    let resource = server.base.clone();
    let good = provider.token("m4-rs256", SCOPE, &resource);
    let metadata_url = format!("{}/.well-known/oauth-protected-resource", server.base);

    // RFC 9728 metadata, in both places.
    for url in [metadata_url.clone(), format!("{metadata_url}/mcp")] {
        let reply = agent().get(&url).call().map(Reply::from).unwrap();
        assert_eq!(reply.status, 200, "{url}: {reply:?}");
        let doc = reply.json();
        assert_eq!(doc["resource"], resource.as_str(), "{doc}");
        assert_eq!(
            doc["authorization_servers"],
            json!([provider.issuer]),
            "{doc}"
        );
        assert_eq!(doc["scopes_supported"], json!([SCOPE]), "{doc}");
        assert_eq!(doc["bearer_methods_supported"], json!(["header"]), "{doc}");
        assert!(doc["resource_documentation"].is_string(), "{doc}");
    }

    // No token: 401 naming the metadata and the scope, no error code.
    let reply = server.post(None, &initialize());
    assert_eq!(reply.status, 401, "{reply:?}");
    let challenge = reply.header("www-authenticate").expect("challenge");
    assert_eq!(
        challenge,
        format!("Bearer resource_metadata=\"{metadata_url}\", scope=\"{SCOPE}\"")
    );
    assert!(
        reply.json()["error_description"]
            .as_str()
            .unwrap()
            .contains("Authorization: Bearer")
    );
    server.assert_serving(Some(&good));

    // A token for another audience: 401 invalid_token, the token never echoed.
    let other = provider.token("m4-rs256", SCOPE, "https://other.example/api");
    let reply = server.post(Some(&other), &list_tools());
    assert_eq!(reply.status, 401, "{reply:?}");
    let challenge = reply.header("www-authenticate").unwrap();
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    assert!(challenge.contains(&format!("resource_metadata=\"{metadata_url}\"")));
    assert!(reply.body.contains("audience mismatch"), "{reply:?}");
    for part in other.split('.') {
        assert!(!reply.body.contains(part) && !challenge.contains(part));
    }
    server.assert_serving(Some(&good));

    // A token that is not a JWT at all.
    let reply = server.post(Some("not-a-token"), &list_tools());
    assert_eq!(reply.status, 401, "{reply:?}");
    assert!(!reply.body.contains("not-a-token"));

    // Valid, but without the scope: 403 insufficient_scope naming it.
    let noscope = provider.token("m4-noscope", "other:scope", &resource);
    let reply = server.call(Some(&noscope), "list_datasets", json!({}));
    assert_eq!(reply.status, 403, "{reply:?}");
    let challenge = reply.header("www-authenticate").unwrap();
    assert!(
        challenge.contains("error=\"insufficient_scope\"") && challenge.contains(SCOPE),
        "{challenge}"
    );
    server.assert_serving(Some(&good));

    // Expired: the short-lived client's token, once its 4 s are over.
    let short = provider.token("m4-short", SCOPE, &resource);
    server.assert_serving(Some(&short));
    std::thread::sleep(Duration::from_secs(5));
    let reply = server.call(Some(&short), "list_datasets", json!({}));
    assert_eq!(reply.status, 401, "{reply:?}");
    assert!(reply.body.contains("Token has expired"), "{reply:?}");
    server.assert_serving(Some(&good));

    // The rate limit counts tool calls per user (5 here; good has made 4 so far):
    // listing tools is not a call, another user is not affected.
    for _ in 0..3 {
        let reply = server.post(Some(&good), &list_tools());
        assert_eq!(reply.status, 200, "{reply:?}");
    }
    server.assert_serving(Some(&good));
    let reply = server.call(Some(&good), "list_datasets", json!({}));
    assert_eq!(reply.status, 429, "{reply:?}");
    let retry: u64 = reply
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .unwrap();
    assert!(retry >= 1, "{reply:?}");
    assert!(reply.body.contains("Rate limit exceeded"), "{reply:?}");
    let es = provider.token("m4-es256", SCOPE, &resource);
    server.assert_serving(Some(&es));

    // The audit log: one line per call, as the token's user, never the token.
    let text = std::fs::read_to_string(&audit).expect("audit log");
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    let query = lines
        .iter()
        .find(|l| l["sub"] == "m4-es256")
        .unwrap_or_else(|| panic!("no line for m4-es256:\n{text}"));
    assert_eq!(query["tool"], "execute_query", "{query}");
    assert_eq!(query["client_id"], "m4-es256", "{query}");
    assert_eq!(query["dataset"], "synthetic", "{query}");
    assert_eq!(query["outcome"], "ok", "{query}");
    assert_eq!(query["rows"], 1, "{query}");
    assert!(query["bytes"].as_u64().unwrap() > 0, "{query}");
    assert_eq!(query["sql_sha256"].as_str().unwrap().len(), 64, "{query}");
    assert!(query["time"].as_str().unwrap().ends_with('Z'), "{query}");
    for token in [&good, &es, &short] {
        for part in token.split('.') {
            assert!(!text.contains(part), "a token part is in the audit log");
        }
    }
    let limited = lines
        .iter()
        .find(|l| l["sub"] == "m4-rs256" && l["outcome"] == "refused")
        .unwrap_or_else(|| panic!("no line for the rate-limited call:\n{text}"));
    assert_eq!(limited["tool"], "list_datasets", "{limited}");
    assert!(
        !text.contains("select 42"),
        "the SQL itself is only logged by M4_AUDIT_SQL=full"
    );
}

#[test]
fn hosts_bodies_and_content_types_are_refused_and_the_server_keeps_serving() {
    let server = HttpServer::start(
        common::synthetic_data_dir(),
        &[("M4_HTTP_MAX_BODY", "100000")],
    );
    // A foreign Host (DNS rebinding) is refused before anything else.
    let reply = Reply::from(
        agent()
            .post(server.mcp())
            .header("Host", "evil.example")
            .header("Accept", "application/json, text/event-stream")
            .header("Content-Type", "application/json")
            .send(list_tools().to_string())
            .unwrap(),
    );
    assert_eq!(reply.status, 403, "{reply:?}");
    assert!(reply.body.contains("evil.example") && reply.body.contains("M4_HTTP_ALLOWED_HOSTS"));
    server.assert_serving(None);
    // A foreign Origin too.
    let reply = server.post_with(None, &list_tools(), &[("Origin", "https://evil.example")]);
    assert_eq!(reply.status, 403, "{reply:?}");
    server.assert_serving(None);
    // A 10 MB body: refused from its Content-Length, before it is read.
    let answer = raw_post(&server, 10_000_000);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("M4_HTTP_MAX_BODY"), "{answer}");
    server.assert_serving(None);
    // Malformed JSON.
    let reply = Reply::from(
        agent()
            .post(server.mcp())
            .header("Accept", "application/json, text/event-stream")
            .header("Content-Type", "application/json")
            .send("{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": ")
            .unwrap(),
    );
    assert_eq!(reply.status, 400, "{reply:?}");
    server.assert_serving(None);
    // The wrong content type.
    let reply = Reply::from(
        agent()
            .post(server.mcp())
            .header("Accept", "application/json, text/event-stream")
            .header("Content-Type", "text/plain")
            .send(list_tools().to_string())
            .unwrap(),
    );
    assert_eq!(reply.status, 415, "{reply:?}");
    server.assert_serving(None);
}

/// POSTs `size` bytes of body by hand (a client that sends it all regardless) and
/// returns what the server answered.
fn raw_post(server: &HttpServer, size: usize) -> String {
    let port = server.base.rsplit(':').next().unwrap();
    let mut stream = TcpStream::connect(format!("127.0.0.1:{port}")).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let _ = write!(
        stream,
        "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: application/json, text/event-stream\r\n\
         Content-Type: application/json\r\nContent-Length: {size}\r\n\r\n"
    );
    let chunk = vec![b'x'; 64 * 1024];
    let mut sent = 0;
    while sent < size {
        let n = chunk.len().min(size - sent);
        if stream.write_all(&chunk[..n]).is_err() {
            break; // the server answered and closed: what it said is still readable
        }
        sent += n;
    }
    let mut answer = Vec::new();
    let _ = std::io::Read::read_to_end(&mut stream, &mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

#[test]
fn calls_beyond_the_in_flight_limit_get_503_and_a_disconnect_cancels_the_query() {
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let audit_text = audit.to_string_lossy().into_owned();
    let server = HttpServer::start(
        common::synthetic_data_dir(),
        &[
            ("M4_HTTP_MAX_IN_FLIGHT", "1"),
            ("M4_QUERY_TIMEOUT", "600"),
            ("M4_AUDIT_LOG", audit_text.as_str()),
        ],
    );
    // A query that runs for minutes, sent by hand so the connection can be dropped.
    let slow = json!({"jsonrpc": "2.0", "id": 11, "method": "tools/call", "params": {
        "name": "execute_query",
        "arguments": {"sql_query": "select sum(hash(a.range * b.range)) from range(100000) a, range(100000) b"}}})
    .to_string();
    let port = server.base.rsplit(':').next().unwrap();
    let mut stream = TcpStream::connect(format!("127.0.0.1:{port}")).unwrap();
    write!(
        stream,
        "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: application/json, text/event-stream\r\n\
         Content-Type: application/json\r\nMCP-Protocol-Version: 2025-11-25\r\nContent-Length: {}\r\n\r\n{slow}",
        slow.len()
    )
    .unwrap();
    stream.flush().unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    // The one slot is taken: the next call is turned away with a time to retry.
    let reply = server.call(None, "list_datasets", json!({}));
    assert_eq!(reply.status, 503, "{reply:?}\n{}", server.stderr());
    assert!(reply.header("retry-after").is_some(), "{reply:?}");
    assert!(reply.body.contains("M4_HTTP_MAX_IN_FLIGHT"), "{reply:?}");
    // The client goes away: the query is cancelled, the slot freed.
    stream.shutdown(std::net::Shutdown::Both).unwrap();
    drop(stream);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !server.stderr().contains("query cancelled by the client") {
        assert!(
            Instant::now() < deadline,
            "the query was not cancelled within 30 s of the disconnect:\n{}",
            server.stderr()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    server.assert_serving(None);
    let text = std::fs::read_to_string(&audit).unwrap();
    assert!(
        text.lines()
            .any(|l| l.contains("\"outcome\":\"cancelled\"")),
        "{text}"
    );
}

#[test]
fn a_request_over_the_time_limit_gets_504_and_its_query_is_cancelled() {
    let server = HttpServer::start(
        common::synthetic_data_dir(),
        &[
            ("M4_HTTP_REQUEST_TIMEOUT", "2"),
            ("M4_QUERY_TIMEOUT", "600"),
        ],
    );
    let started = Instant::now();
    let reply = server.call(
        None,
        "execute_query",
        json!({"sql_query": "select sum(hash(a.range * b.range)) from range(100000) a, range(100000) b"}),
    );
    assert_eq!(reply.status, 504, "{reply:?}\n{}", server.stderr());
    assert!(reply.body.contains("M4_HTTP_REQUEST_TIMEOUT"), "{reply:?}");
    assert!(started.elapsed() < Duration::from_secs(30), "{reply:?}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !server.stderr().contains("query cancelled by the client") {
        assert!(
            Instant::now() < deadline,
            "the query ran on after the time limit:\n{}",
            server.stderr()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    server.assert_serving(None);
}

#[test]
fn m4_config_prints_http_entries_for_a_team_server() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, err) = common::run_m4(
        dir.path(),
        &[
            "config",
            "claude-code",
            "--http",
            "https://m4.example.org",
            "--print",
        ],
        &[],
    );
    assert!(ok, "{err}");
    assert_eq!(
        out.trim(),
        "claude mcp add --transport http --scope user m4 https://m4.example.org/mcp"
    );
    for (client, key, entry) in [
        (
            "cursor",
            "mcpServers",
            json!({"url": "https://m4.example.org/mcp"}),
        ),
        (
            "vscode",
            "servers",
            json!({"type": "http", "url": "https://m4.example.org/mcp"}),
        ),
    ] {
        let (ok, out, err) = common::run_m4(
            dir.path(),
            &[
                "config",
                client,
                "--http",
                "https://m4.example.org/mcp",
                "--print",
            ],
            &[],
        );
        assert!(ok, "{client}: {err}");
        let printed: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(printed, json!({ key: { "m4": entry } }), "{client}");
    }
    let (ok, _, err) = common::run_m4(
        dir.path(),
        &["config", "claude", "--http", "https://m4.example.org"],
        &[],
    );
    assert!(!ok);
    assert!(err.contains("Add custom connector"), "{err}");
    let (ok, _, err) = common::run_m4(
        dir.path(),
        &[
            "config",
            "cursor",
            "--http",
            "https://m4.example.org",
            "--print",
            "--enable-oauth2",
        ],
        &[],
    );
    assert!(!ok);
    assert!(
        err.contains("`--enable-oauth2` does not go with `--http`"),
        "{err}"
    );
}
