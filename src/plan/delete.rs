//! Deciding, before anything is written, which services may be deleted (`service delete`, its
//! sweeps, `cluster remove --recursive`, `backend cleanup`) and which must be refused, and why
//! (`Reason`, as data; `output::delete` words it). The same rules are enforced again inside the
//! write's WHERE clause.

use std::collections::HashMap;

use anyhow::Result;
use chrono::NaiveDateTime;

use super::Decision;
use crate::db::clusters::{self, ClusterRow};
use crate::db::references::{self, RefCounts};
use crate::db::{Db, Stmt};
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
        /// It stayed up through `--wait` of this many seconds.
        waited: Option<u64>,
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
        /// It stayed up through `--wait` of this many seconds.
        waited: Option<u64>,
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
    /// A value of the row is not of its column's type (a zero date such as `2026-00-15`): the
    /// verdict and the audit record cannot stand on it (a bad heartbeat cannot say whether the
    /// service is up; the record would keep NULL for it).
    Unreadable {
        column: &'static str,
        value: String,
    },
    /// It changed between the plan and the write (found by the write's WHERE clause).
    CameUp,
    GainedReferences,
}

/// One service and the verdict on it.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    pub service: Service,
    pub reasons: Vec<Reason>,
    /// Its heartbeat does not count: this node's processes of it were stopped (backend cleanup).
    pub heartbeat_exempt: bool,
}

impl Candidate {
    pub fn row(&self) -> &ServiceRow {
        &self.service.row
    }
}

/// The whole plan: every matched service with its verdict, and the instant it was judged at.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub items: Vec<Candidate>,
    /// The instant the plan was made (whole seconds); the write re-checks against it.
    pub now: NaiveDateTime,
    /// `[DEFAULT] service_down_time`, as judged with.
    pub service_down_time: i64,
    /// Heartbeats before this are down; the write's WHERE clause repeats it.
    pub cutoff: NaiveDateTime,
    /// A further condition the write must hold (backend cleanup: nothing left on the backend).
    pub guard: Option<Stmt>,
    /// The node whose services are heartbeat-exempt (`backend cleanup` on this node, after its
    /// processes here are stopped).
    pub exempt_on: Option<String>,
    /// A sweep (`--down-for`): its scope, for the one summary line a cron mail shows.
    pub sweep: Option<Sweep>,
    /// `--keep-clusters`: a cluster whose last live service goes stays. Otherwise it is
    /// soft-deleted with it: svcctl's own choice (Cinder deletes a cluster only in
    /// `cinder-manage cluster remove`), so that a sweep leaves no empty clusters behind.
    pub keep_clusters: bool,
    /// The clusters a write would soft-delete with their last live service, as read for a dry
    /// run's document (`read_emptied`); empty otherwise.
    pub would_empty: Vec<ClusterRow>,
}

/// The scope of a sweep (`--down-for`).
#[derive(Debug, Clone)]
pub(crate) struct Sweep {
    /// `--down-for` as given.
    pub down_for: String,
    /// No `--host`: the whole cloud.
    pub every_host: bool,
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

/// The deleting commands' rule for "still running": anything but down by `model::Heartbeat`
/// (up, or heartbeating from the future: a clock ahead, whatever runs there is alive). It is
/// exactly "not `heartbeat < down_before(now)`", which the write repeats in SQL; `backend
/// cleanup --wait` polls with it, so all three agree to the second.
pub(crate) fn still_running(row: &ServiceRow, now: NaiveDateTime, service_down_time: i64) -> bool {
    Heartbeat::judge(row.heartbeat(), now, service_down_time).may_be_running()
}

/// A bad row is one row: a value that could not be read refuses the row's deletion, by name,
/// where the verdict or the restore stands on it (the heartbeat, what identifies the service
/// and what points at it); one elsewhere (`modified_at`, a zone) is no reason to keep the row.
fn unreadable(row: &ServiceRow) -> impl Iterator<Item = Reason> + '_ {
    const RELIED_ON: &[&str] = &[
        "updated_at",
        "created_at",
        "deleted",
        "host",
        "binary",
        "uuid",
        "cluster_name",
    ];
    row.invalid
        .iter()
        .filter(|i| RELIED_ON.contains(&i.column))
        .map(|i| Reason::Unreadable {
            column: i.column,
            value: i.value.clone(),
        })
}

/// The delete plan for `rows` (live services), judged at `now`: by heartbeat as `locality`
/// says, and by what still uses each, directly or only through its cluster.
pub(crate) async fn build(
    db: &mut Db,
    rows: Vec<ServiceRow>,
    now: NaiveDateTime,
    service_down_time: i64,
    locality: impl Fn(&ServiceRow) -> Locality,
) -> Result<Plan> {
    let refs = references::count(db, &rows.iter().collect::<Vec<_>>()).await?;
    let cluster_refs = references::count_cluster_only(db, &rows).await?;
    let mut plan = Plan::judge(rows, &refs, now, service_down_time, locality);
    plan.refuse_cluster_only(&cluster_refs);
    Ok(plan)
}

impl Plan {
    pub fn judge(
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
                            waited: None,
                        })
                    }
                    (Locality::HereUnnamed { key, shared }, _) if recent => {
                        reasons.push(Reason::UpHereUnnamed {
                            key,
                            seconds_ago,
                            shared,
                            waited: None,
                        })
                    }
                    _ => {}
                }
                if let Some(c) = refs.get(&row.id).filter(|c| c.total() > 0) {
                    reasons.push(Reason::InUse(c.clone()));
                }
                reasons.extend(unreadable(&row));
                Candidate {
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
            exempt_on: None,
            sweep: None,
            keep_clusters: false,
            would_empty: Vec::new(),
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

    /// The clusters (name, binary) of the services the write would delete: those it may leave
    /// without a live service (and then soft-delete, unless `keep_clusters`).
    pub fn clusters_touched(&self, force: bool) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .to_write(force)
            .filter_map(|i| Some((i.row().cluster_name.clone()?, i.row().binary().to_string())))
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Reads which clusters a write of this plan would soft-delete with their last live
    /// service (`would_empty`), for a dry run to show as the write would do it: each live
    /// cluster of the services `to_write(force)` that no other live service of its name and
    /// binary keeps and (unless `force`) no live row names; none with `keep_clusters`. The
    /// write decides again inside its transaction.
    pub async fn read_emptied(&mut self, db: &mut Db, force: bool) -> Result<()> {
        if self.keep_clusters || !clusters::supported(&db.schema) {
            return Ok(());
        }
        let going: Vec<i64> = self.to_write(force).map(|i| i.row().id).collect();
        for (name, binary) in self.clusters_touched(force) {
            let Some(c) = clusters::find_live(db, &name, &binary).await? else {
                continue;
            };
            let kept = clusters::members(db, Some(&name))
                .await?
                .iter()
                .any(|m| m.binary.as_deref() == Some(binary.as_str()) && !going.contains(&m.id));
            if kept || (!force && references::count_cluster_named(db, c.id).await?.total() > 0) {
                continue;
            }
            self.would_empty.push(c);
        }
        Ok(())
    }

    pub fn refused(&self) -> impl Iterator<Item = &Candidate> {
        self.items.iter().filter(|i| !i.reasons.is_empty())
    }

    /// The items the write is to change: the allowed ones, or all with `force`.
    pub fn to_write(&self, force: bool) -> impl Iterator<Item = &Candidate> {
        self.items
            .iter()
            .filter(move |i| force || i.reasons.is_empty())
    }

    /// The services still up were waited for (`backend cleanup --wait secs`): their refusals
    /// say so, instead of advising a wait.
    pub fn waited(&mut self, secs: u64) {
        for reason in self.items.iter_mut().flat_map(|i| &mut i.reasons) {
            if let Reason::UpElsewhere { waited, .. } | Reason::UpHereUnnamed { waited, .. } =
                reason
            {
                *waited = Some(secs);
            }
        }
    }

    pub fn decide(&self, force: bool) -> Decision {
        Decision {
            matched: self.items.len(),
            refused: if force { 0 } else { self.refused().count() },
            to_change: self.to_write(force).count(),
        }
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
        let now = crate::plan::plan_now();
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
        let plan = Plan::judge(rows, &refs, now, 60, |r| match r.host() {
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
