//! `service disable|enable --cluster`: Cinder's cluster disable and enable (cinder/api/v3/
//! clusters.py `_update`, saved by cinder/db/api.py `cluster_update`): `disabled`,
//! `disabled_reason` (NULL on enable) and `updated_at = now`, which the ORM stamps on every
//! UPDATE of a cluster. A cluster deleted since the plan rolls the change back: exit 3.

use anyhow::Result;

use super::{Change, Operation, Tx};
use crate::audit::{ClusterRecord, Detail, Event};
use crate::db::clusters::ClusterRow;
use crate::db::{Db, Stmt};
use crate::plan::{Decision, cluster_toggle::Plan};

impl Operation for Plan {
    /// The cluster as it was just before; None when it went since the plan.
    type Outcome = Option<ClusterRow>;
    type Change<'a> = &'a Plan;

    fn decide(&self, _force: bool) -> Decision {
        let matched = usize::from(self.cluster.is_some());
        Decision::unrefused(matched, matched - usize::from(self.is_done()))
    }

    fn changes<'a>(&'a self, _db: &Db, _force: bool) -> Vec<&'a Plan> {
        self.cluster.iter().map(|_| self).collect()
    }
}

impl Change for &Plan {
    type Outcome = Option<ClusterRow>;

    fn what(&self) -> &str {
        "updating the cluster"
    }

    async fn apply(&self, tx: &mut Tx<'_>) -> Result<Option<ClusterRow>> {
        let id = self.cluster.as_ref().map_or(0, |c| c.id);
        let before = tx.lock_clusters(&[id]).await?;
        let (disabled, why) = (i64::from(self.reason.is_some()), self.reason.clone());
        let mut update = Stmt::new("UPDATE clusters SET disabled = ");
        update.push_bind(disabled);
        update.push(", disabled_reason = ").push_bind(why);
        update.push(", updated_at = ").push_bind(tx.now);
        update.push(" WHERE deleted = 0 AND id = ").push_bind(id);
        let n = tx.execute(&update).await?;
        Ok(before.into_iter().next().filter(|_| n == 1))
    }

    fn refuses(&self, outcome: &Option<ClusterRow>) -> bool {
        outcome.is_none()
    }

    fn audit(&self, outcome: &Option<ClusterRow>) -> Vec<(Event, Detail)> {
        let event = match self.reason {
            Some(_) => Event::ClusterDisabled,
            None => Event::ClusterEnabled,
        };
        let detail = |c| Detail {
            cluster: Some(ClusterRecord::new(c)),
            disabled_reason: self.reason.clone(),
            ..Detail::default()
        };
        outcome.iter().map(|c| (event, detail(c))).collect()
    }
}
