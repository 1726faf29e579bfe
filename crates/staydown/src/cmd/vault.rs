//! `staydown vault keygen`: a fresh AES-256 key line for `[vault] key_file` (staydown-vault).

use std::io::Write as _;

#[derive(Debug, clap::Args)]
pub struct VaultArgs {
    #[command(subcommand)]
    pub command: VaultCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum VaultCommand {
    /// Print a new key as one `ID BASE64` line. Put it first in the key file to seal with it; keep
    /// older lines so that what they sealed still opens.
    Keygen {
        /// Key id (letters, digits, `-`, `_`); default: today's date, e.g. `2026-11-30`.
        #[arg(long)]
        id: Option<String>,
    },
}

pub fn run(args: &VaultArgs) -> anyhow::Result<std::process::ExitCode> {
    match &args.command {
        VaultCommand::Keygen { id } => {
            let id = id.clone().unwrap_or_else(|| time::OffsetDateTime::now_utc().date().to_string());
            let line = format!("{id} {}", staydown_vault::generate_key_base64());
            // Validate the id the same way the key file loader will.
            staydown_vault::Keyring::parse(&line).map_err(|e| anyhow::anyhow!("{e}"))?;
            writeln!(std::io::stdout(), "{line}")?;
            Ok(std::process::ExitCode::SUCCESS)
        }
    }
}

/// The demo's key file: `demo-vault.keys` beside the SQLite database (or in `data/`), made on first
/// use with owner-only permissions, so `serve --demo` can store attached content out of the box.
pub fn demo_keyring(database: &str) -> anyhow::Result<staydown_vault::Keyring> {
    use anyhow::Context as _;
    let folder = database
        .strip_prefix("sqlite://")
        .or_else(|| database.strip_prefix("sqlite:"))
        .and_then(|p| std::path::Path::new(p.split('?').next().unwrap_or(p)).parent().map(std::path::Path::to_path_buf))
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| std::path::PathBuf::from("data"));
    std::fs::create_dir_all(&folder).with_context(|| format!("creating {}", folder.display()))?;
    let path = folder.join("demo-vault.keys");
    if !path.exists() {
        let line = format!("demo {}\n", staydown_vault::generate_key_base64());
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        options
            .open(&path)
            .and_then(|mut f| f.write_all(line.as_bytes()))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    staydown_vault::Keyring::from_file(&path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}
