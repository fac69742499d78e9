//! The entry for a team server reached over HTTP (`m4 config <client> --http URL`):
//! a `url` entry for Cursor and VS Code, a `claude mcp add --transport http` line
//! for Claude Code. The client signs in by itself (MCP authorization): the entry
//! holds no token and no `M4_*` variable. Does not touch any file.

use serde_json::{Value, json};

use super::{Client, ClientConfigError, shell_quote};

/// The MCP endpoint for `raw`: the server's base URL gets `/mcp` appended.
pub fn endpoint(raw: &str) -> Result<String, ClientConfigError> {
    let invalid = || ClientConfigError::InvalidUrl {
        flag: "--http",
        value: raw.to_string(),
        hint: "give the team server's URL, e.g. `https://m4.example.org` or `https://m4.example.org/mcp`",
    };
    let mut url = url::Url::parse(raw.trim()).map_err(|_| invalid())?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(invalid());
    }
    if url.path() == "/" || url.path().is_empty() {
        url.set_path("/mcp");
    }
    Ok(url.as_str().to_string())
}

/// The snippet `client` takes for the server at `endpoint`, named `name`.
pub fn snippet(client: Client, name: &str, endpoint: &str) -> Result<String, ClientConfigError> {
    let entry: Value = match client {
        Client::ClaudeCode => {
            return Ok(format!(
                "claude mcp add --transport http --scope user {} {}",
                shell_quote(name),
                shell_quote(endpoint)
            ));
        }
        Client::ClaudeDesktop => {
            return Err(ClientConfigError::DesktopConnector {
                url: endpoint.to_string(),
            });
        }
        Client::Cursor => json!({ "url": endpoint }),
        Client::VsCode => json!({ "type": "http", "url": endpoint }),
    };
    let mut servers = serde_json::Map::new();
    servers.insert(name.to_string(), entry);
    Ok(
        super::merge::pretty(&json!({ client.servers_key(): servers }))
            .trim_end()
            .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_base_url_gets_the_mcp_path() {
        assert_eq!(
            endpoint("https://m4.example.org").unwrap(),
            "https://m4.example.org/mcp"
        );
        assert_eq!(
            endpoint("https://m4.example.org/mcp").unwrap(),
            "https://m4.example.org/mcp"
        );
        assert_eq!(
            endpoint("http://127.0.0.1:8000/").unwrap(),
            "http://127.0.0.1:8000/mcp"
        );
        for bad in ["m4.example.org", "ftp://x/", ""] {
            let error = endpoint(bad).unwrap_err().to_string();
            assert!(
                error.contains("--http") && error.contains("hint:"),
                "{error}"
            );
        }
    }

    #[test]
    fn each_client_gets_its_own_shape() {
        let url = "https://m4.example.org/mcp";
        assert_eq!(
            snippet(Client::ClaudeCode, "m4", url).unwrap(),
            "claude mcp add --transport http --scope user m4 https://m4.example.org/mcp"
        );
        let cursor: Value =
            serde_json::from_str(&snippet(Client::Cursor, "m4", url).unwrap()).unwrap();
        assert_eq!(cursor, json!({"mcpServers": {"m4": {"url": url}}}));
        let vscode: Value =
            serde_json::from_str(&snippet(Client::VsCode, "m4", url).unwrap()).unwrap();
        assert_eq!(
            vscode,
            json!({"servers": {"m4": {"type": "http", "url": url}}})
        );
        let desktop = snippet(Client::ClaudeDesktop, "m4", url)
            .unwrap_err()
            .to_string();
        assert!(
            desktop.contains("Connectors") && desktop.contains(url),
            "{desktop}"
        );
    }
}
