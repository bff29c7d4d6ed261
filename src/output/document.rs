//! The parts every writing command's `-f json|yaml` document is made of, defined once (the
//! README's "JSON contract" documents them): the service row, which has exactly the keys of
//! `service list -f json --include-deleted` wherever it appears; the extras a row may carry
//! (`overridden`, `reasons`), each named here; and the cluster row. Each operation's module
//! builds its document from these, under the one rule for its lists: in a dry run the rows
//! that would change are in `would_<verb>` and `<verb>ed` is `[]`; after a write `<verb>ed`
//! holds them and `would_<verb>` is `[]`; both keys always, and `_clusters` appended for the
//! clusters' lists.

use serde::{Serialize, Serializer};

use super::columns::{Cell, Column, ServiceJson};
use crate::audit::{ClusterRecord, ServiceRecord};
use crate::db::clusters::ClusterRow;
use crate::model::Service;

/// A service as a document's row: every column of `service list -f json --include-deleted`,
/// in its order (and `invalid`, as there, on a row holding a value not of its column's type).
pub(crate) fn service(service: &Service) -> ServiceJson<'_> {
    ServiceJson {
        service,
        cols: Column::ALL,
    }
}

/// A service row from an audit record (`service restore`): the same keys, with the values the
/// deletion recorded (the row as it was, which is what the restore puts back: `updated_at` is
/// the stored heartbeat). A record written before svcctl kept `modified_at` has it null. What
/// the record holds besides (`topic`, `report_count`, `overridden`) stays in the audit log. The
/// record is untrusted text: JSON's own escaping carries it exactly, as for any stored value.
pub(crate) struct RecordJson<'a>(pub &'a ServiceRecord);

impl Serialize for RecordJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        fn text(v: &Option<String>) -> Cell<'_> {
            v.as_deref().map_or(Cell::Null, Cell::Text)
        }
        let r = self.0;
        let mut map = s.serialize_map(Some(Column::ALL.len()))?;
        for c in Column::ALL {
            // Exhaustive: a new column of `service list` must be given its recorded value here.
            let value = match c {
                Column::Id => Cell::Int(r.id),
                Column::Uuid => text(&r.uuid),
                Column::Binary => text(&r.binary),
                Column::Host => text(&r.host),
                Column::Zone => text(&r.zone),
                Column::Status => text(&r.status),
                Column::State => text(&r.state),
                Column::UpdatedAt => text(&r.updated_at),
                Column::ModifiedAt => text(&r.modified_at),
                Column::CreatedAt => text(&r.created_at),
                Column::DisabledReason => text(&r.disabled_reason),
                Column::Cluster => text(&r.cluster_name),
                Column::ReplicationStatus => text(&r.replication_status),
                Column::ActiveBackendId => text(&r.active_backend_id),
                Column::Frozen => r.frozen.map_or(Cell::Null, Cell::Bool),
                Column::Deleted => Cell::Bool(r.deleted.unwrap_or(false)),
                Column::DeletedAt => text(&r.deleted_at),
            };
            map.serialize_entry(c.key(), &value)?;
        }
        map.end()
    }
}

/// A row with one extra: the row's keys, then the extra's.
#[derive(Serialize)]
pub(crate) struct With<R: Serialize, X: Serialize> {
    #[serde(flatten)]
    pub row: R,
    #[serde(flatten)]
    pub extra: X,
}

/// The extra of a row deleted (or to be deleted): what `--force` overrode, in words (`[]`
/// without `--force`).
#[derive(Serialize)]
pub(crate) struct Overridden {
    pub overridden: Vec<String>,
}

/// The extra of a row refused or skipped: why, each reason `{"kind", "text", ...}`.
#[derive(Serialize)]
pub(crate) struct Reasons<T: Serialize> {
    pub reasons: Vec<T>,
}

/// A reason with no evidence beyond its words: `kind` for a script to branch on, `text` for a
/// person.
#[derive(Serialize)]
pub(crate) struct Reason {
    pub kind: &'static str,
    pub text: String,
}

/// A cluster as a document's row, wherever one appears (deleted with its last service,
/// removed, purged, restored, disabled, enabled): `id, name, binary, status, disabled_reason,
/// frozen, replication_status, active_backend_id, created_at, updated_at, deleted,
/// deleted_at`, times as `service list` writes them.
#[derive(Serialize)]
pub(crate) struct ClusterRowJson {
    id: i64,
    name: String,
    binary: String,
    status: Option<String>,
    disabled_reason: Option<String>,
    frozen: Option<bool>,
    replication_status: Option<String>,
    active_backend_id: Option<String>,
    created_at: Option<String>,
    updated_at: Option<String>,
    deleted: bool,
    deleted_at: Option<String>,
}

impl ClusterRowJson {
    /// A cluster as recorded in the audit log (a restore's), or as read (`ClusterRecord::new`).
    pub fn record(c: &ClusterRecord) -> ClusterRowJson {
        let status = match c.disabled {
            Some(d) => Some(if d { "disabled" } else { "enabled" }.to_string()),
            None => c.status.clone(),
        };
        ClusterRowJson {
            id: c.id,
            name: c.name.clone(),
            binary: c.binary.clone(),
            status,
            disabled_reason: c.disabled_reason.clone(),
            frozen: c.frozen,
            replication_status: c.replication_status.clone(),
            active_backend_id: c.active_backend_id.clone(),
            created_at: c.created_at.clone(),
            updated_at: c.updated_at.clone(),
            deleted: c.deleted.unwrap_or(false),
            deleted_at: c.deleted_at.clone(),
        }
    }

    /// A cluster as read from the database.
    pub fn row(c: &ClusterRow) -> ClusterRowJson {
        ClusterRowJson::record(&ClusterRecord::new(c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ServiceRow;

    /// A restore's row (from the record) and any other document's row (from the database)
    /// have the same keys in the same order: the keys of `service list -f json
    /// --include-deleted`.
    #[test]
    fn a_recorded_row_has_the_keys_of_a_listed_one() {
        let row = ServiceRow::example(7, "node02@lvm", "cinder-volume", None);
        let s = Service::judge(row, crate::plan::plan_now(), 60);
        let keys = |v: serde_json::Value| -> Vec<String> {
            v.as_object().unwrap().keys().cloned().collect()
        };
        let listed = keys(serde_json::to_value(service(&s)).unwrap());
        let record = ServiceRecord::new(&s, Some(vec!["x".into()]));
        let recorded = keys(serde_json::to_value(RecordJson(&record)).unwrap());
        let all: Vec<String> = Column::ALL.iter().map(|c| c.key().to_string()).collect();
        assert_eq!(listed, all);
        assert_eq!(recorded, all);
    }
}
