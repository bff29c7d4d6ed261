//! Deciding, before anything is written, which services may be deleted and which must be
//! refused, and why. The same rules are enforced again inside the delete's WHERE clause.

use chrono::{Duration, NaiveDateTime, Timelike};
use serde_json::{Value, json};

use crate::db::references::{Guard, RefCounts};
use crate::db::services::ServiceRow;
use crate::output::{self, ServiceView};

/// Why a service must not be deleted (without `--force`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
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
                        "; move them first: cinder-manage volume update_host --currenthost {} \
                         --newhost NEWHOST",
                        row.host()
                    );
                } else if c.backups > 0 {
                    hint = format!(
                        "; move them first: cinder-manage backup update_backup_host \
                         --currenthost {} --newhost NEWHOST",
                        row.host()
                    );
                }
                format!("in use: {}{hint}", c.describe())
            }
            Reason::BackendInUse { key, counts } => format!(
                "the backend still owns {} on some node (hosts *@{key}#*); move them first: \
                 cinder-manage volume update_host --currenthost NODE@{key}#POOL --newhost NEWHOST",
                counts.describe()
            ),
            Reason::CameUp => "came up between plan and write: not deleted".into(),
            Reason::GainedReferences => {
                "gained volumes or other references between plan and write: not deleted".into()
            }
        }
    }

    /// A short form for the plan table.
    pub fn short(&self) -> String {
        match self {
            Reason::Up { seconds_ago } => format!("up ({seconds_ago}s ago)"),
            Reason::UpElsewhere { node, .. } => format!("up on {node}"),
            Reason::InUse(c) => format!("in use: {}", c.describe()),
            Reason::BackendInUse { counts, .. } => format!("backend in use: {}", counts.describe()),
            Reason::CameUp => "came up".into(),
            Reason::GainedReferences => "gained references".into(),
        }
    }
}

/// One service and the verdict on it.
#[derive(Debug, Clone)]
pub struct Item {
    pub view: ServiceView,
    pub reasons: Vec<Reason>,
    /// Its heartbeat does not count: this node's processes of it were stopped (backend cleanup).
    pub heartbeat_exempt: bool,
}

impl Item {
    pub fn row(&self) -> &ServiceRow {
        &self.view.row
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
pub struct Plan {
    pub items: Vec<Item>,
    /// Heartbeats before this are down; the write re-checks against the same instant.
    pub cutoff: NaiveDateTime,
    /// A further condition the write must hold (backend cleanup: nothing left on the backend).
    pub guard: Option<Guard>,
    /// What the verdict of a heartbeat-exempt service says (backend cleanup on this node).
    pub exempt_note: String,
}

/// How a node-local service is treated by `backend cleanup`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Locality {
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
pub fn plan_now() -> NaiveDateTime {
    let now = chrono::Utc::now().naive_utc();
    now.with_nanosecond(0).unwrap_or(now)
}

/// The plan's own rule for "still heartbeating": a heartbeat at or after the cutoff. The write
/// repeats it in SQL; `backend cleanup --wait` polls with it, so all three agree to the second.
pub fn heartbeat_recent(row: &ServiceRow, cutoff: NaiveDateTime) -> bool {
    row.heartbeat().is_some_and(|hb| hb >= cutoff)
}

/// The cutoff for a plan made at `now`.
pub fn cutoff(now: NaiveDateTime, service_down_time: i64) -> NaiveDateTime {
    // Saturating: the config holds service_down_time to 10 years, but no value may panic here.
    Duration::try_seconds(service_down_time)
        .and_then(|d| now.checked_sub_signed(d))
        .unwrap_or(NaiveDateTime::MIN)
}

impl Plan {
    pub fn build(
        rows: Vec<ServiceRow>,
        refs: &std::collections::HashMap<i64, RefCounts>,
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
                let recent = heartbeat_recent(&row, cutoff);
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
                    view: ServiceView::new(row, now, service_down_time),
                    reasons,
                    heartbeat_exempt,
                }
            })
            .collect();
        Plan {
            items,
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

    /// The plan as a table: what will happen to each service.
    pub fn table(&self, force: bool) -> String {
        let rows: Vec<Vec<String>> = self
            .items
            .iter()
            .map(|i| {
                let r = i.row();
                let verdict = match (i.reasons.is_empty(), force) {
                    (true, _) if i.heartbeat_exempt => format!("delete ({})", self.exempt_note),
                    (true, _) => "delete".to_string(),
                    (false, true) => format!(
                        "delete (--force over: {})",
                        i.reasons
                            .iter()
                            .map(Reason::short)
                            .collect::<Vec<_>>()
                            .join("; ")
                    ),
                    (false, false) => format!(
                        "refuse: {}",
                        i.reasons
                            .iter()
                            .map(Reason::short)
                            .collect::<Vec<_>>()
                            .join("; ")
                    ),
                };
                vec![
                    r.id.to_string(),
                    r.binary().to_string(),
                    r.host().to_string(),
                    i.view.state().to_string(),
                    r.heartbeat().map_or("-".into(), output::format_time),
                    verdict,
                ]
            })
            .collect();
        output::report_table(
            &["ID", "Binary", "Host", "State", "Last Heartbeat", "Verdict"],
            &rows,
        )
    }
}

/// A service as JSON with the keys of `service list`, plus `extra`.
pub fn service_json(view: &ServiceView, extra: &[(&str, Value)]) -> Value {
    let mut obj = view.json_object(&output::json_columns(false));
    for (k, v) in extra {
        obj.insert(k.to_string(), v.clone());
    }
    Value::Object(obj)
}

/// The JSON of a refused item.
pub fn refused_json(item: &Item) -> Value {
    service_json(&item.view, &[("reasons", json!(item.reason_texts()))])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

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
        assert!(plan.table(false).contains("refuse: in use: 2 volumes"));
    }
}
