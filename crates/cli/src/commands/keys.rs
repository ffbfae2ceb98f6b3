//! `proctor keys ...`: Ed25519 namespace keys and the local trust store.
//!
//! Private keys live in `<config dir>/keys/<namespace>.pem` (0600) and are never printed;
//! `export` only ever writes the public half.

use crate::exit::{outln, CliError, CliResult};
use attest::trust::TRUST_FILE;
use attest::{AttestError, KeyStore, Namespace, PublicKey, TrustStore};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Where keys and the default trust store live.
#[derive(clap::Args, Debug, Clone)]
pub struct ConfigArgs {
    /// Configuration directory (default: the user's config dir + `proctor`).
    #[arg(long, env = attest::keys::CONFIG_DIR_ENV, value_name = "DIR")]
    pub config_dir: Option<PathBuf>,
}

impl ConfigArgs {
    pub fn dir(&self) -> Result<PathBuf, CliError> {
        attest::keys::config_dir(self.config_dir.as_deref()).map_err(cli_error)
    }

    pub fn key_store(&self) -> Result<KeyStore, CliError> {
        Ok(KeyStore::new(&self.dir()?))
    }

    /// The trust store to check against: `explicit` must exist; the default one may not yet
    /// (then nothing is trusted).
    pub fn load_trust(&self, explicit: Option<&Path>) -> Result<(PathBuf, TrustStore), CliError> {
        match explicit {
            Some(path) => Ok((
                path.to_path_buf(),
                TrustStore::load(path).map_err(cli_error)?,
            )),
            None => self.trust_to_edit(None),
        }
    }

    /// The trust store to change: `explicit` or the default one, created when absent.
    fn trust_to_edit(&self, explicit: Option<&Path>) -> Result<(PathBuf, TrustStore), CliError> {
        let path = match explicit {
            Some(path) => path.to_path_buf(),
            None => self.dir()?.join(TRUST_FILE),
        };
        let trust = TrustStore::load_or_default(&path).map_err(cli_error)?;
        Ok((path, trust))
    }
}

#[derive(clap::Subcommand)]
pub enum Command {
    /// Create the signing key of a namespace (org.<name> or x.<name>) and trust it locally.
    New {
        #[arg(long)]
        namespace: String,
        #[command(flatten)]
        config: ConfigArgs,
    },
    /// List local signing keys (public halves) and the trust store.
    List {
        /// Trust store file (default: <config dir>/trust.json).
        #[arg(long, value_name = "FILE")]
        trust: Option<PathBuf>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        config: ConfigArgs,
    },
    /// Print a namespace's public key as JSON, to hand to verifiers.
    Export {
        #[arg(long)]
        namespace: String,
        /// Export the public key (required: private keys are never exported).
        #[arg(long)]
        public: bool,
        #[command(flatten)]
        config: ConfigArgs,
    },
    /// Trust a public key file written by `proctor keys export --public`.
    Import {
        file: PathBuf,
        /// Trust store file (default: <config dir>/trust.json).
        #[arg(long, value_name = "FILE")]
        trust: Option<PathBuf>,
        #[command(flatten)]
        config: ConfigArgs,
    },
    /// Revoke a signing key or one exact package in the trust store.
    Revoke {
        /// Key id to revoke (as shown by `keys list`).
        #[arg(
            long,
            required_unless_present = "package_hash",
            conflicts_with = "package_hash"
        )]
        key_id: Option<String>,
        /// Package hash to revoke (64 lowercase hex digits).
        #[arg(long)]
        package_hash: Option<String>,
        /// Trust store file (default: <config dir>/trust.json).
        #[arg(long, value_name = "FILE")]
        trust: Option<PathBuf>,
        #[command(flatten)]
        config: ConfigArgs,
    },
}

pub fn run(cmd: Command) -> CliResult {
    match cmd {
        Command::New { namespace, config } => {
            let namespace = parse_namespace(&namespace)?;
            let key = config.key_store()?.create(&namespace).map_err(cli_error)?;
            let (trust_path, mut trust) = config.trust_to_edit(None)?;
            trust.trust(key.public()).map_err(cli_error)?;
            trust.save(&trust_path).map_err(cli_error)?;
            outln!("created key {} for namespace {namespace}", key.key_id())?;
            outln!(
                "private key: {}",
                config.key_store()?.key_path(&namespace).display()
            )?;
            outln!("trusted in:  {}", trust_path.display())?;
        }
        Command::List {
            trust,
            json,
            config,
        } => {
            let local = config.key_store()?.list().map_err(cli_error)?;
            let (trust_path, trust) = config.load_trust(trust.as_deref())?;
            if json {
                let out = serde_json::json!({"local_keys": local, "trust": trust});
                outln!(
                    "{}",
                    serde_json::to_string_pretty(&out).expect("serializable")
                )?;
            } else {
                print_listing(&local, &trust_path, &trust)?;
            }
        }
        Command::Export {
            namespace,
            public,
            config,
        } => {
            if !public {
                return Err(CliError::usage(
                    "only public keys can be exported: pass --public",
                ));
            }
            let namespace = parse_namespace(&namespace)?;
            let key = config.key_store()?.load(&namespace).map_err(cli_error)?;
            // The file text ends with its newline.
            outln!("{}", key.public().to_file_text().trim_end_matches('\n'))?;
        }
        Command::Import {
            file,
            trust,
            config,
        } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| CliError::bad_input(format!("{}: {e}", file.display())))?;
            let key = PublicKey::parse(&text)
                .map_err(|e| CliError::bad_input(format!("{}: {e}", file.display())))?;
            let (trust_path, mut store) = config.trust_to_edit(trust.as_deref())?;
            let added = store.trust(key.clone()).map_err(cli_error)?;
            store.save(&trust_path).map_err(cli_error)?;
            let verb = if added {
                "now trusted"
            } else {
                "was already trusted"
            };
            outln!(
                "key {} for namespace {} {verb} in {}",
                key.key_id,
                key.namespace,
                trust_path.display()
            )?;
        }
        Command::Revoke {
            key_id,
            package_hash,
            trust,
            config,
        } => {
            let (trust_path, mut store) = config.trust_to_edit(trust.as_deref())?;
            let what = match (key_id, package_hash) {
                (Some(id), _) => {
                    store.revoke_key(&id);
                    format!("key {id}")
                }
                (None, Some(hash)) => {
                    store.revoke_package(&hash).map_err(cli_error)?;
                    format!("package {hash}")
                }
                (None, None) => return Err(CliError::usage("pass --key-id or --package-hash")),
            };
            store.save(&trust_path).map_err(cli_error)?;
            outln!("revoked {what} in {}", trust_path.display())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_listing(
    local: &[PublicKey],
    trust_path: &Path,
    trust: &TrustStore,
) -> Result<(), CliError> {
    outln!("local signing keys:")?;
    for key in local {
        outln!("  {}  {}", key.namespace, key.key_id)?;
    }
    outln!("trusted keys ({}):", trust_path.display())?;
    for key in trust.keys() {
        outln!("  {}  {}", key.namespace, key.key_id)?;
    }
    let revoked = trust.revocations();
    for id in &revoked.key_ids {
        outln!("revoked key: {id}")?;
    }
    for hash in &revoked.package_hashes {
        outln!("revoked package: {hash}")?;
    }
    Ok(())
}

pub fn parse_namespace(text: &str) -> Result<Namespace, CliError> {
    Namespace::parse(text).map_err(|e| CliError::usage(e.to_string()))
}

/// Content problems are bad input (exit 3); disk and environment problems are runtime (exit 4).
pub fn cli_error(err: AttestError) -> CliError {
    if err.is_bad_input() {
        CliError::bad_input(err.to_string())
    } else {
        CliError::runtime(err.to_string())
    }
}
