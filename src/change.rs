//! The shared flow of the decommission commands (`service disable`/`enable`, `volume
//! move-host`, `backup move-host`): their flags, and the audit log and actor every write of
//! theirs opens. The deleting commands keep theirs in `apply`.

use std::path::PathBuf;

use anyhow::Result;

use crate::audit::{Actor, AuditLog};
use crate::db::Db;
use crate::output::messages;

/// The flags every decommission command shares.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ChangeFlags {
    /// Show the plan and change nothing; exits with the code the real run would have
    #[arg(long)]
    pub dry_run: bool,
    /// Do not ask for confirmation (needed when there is no terminal)
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Exit 0 instead of 4 when nothing matches, so scripts can re-run
    #[arg(long)]
    pub missing_ok: bool,
    /// Append one JSON line per changed row here [default: /var/log/svcctl/audit.jsonl when writable]
    #[arg(long, value_name = "PATH")]
    pub audit_log: Option<PathBuf>,
    /// Output format
    #[arg(short = 'f', long = "format", value_enum, default_value_t = ChangeFormat::Table)]
    pub format: ChangeFormat,
}

/// A plan and its result: table or JSON only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ChangeFormat {
    /// The plan and the result as tables; notes on stderr
    Table,
    /// One JSON document with the same keys on every path (see the README)
    Json,
}

impl ChangeFlags {
    pub fn json(&self) -> bool {
        self.format == ChangeFormat::Json
    }

    /// Asks `question` unless `--yes` or `--dry-run`; exit 2 with no terminal.
    pub async fn confirm(&self, question: &str) -> Result<()> {
        crate::apply::ask(question, self.yes, self.dry_run).await
    }

    /// Nothing matched: exit 4, or 0 with `--missing-ok` (said on stderr either way). The
    /// caller has printed its JSON document already.
    pub fn nothing_matched(&self, what: String) -> Result<()> {
        crate::apply::missing(self.missing_ok, what)
    }

    /// Opens the audit log (warning when the default cannot be written) and names the actor.
    pub fn open_audit(&self, db: &Db) -> Result<(AuditLog, Actor)> {
        let audit = AuditLog::open(self.audit_log.as_deref())?;
        if let Some((path, err)) = &audit.unavailable {
            messages::audit_unavailable(path, err);
        }
        Ok((audit, Actor::current(db.url.to_string())))
    }
}
