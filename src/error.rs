//! The errors a caller must tell apart, and the documented exit code of each.

use thiserror::Error;

/// Exit codes, as documented in the README and `svcctl --help`.
pub mod code {
    pub const OK: i32 = 0;
    /// A runtime or database error (unreachable, access denied, a failed statement).
    pub const RUNTIME: i32 = 1;
    /// A usage or configuration error: bad flag, config file, option or URL.
    pub const USAGE: i32 = 2;
    /// A safety check refused the change; nothing was changed.
    pub const REFUSED: i32 = 3;
    /// Nothing matched: no live service for the hosts or backend given.
    pub const NOTHING_MATCHED: i32 = 4;
    /// A COMMIT was sent and svcctl could not learn whether it landed: the audit log marks the
    /// transaction unconfirmed and the message says how to check it.
    pub const OUTCOME_UNKNOWN: i32 = 5;
    /// Stopped (SIGINT, SIGTERM, `--timeout`) after a transaction had committed: what committed
    /// stands and is confirmed in the audit log; the rest was not done.
    pub const STOPPED_AFTER_COMMIT: i32 = 6;
    /// Interrupted by SIGINT (128 + 2); nothing was changed.
    pub const INTERRUPTED: i32 = 130;
    /// Terminated by SIGTERM (128 + 15); nothing was changed.
    pub const TERMINATED: i32 = 143;
}

/// A failure with a documented exit code. Everything else is a runtime error (exit 1).
#[derive(Debug, Error)]
pub enum Failure {
    /// Bad command-line use, e.g. a delete without `--yes` and no terminal to ask at.
    #[error("{0}")]
    Usage(String),
    /// A bad config file, option value or connection URL.
    #[error("{0}")]
    Config(String),
    /// A safety check refused; the database is unchanged.
    #[error("{0}")]
    Refused(String),
    /// No live service matched.
    #[error("{0}")]
    NothingMatched(String),
    /// Stopped by SIGINT, SIGTERM or `--timeout`: the message says what, and what was changed;
    /// the code is `interrupt::conclude`'s (130, 143, 1 or 6).
    #[error("{message}")]
    Stopped { message: String, code: i32 },
    /// A COMMIT's outcome is unknown (exit 5); the message says what to check.
    #[error("{0}")]
    OutcomeUnknown(String),
}

impl Failure {
    pub fn exit_code(&self) -> i32 {
        match self {
            Failure::Usage(_) | Failure::Config(_) => code::USAGE,
            Failure::Refused(_) => code::REFUSED,
            Failure::NothingMatched(_) => code::NOTHING_MATCHED,
            Failure::Stopped { code, .. } => *code,
            Failure::OutcomeUnknown(_) => code::OUTCOME_UNKNOWN,
        }
    }
}

/// The exit code for an error: the first `Failure` in its chain decides, else 1.
pub fn exit_code(err: &anyhow::Error) -> i32 {
    err.chain()
        .find_map(|e| e.downcast_ref::<Failure>())
        .map_or(code::RUNTIME, Failure::exit_code)
}

/// Why a file or stream could not be read or written, in a message's words.
pub fn io_reason(e: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::NotFound => "no such file or directory".into(),
        K::PermissionDenied => "permission denied".into(),
        K::IsADirectory => "it is a directory".into(),
        K::StorageFull => "no space left on device".into(),
        K::QuotaExceeded => "disk quota exceeded".into(),
        K::InvalidData => "not valid UTF-8".into(),
        _ => crate::text::one_line(&e.to_string(), crate::text::QUOTE_MAX),
    }
}
