//! The append-only audit log: one JSON line per changed row (the row as it was, who ran what,
//! when), written inside the changing transaction before it commits, so that every committed
//! change is on record. Undo will be built on it.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::NaiveDateTime;
use serde::Serialize;

use crate::model::ServiceRow;

/// Where the audit log goes unless `--audit-log` says otherwise.
pub(crate) const DEFAULT_AUDIT_LOG: &str = "/var/log/svcctl/audit.jsonl";

/// Who ran the change, recorded on every line.
#[derive(Debug, Clone)]
pub(crate) struct Actor {
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
            hostname: crate::sys::hostname().unwrap_or_default(),
            command: std::env::args().collect(),
            database,
        }
    }
}

/// One transaction attempt, as the audit log names it: its id and the instant it writes.
#[derive(Debug, Clone)]
pub(crate) struct Stamp {
    pub txn: String,
    pub now: NaiveDateTime,
}

impl Stamp {
    /// The instant as the audit log writes it: RFC 3339, UTC, microseconds.
    pub fn time(&self) -> String {
        self.now
            .and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
    }
}

/// One audit line: what happened (`event`), when, in which transaction, by whom, and the
/// event's own fields (`detail`, flattened into the same object).
#[derive(Debug, Serialize)]
pub(crate) struct Line<D: Serialize> {
    pub event: &'static str,
    pub time: String,
    pub txn: String,
    pub user: String,
    pub hostname: String,
    #[serde(flatten)]
    pub detail: D,
}

impl<D: Serialize> Line<D> {
    pub fn new(event: &'static str, stamp: &Stamp, actor: &Actor, detail: D) -> Line<D> {
        Line {
            event,
            time: stamp.time(),
            txn: stamp.txn.clone(),
            user: actor.user.clone(),
            hostname: actor.hostname.clone(),
            detail,
        }
    }
}

/// `service_soft_deleted`: the row as it was just before, and what `--force` overrode.
#[derive(Debug, Serialize)]
pub(crate) struct ServiceDeleted {
    pub command: Vec<String>,
    pub database: String,
    pub service: ServiceRow,
    pub forced_over: Vec<String>,
}

/// `service_disabled` / `service_enabled`: the row as it was just before, and the reason
/// now set (None on enable, which clears it).
#[derive(Debug, Serialize)]
pub(crate) struct ServiceToggled {
    pub command: Vec<String>,
    pub database: String,
    pub service: ServiceRow,
    pub disabled_reason: Option<String>,
}

/// `volume_host_moved`, `backup_host_moved`, `group_host_moved`,
/// `consistencygroup_host_moved`: one row moved off a host, with its old and new values, so
/// `--undo TXN` can put it back.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub(crate) struct HostMoved {
    pub command: Vec<String>,
    pub database: String,
    pub table: String,
    pub id: String,
    pub old: Placement,
    pub new: Placement,
}

/// Where a row sits: its host, and (where the table has them) its service uuid and cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub(crate) struct Placement {
    pub host: Option<String>,
    pub service_uuid: Option<String>,
    pub cluster_name: Option<String>,
}

/// The `*_host_moved` lines of transaction `txn` in the audit log at `path`, in order: what
/// `move-host --undo TXN` puts back. Other lines (and lines of other transactions) are skipped.
pub(crate) fn host_moves(path: &Path, txn: &str) -> Result<Vec<HostMoved>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the audit log {}", path.display()))?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let v: serde_json::Value = serde_json::from_str(line)
            .with_context(|| format!("{} line {}: not JSON", path.display(), n + 1))?;
        let is_move = v["event"]
            .as_str()
            .is_some_and(|e| e.ends_with("_host_moved"));
        if is_move && v["txn"] == txn {
            out.push(
                serde_json::from_value(v)
                    .with_context(|| format!("{} line {}", path.display(), n + 1))?,
            );
        }
    }
    Ok(out)
}

/// `rolled_back`: a transaction whose lines were already written did not commit after all.
#[derive(Debug, Serialize)]
pub(crate) struct RolledBack {
    pub error: String,
}

/// An open audit log, or the decision to go without one (`unavailable` says why, for the
/// caller to warn about).
pub(crate) struct AuditLog {
    file: Option<(PathBuf, File)>,
    /// The default log could not be opened: its path and the error.
    pub unavailable: Option<(PathBuf, std::io::Error)>,
}

impl AuditLog {
    /// Opens `explicit` (which must work: a bad `--audit-log` is a usage error), or the default
    /// path when it can be written, else goes without (see `unavailable`).
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
                    unavailable: None,
                })
            }
            None => {
                let p = Path::new(DEFAULT_AUDIT_LOG);
                match open(p) {
                    Ok(f) => Ok(AuditLog {
                        file: Some((p.to_path_buf(), f)),
                        unavailable: None,
                    }),
                    Err(e) => Ok(AuditLog {
                        file: None,
                        unavailable: Some((p.to_path_buf(), e)),
                    }),
                }
            }
        }
    }

    pub fn path(&self) -> Option<&Path> {
        self.file.as_ref().map(|(p, _)| p.as_path())
    }

    /// Appends lines and syncs them to disk. A failure is an error: the caller must not
    /// report (or commit) a change that is not on record.
    pub fn append<D: Serialize>(&mut self, lines: &[Line<D>]) -> Result<()> {
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
