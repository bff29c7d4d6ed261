//! Cinder's own soft delete of planned services (`service_destroy`: `deleted = 1,
//! deleted_at = now, updated_at = now`), with the plan's safety conditions repeated inside the
//! UPDATE's WHERE clause so that a service that heartbeats or gains a volume after the plan is
//! not deleted; and `cluster_destroy` for each cluster whose last live service goes. Both
//! `service delete` and `backend cleanup` come through here.

use std::collections::{BTreeSet, HashMap};

use anyhow::Result;
use serde::Serialize;

use super::{Change, Tx};
use crate::audit::{Actor, ServiceDeleted};
use crate::db::{Dialect, Schema, Stmt, references};
use crate::model::{Service, ServiceRow};
use crate::plan::{self, Item, Plan, Reason};

/// A cluster soft-deleted because its last live service went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub(crate) struct ClusterGone {
    pub id: i64,
    pub name: String,
    pub binary: String,
}

/// A service the write deleted: as it was just before, and what `--force` overrode.
#[derive(Debug, Clone)]
pub(crate) struct Deleted {
    pub service: Service,
    pub overridden: Vec<String>,
}

/// What the write did.
#[derive(Debug, Clone, Default)]
pub(crate) struct Outcome {
    pub deleted: Vec<Deleted>,
    /// Planned, but changed since the plan: came up or gained references. Exit 3.
    pub not_deleted: Vec<Item>,
    /// Planned, but deleted (or purged) by someone else meanwhile. Harmless.
    pub already_gone: Vec<i64>,
    pub clusters_deleted: Vec<ClusterGone>,
}

/// The soft delete of what a plan allows (everything, with `force`).
pub(crate) struct SoftDelete<'a> {
    plan: &'a Plan,
    items: Vec<&'a Item>,
    /// Every id to delete, sorted.
    ids: Vec<i64>,
    force: bool,
    /// The WHERE clause's safety condition, decided once from the plan.
    safety: Stmt,
    clusters_table: bool,
    actor: &'a Actor,
}

impl<'a> SoftDelete<'a> {
    pub fn new(
        plan: &'a Plan,
        force: bool,
        schema: &Schema,
        d: Dialect,
        actor: &'a Actor,
    ) -> SoftDelete<'a> {
        let items: Vec<&Item> = plan.to_write(force).collect();
        let mut ids: Vec<i64> = items.iter().map(|i| i.row().id).collect();
        ids.sort_unstable();
        SoftDelete {
            plan,
            safety: safety(&items, plan, force, schema, d),
            items,
            ids,
            force,
            clusters_table: schema.has("clusters", "race_preventer")
                && schema.has("services", "cluster_name"),
            actor,
        }
    }

    /// True when the plan leaves nothing to delete.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// `id IN (...)`.
fn id_in(ids: &[i64]) -> Stmt {
    let mut s = Stmt::new("id IN (");
    s.push_list(ids.iter().copied()).push(")");
    s
}

/// The condition every row must still meet at write time: each planned id; without `force`,
/// still down (unless exempt: this node's stopped processes), still unreferenced (also through
/// a cluster whose last live services go), and the plan's own guard.
fn safety(items: &[&Item], plan: &Plan, force: bool, schema: &Schema, d: Dialect) -> Stmt {
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
    type Outcome = Outcome;
    type Detail = ServiceDeleted;

    fn what(&self) -> &str {
        "deleting services"
    }

    async fn apply(&self, tx: &mut Tx<'_>) -> Result<Outcome> {
        // Lock the planned rows and see them as they are now.
        let before = tx.lock_services(&self.ids).await?;
        let mut update = Stmt::new("UPDATE services SET deleted = 1, deleted_at = ");
        update
            .push_bind(tx.now)
            .push(", updated_at = ")
            .push_bind(tx.now)
            .push(" WHERE deleted = 0 AND ")
            .push_stmt(&self.safety);
        tx.execute(&update).await?;
        let after = tx.lock_services(&self.ids).await?;
        let mut outcome = self.judge(&before, &after);
        if self.clusters_table {
            outcome.clusters_deleted = delete_emptied_clusters(tx, &outcome.deleted).await?;
        }
        Ok(outcome)
    }

    fn audit(&self, outcome: &Outcome) -> Vec<(&'static str, ServiceDeleted)> {
        outcome
            .deleted
            .iter()
            .map(|d| {
                (
                    "service_soft_deleted",
                    ServiceDeleted {
                        command: self.actor.command.clone(),
                        database: self.actor.database.clone(),
                        service: d.service.row.clone(),
                        forced_over: d.overridden.clone(),
                    },
                )
            })
            .collect()
    }
}

impl SoftDelete<'_> {
    /// What the UPDATE did to each planned row, from the rows locked just before it and read
    /// just after.
    fn judge(&self, before: &[ServiceRow], after: &[ServiceRow]) -> Outcome {
        // Only the rows live just before the UPDATE count.
        let was_live: HashMap<i64, &ServiceRow> = before
            .iter()
            .filter(|r| r.deleted == Some(false))
            .map(|r| (r.id, r))
            .collect();
        let now_deleted: BTreeSet<i64> = after
            .iter()
            .filter(|r| r.deleted == Some(true))
            .map(|r| r.id)
            .collect();
        let mut outcome = Outcome::default();
        for &item in &self.items {
            let id = item.row().id;
            let Some(&current) = was_live.get(&id) else {
                outcome.already_gone.push(id);
                continue;
            };
            if now_deleted.contains(&id) {
                outcome.deleted.push(Deleted {
                    service: Service {
                        row: current.clone(),
                        ..item.service.clone()
                    },
                    overridden: if self.force {
                        item.reason_texts()
                    } else {
                        Vec::new()
                    },
                });
            } else {
                // Live before the UPDATE and still live: the WHERE clause said no.
                let mut changed = item.clone();
                let came_up = !item.heartbeat_exempt
                    && plan::still_running(current, self.plan.now, self.plan.service_down_time);
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
/// race_preventer = id`), each cluster whose last live service this transaction deleted.
async fn delete_emptied_clusters(tx: &mut Tx<'_>, deleted: &[Deleted]) -> Result<Vec<ClusterGone>> {
    let pairs: BTreeSet<(String, String)> = deleted
        .iter()
        .filter_map(|d| {
            let r = &d.service.row;
            Some((r.cluster_name.clone()?, r.binary.clone()?))
        })
        .collect();
    if pairs.is_empty() {
        return Ok(Vec::new());
    }
    let d = tx.dialect();
    let match_pairs = Stmt::join(
        &pairs
            .iter()
            .map(|(name, binary)| {
                let mut s = Stmt::new("(");
                s.push_stmt(&d.eq_exact_value("name", name.as_str()))
                    .push(" AND ")
                    .push_stmt(&d.eq_exact_value("`binary`", binary.as_str()))
                    .push(")");
                s
            })
            .collect::<Vec<_>>(),
        " OR ",
    );
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
    tx.execute(&update).await?;
    let mut select =
        Stmt::new("SELECT id, name, `binary` FROM clusters WHERE deleted = 1 AND deleted_at = ");
    select
        .push_bind(tx.now)
        .push(" AND race_preventer = id AND (")
        .push_stmt(&match_pairs)
        .push(") ORDER BY id");
    tx.fetch_all(&select).await
}
