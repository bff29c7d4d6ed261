//! Cinder's own soft delete of planned services (`service_destroy`: `deleted = 1,
//! deleted_at = now, updated_at = now`), with the plan's safety conditions repeated inside the
//! UPDATE's WHERE clause so that a service that heartbeats or gains a volume after the plan is
//! not deleted; and `cluster_destroy` for each cluster whose last live service goes and that no
//! live row names (unless `--keep-clusters`): svcctl's own choice, as Cinder deletes a cluster
//! only in `cinder-manage cluster remove`. `service delete` (and its sweeps), `cluster remove
//! --recursive` and `backend cleanup` come through here.

use std::collections::{BTreeSet, HashMap};

use anyhow::Result;
use serde::Serialize;

use super::{Change, Operation, Tx};
use crate::audit::{ClusterRecord, Detail, Event, ServiceRecord, Set};
use crate::db::clusters::{self, ClusterRow};
use crate::db::{Db, Dialect, Schema, Stmt, references};
use crate::model::{Service, ServiceRow};
use crate::plan::Decision;
use crate::plan::delete::{Candidate, Plan, Reason, still_running};

/// How the audit record words what `--force` overrode: `output`'s wording, which the command
/// passes in, so that the record says what the operator was told.
pub(crate) type Describe = fn(&Reason, &ServiceRow) -> String;

/// The delete operation: the soft delete of what a delete plan allows.
pub(crate) struct Delete<'p> {
    pub plan: &'p Plan,
    pub describe: Describe,
}

impl Operation for Delete<'_> {
    type Outcome = Deletion;
    type Change<'a>
        = SoftDelete<'a>
    where
        Self: 'a;

    fn decide(&self, force: bool) -> Decision {
        self.plan.decide(force)
    }

    /// One transaction; none when nothing is to be deleted (`backend cleanup` that only
    /// stops processes).
    fn changes<'a>(&'a self, db: &Db, force: bool) -> Vec<SoftDelete<'a>> {
        if self.plan.to_write(force).next().is_none() {
            return Vec::new();
        }
        vec![SoftDelete::new(
            self.plan,
            force,
            &db.schema,
            db.dialect,
            self.describe,
        )]
    }
}

/// A cluster soft-deleted because its last live service went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct ClusterGone {
    pub id: i64,
    pub name: String,
    pub binary: String,
}

/// A service the write deleted: as it was just before, and what `--force` overrode.
#[derive(Debug, Clone)]
pub(crate) struct DeletedService {
    pub service: Service,
    pub overridden: Vec<Reason>,
}

/// What the soft delete did.
#[derive(Debug, Clone, Default)]
pub(crate) struct Deletion {
    pub deleted: Vec<DeletedService>,
    /// Planned, but changed since the plan: came up or gained references. Exit 3.
    pub not_deleted: Vec<Candidate>,
    /// Planned, but deleted (or purged) by someone else meanwhile. Harmless.
    pub already_gone: Vec<i64>,
    pub clusters_deleted: Vec<ClusterGone>,
    /// The deleted clusters as they were just before, for the audit log.
    pub clusters_before: Vec<ClusterRow>,
    /// What the UPDATEs set, as stored.
    pub set: Option<Set>,
}

/// The soft delete of what a plan allows (everything, with `force`): one transaction.
pub(crate) struct SoftDelete<'a> {
    plan: &'a Plan,
    items: Vec<&'a Candidate>,
    /// Every id to delete, sorted.
    ids: Vec<i64>,
    force: bool,
    /// The WHERE clause's safety condition, decided once from the plan.
    safety: Stmt,
    clusters_table: bool,
    describe: Describe,
}

impl<'a> SoftDelete<'a> {
    pub fn new(
        plan: &'a Plan,
        force: bool,
        schema: &Schema,
        d: Dialect,
        describe: Describe,
    ) -> SoftDelete<'a> {
        let items: Vec<&Candidate> = plan.to_write(force).collect();
        let mut ids: Vec<i64> = items.iter().map(|i| i.row().id).collect();
        ids.sort_unstable();
        SoftDelete {
            plan,
            safety: safety(&items, plan, force, schema, d),
            items,
            ids,
            force,
            clusters_table: clusters::supported(schema),
            describe,
        }
    }
}

/// `id IN (...)`.
fn id_in<'a>(ids: impl IntoIterator<Item = &'a i64>) -> Stmt {
    let mut s = Stmt::new("id IN (");
    s.push_ids(ids.into_iter().copied()).push(")");
    s
}

/// The condition every row must still meet at write time: each planned id; without `force`,
/// still down (unless exempt: this node's stopped processes), still unreferenced (also through
/// a cluster whose last live services go), and the plan's own guard.
fn safety(items: &[&Candidate], plan: &Plan, force: bool, schema: &Schema, d: Dialect) -> Stmt {
    let sorted = |exempt: bool| {
        let mut v: Vec<i64> = items
            .iter()
            .filter(|i| i.heartbeat_exempt == exempt)
            .map(|i| i.row().id)
            .collect();
        v.sort_unstable();
        v
    };
    let (checked, exempt) = (sorted(false), sorted(true));
    if force {
        let mut all: Vec<i64> = checked.into_iter().chain(exempt).collect();
        all.sort_unstable();
        return id_in(&all);
    }
    // The SQL twin of `plan::still_running` at the plan's instant: no heartbeat, or one
    // before the cutoff.
    let hb = "COALESCE(updated_at, created_at)";
    let mut alive = Vec::new();
    if !checked.is_empty() {
        let mut s = Stmt::new("(");
        s.push_stmt(&id_in(&checked))
            .push(&format!(" AND ({hb} IS NULL OR "))
            .push_stmt(&d.before(hb, plan.cutoff))
            .push("))");
        alive.push(s);
    }
    if !exempt.is_empty() {
        alive.push(id_in(&exempt));
    }
    let mut s = Stmt::new("(");
    s.push_stmt(&Stmt::join(&alive, " OR "))
        .push(") AND ")
        .push_stmt(&references::unreferenced_condition(schema, d))
        .push(" AND ")
        .push_stmt(&references::cluster_only_condition(
            schema,
            d,
            items.iter().map(|i| i.row()),
        ));
    if let Some(g) = &plan.guard {
        s.push(" AND ").push_stmt(g);
    }
    s
}

impl Change for SoftDelete<'_> {
    type Outcome = Deletion;

    fn what(&self) -> &str {
        "deleting services"
    }

    async fn apply(&self, tx: &mut Tx<'_>) -> Result<Deletion> {
        // Lock the planned rows and see them as they are now.
        let before = tx.lock_services(&self.ids).await?;
        // Only the rows locked live: a planned id gone by the lock (purged) and inserted again
        // by someone else is not the row planned, and no lock holds it.
        let live = live_ids(&before);
        let changed = if live.is_empty() {
            0
        } else {
            let mut update = Stmt::new(format!(
                "{} SET deleted = 1, deleted_at = ",
                tx.dialect().update("services")
            ));
            update
                .push_bind(tx.now)
                .push(", updated_at = ")
                .push_bind(tx.now)
                .push(" WHERE deleted = 0 AND ")
                .push_stmt(&id_in(&live))
                .push(" AND ")
                .push_stmt(&self.safety);
            tx.execute(&update).await?
        };
        // What the UPDATE did, row by row. It could change only the rows locked live: when it
        // changed as many as that, it changed every one of them, and reading them back would
        // only say so again. Otherwise some stayed: only then are they read back to see which.
        let now_deleted: BTreeSet<i64> = if changed == live.len() as u64 {
            live
        } else {
            deleted_ids(tx, &self.ids).await?
        };
        let mut outcome = self.judge(&before, &now_deleted);
        let at = Some(tx.dialect().timestamp(tx.now));
        outcome.set = Some(Set {
            deleted: true,
            deleted_at: at.clone(),
            updated_at: at,
            race_preventer: None,
        });
        if self.clusters_table && !self.plan.keep_clusters {
            outcome.clusters_before =
                delete_emptied_clusters(tx, &outcome.deleted, self.force).await?;
            outcome.clusters_deleted = outcome
                .clusters_before
                .iter()
                .map(|c| ClusterGone {
                    id: c.id,
                    name: c.name.clone(),
                    binary: c.binary.clone(),
                })
                .collect();
        }
        Ok(outcome)
    }

    /// All or nothing: one planned service that came up or gained a reference keeps them all.
    fn refuses(&self, outcome: &Deletion) -> bool {
        !outcome.not_deleted.is_empty()
    }

    fn audit(&self, outcome: &Deletion) -> Vec<(Event, Detail)> {
        let services = outcome.deleted.iter().map(|d| {
            let overridden: Vec<String> = d
                .overridden
                .iter()
                .map(|r| (self.describe)(r, &d.service.row))
                .collect();
            (
                Event::ServiceSoftDeleted,
                Detail {
                    service: Some(ServiceRecord::new(&d.service, Some(overridden.clone()))),
                    set: outcome.set.clone(),
                    forced_over: Some(overridden),
                    ..Detail::default()
                },
            )
        });
        let clusters = outcome.clusters_before.iter().map(|c| {
            (
                Event::ClusterSoftDeleted,
                Detail {
                    cluster: Some(ClusterRecord::new(c)),
                    set: outcome.set.clone().map(|set| Set {
                        race_preventer: Some(c.id),
                        ..set
                    }),
                    ..Detail::default()
                },
            )
        });
        services.chain(clusters).collect()
    }
}

/// The ids of the live rows among `rows`.
fn live_ids(rows: &[ServiceRow]) -> BTreeSet<i64> {
    rows.iter()
        .filter(|r| r.deleted == Some(false))
        .map(|r| r.id)
        .collect()
}

/// The ids among `ids` whose rows are deleted now, read inside the transaction.
async fn deleted_ids(tx: &mut Tx<'_>, ids: &[i64]) -> Result<BTreeSet<i64>> {
    Ok(tx
        .lock_services(ids)
        .await?
        .iter()
        .filter(|r| r.deleted == Some(true))
        .map(|r| r.id)
        .collect())
}

impl SoftDelete<'_> {
    /// What the UPDATE did to each planned row, from the rows locked just before it and the ids
    /// deleted just after.
    fn judge(&self, before: &[ServiceRow], now_deleted: &BTreeSet<i64>) -> Deletion {
        // Only the rows live just before the UPDATE count.
        let was_live: HashMap<i64, &ServiceRow> = before
            .iter()
            .filter(|r| r.deleted == Some(false))
            .map(|r| (r.id, r))
            .collect();
        let mut outcome = Deletion::default();
        for &item in &self.items {
            let id = item.row().id;
            let Some(&current) = was_live.get(&id) else {
                outcome.already_gone.push(id);
                continue;
            };
            if now_deleted.contains(&id) {
                outcome.deleted.push(DeletedService {
                    service: Service {
                        row: current.clone(),
                        ..item.service.clone()
                    },
                    overridden: if self.force {
                        item.reasons.clone()
                    } else {
                        Vec::new()
                    },
                });
            } else {
                // Live before the UPDATE and still live: the WHERE clause said no.
                let mut changed = item.clone();
                let came_up = !item.heartbeat_exempt
                    && still_running(current, self.plan.now, self.plan.service_down_time);
                changed.reasons = vec![if came_up {
                    Reason::CameUp
                } else {
                    Reason::GainedReferences
                }];
                changed.service.row = current.clone();
                outcome.not_deleted.push(changed);
            }
        }
        outcome
    }
}

/// Soft-deletes, as Cinder's `cluster_destroy` does (`deleted = 1, deleted_at = now,
/// race_preventer = id`), each cluster whose last live service this transaction deleted and
/// that no live volume, group or cache entry names (unless `force`: `cluster remove
/// --recursive --force`); returns them as they were just before.
async fn delete_emptied_clusters(
    tx: &mut Tx<'_>,
    deleted: &[DeletedService],
    force: bool,
) -> Result<Vec<ClusterRow>> {
    let pairs: Vec<(String, String)> = deleted
        .iter()
        .filter_map(|d| {
            let r = &d.service.row;
            Some((r.cluster_name.clone()?, r.binary.clone()?))
        })
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if pairs.is_empty() {
        return Ok(Vec::new());
    }
    let d = tx.dialect();
    let before = tx.lock_live_clusters(&pairs).await?;
    let match_pairs = clusters::named(d, &pairs);
    let mut update = Stmt::new("UPDATE clusters SET deleted = 1, deleted_at = ");
    update
        .push_bind(tx.now)
        .push(", updated_at = ")
        .push_bind(tx.now)
        .push(", race_preventer = id WHERE deleted = 0 AND (")
        .push_stmt(&match_pairs)
        .push(&format!(
            ") AND NOT EXISTS (SELECT 1 FROM services s WHERE s.deleted = 0 AND {} AND {})",
            d.eq_exact("s.cluster_name", "clusters.name"),
            d.eq_exact("s.`binary`", "clusters.`binary`")
        ));
    if !force {
        update
            .push(" AND ")
            .push_stmt(&references::cluster_unnamed_condition(tx.schema(), d));
    }
    tx.execute(&update).await?;
    let ids: Vec<i64> = before.iter().map(|c| c.id).collect();
    let gone: BTreeSet<i64> = tx
        .lock_clusters(&ids)
        .await?
        .iter()
        .filter(|c| c.deleted == Some(true))
        .map(|c| c.id)
        .collect();
    Ok(before
        .into_iter()
        .filter(|c| gone.contains(&c.id))
        .collect())
}
