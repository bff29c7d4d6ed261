//! Deciding, before anything is written, which services may be deleted and which must be
//! refused, and why (`Reason`, whose `describe` is the message shown for it). The same rules are
//! enforced again inside the write's WHERE clause.

use std::collections::HashMap;

use chrono::{NaiveDateTime, Timelike};

use crate::db::Stmt;
use crate::db::references::RefCounts;
use crate::model::{Heartbeat, Service, ServiceRow, down_before};

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
    /// Its heartbeat is from the future: a clock is off, and whatever wrote it may be running.
    FutureHeartbeat {
        seconds: i64,
    },
    /// Up, on this node, and no process here names its backend: a cinder-volume serving every
    /// enabled backend runs it (`shared` processes of it here), and only a restart without the
    /// backend stops its heartbeat; with none here, something else writes it.
    UpHereUnnamed {
        key: String,
        seconds_ago: i64,
        shared: usize,
    },
    /// The backend is still in `[DEFAULT] enabled_backends`: the next restart of cinder-volume
    /// would bring its service back.
    StillEnabled {
        key: String,
        /// The entry as written there (the name, or the 13-character key).
        entry: String,
        /// The config files svcctl read.
        files: String,
    },
    /// Live rows still point at it.
    InUse(RefCounts),
    /// It is its cluster's last live service, and live rows reach it only through the cluster
    /// (their `cluster_name` names it; their host names no other live service).
    ClusterOnly {
        cluster: String,
        counts: RefCounts,
    },
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
        self.describe_for_host(row.host())
    }

    /// The description, for a service on `host`.
    pub fn describe_for_host(&self, host: &str) -> String {
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
            Reason::FutureHeartbeat { seconds } => {
                format!("heartbeat {seconds} s in the future: check this node's clock")
            }
            Reason::UpHereUnnamed {
                key,
                seconds_ago,
                shared: 0,
            } => format!(
                "up (heartbeat {seconds_ago}s ago), yet no cinder-volume process runs here: \
                 whatever heartbeats for backend {key} under this node's name (a container, \
                 another machine with the same [DEFAULT] host?) must stop first, or pass --wait \
                 SECS"
            ),
            Reason::UpHereUnnamed {
                key, seconds_ago, ..
            } => format!(
                "up (heartbeat {seconds_ago}s ago) and no process here names backend {key}: the \
                 cinder-volume serving every enabled backend still runs it; remove it from \
                 [DEFAULT] enabled_backends and restart cinder-volume, or pass --wait SECS"
            ),
            Reason::StillEnabled { key, entry, files } => format!(
                "backend {key} is still in [DEFAULT] enabled_backends (as {entry:?}) of {files}: \
                 the next restart of cinder-volume would bring its service back; remove it from \
                 enabled_backends, restart cinder-volume, then run the cleanup"
            ),
            Reason::InUse(c) => {
                let mut hint = String::new();
                if c.volumes > 0 || c.groups > 0 || c.consistencygroups > 0 {
                    hint = format!(
                        "; move them first: svcctl volume move-host --from {host} --to NEWHOST"
                    );
                } else if c.backups > 0 {
                    hint = format!(
                        "; move them first: svcctl backup move-host --from {host} --to NEWHOST"
                    );
                }
                format!("in use: {}{}{hint}", describe_counts(c), on_hosts(c))
            }
            Reason::BackendInUse { key, counts } => format!(
                "the backend still owns {}{}; move them first: svcctl volume move-host --from {} \
                 --to NEWHOST",
                describe_counts(counts),
                match on_hosts(counts) {
                    none if none.is_empty() => format!(" on some node (hosts *@{key}#*)"),
                    named => named,
                },
                match counts.volume_hosts.as_slice() {
                    [one] => one.split('#').next().unwrap_or(one).to_string(),
                    _ => format!("NODE@{key}"),
                }
            ),
            Reason::ClusterOnly { cluster, counts } => format!(
                "{} reach it only through its cluster {cluster}, whose last live service it is \
                 (their hosts name no other live service); move them to a live service first \
                 (svcctl volume move-host), or keep another service in the cluster",
                describe_counts(counts)
            ),
            Reason::CameUp => "came up between plan and write: not deleted".into(),
            Reason::GainedReferences => {
                "gained volumes or other references between plan and write: not deleted".into()
            }
        }
    }
}

/// How many volume hosts a refusal names; the rest are counted ("and 6 more").
const HOSTS_SHOWN: usize = 3;

/// The volume hosts a refusal names: the first `HOSTS_SHOWN`.
pub(crate) fn shown_hosts(hosts: &[String]) -> &[String] {
    &hosts[..hosts.len().min(HOSTS_SHOWN)]
}

/// ` on node01@lvm#a, node02@lvm#a, node03@lvm#a and 6 more`, or nothing when no volume host
/// is known.
fn on_hosts(c: &RefCounts) -> String {
    let shown = shown_hosts(&c.volume_hosts);
    if shown.is_empty() {
        return String::new();
    }
    let more = c.volume_hosts.len() - shown.len();
    format!(
        " on {}{}",
        shown.join(", "),
        if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        }
    )
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
    /// A sweep (`--down-for`): its scope, for the one summary line a cron mail shows.
    pub sweep: Option<String>,
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
    /// On this node, but no process here names backend `key` (`shared` cinder-volume processes
    /// serve every enabled backend, or none runs): judged by its heartbeat like any other
    /// node's.
    HereUnnamed { key: String, shared: usize },
}

/// "now" for a plan: whole seconds, because MySQL stores heartbeats to the second and the
/// write must draw the up/down line exactly where the plan drew it.
pub(crate) fn plan_now() -> NaiveDateTime {
    let now = chrono::Utc::now().naive_utc();
    now.with_nanosecond(0).unwrap_or(now)
}

/// The deleting commands' rule for "still running": anything but down by `model::Heartbeat`
/// (up, or heartbeating from the future: a clock ahead, whatever runs there is alive). It is
/// exactly "not `heartbeat < down_before(now)`", which the write repeats in SQL; `backend
/// cleanup --wait` polls with it, so all three agree to the second.
pub(crate) fn still_running(row: &ServiceRow, now: NaiveDateTime, service_down_time: i64) -> bool {
    Heartbeat::judge(row.heartbeat(), now, service_down_time).may_be_running()
}

impl Plan {
    pub fn build(
        rows: Vec<ServiceRow>,
        refs: &HashMap<i64, RefCounts>,
        now: NaiveDateTime,
        service_down_time: i64,
        locality: impl Fn(&ServiceRow) -> Locality,
    ) -> Plan {
        let cutoff = down_before(now, service_down_time);
        let items = rows
            .into_iter()
            .map(|row| {
                let mut reasons = Vec::new();
                let where_ = locality(&row);
                let heartbeat_exempt = where_ == Locality::StoppedHere;
                let heartbeat = Heartbeat::judge(row.heartbeat(), now, service_down_time);
                let recent = heartbeat.may_be_running();
                let seconds_ago = row.heartbeat().map_or(0, |hb| (now - hb).num_seconds());
                match (where_, heartbeat) {
                    (Locality::StoppedHere, _) => {}
                    // Clock skew, up or down by Cinder's rule: never deleted on a guess.
                    (_, Heartbeat::Ahead { seconds, .. }) => {
                        reasons.push(Reason::FutureHeartbeat { seconds })
                    }
                    (Locality::Remote, _) if recent => reasons.push(Reason::Up { seconds_ago }),
                    (Locality::OtherNode { here }, _) if recent => {
                        reasons.push(Reason::UpElsewhere {
                            node: crate::hosts::split(row.host()).node.to_string(),
                            here,
                            seconds_ago,
                        })
                    }
                    (Locality::HereUnnamed { key, shared }, _) if recent => {
                        reasons.push(Reason::UpHereUnnamed {
                            key,
                            seconds_ago,
                            shared,
                        })
                    }
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
            sweep: None,
        }
    }

    /// Refuses each service that live rows would reach only through its cluster once the
    /// plan's services are gone (`counts` by service id, from
    /// `references::count_cluster_only`).
    pub fn refuse_cluster_only(&mut self, counts: &HashMap<i64, RefCounts>) {
        for item in &mut self.items {
            let Some(c) = counts.get(&item.row().id).filter(|c| c.total() > 0) else {
                continue;
            };
            if let Some(cluster) = item.row().cluster_name.clone() {
                item.reasons.push(Reason::ClusterOnly {
                    cluster,
                    counts: c.clone(),
                });
            }
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
    use chrono::Duration;

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
        // A heartbeat from the future, even beyond the window Cinder calls up, is running.
        let ahead = row(6, "f", s(-600));
        assert!(!crate::model::is_up(ahead.heartbeat(), now, 60));
        assert!(still_running(&ahead, now, 60));
        assert!(!still_running(&row(7, "g", s(61)), now, 60));
        assert!(still_running(&row(8, "h", s(60)), now, 60));
        assert_eq!(plan.to_write(false).count(), 2);
        assert_eq!(plan.to_write(true).count(), 5);
    }
}
