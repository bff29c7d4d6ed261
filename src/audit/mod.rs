//! The append-only audit log, which undo stands on: every writing command records each row it
//! changes, inside the changing transaction and before it commits, so that every committed
//! change is on record, and then how the transaction ended (`record`: the line format; `file`:
//! opening, appending, reading back; `transactions`: what a transaction's lines mean, and the
//! read-back that checks an unconfirmed one against the database). Every writing command needs
//! it, or an explicit `--no-audit`.

mod file;
mod record;
mod replay;
pub(crate) mod transactions;

use std::path::{Path, PathBuf};

use anyhow::Result;

pub(crate) use file::{AuditLog, Log, SkipWhy, Skipped};
pub(crate) use record::{
    Action, ClusterRecord, Detail, Event, Line, Placement, ServiceRecord, Set, Stamp, parse_time,
};
pub(crate) use replay::{belongs, check_origin};

use crate::db::identity::Identity;
use crate::db::url::DbUrl;

/// Where the audit log goes unless `--audit-log` says otherwise.
pub(crate) const DEFAULT_AUDIT_LOG: &str = "/var/log/svcctl/audit.jsonl";

/// The audit flags every writing command takes.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct AuditArgs {
    /// The audit log: one JSON line per changed row, written before the change commits; it must be writable [default: /var/log/svcctl/audit.jsonl]
    #[arg(long, value_name = "PATH", value_parser = crate::limits::audit_log)]
    pub audit_log: Option<PathBuf>,
    /// Change the database without an audit record (and so without service restore)
    #[arg(long, conflicts_with = "audit_log")]
    pub no_audit: bool,
    /// Do not create the log (`service restore`, `--undo`: they act on what it holds).
    #[arg(skip)]
    pub must_exist: bool,
}

impl AuditArgs {
    /// The audit log's path: `--audit-log`, else the default.
    pub fn path(&self) -> PathBuf {
        self.audit_log.clone().unwrap_or_else(default_log)
    }

    /// Opens the audit log before anything changes: a log that cannot be appended to stops
    /// the command (exit 1, naming the path and `--audit-log`), one whose place is unsafe (a
    /// link, a FIFO, a device, a directory others can write) too (exit 2). A dry run needs
    /// none; `--no-audit` goes without.
    pub fn open(&self, dry_run: bool) -> Result<AuditLog> {
        if dry_run || self.no_audit {
            return Ok(AuditLog::none());
        }
        let path = self.path();
        AuditLog::open(
            &path,
            file::Open {
                default: path == default_log(),
                must_exist: self.must_exist,
            },
        )
    }

    /// Reads the audit log back (see `read`).
    pub fn read(&self) -> Result<Log> {
        read(&self.path())
    }
}

/// Reads the audit log at `path` back, with the checks `AuditArgs::open` makes (the default
/// log's directories too); a log that does not exist reads as empty (`Log::missing`) and is
/// not created.
pub(crate) fn read(path: &Path) -> Result<Log> {
    file::read(path, path == default_log())
}

/// `DEFAULT_AUDIT_LOG` (a test may move it: `seams::default_audit_log`).
pub(crate) fn default_log() -> PathBuf {
    crate::seams::default_audit_log(DEFAULT_AUDIT_LOG)
}

/// Who ran the change, recorded on every line.
#[derive(Debug, Clone)]
pub(crate) struct Actor {
    pub user: String,
    pub hostname: String,
    pub command: Vec<String>,
    /// The database, as `database_name` names it.
    pub database: String,
    /// The database, as a replay checks it (`db::identity`).
    pub identity: Option<Identity>,
}

impl Actor {
    pub fn current(database: String, identity: Option<Identity>) -> Actor {
        let uid = nix::unistd::Uid::current();
        let user = nix::unistd::User::from_uid(uid)
            .ok()
            .flatten()
            .map(|u| u.name)
            .unwrap_or_else(|| format!("uid {uid}"));
        Actor {
            user,
            hostname: crate::sys::hostname().unwrap_or_default(),
            command: std::env::args().collect(),
            database,
            identity,
        }
    }
}

/// The database as every record names it, the same from any working directory: an SQLite file
/// by its absolute path (`sqlite:////abs/path`), a MySQL URL as `secret::mask` writes it.
pub(crate) fn database_name(url: &DbUrl) -> String {
    match url {
        DbUrl::Sqlite { path: Some(p), .. } => {
            let abs = std::path::absolute(p).unwrap_or_else(|_| p.clone());
            format!("sqlite:///{}", abs.display())
        }
        DbUrl::Sqlite { path: None, .. } => "sqlite://".into(),
        // DbUrl's text is `secret::mask` of the configured URL.
        DbUrl::MySql { .. } => url.to_string(),
    }
}
