//! Deciding, before anything is written, which services may be deleted and which must be
//! refused, and why. The same rules are enforced again inside the delete's WHERE clause.

use std::collections::HashMap;

use chrono::{Duration, NaiveDateTime, Timelike};

use crate::db::Stmt;
use crate::db::references::RefCounts;
use crate::model::{Service, ServiceRow, is_up};

/// Why a service must not be deleted (without `--force`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reason {
    /// Its heartbeat is recent: the running service would recreate its row within seconds.
    Up {
        seconds_ago: i64,
    },
    /// Up, and on another node: `backend cleanup` can only stop this node's processes.
    UpElsewhere {
        node: String,
        /// This node's name, as svcctl knows it (`[DEFAULT] host`).
        here: String,
        seconds_ago: i64,
    },
    /// Live rows still point at it.
    InUse(RefCounts),
    /// Live rows still sit on the backend being cleaned up, on some node.
    BackendInUse {
        key: String,
        counts: RefCounts,
    },
    /// It changed between the plan and the write (found by the write's WHERE clause).
    CameUp,
    GainedReferences,
}

impl Reason {
    pub fn describe(&self, row: &ServiceRow) -> String {
        match self {
            Reason::Up { seconds_ago } => format!(
                "up (heartbeat {seconds_ago}s ago): stop its cinder process first, or it \
                 recreates its row"
            ),
            Reason::UpElsewhere {
                node,
                here,
                seconds_ago,
            } => format!(
                "up on {node} (heartbeat {seconds_ago}s ago): run svcctl backend cleanup on \
                 {node}, or pass --wait SECS (this node is {here}, from [DEFAULT] host)"
            ),
            Reason::InUse(c) => {
                let mut hint = String::new();
                if c.volumes > 0 || c.groups > 0 || c.consistencygroups > 0 {
                    hint = format!(
                        "; move them first: svcctl volume move-host --from {} --to NEWHOST",
                        row.host()
                    );
                } else if c.backups > 0 {
                    hint = format!(
                        "; move them first: svcctl backup move-host --from {} --to NEWHOST",
                        row.host()
                    );
                }
                format!("in use: {}{hint}", describe_counts(c))
            }
            Reason::BackendInUse { key, counts } => format!(
                "the backend still owns {} on some node (hosts *@{key}#*); move them first: \
                 svcctl volume move-host --from NODE@{key} --to NEWHOST",
                describe_counts(counts)
            ),
            Reason::CameUp => "came up between plan and write: not deleted".into(),
            Reason::GainedReferences => {
                "gained volumes or other references between plan and write: not deleted".into()
            }
        }
    }
}

/// `3 volumes, 1 backup`: the non-zero counts.
pub(crate) fn describe_counts(c: &RefCounts) -> String {
    let parts: Vec<String> = [
        (c.volumes, "volume", "volumes"),
        (c.backups, "backup", "backups"),
        (c.groups, "group", "groups"),
        (
            c.consistencygroups,
            "consistency group",
            "consistency groups",
        ),
        (c.workers, "worker", "workers"),
        (
            c.image_volume_cache_entries,
            "image cache entry",
            "image cache entries",
        ),
    ]
    .iter()
    .filter(|(n, _, _)| *n > 0)
    .map(|(n, one, many)| format!("{n} {}", if *n == 1 { one } else { many }))
    .collect();
    parts.join(", ")
}

/// One service and the verdict on it.
#[derive(Debug, Clone)]
pub(crate) struct Item {
    pub service: Service,
    pub reasons: Vec<Reason>,
    /// Its heartbeat does not count: this node's processes of it were stopped (backend cleanup).
    pub heartbeat_exempt: bool,
}

impl Item {
    pub fn row(&self) -> &ServiceRow {
        &self.service.row
    }

    pub fn reason_texts(&self) -> Vec<String> {
        self.reasons
            .iter()
            .map(|r| r.describe(self.row()))
            .collect()
    }
}

/// The whole plan: every matched service with its verdict, and the instant it was judged at.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub items: Vec<Item>,
    /// The instant the plan was made (whole seconds); the write re-checks against it.
    pub now: NaiveDateTime,
    /// `[DEFAULT] service_down_time`, as judged with.
    pub service_down_time: i64,
    /// Heartbeats before this are down; the write's WHERE clause repeats it.
    pub cutoff: NaiveDateTime,
    /// A further condition the write must hold (backend cleanup: nothing left on the backend).
    pub guard: Option<Stmt>,
    /// What the verdict of a heartbeat-exempt service says (backend cleanup on this node).
    pub exempt_note: String,
}

/// How a node-local service is treated by `backend cleanup`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Locality {
    /// An ordinary service: judged by its heartbeat.
    Remote,
    /// Its processes on this node are (or will be) stopped: its heartbeat does not count.
    StoppedHere,
    /// On another node, as seen by `backend cleanup` from node `here`: an up one is refused
    /// with a hint to run the cleanup there.
    OtherNode { here: String },
}

/// "now" for a plan: whole seconds, because MySQL stores heartbeats to the second and the
/// write must draw the up/down line exactly where the plan drew it.
pub(crate) fn plan_now() -> NaiveDateTime {
    let now = chrono::Utc::now().naive_utc();
    now.with_nanosecond(0).unwrap_or(now)
}

/// The cutoff for a plan made at `now`: heartbeats before it are down.
pub(crate) fn cutoff(now: NaiveDateTime, service_down_time: i64) -> NaiveDateTime {
    now - Duration::seconds(service_down_time)
}

/// The deleting commands' rule for "still running": up by Cinder's verdict (`model::is_up`),
/// or heartbeating from the future (a clock ahead: whatever runs there is alive). For a
/// heartbeat at or before `now` it is exactly `heartbeat >= cutoff`, which the write repeats in
/// SQL; `backend cleanup --wait` polls with it, so all three agree to the second.
pub(crate) fn still_running(row: &ServiceRow, now: NaiveDateTime, service_down_time: i64) -> bool {
    is_up(row.heartbeat(), now, service_down_time) || row.heartbeat().is_some_and(|hb| hb > now)
}

impl Plan {
    pub fn build(
        rows: Vec<ServiceRow>,
        refs: &HashMap<i64, RefCounts>,
        now: NaiveDateTime,
        service_down_time: i64,
        locality: impl Fn(&ServiceRow) -> Locality,
    ) -> Plan {
        let cutoff = cutoff(now, service_down_time);
        let items = rows
            .into_iter()
            .map(|row| {
                let mut reasons = Vec::new();
                let where_ = locality(&row);
                let heartbeat_exempt = where_ == Locality::StoppedHere;
                let recent = still_running(&row, now, service_down_time);
                let seconds_ago = row.heartbeat().map_or(0, |hb| (now - hb).num_seconds());
                match where_ {
                    Locality::StoppedHere => {}
                    Locality::Remote if recent => reasons.push(Reason::Up { seconds_ago }),
                    Locality::OtherNode { here } if recent => reasons.push(Reason::UpElsewhere {
                        node: crate::hosts::split(row.host()).node.to_string(),
                        here,
                        seconds_ago,
                    }),
                    _ => {}
                }
                if let Some(c) = refs.get(&row.id).filter(|c| c.total() > 0) {
                    reasons.push(Reason::InUse(c.clone()));
                }
                Item {
                    service: Service::judge(row, now, service_down_time),
                    reasons,
                    heartbeat_exempt,
                }
            })
            .collect();
        Plan {
            items,
            now,
            service_down_time,
            cutoff,
            guard: None,
            exempt_note: "on this node; its processes are stopped first".into(),
        }
    }

    pub fn refused(&self) -> impl Iterator<Item = &Item> {
        self.items.iter().filter(|i| !i.reasons.is_empty())
    }

    pub fn has_refusals(&self) -> bool {
        self.refused().next().is_some()
    }

    /// The items the write is to change: the allowed ones, or all with `force`.
    pub fn to_write(&self, force: bool) -> impl Iterator<Item = &Item> {
        self.items
            .iter()
            .filter(move |i| force || i.reasons.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, host: &str, hb: Option<NaiveDateTime>) -> ServiceRow {
        ServiceRow::example(id, host, "cinder-volume", hb)
    }

    #[test]
    fn up_down_boundary_and_exemption() {
        let now = plan_now();
        let s = |n| Some(now - Duration::seconds(n));
        let rows = vec![
            row(1, "a", s(59)),
            row(2, "b", s(61)),
            row(3, "c", None),
            row(4, "d", s(1)),
            row(5, "e", s(1)),
        ];
        let mut refs = HashMap::new();
        refs.insert(
            2,
            RefCounts {
                volumes: 2,
                ..Default::default()
            },
        );
        let plan = Plan::build(rows, &refs, now, 60, |r| match r.host() {
            "d" => Locality::StoppedHere,
            "e" => Locality::OtherNode {
                here: "node01".into(),
            },
            _ => Locality::Remote,
        });
        let reasons: Vec<_> = plan.items.iter().map(|i| i.reasons.clone()).collect();
        assert_eq!(reasons[0], vec![Reason::Up { seconds_ago: 59 }]);
        assert_eq!(
            reasons[1],
            vec![Reason::InUse(RefCounts {
                volumes: 2,
                ..Default::default()
            })]
        );
        assert!(reasons[2].is_empty());
        assert!(reasons[3].is_empty() && plan.items[3].heartbeat_exempt);
        assert!(matches!(&reasons[4][0], Reason::UpElsewhere { node, .. } if node == "e"));
        assert_eq!(plan.refused().count(), 3);
        assert_eq!(plan.to_write(false).count(), 2);
        assert_eq!(plan.to_write(true).count(), 5);
    }
}
