//! One batch of `service purge`: hard-deletes soft-deleted services and clusters whose
//! `deleted_at` is before the cutoff. The DELETE's WHERE clause repeats the plan's conditions
//! (still soft-deleted, still old enough, and for services: no `volumes.service_uuid` or
//! `workers.service_id` names it), so a row that changed or gained a reference since the plan
//! is skipped, never a failed batch. Each purged row, whole, is audited before COMMIT.

use anyhow::Result;

use super::{Change, Operation, Tx};
use crate::audit::{ClusterRecord, Detail, Event, ServiceRecord};
use crate::db::clusters::ClusterRow;
use crate::db::{Db, Stmt, foreign_keys};
use crate::model::{Service, ServiceRow};
use crate::plan::Decision;
use crate::plan::purge::Plan;

/// A purge runs one transaction per batch of `--batch` rows: services first, then clusters.
impl Operation for Plan {
    type Outcome = Purged;
    type Change<'a> = PurgeBatch;

    fn decide(&self, _force: bool) -> Decision {
        Plan::decide(self)
    }

    fn changes(&self, _db: &Db, _force: bool) -> Vec<PurgeBatch> {
        let batch = |services: &[i64], clusters: &[i64]| PurgeBatch {
            services: services.to_vec(),
            clusters: clusters.to_vec(),
            cutoff: self.cutoff,
            service_down_time: self.service_down_time,
        };
        let services: Vec<i64> = self.services.iter().map(|s| s.row.id).collect();
        let clusters: Vec<i64> = self.clusters.iter().map(|c| c.id).collect();
        let size = self.batch.max(1);
        services
            .chunks(size)
            .map(|c| batch(c, &[]))
            .chain(clusters.chunks(size).map(|c| batch(&[], c)))
            .collect()
    }
}

/// One batch: the ids the plan found purgeable.
pub(crate) struct PurgeBatch {
    services: Vec<i64>,
    clusters: Vec<i64>,
    cutoff: chrono::NaiveDateTime,
    service_down_time: i64,
}

/// What one batch did.
#[derive(Debug, Default)]
pub(crate) struct Purged {
    /// The purged rows, as they were just before.
    pub services: Vec<Service>,
    pub clusters: Vec<ClusterRow>,
    /// Planned but kept: changed or named by a foreign key since the plan.
    pub kept_services: Vec<i64>,
    pub kept_clusters: Vec<i64>,
}

impl PurgeBatch {
    /// `DELETE FROM <table> WHERE id IN (...) AND deleted = 1 AND deleted_at < cutoff AND ...`.
    fn delete(&self, tx: &Tx<'_>, table: &str, ids: &[i64], extra: &str) -> Stmt {
        let mut s = Stmt::new(format!("DELETE FROM {table} WHERE id IN ("));
        s.push_ids(ids.iter().copied())
            .push(") AND deleted = 1 AND deleted_at IS NOT NULL AND ")
            .push_stmt(&tx.dialect().before("deleted_at", self.cutoff))
            .push(extra);
        s
    }
}

/// The ids among `ids` that are still there.
fn still_there(ids: &[i64], after: &[i64]) -> Vec<i64> {
    ids.iter()
        .copied()
        .filter(|id| after.contains(id))
        .collect()
}

impl Change for PurgeBatch {
    type Outcome = Purged;

    fn what(&self) -> &str {
        "purging deleted services"
    }

    async fn apply(&self, tx: &mut Tx<'_>) -> Result<Purged> {
        let mut outcome = Purged::default();
        if !self.services.is_empty() {
            let before: Vec<ServiceRow> = tx.lock_services(&self.services).await?;
            let guard = format!(" AND {}", foreign_keys::unnamed_condition(tx.schema()));
            tx.execute(&self.delete(tx, "services", &self.services, &guard))
                .await?;
            let after: Vec<i64> = tx
                .lock_services(&self.services)
                .await?
                .iter()
                .map(|r| r.id)
                .collect();
            outcome.kept_services = still_there(&self.services, &after);
            outcome.services = before
                .into_iter()
                .filter(|r| !after.contains(&r.id))
                .map(|r| Service::judge(r, tx.now, self.service_down_time))
                .collect();
        }
        if !self.clusters.is_empty() {
            let before = tx.lock_clusters(&self.clusters).await?;
            tx.execute(&self.delete(tx, "clusters", &self.clusters, ""))
                .await?;
            let after: Vec<i64> = tx
                .lock_clusters(&self.clusters)
                .await?
                .iter()
                .map(|c| c.id)
                .collect();
            outcome.kept_clusters = still_there(&self.clusters, &after);
            outcome.clusters = before
                .into_iter()
                .filter(|c| !after.contains(&c.id))
                .collect();
        }
        Ok(outcome)
    }

    /// Rows named by a foreign key since the plan are kept and reported, not a reason to
    /// keep the whole batch (unlike `cinder-manage db purge`).
    fn refuses(&self, _: &Purged) -> bool {
        false
    }

    fn audit(&self, outcome: &Purged) -> Vec<(Event, Detail)> {
        let services = outcome.services.iter().map(|s| {
            (
                Event::ServicePurged,
                Detail {
                    service: Some(ServiceRecord::new(s, None)),
                    ..Detail::default()
                },
            )
        });
        let clusters = outcome.clusters.iter().map(|c| {
            (
                Event::ClusterPurged,
                Detail {
                    cluster: Some(ClusterRecord::new(c)),
                    ..Detail::default()
                },
            )
        });
        services.chain(clusters).collect()
    }
}
