//! Exit codes and the error type every subcommand returns.

use std::fmt;
use std::process::ExitCode;

/// Why a command stopped; each maps to one documented exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The thing checked is not valid (bad attestation, broken chain, mismatches).
    CheckFailed = 1,
    Usage = 2,
    BadInput = 3,
    Runtime = 4,
}

#[derive(Debug)]
pub struct CliError {
    pub kind: Kind,
    pub message: String,
}

impl CliError {
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
    pub fn bad_input(message: impl Into<String>) -> Self {
        Self::new(Kind::BadInput, message)
    }
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(Kind::Usage, message)
    }
    pub fn runtime(message: impl Into<String>) -> Self {
        Self::new(Kind::Runtime, message)
    }
    pub fn check_failed(message: impl Into<String>) -> Self {
        Self::new(Kind::CheckFailed, message)
    }
    /// An I/O failure of the command's own streams or files.
    pub fn io(e: std::io::Error) -> Self {
        Self::runtime(format!("I/O error: {e}"))
    }

    /// Print the message on stderr and give the exit code.
    pub fn report(&self) -> ExitCode {
        eprintln!("proctor: error: {}", self.message);
        ExitCode::from(self.kind as u8)
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

pub type CliResult = Result<ExitCode, CliError>;

/// How a write of the command's output ends. Rust ignores SIGPIPE, so a reader that went
/// away (`proctor … | head`) is an `EPIPE` error here: that one is not a failure (there is
/// simply nobody left to tell), so the command goes on to its own exit code (a failed check
/// still exits 1) without a word; any other write error is a runtime error.
pub trait Written {
    fn written(self) -> Result<(), CliError>;
}

impl Written for std::io::Result<()> {
    fn written(self) -> Result<(), CliError> {
        match self {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            r => r.map_err(|e| CliError::runtime(format!("cannot write output: {e}"))),
        }
    }
}

/// `println!` that returns [`Written::written`] instead of panicking when stdout cannot be
/// written, e.g. `proctor keys list | head -0`.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        $crate::exit::Written::written(writeln!(std::io::stdout().lock(), $($arg)*))
    }};
}
pub(crate) use outln;
