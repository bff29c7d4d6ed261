//! A host move (`volume move-host`, `backup move-host`, and their `--undo`): each planned row
//! gets its new host, service uuid and cluster in one transaction, by one UPDATE per row whose
//! WHERE clause repeats the plan's conditions (still live, still on the planned host, not
//! busy, the target service still live and, unless `--force`, up), so that a row that changed
//! after the plan stays where it is and is reported. Rows that appeared on FROM after the plan
//! are found and reported too; Cinder's ORM stamps `updated_at`, and so does the move.

use std::collections::HashMap;

use anyhow::Result;

use super::{Change, Operation, Tx};
use crate::audit::{Detail, Event};
use crate::db::hosted::{self, HostedRow};
use crate::db::{Db, Dialect, Schema, Stmt};
use crate::plan::Decision;
use crate::plan::move_host::{
    Busy, Move, Plan, SETTLED_MIGRATION, busy, busy_statuses, placement_of,
};

impl Operation for Plan {
    type Outcome = Moved;
    type Change<'a> = MoveHost<'a>;

    fn decide(&self, force: bool) -> Decision {
        Plan::decide(self, force)
    }

    fn changes<'a>(&'a self, db: &Db, _force: bool) -> Vec<MoveHost<'a>> {
        vec![MoveHost {
            plan: self,
            schema: db.schema.clone(),
        }]
    }
}

/// Why the guarded UPDATE left a planned row where it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NotMoved {
    /// Deleted since the plan.
    Gone,
    /// Its host changed since the plan (to this).
    HostChanged(String),
    /// It became busy since the plan.
    Busy(Busy),
    /// The target service went down or away since the plan.
    TargetGone,
}

/// What the write did.
#[derive(Debug, Clone, Default)]
pub(crate) struct Moved {
    /// Moved, with the values each row had just before (`old`).
    pub moved: Vec<Move>,
    /// Planned but left where it is, and why (it changed after the plan).
    pub not_moved: Vec<(Move, NotMoved)>,
    /// On FROM after the write but not in the plan (created or moved there meanwhile).
    pub appeared: Vec<(&'static str, HostedRow)>,
    /// The transaction, as `--undo` takes it.
    pub txn: String,
}

/// The move (or its undo) of every row the plan moves: one transaction.
pub(crate) struct MoveHost<'a> {
    plan: &'a Plan,
    schema: Schema,
}

impl MoveHost<'_> {
    /// `SET host = ?, service_uuid = ?, cluster_name = ?, updated_at = ?` for the columns the
    /// table has.
    fn set(&self, m: &Move, now: chrono::NaiveDateTime) -> Stmt {
        let mut s = Stmt::new(format!("UPDATE `{}` SET host = ", m.table));
        push_opt(&mut s, m.new.host.as_deref());
        if self.schema.has(m.table, "service_uuid") {
            s.push(", service_uuid = ");
            push_opt(&mut s, m.new.service_uuid.as_deref());
        }
        if self.schema.has(m.table, "cluster_name") {
            s.push(", cluster_name = ");
            push_opt(&mut s, m.new.cluster_name.as_deref());
        }
        if self.schema.has(m.table, "updated_at") {
            s.push(", updated_at = ").push_bind(now);
        }
        s
    }

    /// The plan's conditions on one row, for the UPDATE's WHERE clause.
    fn guard(&self, m: &Move, d: Dialect) -> Stmt {
        let t = m.table;
        let mut parts = Vec::new();
        let mut id = Stmt::new("id = ");
        id.push_bind(m.id.as_str());
        parts.push(id);
        if self.schema.has(t, "deleted") {
            parts.push(Stmt::new("deleted = 0"));
        }
        parts.push(match m.old.host.as_deref() {
            Some(h) => d.eq_exact_value("host", h),
            None => Stmt::new("host IS NULL"),
        });
        if self.schema.has(t, "status") {
            let mut s = Stmt::new("(status IS NULL OR status NOT IN (");
            s.push_list(busy_statuses(t).iter().copied()).push("))");
            parts.push(s);
        }
        if self.schema.has(t, "migration_status") {
            let mut s = Stmt::new("(migration_status IS NULL OR migration_status IN (");
            s.push_list(SETTLED_MIGRATION.iter().copied()).push("))");
            parts.push(s);
        }
        if let Some(target) = &self.plan.target {
            let mut s = Stmt::new("EXISTS (SELECT 1 FROM services s WHERE s.id = ");
            s.push_bind(target.service.row.id)
                .push(" AND s.deleted = 0");
            if let Some(since) = self.plan.target_alive_since {
                let hb = "COALESCE(s.updated_at, s.created_at)";
                s.push(&format!(" AND {hb} IS NOT NULL AND NOT ("))
                    .push_stmt(&d.before(hb, since))
                    .push(")");
            }
            s.push(")");
            parts.push(s);
        }
        Stmt::join(&parts, " AND ")
    }
}

fn push_opt(s: &mut Stmt, v: Option<&str>) {
    match v {
        Some(v) => s.push_bind(v),
        None => s.push("NULL"),
    };
}

impl Change for MoveHost<'_> {
    type Outcome = Moved;

    fn what(&self) -> &str {
        "moving rows to the new host"
    }

    async fn apply(&self, tx: &mut Tx<'_>) -> Result<Moved> {
        let d = tx.dialect();
        if let Some(target) = &self.plan.target {
            // Nobody deletes the target while the rows move onto it.
            tx.lock_services(&[target.service.row.id]).await?;
        }
        // Lock the planned rows and see them as they are now, table by table.
        let mut locked: HashMap<(&str, String), HostedRow> = HashMap::new();
        for table in self.plan.kind.tables() {
            let ids: Vec<&str> = self
                .plan
                .moves
                .iter()
                .filter(|m| m.table == *table)
                .map(|m| m.id.as_str())
                .collect();
            let (conn, schema) = tx.conn_schema();
            for row in hosted::lock_by_ids(conn, schema, table, &ids).await? {
                locked.insert((table, row.id.clone()), row);
            }
        }
        let mut out = Moved {
            txn: tx.txn.clone(),
            ..Moved::default()
        };
        for m in &self.plan.moves {
            let mut update = self.set(m, tx.now);
            update.push(" WHERE ").push_stmt(&self.guard(m, d));
            let n = tx.execute(&update).await?;
            let now = locked.get(&(m.table, m.id.clone()));
            match (n, now) {
                (1, Some(row)) => out.moved.push(Move {
                    old: placement_of(row),
                    ..m.clone()
                }),
                (_, row) => out.not_moved.push((m.clone(), why_not(m, row))),
            }
        }
        if self.plan.undo_of.is_none() {
            let kept: Vec<&str> = out.not_moved.iter().map(|(m, _)| m.id.as_str()).collect();
            for table in self.plan.kind.tables() {
                let (conn, schema) = tx.conn_schema();
                let still =
                    hosted::on_host(conn, schema, table, &self.plan.from, self.plan.kind.pools())
                        .await?;
                out.appeared.extend(
                    still
                        .into_iter()
                        .filter(|r| !kept.contains(&r.id.as_str()))
                        .map(|r| (*table, r)),
                );
            }
        }
        Ok(out)
    }

    /// All or nothing: a planned row that changed since the plan, or a row that appeared on
    /// FROM meanwhile, rolls the whole move back.
    fn refuses(&self, outcome: &Moved) -> bool {
        !outcome.not_moved.is_empty() || !outcome.appeared.is_empty()
    }

    fn audit(&self, outcome: &Moved) -> Vec<(Event, Detail)> {
        outcome
            .moved
            .iter()
            .map(|m| {
                (
                    event(m.table),
                    Detail {
                        table: Some(m.table.to_string()),
                        id: Some(m.id.clone()),
                        old: Some(m.old.clone()),
                        new: Some(m.new.clone()),
                        ..Detail::default()
                    },
                )
            })
            .collect()
    }
}

/// Why the guarded UPDATE left a planned row where it was.
fn why_not(m: &Move, row: Option<&HostedRow>) -> NotMoved {
    let Some(row) = row else {
        return NotMoved::Gone;
    };
    if row.host != m.old.host {
        return NotMoved::HostChanged(row.host().to_string());
    }
    if let Some(why) = busy(m.table, row) {
        return NotMoved::Busy(why);
    }
    NotMoved::TargetGone
}

/// The audit event of a row of `table` moved.
pub(crate) fn event(table: &str) -> Event {
    match table {
        "volumes" => Event::VolumeHostMoved,
        "backups" => Event::BackupHostMoved,
        "groups" => Event::GroupHostMoved,
        _ => Event::ConsistencygroupHostMoved,
    }
}
