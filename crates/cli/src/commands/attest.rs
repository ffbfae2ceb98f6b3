//! `proctor attest hash|sign|verify DIR`: the canonical package hash, signing a package with
//! a namespace key, and verifying it against the trust store.

use crate::commands::keys::{cli_error, parse_namespace, ConfigArgs};
use crate::exit::{outln, CliError, CliResult};
use attest::{
    package_hash_with, sign_package, verify_package, AttestError, BuildSource, HashOptions,
    PackageDigest, Progress, SignRequest, VerifyOptions,
};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::OnceLock;

/// Trees smaller than this hash in well under a second: no progress bar.
const PROGRESS_MIN_BYTES: u64 = 64 * 1024 * 1024;
/// The reference verifier's default secret variable (SPEC.md §3.3).
const DEFAULT_HMAC_ENV: &str = "WCP_ATTEST_HMAC_KEY";

const VERIFY_HELP: &str = "\
Exit codes:
  0  the package is valid (intact, signed by a trusted key of its namespace)
  1  the package is not valid: the verdict code (ATTEST_*) and what to do are printed
  2  usage error (bad namespace, HMAC secret variable not set)
  3  the trust store file is missing or malformed";

#[derive(clap::Args, Debug)]
pub struct HashArgs {
    /// Hashing threads (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
}

#[derive(clap::Subcommand)]
pub enum Command {
    /// Print the canonical package hash of DIR (docs/attest.md).
    Hash {
        dir: PathBuf,
        /// Print `{"package_hash", "files", "bytes"}` as JSON instead of the bare hash.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        hash: HashArgs,
    },
    /// Write manifest.json and manifest.sig into DIR, signed with the namespace's key.
    Sign {
        dir: PathBuf,
        /// Namespace whose key signs (org.<name> or x.<name>); the worker id must live in it.
        #[arg(long, value_name = "NAMESPACE")]
        key: String,
        #[arg(long)]
        worker_id: String,
        /// Worker species id, e.g. wrk.doc.summarizer.
        #[arg(long)]
        species: String,
        /// Worker version (semver).
        #[arg(long)]
        version: String,
        #[arg(long, value_enum, default_value = "local")]
        build_source: BuildSourceArg,
        /// Also add the reference's HMAC-SHA256 signature, keyed by this environment variable.
        #[arg(long, value_name = "VAR")]
        hmac_secret_env: Option<String>,
        #[command(flatten)]
        hash: HashArgs,
        #[command(flatten)]
        config: ConfigArgs,
    },
    /// Verify DIR's manifest and signature; exit 0 only when valid.
    #[command(after_help = VERIFY_HELP)]
    Verify {
        dir: PathBuf,
        /// Trust store file (default: <config dir>/trust.json).
        #[arg(long, value_name = "FILE")]
        trust: Option<PathBuf>,
        /// Environment variable holding the reference HMAC secret (default: WCP_ATTEST_HMAC_KEY if set).
        #[arg(long, value_name = "VAR")]
        hmac_secret_env: Option<String>,
        /// Require the manifest to be for this worker id.
        #[arg(long)]
        worker_id: Option<String>,
        /// Require the manifest to be for this species.
        #[arg(long)]
        species: Option<String>,
        /// Print the verdict as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        hash: HashArgs,
        #[command(flatten)]
        config: ConfigArgs,
    },
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum BuildSourceArg {
    Local,
    Ci,
    Agent,
}

impl From<BuildSourceArg> for BuildSource {
    fn from(arg: BuildSourceArg) -> Self {
        match arg {
            BuildSourceArg::Local => BuildSource::Local,
            BuildSourceArg::Ci => BuildSource::Ci,
            BuildSourceArg::Agent => BuildSource::Agent,
        }
    }
}

pub fn run(cmd: Command) -> CliResult {
    match cmd {
        Command::Hash { dir, json, hash } => {
            let digest = hash_package(&dir, &hash)?;
            if json {
                let out = serde_json::json!({"package_hash": digest.hash, "files": digest.files, "bytes": digest.bytes});
                outln!("{out}")?;
            } else {
                outln!("{}", digest.hash)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Sign {
            dir,
            key,
            worker_id,
            species,
            version,
            build_source,
            hmac_secret_env,
            hash,
            config,
        } => {
            let namespace = parse_namespace(&key)?;
            // Load the key first: no point hashing a big tree if signing cannot happen.
            let key = config.key_store()?.load(&namespace).map_err(cli_error)?;
            let hmac_secret = hmac_secret_env.as_deref().map(required_env).transpose()?;
            let bar = LazyBar::default();
            let progress = |p: Progress| bar.update(p);
            let request = SignRequest {
                worker_id: &worker_id,
                worker_species_id: &species,
                worker_version: &version,
                build_source: build_source.into(),
                hmac_secret: hmac_secret.as_deref().map(str::as_bytes),
                hash: hash_options(&hash),
                progress: Some(&progress),
                now: chrono::Utc::now(),
            };
            let signed = sign_package(&dir, &key, &request);
            bar.finish();
            let signed = signed.map_err(|e| match e {
                AttestError::InvalidWorkerId { .. } | AttestError::InvalidManifestField { .. } => {
                    CliError::usage(e.to_string())
                }
                other => cli_error(other),
            })?;
            outln!(
                "signed {worker_id} ({species} {version}) with key {} of {namespace}",
                key.key_id()
            )?;
            outln!("package hash: {}", signed.package_hash)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify {
            dir,
            trust,
            hmac_secret_env,
            worker_id,
            species,
            json,
            hash,
            config,
        } => {
            if !dir.is_dir() {
                return Err(CliError::bad_input(format!(
                    "{}: not a directory",
                    dir.display()
                )));
            }
            let (_, trust) = config.load_trust(trust.as_deref())?;
            let secret = match hmac_secret_env.as_deref() {
                Some(var) => Some(required_env(var)?),
                None => std::env::var(DEFAULT_HMAC_ENV)
                    .ok()
                    .filter(|s| !s.is_empty()),
            };
            let bar = LazyBar::default();
            let progress = |p: Progress| bar.update(p);
            let mut options = VerifyOptions::new(&trust);
            options.expected_worker_id = worker_id.as_deref();
            options.expected_species = species.as_deref();
            options.hmac_secret = secret.as_deref().map(str::as_bytes);
            options.hash = hash_options(&hash);
            options.progress = Some(&progress);
            let verdict = verify_package(&dir, &options);
            bar.finish();
            if json {
                outln!(
                    "{}",
                    serde_json::to_string_pretty(&verdict).expect("a verdict serializes")
                )?;
            } else if verdict.valid {
                outln!("VALID: {}", verdict.message)?;
                for (key, value) in &verdict.details {
                    outln!(
                        "  {key}: {}",
                        value
                            .as_str()
                            .map_or_else(|| value.to_string(), str::to_owned)
                    )?;
                }
            } else {
                let code = verdict.code.map_or("", |c| c.as_str());
                outln!("INVALID {code}: {}", verdict.message)?;
            }
            Ok(if verdict.valid {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}

fn hash_options(args: &HashArgs) -> HashOptions<'static> {
    HashOptions {
        threads: args.threads.unwrap_or(0),
        cancel: None,
    }
}

fn hash_package(dir: &Path, args: &HashArgs) -> Result<PackageDigest, CliError> {
    let bar = LazyBar::default();
    let digest = package_hash_with(dir, hash_options(args), Some(&|p| bar.update(p)));
    bar.finish();
    digest.map_err(cli_error)
}

/// The value of an environment variable that must be set and non-empty.
fn required_env(var: &str) -> Result<String, CliError> {
    std::env::var(var)
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            CliError::usage(format!(
                "environment variable {var} is not set (it must hold the HMAC secret)"
            ))
        })
}

/// A progress bar on stderr, created on the first report and only for big trees on a terminal.
#[derive(Default)]
struct LazyBar(OnceLock<Option<ProgressBar>>);

impl LazyBar {
    fn update(&self, progress: Progress) {
        let bar = self.0.get_or_init(|| {
            let show =
                std::io::stderr().is_terminal() && progress.bytes_total >= PROGRESS_MIN_BYTES;
            show.then(|| {
                let bar = ProgressBar::new(progress.bytes_total);
                let style = ProgressStyle::with_template(
                    "hashing {wide_bar} {bytes}/{total_bytes} {binary_bytes_per_sec}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar());
                bar.set_style(style);
                bar
            })
        });
        if let Some(bar) = bar {
            bar.set_position(progress.bytes_done);
        }
    }

    fn finish(&self) {
        if let Some(Some(bar)) = self.0.get() {
            bar.finish_and_clear();
        }
    }
}
