//! Writing m4's entry into MCP clients' configuration files (`m4 config`).
//!
//! CONTRACT used by `cli` (the client-config work fills in the body):
//! [`ConfigArgs`] (clap arguments) and [`run`].

/// Arguments of `m4 config <client>`.
#[derive(Debug, clap::Args)]
pub struct ConfigArgs {
    /// The MCP client to configure.
    pub client: String,
    /// Print the entry instead of writing the client's configuration file.
    #[arg(long)]
    pub print: bool,
}

/// Runs `m4 config`.
pub fn run(args: &ConfigArgs) -> anyhow::Result<()> {
    anyhow::bail!("`m4 config {}` is not implemented yet", args.client)
}
