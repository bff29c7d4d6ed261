//! The append-only audit log, which undo stands on: one JSON line per changed row (the row as it
//! was, what the write set, who ran what, when, on which database), written inside the changing
//! transaction before it commits, so that every committed change is on record; and read back,
//! typed, by `service restore`. Every writing command needs it (or an explicit `--no-audit`).
//!
//! A line's keys: `action` (`delete`, `restore`, `purge`, `disable`, `enable`, `move`,
//! `rolled_back`), `event` (`service_soft_deleted`, `cluster_soft_deleted`, `service_restored`,
//! `service_disabled`, `volume_host_moved`, ...), `time` (RFC 3339,
//! UTC), `txn`, `user`, `hostname`, `command`, `database` (an SQLite file by its absolute path,
//! a MySQL URL with its password masked), and then `service` (the keys of `service list -f
//! json`, plus `topic`, `report_count` and, for deletions, `overridden`) or `cluster`, `set`
//! (the columns the write set, as stored), `restores` (the deletion a restore undid),
//! `forced_over`, `error`; a disable's `disabled_reason`; a move's `table`, `id`, `old` and `new`
//! (host, service_uuid, cluster_name), which `move-host --undo` reads back.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use crate::db::clusters::ClusterRow;
use crate::db::url::DbUrl;
use crate::model::Service;

/// Where the audit log goes unless `--audit-log` says otherwise.
pub(crate) const DEFAULT_AUDIT_LOG: &str = "/var/log/svcctl/audit.jsonl";
/// Modes of what svcctl creates for the log: the records hold hostnames and command lines.
const DIR_MODE: u32 = 0o750;
const FILE_MODE: u32 = 0o640;

/// Who ran the change, recorded on every line.
#[derive(Debug, Clone)]
pub(crate) struct Actor {
    pub user: String,
    pub hostname: String,
    pub command: Vec<String>,
    /// The database, as `database_name` names it.
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

/// What a line records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Event {
    ServiceSoftDeleted,
    ClusterSoftDeleted,
    ServiceRestored,
    ClusterRestored,
    ServicePurged,
    ClusterPurged,
    ServiceDisabled,
    ServiceEnabled,
    VolumeHostMoved,
    BackupHostMoved,
    GroupHostMoved,
    ConsistencygroupHostMoved,
    RolledBack,
    /// The connection was lost after a logged transaction's COMMIT was sent and svcctl could
    /// not find out whether it committed (`note` says what to check): its lines may or may
    /// not be in the database.
    OutcomeUnknown,
    /// A line of a kind this svcctl does not know (a newer release's): kept, never acted on.
    #[serde(other)]
    Other,
}

/// The kind of change a line belongs to: what `service restore` and people grep for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Action {
    Delete,
    Restore,
    Purge,
    Disable,
    Enable,
    Move,
    RolledBack,
    OutcomeUnknown,
    /// Lines written before `action` existed, or of a kind this svcctl does not know.
    #[default]
    #[serde(other)]
    Other,
}

impl Event {
    pub fn action(self) -> Action {
        match self {
            Event::ServiceSoftDeleted | Event::ClusterSoftDeleted => Action::Delete,
            Event::ServiceRestored | Event::ClusterRestored => Action::Restore,
            Event::ServicePurged | Event::ClusterPurged => Action::Purge,
            Event::ServiceDisabled => Action::Disable,
            Event::ServiceEnabled => Action::Enable,
            Event::VolumeHostMoved
            | Event::BackupHostMoved
            | Event::GroupHostMoved
            | Event::ConsistencygroupHostMoved => Action::Move,
            Event::RolledBack => Action::RolledBack,
            Event::OutcomeUnknown => Action::OutcomeUnknown,
            Event::Other => Action::Other,
        }
    }
}

/// One audit line: what happened, when, in which transaction, by whom, and the event's own
/// fields (`detail`, flattened into the same object). Written and read back as this one type.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Line {
    #[serde(default)]
    pub action: Action,
    pub event: Event,
    pub time: String,
    pub txn: String,
    pub user: String,
    pub hostname: String,
    #[serde(flatten)]
    pub detail: Detail,
}

impl Line {
    pub fn new(event: Event, stamp: &Stamp, actor: &Actor, mut detail: Detail) -> Line {
        detail.command = actor.command.clone();
        detail.database = actor.database.clone();
        Line {
            action: event.action(),
            event,
            time: stamp.time(),
            txn: stamp.txn.clone(),
            user: actor.user.clone(),
            hostname: actor.hostname.clone(),
            detail,
        }
    }
}

/// The fields that depend on the event; absent ones are left out of the line.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Detail {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub database: String,
    /// The service row as it was just before the change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<ServiceRecord>,
    /// The cluster row as it was just before the change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<ClusterRecord>,
    /// What the write set on the row (none for a purge: the row is gone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set: Option<Written>,
    /// The `txn` of the deletion a restore undid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restores: Option<String>,
    /// What `--force` overrode (deletions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forced_over: Option<Vec<String>>,
    /// Why a transaction already logged did not commit (`rolled_back`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What to check when the outcome of a logged transaction is unknown (`outcome_unknown`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The reason a disable set (`service_disabled`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_reason: Option<String>,
    /// The table of a row moved (`*_host_moved`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    /// The id of a row moved (text: volumes and backups have uuids).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Where a moved row was just before the move.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old: Option<Placement>,
    /// Where the move put it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new: Option<Placement>,
}

/// The columns a write set, with their values as stored (Cinder's timestamp format on that
/// backend), so a restore can tell whether the row is still as svcctl left it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Written {
    pub deleted: bool,
    pub deleted_at: Option<String>,
    pub updated_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub race_preventer: Option<i64>,
}

/// Where a row sits: its host, and (where the table has them) its service uuid and cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Placement {
    pub host: Option<String>,
    pub service_uuid: Option<String>,
    pub cluster_name: Option<String>,
}

/// Times in records as `service list` shows them: `2021-01-12T09:28:10.000000`.
fn time_text(t: Option<NaiveDateTime>) -> Option<String> {
    t.map(|t| t.format("%Y-%m-%dT%H:%M:%S%.6f").to_string())
}

/// A time from a record: `service list`'s form, a stored form (`2021-01-12 09:28:10[.ffffff]`)
/// or chrono's own (older records).
pub(crate) fn parse_time(s: &str) -> Option<NaiveDateTime> {
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
}

/// A service row in a record, with the keys of `service list -f json --include-deleted`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ServiceRecord {
    pub id: i64,
    #[serde(default)]
    pub uuid: Option<String>,
    #[serde(default)]
    pub binary: Option<String>,
    #[serde(default)]
    pub host: Option<String>,
    #[serde(default)]
    pub zone: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub disabled_reason: Option<String>,
    #[serde(default)]
    pub cluster_name: Option<String>,
    #[serde(default)]
    pub replication_status: Option<String>,
    #[serde(default)]
    pub active_backend_id: Option<String>,
    #[serde(default)]
    pub frozen: Option<bool>,
    #[serde(default)]
    pub deleted: Option<bool>,
    #[serde(default)]
    pub deleted_at: Option<String>,
    #[serde(default)]
    pub topic: Option<String>,
    #[serde(default)]
    pub report_count: Option<i64>,
    /// What `--force` overrode, on deletions (as in `service delete -f json`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overridden: Option<Vec<String>>,
}

impl ServiceRecord {
    pub fn new(s: &Service, overridden: Option<Vec<String>>) -> ServiceRecord {
        let r = &s.row;
        ServiceRecord {
            id: r.id,
            uuid: r.uuid.clone(),
            binary: r.binary.clone(),
            host: r.host.clone(),
            zone: r.availability_zone.clone(),
            status: Some(s.status().to_string()),
            state: Some(s.state().to_string()),
            updated_at: time_text(r.updated_at),
            created_at: time_text(r.created_at),
            disabled_reason: r.disabled_reason.clone(),
            cluster_name: r.cluster_name.clone(),
            replication_status: r.replication_status.clone(),
            active_backend_id: r.active_backend_id.clone(),
            frozen: r.frozen,
            deleted: Some(r.deleted.unwrap_or(false)),
            deleted_at: time_text(r.deleted_at),
            topic: r.topic.clone(),
            report_count: r.report_count,
            overridden,
        }
    }
}

/// A cluster row in a record, with the keys of `cluster list -f json` where they apply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ClusterRecord {
    pub id: i64,
    pub name: String,
    pub binary: String,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub disabled_reason: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub deleted: Option<bool>,
    #[serde(default)]
    pub deleted_at: Option<String>,
    #[serde(default)]
    pub race_preventer: Option<i64>,
    #[serde(default)]
    pub replication_status: Option<String>,
    #[serde(default)]
    pub active_backend_id: Option<String>,
    #[serde(default)]
    pub frozen: Option<bool>,
}

impl ClusterRecord {
    pub fn new(c: &ClusterRow) -> ClusterRecord {
        ClusterRecord {
            id: c.id,
            name: c.name.clone(),
            binary: c.binary.clone(),
            status: Some(
                if c.disabled.unwrap_or(false) {
                    "disabled"
                } else {
                    "enabled"
                }
                .into(),
            ),
            disabled_reason: c.disabled_reason.clone(),
            updated_at: time_text(c.updated_at),
            created_at: time_text(c.created_at),
            deleted: Some(c.deleted.unwrap_or(false)),
            deleted_at: time_text(c.deleted_at),
            race_preventer: c.race_preventer,
            replication_status: c.replication_status.clone(),
            active_backend_id: c.active_backend_id.clone(),
            frozen: c.frozen,
        }
    }
}

/// An open audit log, or the explicit decision (`--no-audit`, or a dry run) to go without.
pub(crate) struct AuditLog {
    file: Option<(PathBuf, File)>,
    /// What `open` created (directories, the log), for the caller to say once.
    pub created: Vec<PathBuf>,
}

impl AuditLog {
    /// No log: `--no-audit`, or a run that writes nothing.
    pub fn none() -> AuditLog {
        AuditLog {
            file: None,
            created: Vec::new(),
        }
    }

    /// Opens `path` for appending, creating what is missing: directories mode 0750, the log
    /// 0640 (`created` lists them). Anything in the way is an error naming the path: nothing
    /// may be changed without a record.
    pub fn open(path: &Path) -> Result<AuditLog> {
        let mut created = Vec::new();
        let opened = (|| -> std::io::Result<File> {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                let missing: Vec<&Path> = dir.ancestors().take_while(|a| !a.exists()).collect();
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(DIR_MODE)
                    .create(dir)?;
                for d in missing.into_iter().rev() {
                    // Exactly 0750, whatever the umask.
                    std::fs::set_permissions(d, std::fs::Permissions::from_mode(DIR_MODE))?;
                    created.push(d.to_path_buf());
                }
            }
            let new = !path.exists();
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .mode(FILE_MODE)
                .open(path)?;
            if new {
                file.set_permissions(std::fs::Permissions::from_mode(FILE_MODE))?;
                created.push(path.to_path_buf());
            }
            Ok(file)
        })();
        let file = opened.map_err(|e| {
            anyhow::anyhow!(
                "cannot write the audit log {} ({e}); nothing was changed; pass --audit-log PATH \
                 naming a file you can write, or --no-audit to change the database without a \
                 record",
                path.display()
            )
        })?;
        Ok(AuditLog {
            file: Some((path.to_path_buf(), file)),
            created,
        })
    }

    pub fn path(&self) -> Option<&Path> {
        self.file.as_ref().map(|(p, _)| p.as_path())
    }

    /// Appends lines and syncs them to disk. A failure is an error: the caller must not
    /// report (or commit) a change that is not on record.
    pub fn append(&mut self, lines: &[Line]) -> Result<()> {
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

/// Every line of the log at `path`, in order (none when it does not exist). A line that is not
/// a whole record (truncated, hand-edited) is an error naming the file and line: svcctl cannot
/// know what it recorded, so it acts on none of it.
pub(crate) fn read(path: &Path) -> Result<Vec<Line>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(anyhow::anyhow!(
                "cannot read the audit log {} ({e}); pass --audit-log PATH naming the log the \
                 deletion was recorded in",
                path.display()
            ));
        }
    };
    let mut lines = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        if raw.trim().is_empty() {
            continue;
        }
        let line: Line = serde_json::from_str(raw).map_err(|e| {
            anyhow::anyhow!(
                "the audit log {} line {} is not a whole svcctl record ({e}); svcctl cannot tell \
                 what it recorded: repair or remove that line (keep a copy) and run again",
                path.display(),
                i + 1
            )
        })?;
        lines.push(line);
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_events_and_old_lines_read_back() {
        let old = r#"{"event":"service_soft_deleted","time":"t","txn":"x","user":"u","hostname":"h","service":{"id":3,"host":"n","updated_at":"2026-01-01T00:00:00"},"forced_over":[]}"#;
        let l: Line = serde_json::from_str(old).unwrap();
        assert_eq!(l.action, Action::Other);
        assert_eq!(l.event, Event::ServiceSoftDeleted);
        assert_eq!(l.detail.service.unwrap().id, 3);
        let new = r#"{"action":"mystery","event":"some_future_event","time":"t","txn":"x","user":"u","hostname":"h"}"#;
        let l: Line = serde_json::from_str(new).unwrap();
        assert_eq!((l.action, l.event), (Action::Other, Event::Other));
        assert_eq!(
            parse_time("2026-01-01T00:00:00.000000"),
            parse_time("2026-01-01 00:00:00")
        );
    }
}
