//! The audit log's record: one JSON line per changed row (the row as it was, what the write
//! set, who ran what, when, on which database), typed for writing and reading back alike.
//!
//! A transaction's lines: first its intents, one per changed row, appended and synced before
//! COMMIT; then one line that ends it: `committed` once the COMMIT was acknowledged (or a
//! read-back found it landed), `rolled_back` when it did not commit, `outcome_unknown` when
//! svcctl could not find out. Intents with no `committed` line are unconfirmed: a reader checks
//! them against the database before it acts on them (`transactions`).
//!
//! A line's keys: `action` (`delete`, `restore`, `purge`, `disable`, `enable`, `move`,
//! `committed`, `rolled_back`, `outcome_unknown`), `event` (`service_soft_deleted`,
//! `cluster_soft_deleted`, `service_restored`, `service_disabled`, `volume_host_moved`, ...,
//! and the three ends, named as their actions), `time` (RFC 3339,
//! UTC), `txn`, `user`, `hostname`, `command`, `database` (an SQLite file by its absolute path,
//! a MySQL URL with its password masked), `db_identity` (what a replay checks: the server's
//! uuid, host, port and schema, or the SQLite file's path and inode), and then `service` (the keys of `service list -f
//! json`, plus `topic`, `report_count` and, for deletions, `overridden`) or `cluster`, `set`
//! (the columns the write set, as stored), `restores` (the deletion a restore undid),
//! `forced_over`, `error`; a disable's `disabled_reason`; a move's `table`, `id`, `old` and `new`
//! (host, service_uuid, cluster_name), which `move-host --undo` reads back.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use super::Actor;
use crate::db::clusters::ClusterRow;
use crate::db::identity::Identity;
use crate::model::Service;

/// One transaction attempt, as the audit log names it: its id and the instant it writes.
#[derive(Debug, Clone)]
pub(crate) struct Stamp {
    pub txn: String,
    pub now: NaiveDateTime,
}

impl Stamp {
    /// The instant as the audit log writes it: RFC 3339, UTC, microseconds.
    pub fn time(&self) -> String {
        crate::timefmt::rfc3339_micros_utc(self.now)
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
    ClusterDisabled,
    ClusterEnabled,
    VolumeHostMoved,
    BackupHostMoved,
    GroupHostMoved,
    ConsistencygroupHostMoved,
    ImageVolumeCacheEntryHostMoved,
    /// The transaction's COMMIT was acknowledged, or a read-back found that it landed: its
    /// intent lines are what the database holds.
    Committed,
    /// The transaction's intent lines were appended but it did not commit (`error` says why).
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
    Committed,
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
            Event::ServiceDisabled | Event::ClusterDisabled => Action::Disable,
            Event::ServiceEnabled | Event::ClusterEnabled => Action::Enable,
            Event::VolumeHostMoved
            | Event::BackupHostMoved
            | Event::GroupHostMoved
            | Event::ConsistencygroupHostMoved
            | Event::ImageVolumeCacheEntryHostMoved => Action::Move,
            Event::Committed => Action::Committed,
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
    /// Where it was read from: its line in the log (1-based; 0 for a line not read back), so
    /// that a message about a record names it.
    #[serde(skip)]
    pub at: usize,
}

impl Line {
    pub fn new(event: Event, stamp: &Stamp, actor: &Actor, mut detail: Detail) -> Line {
        detail.command = actor.command.clone();
        detail.database = actor.database.clone();
        detail.db_identity = actor.identity.clone();
        Line {
            action: event.action(),
            event,
            time: stamp.time(),
            txn: stamp.txn.clone(),
            user: actor.user.clone(),
            hostname: actor.hostname.clone(),
            detail,
            at: 0,
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
    /// The database as a replay checks it: server and schema, or SQLite file and inode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub db_identity: Option<Identity>,
    /// The service row as it was just before the change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<ServiceRecord>,
    /// The cluster row as it was just before the change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<ClusterRecord>,
    /// What the write set on the row (none for a purge: the row is gone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set: Option<Set>,
    /// The `txn` of the deletion a restore undid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restores: Option<String>,
    /// What `--force` overrode (deletions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forced_over: Option<Vec<String>>,
    /// Why a transaction already logged did not commit (`rolled_back`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What to check when the outcome of a logged transaction is unknown (`outcome_unknown`),
    /// or how a `committed` line was found (a read-back after the COMMIT's answer was lost).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The reason a disable set (`service_disabled`, `cluster_disabled`).
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
pub(crate) struct Set {
    pub deleted: bool,
    pub deleted_at: Option<String>,
    pub updated_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub race_preventer: Option<i64>,
}

/// Where a row sits: its host, and (where the table has them) its service uuid and cluster; a
/// volume's availability zone where the move set it (absent otherwise, and in records written
/// before svcctl set it: an undo then leaves the zone alone).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Placement {
    pub host: Option<String>,
    pub service_uuid: Option<String>,
    pub cluster_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability_zone: Option<String>,
}

/// Times in records as `service list` shows them: `2021-01-12T09:28:10.000000` (written by hand:
/// chrono's `format` was a tenth of a 2,000-row cleanup's instructions).
fn time_text(t: Option<NaiveDateTime>) -> Option<String> {
    t.map(crate::timefmt::text)
}

/// A time from a record: `service list`'s form, a stored form (`2021-01-12 09:28:10[.ffffff]`)
/// or chrono's own (older records).
pub(crate) fn parse_time(s: &str) -> Option<NaiveDateTime> {
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
}

/// A service row in a record, with the keys of `service list -f json --include-deleted`. A key
/// an older record lacks reads as None (serde's rule for `Option`), so old logs still restore.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ServiceRecord {
    pub id: i64,
    pub uuid: Option<String>,
    pub binary: Option<String>,
    pub host: Option<String>,
    pub zone: Option<String>,
    pub status: Option<String>,
    pub state: Option<String>,
    pub updated_at: Option<String>,
    /// As stored (records written before svcctl kept it have none).
    pub modified_at: Option<String>,
    pub created_at: Option<String>,
    pub disabled_reason: Option<String>,
    pub cluster_name: Option<String>,
    pub replication_status: Option<String>,
    pub active_backend_id: Option<String>,
    pub frozen: Option<bool>,
    pub deleted: Option<bool>,
    pub deleted_at: Option<String>,
    pub topic: Option<String>,
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
            modified_at: time_text(r.modified_at),
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

/// A cluster row in a record, with the keys of `cluster list -f json` where they apply, and
/// the state a restore must find unchanged (`disabled`, `disabled_reason`, `frozen`, the
/// replication columns).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ClusterRecord {
    pub id: i64,
    pub name: String,
    pub binary: String,
    pub status: Option<String>,
    /// `disabled` as stored (records written before it was kept have only `status`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
    pub disabled_reason: Option<String>,
    pub updated_at: Option<String>,
    pub created_at: Option<String>,
    pub deleted: Option<bool>,
    pub deleted_at: Option<String>,
    pub race_preventer: Option<i64>,
    pub replication_status: Option<String>,
    pub active_backend_id: Option<String>,
    pub frozen: Option<bool>,
}

impl ClusterRecord {
    /// Disabled, as recorded: `disabled`, or for older records their `status`.
    pub fn is_disabled(&self) -> bool {
        self.disabled
            .unwrap_or(self.status.as_deref() == Some("disabled"))
    }

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
            disabled: c.disabled,
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
