//! One MCP server entry (how a client starts m4 over stdio) in each client's
//! shape: JSON for Claude Desktop, Cursor and VS Code, a `claude mcp add` command
//! line for Claude Code, and the absolute paths it holds. Does not read flags
//! (`args`) nor files (`merge`, `write`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use super::{Client, ClientConfigError};

/// One MCP server entry: how a client starts m4 over stdio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerEntry {
    /// Absolute path of the m4 binary: desktop apps do not inherit the shell's `PATH`.
    pub command: String,
    pub args: Vec<String>,
    /// `M4_*` variables, sorted so that output is stable from run to run.
    pub env: BTreeMap<String, String>,
}

impl ServerEntry {
    /// The entry as `client` writes it.
    pub fn to_json(&self, client: Client) -> Value {
        let mut entry = Map::new();
        if matches!(client, Client::VsCode | Client::ClaudeCode) {
            entry.insert("type".into(), json!("stdio"));
        }
        entry.insert("command".into(), json!(self.command));
        entry.insert("args".into(), json!(self.args));
        if !self.env.is_empty() {
            entry.insert("env".into(), json!(self.env));
        }
        Value::Object(entry)
    }

    /// `claude mcp add ...` for Claude Code, quoted for a POSIX shell. The name comes
    /// first: `--env` takes several values and would swallow a name after it.
    pub fn claude_code_command(&self, name: &str) -> String {
        let mut words = vec![
            "claude".to_string(),
            "mcp".into(),
            "add".into(),
            shell_quote(name),
            "--transport".into(),
            "stdio".into(),
            "--scope".into(),
            "user".into(),
        ];
        for (key, value) in &self.env {
            words.push("--env".into());
            words.push(shell_quote(&format!("{key}={value}")));
        }
        words.push("--".into());
        words.push(shell_quote(&self.command));
        words.extend(self.args.iter().map(|a| shell_quote(a)));
        words.join(" ")
    }
}

/// Quotes `word` for a POSIX shell when it needs it.
pub fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

pub(super) fn absolute(path: &Path) -> Result<PathBuf, ClientConfigError> {
    if let Ok(canonical) = path.canonicalize() {
        return Ok(strip_verbatim(canonical));
    }
    if path.is_absolute() {
        return Ok(path.to_path_buf());
    }
    let cwd = std::env::current_dir().map_err(|cause| ClientConfigError::CurrentDir {
        path: path.to_path_buf(),
        cause,
    })?;
    Ok(cwd.join(path))
}

/// Windows' canonical paths start with `\\?\`, which some clients do not accept.
fn strip_verbatim(path: PathBuf) -> PathBuf {
    let text = path.to_string_lossy();
    match text.strip_prefix(r"\\?\") {
        Some(rest) if rest.as_bytes().get(1) == Some(&b':') => PathBuf::from(rest),
        _ => path,
    }
}

/// Absolute, symlink-free path of the running m4 binary.
pub fn current_binary() -> Result<PathBuf, ClientConfigError> {
    let exe = std::env::current_exe().map_err(ClientConfigError::CurrentExe)?;
    Ok(exe.canonicalize().map(strip_verbatim).unwrap_or(exe))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claude_code_command_quotes_what_the_shell_would_split() {
        let entry = ServerEntry {
            command: "/Users/Jane Doe/m4/target/release/m4".into(),
            args: vec!["serve".into()],
            env: BTreeMap::from([("M4_DATASET".to_string(), "mimic-iv-demo".to_string())]),
        };
        assert_eq!(
            entry.claude_code_command("m4"),
            "claude mcp add m4 --transport stdio --scope user --env M4_DATASET=mimic-iv-demo \
             -- '/Users/Jane Doe/m4/target/release/m4' serve"
        );
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
