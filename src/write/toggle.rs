//! `service disable` / `service enable`: Cinder's `service_update` with `disabled` (what
//! `cinder service-disable --reason` and `service-enable` do): `disabled`, `disabled_reason`
//! (on disable; enable keeps it, as `service_update(disabled=False)` does), `modified_at = now`,
//! and `updated_at` left as it was, so the heartbeat, and with it up/down, is untouched. The
//! WHERE clause skips rows already in the wanted state (disabled with this very reason, or
//! enabled), which are reported, not rewritten; a disabled row with another reason gets the new
//! one and a new `modified_at`, as `disable-log-reason` does.

use std::collections::HashMap;

use anyhow::Result;

use super::{Change, Operation, Tx};
use crate::audit::{Detail, Event, ServiceRecord};
use crate::db::{Db, Dialect, Schema, Stmt};
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
        let new_reason = self
            .services
            .iter()
            .filter(|s| self.is_new_reason(s))
            .map(|s| s.row.id)
            .collect();
        vec![SetDisabled::new(
            ids,
            new_reason,
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
    /// Left alone: already in the wanted state, or disabled by someone else since the plan
    /// (their reason stands).
    pub unchanged: Vec<ServiceRow>,
    /// Deleted by someone else since the plan: refuses the whole change.
    pub already_gone: Vec<i64>,
}

/// Disable (with a reason) or enable the services with these ids.
pub(crate) struct SetDisabled<'a> {
    ids: Vec<i64>,
    /// Planned as disabled with another reason: they get this one.
    new_reason: Vec<i64>,
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
        mut new_reason: Vec<i64>,
        disable: bool,
        reason: Option<&'a str>,
        schema: &Schema,
        service_down_time: i64,
    ) -> SetDisabled<'a> {
        ids.sort_unstable();
        new_reason.sort_unstable();
        SetDisabled {
            ids,
            new_reason,
            disable,
            reason,
            has_modified_at: schema.has("services", "modified_at"),
            has_reason: schema.has("services", "disabled_reason"),
            service_down_time,
        }
    }

    /// Already as the write leaves it: disabled with this reason (where the column exists), or
    /// enabled. Compared exactly, as the WHERE clause compares.
    fn is_target(&self, row: &ServiceRow) -> bool {
        let disabled = row.disabled.unwrap_or(false);
        match self.reason.filter(|_| self.disable) {
            Some(r) => disabled && (!self.has_reason || row.disabled_reason.as_deref() == Some(r)),
            None => !disabled,
        }
    }

    /// The WHERE clause's "to change": enabled (to disable), or disabled (to enable); and the
    /// rows planned for a new reason while their reason is still another. A row the plan saw
    /// enabled and someone disabled since is left with their reason.
    fn to_change(&self, d: Dialect) -> Stmt {
        if !self.disable {
            return Stmt::new("disabled = 1");
        }
        let mut s = Stmt::new("((disabled = 0 OR disabled IS NULL)");
        if let (true, Some(r), false) = (self.has_reason, self.reason, self.new_reason.is_empty()) {
            s.push(" OR (id IN (")
                .push_list(self.new_reason.iter().copied())
                .push(") AND (disabled_reason IS NULL OR NOT (")
                .push_stmt(&d.eq_exact_value("disabled_reason", r))
                .push(")))");
        }
        s.push(")");
        s
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
        if let (true, Some(r)) = (self.has_reason, self.reason.filter(|_| self.disable)) {
            update.push(", disabled_reason = ").push_bind(r);
        }
        if self.has_modified_at {
            update.push(", modified_at = ").push_bind(tx.now);
        }
        update
            .push(" WHERE deleted = 0 AND id IN (")
            .push_ids(self.ids.iter().copied())
            .push(") AND ")
            .push_stmt(&self.to_change(tx.dialect()));
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
            } else if !self.is_target(&row) && now_target {
                out.changed.push(row);
            } else if self.is_target(&row) || (self.disable && row.disabled == Some(true)) {
                // As asked already, or disabled by someone else since the plan.
                out.unchanged.push(row);
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
