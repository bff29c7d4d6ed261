//! A host move (`volume move-host`, `backup move-host`, and their `--undo`): each planned row
//! gets its new host, service uuid, cluster and (volumes) zone in one transaction, by one
//! UPDATE per row whose WHERE clause repeats the plan's conditions (still live, still on the
//! planned host and in the planned zone, not busy, the service uuid it gets still live, the
//! target service still live and, unless `--force`, up, enabled, not frozen and in the planned
//! zone), so that a row that changed after the plan stays where it is and is reported. Rows
//! that appeared on FROM after the plan are found and reported too; Cinder's ORM stamps
//! `updated_at`, and so does the move.

use std::collections::HashMap;

use anyhow::Result;

use super::{Change, Operation, Tx};
use crate::audit::{Detail, Event, Placement};
use crate::db::clusters;
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
    /// Its service uuid or cluster is no longer what the undo's record says.
    PlacementChanged,
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
    /// An undo, which puts rows back as its move found them.
    fn undo(&self) -> bool {
        self.plan.undo_of.is_some()
    }

    /// `SET host = ?, service_uuid = ?, cluster_name = ?, availability_zone = ?, updated_at = ?`
    /// for the columns the table has (the zone where the move sets it).
    fn set(&self, m: &Move, now: chrono::NaiveDateTime) -> Stmt {
        let mut s = Stmt::new(format!("UPDATE `{}` SET host = ", m.table));
        s.push_bind(m.new.host.as_deref());
        if self.schema.has(m.table, "service_uuid") {
            s.push(", service_uuid = ")
                .push_bind(m.new.service_uuid.as_deref());
        }
        if self.schema.has(m.table, "cluster_name") {
            s.push(", cluster_name = ")
                .push_bind(m.new.cluster_name.as_deref());
        }
        if m.sets_zone(self.undo()) && self.schema.has(m.table, "availability_zone") {
            s.push(", availability_zone = ")
                .push_bind(m.new.availability_zone.as_deref());
        }
        if self.schema.has(m.table, "updated_at") {
            s.push(", updated_at = ").push_bind(now);
        }
        s
    }

    /// The target service as the plan judged it, on the outer `services s`: still live; unless
    /// `--force` (or for an undo), still up, not disabled, not frozen (by its cluster's flags
    /// when it is in one, as Cinder reads them) and in the same zone.
    fn target_guard(&self, id: i64, d: Dialect) -> Stmt {
        let mut s = Stmt::new("EXISTS (SELECT 1 FROM services s WHERE s.id = ");
        s.push_bind(id).push(" AND s.deleted = 0");
        if let Some(since) = self.plan.target_alive_since {
            let hb = "COALESCE(s.updated_at, s.created_at)";
            s.push(&format!(" AND {hb} IS NOT NULL AND NOT ("))
                .push_stmt(&d.before(hb, since))
                .push(")");
        }
        if !self.plan.force && !self.undo() {
            for flag in ["disabled", "frozen"] {
                if self.schema.has("services", flag) {
                    s.push(" AND NOT ").push(&self.flagged(flag, d));
                }
            }
            let zone = self.plan.target.as_ref();
            let zone = zone.and_then(|t| t.service.row.availability_zone.as_deref());
            if self.schema.has("services", "availability_zone") {
                s.push(" AND ")
                    .push_stmt(&d.same_value("s.availability_zone", zone));
            }
        }
        s.push(")");
        s
    }

    /// The SQL twin of `Flagged`: service `s` is `flag` (disabled, frozen) as Cinder's
    /// scheduler sees it: a clustered one by its live cluster's flag
    /// (cinder/db/api.py `_clustered_bool_field_filter`), any other by its own.
    fn flagged(&self, flag: &str, d: Dialect) -> String {
        if !clusters::supported(&self.schema) || !self.schema.has("clusters", flag) {
            return format!("COALESCE(s.{flag}, 0) = 1");
        }
        format!(
            "((s.cluster_name IS NULL AND COALESCE(s.{flag}, 0) = 1) OR (s.cluster_name IS NOT \
             NULL AND EXISTS (SELECT 1 FROM clusters c WHERE c.deleted = 0 AND c.{flag} = 1 AND \
             {} AND {})))",
            d.eq_exact("c.name", "s.cluster_name"),
            d.eq_exact("c.`binary`", "s.`binary`")
        )
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
        parts.push(d.same_value("host", m.old.host.as_deref()));
        if m.sets_zone(self.undo()) && self.schema.has(t, "availability_zone") {
            parts.push(d.same_value("availability_zone", m.old.availability_zone.as_deref()));
        }
        // The service uuid it gets names a live service: a volume never points at a deleted
        // one (which `cinder-manage db purge` would trip on).
        if let (Some(uuid), true) = (&m.new.service_uuid, self.schema.has(t, "service_uuid")) {
            let mut s =
                Stmt::new("EXISTS (SELECT 1 FROM services s WHERE s.deleted = 0 AND s.uuid = ");
            s.push_bind(uuid.as_str()).push(")");
            parts.push(s);
        }
        parts.extend(self.as_recorded(m, d));
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
            parts.push(self.target_guard(target.service.row.id, d));
        }
        Stmt::join(&parts, " AND ")
    }
}

impl MoveHost<'_> {
    /// An undo moves a row back only while it is exactly where its record says the move put it:
    /// its service uuid and cluster too, not only its host (the plan checked them; this holds
    /// them until COMMIT).
    fn as_recorded(&self, m: &Move, d: Dialect) -> Vec<Stmt> {
        if self.plan.undo_of.is_none() {
            return Vec::new();
        }
        [
            ("service_uuid", m.old.service_uuid.as_deref()),
            ("cluster_name", m.old.cluster_name.as_deref()),
        ]
        .into_iter()
        .filter(|(col, _)| self.schema.has(m.table, col))
        .map(|(col, v)| match v {
            Some(v) => d.eq_exact_value(col, v),
            None => Stmt::new(format!("{col} IS NULL")),
        })
        .collect()
    }
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
                    old: Placement {
                        availability_zone: m.old.availability_zone.clone(),
                        ..placement_of(m.table, row)
                    },
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
    if row.service_uuid != m.old.service_uuid || row.cluster_name != m.old.cluster_name {
        return NotMoved::PlacementChanged;
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
        "image_volume_cache_entries" => Event::ImageVolumeCacheEntryHostMoved,
        _ => Event::ConsistencygroupHostMoved,
    }
}
