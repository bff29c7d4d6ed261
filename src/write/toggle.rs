//! `service disable` / `service enable`: Cinder's `service_update` with `disabled` (what
//! `cinder service-disable --reason` and `service-enable` do): `disabled`, `disabled_reason`
//! (cleared on enable), `modified_at = now`, and `updated_at` left as it was, so the heartbeat,
//! and with it up/down, is untouched. The WHERE clause skips rows already in the wanted state,
//! which are reported, not rewritten.

use std::collections::HashMap;

use anyhow::Result;

use super::{Change, Operation, Tx};
use crate::audit::{Detail, Event, ServiceRecord};
use crate::db::{Db, Schema, Stmt};
use crate::model::{Service, ServiceRow};
use crate::plan::Decision;
use crate::plan::toggle::Plan;

impl Operation for Plan {
    type Outcome = Toggled;
    type Change<'a> = SetDisabled<'a>;

    fn decide(&self, _force: bool) -> Decision {
        Plan::decide(self)
    }

    fn changes<'a>(&'a self, db: &Db, _force: bool) -> Vec<SetDisabled<'a>> {
        let ids = self.services.iter().map(|s| s.row.id).collect();
        vec![SetDisabled::new(
            ids,
            self.disable(),
            self.reason.as_deref(),
            &db.schema,
            self.service_down_time,
        )]
    }
}

/// What the write did to each planned service.
#[derive(Debug, Clone, Default)]
pub(crate) struct Toggled {
    /// Changed, as they were just before.
    pub changed: Vec<ServiceRow>,
    /// Already in the wanted state: left alone.
    pub unchanged: Vec<ServiceRow>,
    /// Deleted by someone else since the plan: refuses the whole change.
    pub already_gone: Vec<i64>,
}

/// Disable (with a reason) or enable the services with these ids.
pub(crate) struct SetDisabled<'a> {
    ids: Vec<i64>,
    disable: bool,
    reason: Option<&'a str>,
    has_modified_at: bool,
    has_reason: bool,
    /// How the audit records judge the rows (`[DEFAULT] service_down_time`).
    service_down_time: i64,
}

impl<'a> SetDisabled<'a> {
    pub fn new(
        mut ids: Vec<i64>,
        disable: bool,
        reason: Option<&'a str>,
        schema: &Schema,
        service_down_time: i64,
    ) -> SetDisabled<'a> {
        ids.sort_unstable();
        SetDisabled {
            ids,
            disable,
            reason,
            has_modified_at: schema.has("services", "modified_at"),
            has_reason: schema.has("services", "disabled_reason"),
            service_down_time,
        }
    }

    fn is_target(&self, row: &ServiceRow) -> bool {
        row.disabled.unwrap_or(false) == self.disable
    }
}

impl Change for SetDisabled<'_> {
    type Outcome = Toggled;

    fn what(&self) -> &str {
        if self.disable {
            "disabling services"
        } else {
            "enabling services"
        }
    }

    async fn apply(&self, tx: &mut Tx<'_>) -> Result<Toggled> {
        let before = tx.lock_services(&self.ids).await?;
        let mut update = Stmt::new(if self.disable {
            "UPDATE services SET disabled = 1"
        } else {
            "UPDATE services SET disabled = 0"
        });
        if self.has_reason {
            update.push(", disabled_reason = ");
            match self.reason.filter(|_| self.disable) {
                Some(r) => update.push_bind(r),
                None => update.push("NULL"),
            };
        }
        if self.has_modified_at {
            update.push(", modified_at = ").push_bind(tx.now);
        }
        update
            .push(" WHERE deleted = 0 AND id IN (")
            .push_list(self.ids.iter().copied())
            .push(if self.disable {
                ") AND (disabled = 0 OR disabled IS NULL)"
            } else {
                ") AND disabled = 1"
            });
        tx.execute(&update).await?;
        let after: HashMap<i64, ServiceRow> = tx
            .lock_services(&self.ids)
            .await?
            .into_iter()
            .map(|r| (r.id, r))
            .collect();
        let mut out = Toggled::default();
        for row in before {
            let now_target = after.get(&row.id).is_some_and(|a| self.is_target(a));
            if row.deleted != Some(false) {
                out.already_gone.push(row.id);
            } else if self.is_target(&row) {
                out.unchanged.push(row);
            } else if now_target {
                out.changed.push(row);
            } else {
                anyhow::bail!("service {} was not updated though it was locked", row.id);
            }
        }
        // Ids no longer in the table at all (purged meanwhile).
        for id in &self.ids {
            if !after.contains_key(id) && !out.already_gone.contains(id) {
                out.already_gone.push(*id);
            }
        }
        Ok(out)
    }

    fn refuses(&self, outcome: &Toggled) -> bool {
        !outcome.already_gone.is_empty()
    }

    fn audit(&self, outcome: &Toggled) -> Vec<(Event, Detail)> {
        let event = if self.disable {
            Event::ServiceDisabled
        } else {
            Event::ServiceEnabled
        };
        outcome
            .changed
            .iter()
            .map(|row| {
                let judged = Service::judge(
                    row.clone(),
                    chrono::Utc::now().naive_utc(),
                    self.service_down_time,
                );
                (
                    event,
                    Detail {
                        service: Some(ServiceRecord::new(&judged, None)),
                        disabled_reason: self.reason.filter(|_| self.disable).map(String::from),
                        ..Detail::default()
                    },
                )
            })
            .collect()
    }
}
