//! `cluster remove` of an empty cluster: Cinder's own `cluster_destroy` (`deleted = 1,
//! deleted_at = now, race_preventer = id`), with "no live service names it" inside the
//! UPDATE's WHERE clause, as Cinder's `num_hosts == 0`. A service that joined since the plan
//! rolls the removal back: exit 3, nothing changed.

use anyhow::Result;

use super::{Change, Landed, Tx};
use crate::audit::{ClusterRecord, Detail, Event, Written};
use crate::db::clusters::{self, ClusterRow};
use crate::db::{Dialect, Stmt};
use crate::error::Failure;

pub(crate) struct ClusterDestroy {
    pub id: i64,
    pub name: String,
}

/// The cluster as it was just before, and what the write set.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub cluster: ClusterRow,
    pub set: Written,
}

impl Change for ClusterDestroy {
    type Outcome = Outcome;

    fn what(&self) -> &str {
        "removing the cluster"
    }

    async fn apply(&self, tx: &mut Tx<'_>) -> Result<Outcome> {
        let d = tx.dialect();
        let before = tx.lock_clusters(&[self.id]).await?;
        let mut update = Stmt::new("UPDATE clusters SET deleted = 1, deleted_at = ");
        update
            .push_bind(tx.now)
            .push(", updated_at = ")
            .push_bind(tx.now)
            .push(", race_preventer = id WHERE deleted = 0 AND id = ")
            .push_bind(self.id)
            .push(" AND ")
            .push(&clusters::empty_condition(d));
        let n = tx.execute(&update).await?;
        match before.into_iter().next() {
            Some(cluster) if n == 1 => Ok(Outcome {
                cluster,
                set: Written {
                    deleted: true,
                    deleted_at: Some(d.timestamp(tx.now)),
                    updated_at: Some(d.timestamp(tx.now)),
                    race_preventer: Some(self.id),
                },
            }),
            _ => Err(Failure::Refused(format!(
                "cluster {} (id {}) gained a live service or was removed between plan and \
                 write; nothing was changed; run svcctl cluster remove again",
                self.name, self.id
            ))
            .into()),
        }
    }

    /// A cluster that gained a service fails `apply` (exit 3) and rolls back.
    fn refuses(&self, _: &Outcome) -> bool {
        false
    }

    fn landed(&self, _: &Outcome, now: chrono::NaiveDateTime, d: Dialect) -> Option<Landed> {
        let mut mark = Stmt::new("deleted = 1 AND deleted_at = ");
        mark.push_bind(now);
        let check = format!(
            "cluster {} (id {}): deleted = 1 with deleted_at = '{}' means the removal committed",
            self.name,
            self.id,
            d.timestamp(now)
        );
        Landed::marked("clusters", &[self.id], &mark, d, check)
    }

    fn audit(&self, outcome: &Outcome) -> Vec<(Event, Detail)> {
        vec![(
            Event::ClusterSoftDeleted,
            Detail {
                cluster: Some(ClusterRecord::new(&outcome.cluster)),
                set: Some(outcome.set.clone()),
                ..Detail::default()
            },
        )]
    }
}
