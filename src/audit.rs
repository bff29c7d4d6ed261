//! The append-only audit log: one JSON line per deleted service (the row as it was, who ran
//! what, when), written inside the deleting transaction before it commits, so that every
//! committed deletion is on record. Undo will be built on it.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::{Value, json};

/// Where the audit log goes unless `--audit-log` says otherwise.
pub const DEFAULT_AUDIT_LOG: &str = "/var/log/svcctl/audit.jsonl";

/// Who ran the deletion, recorded on every line.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user: String,
    pub hostname: String,
    pub command: Vec<String>,
    /// The database, as a masked URL.
    pub database: String,
}

impl Actor {
    pub fn current(database: String) -> Actor {
        let uid = nix::unistd::Uid::current();
        let user = nix::unistd::User::from_uid(uid)
            .ok()
            .flatten()
            .map(|u| u.name)
            .unwrap_or_else(|| format!("uid {uid}"));
        Actor {
            user,
            hostname: nix::unistd::gethostname()
                .ok()
                .and_then(|h| h.into_string().ok())
                .unwrap_or_default(),
            command: std::env::args().collect(),
            database,
        }
    }
}

/// An open audit log, or the decision (already warned about) to go without one.
pub struct AuditLog {
    file: Option<(PathBuf, File)>,
}

impl AuditLog {
    /// Opens `explicit` (which must work: a bad `--audit-log` is a usage error), or the default
    /// path when it can be written, else warns once and goes without.
    pub fn open(explicit: Option<&Path>) -> Result<AuditLog> {
        let open = |p: &Path| -> std::io::Result<File> {
            if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            OpenOptions::new().create(true).append(true).open(p)
        };
        match explicit {
            Some(p) => {
                let f = open(p).map_err(|e| {
                    crate::error::Failure::Usage(format!(
                        "cannot open --audit-log {}: {e}; give a writable path",
                        p.display()
                    ))
                })?;
                Ok(AuditLog {
                    file: Some((p.to_path_buf(), f)),
                })
            }
            None => {
                let p = Path::new(DEFAULT_AUDIT_LOG);
                match open(p) {
                    Ok(f) => Ok(AuditLog {
                        file: Some((p.to_path_buf(), f)),
                    }),
                    Err(e) => {
                        eprintln!(
                            "svcctl: warning: cannot write the audit log {} ({e}); no record \
                             of this deletion will be kept; pass --audit-log PATH to keep one",
                            p.display()
                        );
                        Ok(AuditLog { file: None })
                    }
                }
            }
        }
    }

    pub fn path(&self) -> Option<&Path> {
        self.file.as_ref().map(|(p, _)| p.as_path())
    }

    /// Appends lines and syncs them to disk. A failure is an error: the caller must not
    /// report (or commit) a deletion that is not on record.
    pub fn append(&mut self, lines: &[Value]) -> Result<()> {
        let Some((path, file)) = self.file.as_mut() else {
            return Ok(());
        };
        let mut buf = Vec::new();
        for line in lines {
            serde_json::to_writer(&mut buf, line)?;
            buf.push(b'\n');
        }
        file.write_all(&buf)
            .and_then(|_| file.sync_data())
            .with_context(|| format!("writing the audit log {}", path.display()))
    }
}

/// The audit line for one deleted service.
pub fn deleted_line(
    actor: &Actor,
    txn: &str,
    at: &str,
    row: Value,
    overridden: &[String],
) -> Value {
    json!({
        "event": "service_soft_deleted",
        "time": at,
        "txn": txn,
        "user": actor.user,
        "hostname": actor.hostname,
        "command": actor.command,
        "database": actor.database,
        "service": row,
        "forced_over": overridden,
    })
}

/// The audit line saying a transaction already logged did not commit after all.
pub fn rolled_back_line(actor: &Actor, txn: &str, at: &str, error: &str) -> Value {
    json!({
        "event": "rolled_back",
        "time": at,
        "txn": txn,
        "user": actor.user,
        "hostname": actor.hostname,
        "error": error,
    })
}
