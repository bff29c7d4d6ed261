//! The service as svcctl sees it: one row of Cinder's `services` table, and Cinder's verdict
//! on whether it is up. Below both the decisions (`plan`) and the display (`output`), so the
//! two can never disagree about a service.

use chrono::{Duration, NaiveDateTime};
use serde::Serialize;

/// One row of `services`, with the columns an old schema lacks as None (read as NULL).
/// Decoded by position in `COLUMNS` (db/services.rs), not by name.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
    /// Stamped by Cinder's `service_update` whenever `disabled` changes (service-disable and
    /// -enable), which leaves `updated_at` as it was.
    pub modified_at: Option<NaiveDateTime>,
    pub cluster_name: Option<String>,
    pub replication_status: Option<String>,
    pub active_backend_id: Option<String>,
    pub frozen: Option<bool>,
    pub report_count: Option<i64>,
    /// The values of this row that could not be read as their column's type (read as None
    /// above): a bad row is one row, shown and named, never the end of a listing.
    #[serde(skip)]
    pub invalid: Vec<Invalid>,
}

/// A value the database holds that its column's type does not allow: a zero date such as
/// `2026-00-15` (MySQL stores one when `sql_mode` lets it), text that is not UTF-8, a word in an
/// SQLite number column. `value` is what is stored, as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Invalid {
    pub column: &'static str,
    pub value: String,
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
        "modified_at",
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
    /// The stored value of `column` when it could not be read (see `invalid`).
    pub fn invalid(&self, column: &str) -> Option<&str> {
        self.invalid
            .iter()
            .find(|i| i.column == column)
            .map(|i| i.value.as_str())
    }

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
            modified_at: None,
            cluster_name: None,
            replication_status: None,
            active_backend_id: None,
            frozen: None,
            report_count: Some(1),
            invalid: Vec::new(),
        }
    }
}

/// Where a heartbeat stands at an instant, by Cinder's rule (`cinder service-list`, in
/// cinder/api/v3/services.py `index`: up when `abs(now - heartbeat) <= service_down_time`).
/// The one rule: `service list`'s State, the plan, `--wait`, and (through `down_before`) the
/// write's WHERE clause all come here, so the four cannot drift.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Heartbeat {
    /// Within `service_down_time` before now.
    Up,
    /// Older than that, or none at all (no `updated_at`, no `created_at`).
    Down,
    /// After now: a clock is off. Cinder calls it up within `service_down_time` and down
    /// beyond; for deleting, whatever wrote it may well be running.
    Ahead { seconds: i64, up: bool },
}

impl Heartbeat {
    pub fn judge(
        heartbeat: Option<NaiveDateTime>,
        now: NaiveDateTime,
        service_down_time: i64,
    ) -> Heartbeat {
        let Some(hb) = heartbeat else {
            return Heartbeat::Down;
        };
        // Ahead by a whole second or more: a plan's now is cut to the second (as MySQL stores
        // heartbeats), so a heartbeat later within the same second (SQLite keeps the fraction)
        // is no clock skew but a service that just reported.
        if hb - now >= Duration::seconds(1) {
            let up = Duration::try_seconds(service_down_time).is_none_or(|w| hb - now <= w);
            return Heartbeat::Ahead {
                seconds: (hb - now).num_seconds(),
                up,
            };
        }
        if hb >= down_before(now, service_down_time) {
            Heartbeat::Up
        } else {
            Heartbeat::Down
        }
    }

    /// Cinder's State: up or down.
    pub fn is_up(self) -> bool {
        matches!(self, Heartbeat::Up | Heartbeat::Ahead { up: true, .. })
    }

    /// For deleting: anything but a heartbeat before `down_before` may still be running.
    pub fn may_be_running(self) -> bool {
        self != Heartbeat::Down
    }
}

/// The instant before which a heartbeat at or before `now` is down: `now - service_down_time`.
/// The write's WHERE clause keeps a row only when its heartbeat is before this (or NULL).
pub(crate) fn down_before(now: NaiveDateTime, service_down_time: i64) -> NaiveDateTime {
    Duration::try_seconds(service_down_time)
        .and_then(|w| now.checked_sub_signed(w))
        // A window beyond chrono's range holds every heartbeat.
        .unwrap_or(NaiveDateTime::MIN)
}

/// Cinder's verdict: up when the last heartbeat is within `service_down_time` seconds of
/// `now`, either way. A row with no timestamp at all is down.
pub(crate) fn is_up(
    heartbeat: Option<NaiveDateTime>,
    now: NaiveDateTime,
    service_down_time: i64,
) -> bool {
    Heartbeat::judge(heartbeat, now, service_down_time).is_up()
}

/// The Updated_at `cinder service-list` shows: `modified_at` instead of `updated_at` when it
/// is set and at least as close to `now` as the heartbeat (cinder/api/v3/services.py
/// `index`), so a service disabled after its last heartbeat shows when it was disabled.
pub(crate) fn shown_updated_at(row: &ServiceRow, now: NaiveDateTime) -> Option<NaiveDateTime> {
    let Some(modified) = row.modified_at else {
        return row.updated_at;
    };
    match row.heartbeat() {
        Some(hb) if (now - hb).abs() < (now - modified).abs() => row.updated_at,
        _ => Some(modified),
    }
}

/// A service with the verdict on it at the instant it was read.
#[derive(Debug, Clone)]
pub(crate) struct Service {
    pub row: ServiceRow,
    pub up: bool,
    /// The Updated_at Cinder shows (see `shown_updated_at`).
    pub updated_at: Option<NaiveDateTime>,
}

impl Service {
    /// A soft-deleted row is never up: its `updated_at` is the moment it was deleted.
    pub fn judge(row: ServiceRow, now: NaiveDateTime, service_down_time: i64) -> Service {
        let up = !row.deleted.unwrap_or(false) && is_up(row.heartbeat(), now, service_down_time);
        let updated_at = shown_updated_at(&row, now);
        Service {
            row,
            up,
            updated_at,
        }
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
        assert_eq!(
            Heartbeat::judge(Some(now + s(90)), now, 60),
            Heartbeat::Ahead {
                seconds: 90,
                up: false
            }
        );
        assert!(Heartbeat::judge(Some(now + s(90)), now, 60).may_be_running());
        // Within the same second as a whole-second now: up, not ahead.
        let just = now + Duration::milliseconds(400);
        assert_eq!(Heartbeat::judge(Some(just), now, 60), Heartbeat::Up);
        assert!(!Heartbeat::judge(Some(now - s(61)), now, 60).may_be_running());
        assert!(!Heartbeat::judge(None, now, 60).may_be_running());
    }

    /// cinder/api/v3/services.py `index`: modified_at wins when at least as close to now.
    #[test]
    fn updated_at_as_cinder_shows_it() {
        let now = chrono::Utc::now().naive_utc();
        let s = Duration::seconds;
        let row = |hb: i64, modified: Option<i64>| ServiceRow {
            modified_at: modified.map(|m| now - s(m)),
            ..ServiceRow::example(1, "h", "cinder-volume", Some(now - s(hb)))
        };
        assert_eq!(shown_updated_at(&row(5, None), now), Some(now - s(5)));
        assert_eq!(shown_updated_at(&row(5, Some(0)), now), Some(now));
        assert_eq!(shown_updated_at(&row(5, Some(5)), now), Some(now - s(5)));
        assert_eq!(shown_updated_at(&row(5, Some(600)), now), Some(now - s(5)));
        assert_eq!(
            shown_updated_at(&row(1800, Some(600)), now),
            Some(now - s(600))
        );
        // A heartbeat from the future is far from now too.
        assert_eq!(
            shown_updated_at(&row(-90, Some(30)), now),
            Some(now - s(30))
        );
    }
}
