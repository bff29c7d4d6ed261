//! `cluster remove` of an empty cluster: Cinder's own `cluster_destroy` (`deleted = 1,
//! deleted_at = now, race_preventer = id`), with "no live service names it" inside the
//! UPDATE's WHERE clause, as Cinder's `num_hosts == 0`, and (unless `--force`) "no live volume,
//! group or cache entry names it", which Cinder does not check. A service that joined, or a
//! row that came to name it, since the plan rolls the removal back: exit 3, nothing changed.

use anyhow::Result;

use super::{Change, Operation, Tx};
use crate::audit::{ClusterRecord, Detail, Event, Set};
use crate::db::clusters::{self, ClusterRow};
use crate::db::{Db, Stmt, references};
use crate::plan::Decision;
use crate::plan::cluster::Plan;

impl Operation for Plan {
    type Outcome = Removed;
    type Change<'a> = ClusterDestroy;

    fn decide(&self, force: bool) -> Decision {
        Plan::decide(self, force)
    }

    fn changes(&self, _db: &Db, force: bool) -> Vec<ClusterDestroy> {
        self.cluster
            .iter()
            .map(|c| ClusterDestroy { id: c.id, force })
            .collect()
    }
}

pub(crate) struct ClusterDestroy {
    id: i64,
    /// Remove it even though live rows name it.
    force: bool,
}

/// The cluster as it was just before, and what the write set; None when it gained a live
/// service (or went) between plan and write, and the removal rolled back.
#[derive(Debug)]
pub(crate) struct Removed {
    pub cluster: Option<(ClusterRow, Set)>,
}

impl Change for ClusterDestroy {
    type Outcome = Removed;

    fn what(&self) -> &str {
        "removing the cluster"
    }

    async fn apply(&self, tx: &mut Tx<'_>) -> Result<Removed> {
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
        if !self.force {
            update
                .push(" AND ")
                .push_stmt(&references::cluster_unnamed_condition(tx.schema(), d));
        }
        let n = tx.execute(&update).await?;
        let set = Set {
            deleted: true,
            deleted_at: Some(d.timestamp(tx.now)),
            updated_at: Some(d.timestamp(tx.now)),
            race_preventer: Some(self.id),
        };
        Ok(Removed {
            cluster: before
                .into_iter()
                .next()
                .filter(|_| n == 1)
                .map(|c| (c, set)),
        })
    }

    /// A cluster that gained a service (or went) since the plan rolls back: exit 3.
    fn refuses(&self, outcome: &Removed) -> bool {
        outcome.cluster.is_none()
    }

    fn audit(&self, outcome: &Removed) -> Vec<(Event, Detail)> {
        outcome
            .cluster
            .iter()
            .map(|(c, set)| {
                (
                    Event::ClusterSoftDeleted,
                    Detail {
                        cluster: Some(ClusterRecord::new(c)),
                        set: Some(set.clone()),
                        ..Detail::default()
                    },
                )
            })
            .collect()
    }
}
