//! The arguments of `m4 config <client>`: the clap flags, the client they name,
//! and the entry's `env` block they ask for, checked (a flag that needs another,
//! a URL that is not one, an unknown data set). Does not build the whole entry
//! (`entry`) nor touch any file (`write`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::ClientConfigError;
use super::entry::absolute;
use crate::{config, datasets};

/// Arguments of `m4 config <client>`.
#[derive(Debug, clap::Args)]
pub struct ConfigArgs {
    /// The MCP client: claude (Claude Desktop), claude-code, cursor or vscode.
    pub client: String,
    /// Print the entry instead of writing the client's configuration file
    /// (the only mode for claude-code, cursor and vscode).
    #[arg(long)]
    pub print: bool,
    /// Name of the server entry in the client's configuration.
    #[arg(long, value_name = "NAME", default_value = "m4")]
    pub name: String,
    /// Write this file instead of the client's usual one (claude only).
    #[arg(long, value_name = "PATH")]
    pub config_file: Option<PathBuf>,
    /// Turn OAuth2 access-token authentication on in the entry (needs issuer and audience).
    #[arg(long)]
    pub enable_oauth2: bool,
    /// Your identity provider's issuer URL (`M4_OAUTH2_ISSUER_URL`).
    #[arg(long, value_name = "URL")]
    pub oauth2_issuer: Option<String>,
    /// The audience m4's tokens are issued for (`M4_OAUTH2_AUDIENCE`).
    #[arg(long, value_name = "AUD")]
    pub oauth2_audience: Option<String>,
    /// Scopes every token must grant, space- or comma-separated (`M4_OAUTH2_REQUIRED_SCOPES`).
    #[arg(long, value_name = "SCOPES")]
    pub oauth2_scopes: Option<String>,
    /// Key set URL, when discovery from the issuer is not wanted (`M4_OAUTH2_JWKS_URL`).
    #[arg(long, value_name = "URL")]
    pub oauth2_jwks_url: Option<String>,
    /// The public client id (no secret) researchers sign in with via `m4 auth login`
    /// (`M4_OAUTH2_CLIENT_ID`): `m4 serve` then uses and refreshes that sign-in.
    #[arg(long, value_name = "ID")]
    pub oauth2_client_id: Option<String>,
    /// Not recommended: an access token pasted into the file, which expires (often
    /// within the hour) and is stored in plain text. Sign in with `m4 auth login`
    /// instead.
    #[arg(long, value_name = "TOKEN")]
    pub oauth2_token: Option<String>,
    /// A team server's URL (`https://m4.example.org`, `/mcp` added): print an HTTP
    /// entry for it instead of one that starts m4 on this machine.
    #[arg(long, value_name = "URL")]
    pub http: Option<String>,
    /// Data set for the entry's `M4_DATASET` (from the global `--dataset`).
    #[arg(skip)]
    pub dataset: Option<String>,
    /// Data folder for the entry's `M4_DATA_DIR` (from the global `--data-dir`).
    #[arg(skip)]
    pub data_dir: Option<PathBuf>,
    /// `M4_BIGQUERY_*` settings for the entry when the data set is on BigQuery
    /// (from the environment, by the command line).
    #[arg(skip)]
    pub bigquery: Vec<(String, String)>,
}

/// The MCP clients m4 knows how to configure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Client {
    /// Claude Desktop: m4 writes its `claude_desktop_config.json`.
    ClaudeDesktop,
    /// Claude Code: a `claude mcp add` command line.
    ClaudeCode,
    /// Cursor: `~/.cursor/mcp.json`.
    Cursor,
    /// VS Code: `.vscode/mcp.json`.
    VsCode,
}

const CLIENT_NAMES: [&str; 4] = ["claude", "claude-code", "cursor", "vscode"];

impl Client {
    /// Parses the `<client>` argument (a few common spellings are accepted).
    pub fn from_name(name: &str) -> Result<Client, ClientConfigError> {
        match name.trim().to_ascii_lowercase().as_str() {
            "claude" | "claude-desktop" | "claude_desktop" => Ok(Client::ClaudeDesktop),
            "claude-code" | "claude_code" | "claudecode" => Ok(Client::ClaudeCode),
            "cursor" => Ok(Client::Cursor),
            "vscode" | "vs-code" | "code" => Ok(Client::VsCode),
            _ => {
                let closest = CLIENT_NAMES
                    .iter()
                    .min_by_key(|candidate| strsim::levenshtein(candidate, name))
                    .copied()
                    .unwrap_or("claude");
                Err(ClientConfigError::UnknownClient {
                    name: name.to_string(),
                    closest,
                })
            }
        }
    }

    pub(super) fn cli_name(self) -> &'static str {
        match self {
            Client::ClaudeDesktop => "claude",
            Client::ClaudeCode => "claude-code",
            Client::Cursor => "cursor",
            Client::VsCode => "vscode",
        }
    }

    /// The object that maps server names to entries: VS Code calls it `servers`.
    pub fn servers_key(self) -> &'static str {
        match self {
            Client::VsCode => "servers",
            _ => "mcpServers",
        }
    }
}

/// The `env` block the flags ask for, checked.
pub fn entry_env(args: &ConfigArgs) -> Result<BTreeMap<String, String>, ClientConfigError> {
    let mut env = BTreeMap::new();
    if let Some(dataset) = args.dataset.as_deref().filter(|d| !d.trim().is_empty()) {
        let spec = datasets::find(dataset.trim())?;
        env.insert(config::M4_DATASET.to_string(), spec.name.to_string());
        if spec.remote() {
            env.extend(args.bigquery.iter().cloned());
        }
    }
    if let Some(dir) = args
        .data_dir
        .as_deref()
        .filter(|d| !d.as_os_str().is_empty())
    {
        env.insert(
            config::M4_DATA_DIR.to_string(),
            absolute(dir)?.to_string_lossy().into_owned(),
        );
    }

    let oauth_flags: [(&'static str, &Option<String>); 6] = [
        ("--oauth2-issuer", &args.oauth2_issuer),
        ("--oauth2-audience", &args.oauth2_audience),
        ("--oauth2-scopes", &args.oauth2_scopes),
        ("--oauth2-jwks-url", &args.oauth2_jwks_url),
        ("--oauth2-client-id", &args.oauth2_client_id),
        ("--oauth2-token", &args.oauth2_token),
    ];
    if !args.enable_oauth2 {
        if let Some((flag, _)) = oauth_flags.iter().find(|(_, v)| v.is_some()) {
            return Err(ClientConfigError::OAuthFlagWithoutEnable { flag });
        }
        return Ok(env);
    }

    let issuer = non_empty(&args.oauth2_issuer).ok_or(ClientConfigError::MissingOAuthFlag {
        flag: "--oauth2-issuer",
        hint: "pass your identity provider's issuer URL, e.g. `--oauth2-issuer https://your-domain.okta.com/oauth2/default`",
    })?;
    check_url(
        "--oauth2-issuer",
        issuer,
        "use the issuer exactly as your provider's discovery document states it, e.g. `https://your-tenant.auth0.com/`",
    )?;
    let audience = non_empty(&args.oauth2_audience).ok_or(ClientConfigError::MissingOAuthFlag {
        flag: "--oauth2-audience",
        hint: "pass the audience (API identifier) m4's tokens are issued for, e.g. `--oauth2-audience m4-api`",
    })?;
    env.insert(config::M4_OAUTH2_ENABLED.to_string(), "true".to_string());
    env.insert(config::M4_OAUTH2_ISSUER_URL.to_string(), issuer.to_string());
    env.insert(config::M4_OAUTH2_AUDIENCE.to_string(), audience.to_string());
    if let Some(scopes) = non_empty(&args.oauth2_scopes) {
        env.insert(
            config::M4_OAUTH2_REQUIRED_SCOPES.to_string(),
            scopes.to_string(),
        );
    }
    if let Some(jwks) = non_empty(&args.oauth2_jwks_url) {
        check_url(
            "--oauth2-jwks-url",
            jwks,
            "pass the `jwks_uri` from your provider's discovery document, or drop the flag to discover it",
        )?;
        env.insert(config::M4_OAUTH2_JWKS_URL.to_string(), jwks.to_string());
    }
    if let Some(client_id) = non_empty(&args.oauth2_client_id) {
        env.insert(
            config::M4_OAUTH2_CLIENT_ID.to_string(),
            client_id.to_string(),
        );
    }
    if let Some(token) = non_empty(&args.oauth2_token) {
        env.insert(config::M4_OAUTH2_TOKEN.to_string(), token.to_string());
    }
    Ok(env)
}

fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn check_url(flag: &'static str, value: &str, hint: &'static str) -> Result<(), ClientConfigError> {
    match url::Url::parse(value) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Ok(()),
        _ => Err(ClientConfigError::InvalidUrl {
            flag,
            value: value.to_string(),
            hint,
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn args() -> ConfigArgs {
        ConfigArgs {
            client: "claude".into(),
            print: false,
            name: "m4".into(),
            config_file: None,
            enable_oauth2: false,
            oauth2_issuer: None,
            oauth2_audience: None,
            oauth2_scopes: None,
            oauth2_jwks_url: None,
            oauth2_client_id: None,
            oauth2_token: None,
            http: None,
            dataset: None,
            data_dir: None,
            bigquery: Vec::new(),
        }
    }

    #[test]
    fn oauth2_flags_become_m4_variables() {
        let mut a = args();
        a.enable_oauth2 = true;
        a.oauth2_issuer = Some("https://example.okta.com/oauth2/default".into());
        a.oauth2_audience = Some("m4-api".into());
        a.oauth2_scopes = Some("read:mimic-data".into());
        a.oauth2_jwks_url = Some("https://example.okta.com/oauth2/default/v1/keys".into());
        let env = entry_env(&a).unwrap();
        assert_eq!(env[config::M4_OAUTH2_ENABLED], "true");
        assert_eq!(
            env[config::M4_OAUTH2_ISSUER_URL],
            "https://example.okta.com/oauth2/default"
        );
        assert_eq!(env[config::M4_OAUTH2_AUDIENCE], "m4-api");
        assert_eq!(env[config::M4_OAUTH2_REQUIRED_SCOPES], "read:mimic-data");
        assert!(env.contains_key(config::M4_OAUTH2_JWKS_URL));
        assert!(!env.contains_key(config::M4_OAUTH2_TOKEN));
    }

    #[test]
    fn oauth2_without_issuer_or_audience_names_the_missing_flag() {
        let mut a = args();
        a.enable_oauth2 = true;
        a.oauth2_audience = Some("m4-api".into());
        let err = entry_env(&a).unwrap_err().to_string();
        assert!(err.contains("`--oauth2-issuer`"), "{err}");
        a.oauth2_audience = None;
        a.oauth2_issuer = Some("https://issuer.example".into());
        let err = entry_env(&a).unwrap_err().to_string();
        assert!(err.contains("`--oauth2-audience`"), "{err}");
    }

    #[test]
    fn oauth2_flag_without_enable_is_an_error() {
        let mut a = args();
        a.oauth2_token = Some("eyJ...".into());
        let err = entry_env(&a).unwrap_err().to_string();
        assert!(
            err.contains("`--oauth2-token`") && err.contains("--enable-oauth2"),
            "{err}"
        );
    }

    #[test]
    fn issuer_must_be_an_http_url() {
        let mut a = args();
        a.enable_oauth2 = true;
        a.oauth2_issuer = Some("example.okta.com".into());
        a.oauth2_audience = Some("m4-api".into());
        let err = entry_env(&a).unwrap_err().to_string();
        assert!(err.contains("`example.okta.com`"), "{err}");
    }

    #[test]
    fn unknown_dataset_is_rejected_and_relative_data_dir_made_absolute() {
        let mut a = args();
        a.dataset = Some("mimic-v".into());
        assert!(entry_env(&a).is_err());
        a.dataset = Some("synthetic".into());
        a.data_dir = Some(PathBuf::from("some/relative/dir"));
        let env = entry_env(&a).unwrap();
        assert_eq!(env[config::M4_DATASET], "synthetic");
        assert!(Path::new(&env[config::M4_DATA_DIR]).is_absolute());
    }

    #[test]
    fn client_names_parse_and_typos_get_a_suggestion() {
        assert_eq!(Client::from_name("claude").unwrap(), Client::ClaudeDesktop);
        assert_eq!(Client::from_name("VSCode").unwrap(), Client::VsCode);
        let err = Client::from_name("cursr").unwrap_err().to_string();
        assert!(err.contains("did you mean `cursor`"), "{err}");
    }
}
