//! The service as svcctl sees it: one row of Cinder's `services` table, and Cinder's verdict
//! on whether it is up. Below both the decisions (`plan`) and the display (`output`), so the
//! two can never disagree about a service.

use chrono::{Duration, NaiveDateTime};
use serde::Serialize;

/// One row of `services`, with the columns an old schema lacks as None (read as NULL).
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub(crate) struct ServiceRow {
    pub id: i64,
    pub uuid: Option<String>,
    pub host: Option<String>,
    pub binary: Option<String>,
    pub topic: Option<String>,
    pub availability_zone: Option<String>,
    pub disabled: Option<bool>,
    pub disabled_reason: Option<String>,
    pub created_at: Option<NaiveDateTime>,
    pub updated_at: Option<NaiveDateTime>,
    pub deleted: Option<bool>,
    pub deleted_at: Option<NaiveDateTime>,
    pub cluster_name: Option<String>,
    pub replication_status: Option<String>,
    pub active_backend_id: Option<String>,
    pub frozen: Option<bool>,
    pub report_count: Option<i64>,
}

impl ServiceRow {
    /// The columns read into a `ServiceRow`, in its field order.
    pub const COLUMNS: &[&str] = &[
        "id",
        "uuid",
        "host",
        "binary",
        "topic",
        "availability_zone",
        "disabled",
        "disabled_reason",
        "created_at",
        "updated_at",
        "deleted",
        "deleted_at",
        "cluster_name",
        "replication_status",
        "active_backend_id",
        "frozen",
        "report_count",
    ];

    /// The last heartbeat: `updated_at`, else `created_at` (as Cinder's `service_is_up`).
    pub fn heartbeat(&self) -> Option<NaiveDateTime> {
        self.updated_at.or(self.created_at)
    }

    pub fn host(&self) -> &str {
        self.host.as_deref().unwrap_or("")
    }

    pub fn binary(&self) -> &str {
        self.binary.as_deref().unwrap_or("")
    }
}

#[cfg(test)]
impl ServiceRow {
    /// A live row for unit tests: `binary` on `host`, last heartbeat `hb`.
    pub fn example(id: i64, host: &str, binary: &str, hb: Option<NaiveDateTime>) -> ServiceRow {
        ServiceRow {
            id,
            uuid: None,
            host: Some(host.into()),
            binary: Some(binary.into()),
            topic: None,
            availability_zone: None,
            disabled: Some(false),
            disabled_reason: None,
            created_at: hb,
            updated_at: hb,
            deleted: Some(false),
            deleted_at: None,
            cluster_name: None,
            replication_status: None,
            active_backend_id: None,
            frozen: None,
            report_count: Some(1),
        }
    }
}

/// Cinder's verdict (`cinder.utils.service_is_up`): up when the last heartbeat is within
/// `service_down_time` seconds of `now`, either way. A row with no timestamp at all is down.
/// The one up/down rule: `service list`, the plan, `--wait` and the write's WHERE clause (its
/// SQL twin, `heartbeat < now - service_down_time`) all follow it.
pub(crate) fn is_up(
    heartbeat: Option<NaiveDateTime>,
    now: NaiveDateTime,
    service_down_time: i64,
) -> bool {
    let Some(hb) = heartbeat else {
        return false;
    };
    match Duration::try_seconds(service_down_time) {
        Some(window) => (now - hb).abs() <= window,
        // A window beyond chrono's range holds every heartbeat.
        None => true,
    }
}

/// A service with the verdict on it at the instant it was read.
#[derive(Debug, Clone)]
pub(crate) struct Service {
    pub row: ServiceRow,
    pub up: bool,
}

impl Service {
    /// A soft-deleted row is never up: its `updated_at` is the moment it was deleted.
    pub fn judge(row: ServiceRow, now: NaiveDateTime, service_down_time: i64) -> Service {
        let up = !row.deleted.unwrap_or(false) && is_up(row.heartbeat(), now, service_down_time);
        Service { row, up }
    }

    /// `up`, `down`, or `deleted` for a soft-deleted row (`--include-deleted`).
    pub fn state(&self) -> &'static str {
        match (self.row.deleted.unwrap_or(false), self.up) {
            (true, _) => "deleted",
            (false, true) => "up",
            (false, false) => "down",
        }
    }

    /// `enabled` or `disabled`, as cinderclient's Status column.
    pub fn status(&self) -> &'static str {
        if self.row.disabled.unwrap_or(false) {
            "disabled"
        } else {
            "enabled"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn up_is_within_the_window_either_way() {
        let now = chrono::Utc::now().naive_utc();
        let s = Duration::seconds;
        assert!(is_up(Some(now - s(60)), now, 60));
        assert!(!is_up(
            Some(now - s(60) - Duration::microseconds(1)),
            now,
            60
        ));
        assert!(is_up(Some(now + s(60)), now, 60));
        assert!(!is_up(Some(now + s(61)), now, 60));
        assert!(!is_up(None, now, 60));
        assert!(is_up(Some(now - s(1_000_000)), now, i64::MAX));
    }
}
