//! Undoing a soft delete svcctl made (`service restore`): `deleted = 0, deleted_at = NULL`,
//! `updated_at` as the deletion's audit line recorded it, for services and for the clusters the
//! same transaction soft-deleted (`race_preventer = 0` again). Each UPDATE's WHERE clause holds
//! the plan's conditions: the row is still exactly as the deletion left it (its `deleted_at` is
//! the one svcctl wrote), it is the row the record names (host, binary and uuid; a cluster's
//! name and binary), and no live row exists for the same service (cluster) again. Any row
//! that fails them rolls the whole restore back: exit 3, nothing changed.

use anyhow::Result;

use super::{Change, Operation, Tx};
use crate::audit::{ClusterRecord, Detail, Event, ServiceRecord, Set};
use crate::db::clusters::ClusterRow;
use crate::db::{Db, Dialect, Schema, Stmt};
use crate::model::{Service, ServiceRow};
use crate::plan::Decision;
use crate::plan::restore::{DeletedCluster, DeletedService, Plan};

impl Operation for Plan {
    type Outcome = Restored;
    type Change<'a> = Restore<'a>;

    fn decide(&self, _force: bool) -> Decision {
        Plan::decide(self)
    }

    fn changes<'a>(&'a self, _db: &Db, _force: bool) -> Vec<Restore<'a>> {
        vec![Restore { plan: self }]
    }
}

/// The restore of what a plan allows (a plan with refusals is never written).
pub(crate) struct Restore<'a> {
    plan: &'a Plan,
}

/// A row the restore found no longer as the plan saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Changed {
    Service {
        id: i64,
        binary: String,
        host: String,
    },
    Cluster {
        id: i64,
        name: String,
    },
}

/// What the restore did: the rows as they were just before it (still deleted), and what it
/// set; or, when it rolled back, the rows that changed since the plan.
#[derive(Debug, Default)]
pub(crate) struct Restored {
    pub services: Vec<(Service, Set)>,
    pub clusters: Vec<(ClusterRow, Set)>,
    pub changed: Vec<Changed>,
}

/// `NOT EXISTS` a live row other than the outer one with the same `cols`, compared exactly.
/// Read through a derived table: MySQL refuses a subquery on the table being updated.
fn no_live_twin(d: Dialect, table: &str, cols: &[&str]) -> String {
    let same: Vec<String> = cols
        .iter()
        .map(|c| d.eq_exact(&format!("live.{c}"), &format!("{table}.{c}")))
        .collect();
    format!(
        "NOT EXISTS (SELECT 1 FROM (SELECT DISTINCT id, {} FROM {table} WHERE deleted = 0) live \
         WHERE live.id <> {table}.id AND {})",
        cols.join(", "),
        same.join(" AND ")
    )
}

/// `AND col = value` (exactly; `IS NULL` for None) for each identifying column the record
/// names: the row with the recorded id is restored only if it is the row the record describes.
fn as_recorded(d: Dialect, cols: &[(&str, Option<&str>)]) -> Stmt {
    let mut s = Stmt::default();
    for (col, value) in cols {
        s.push(" AND ");
        match value {
            Some(v) => s.push_stmt(&d.eq_exact_value(col, *v)),
            None => s.push(&format!("{col} IS NULL")),
        };
    }
    s
}

/// `UPDATE <table> SET deleted = 0, deleted_at = NULL, updated_at = <as before><extra>
/// WHERE id = ? AND deleted = 1 AND deleted_at = <as written> AND <as recorded> AND <no live
/// twin>`.
#[allow(clippy::too_many_arguments)]
fn update(
    d: Dialect,
    table: &str,
    extra_set: &str,
    twin_cols: &[&str],
    id: i64,
    deleted_at: chrono::NaiveDateTime,
    updated_at: Option<chrono::NaiveDateTime>,
    recorded: &[(&str, Option<&str>)],
) -> Stmt {
    let mut s = Stmt::new(format!(
        "UPDATE {table} SET deleted = 0, deleted_at = NULL, updated_at = "
    ));
    match updated_at {
        Some(t) => s.push_bind(t),
        None => s.push("NULL"),
    };
    s.push(extra_set)
        .push(" WHERE id = ")
        .push_bind(id)
        .push(" AND deleted = 1 AND deleted_at = ")
        .push_bind(deleted_at)
        .push_stmt(&as_recorded(d, recorded))
        .push(" AND ")
        .push(&no_live_twin(d, table, twin_cols));
    s
}

/// The cluster's state as its deletion recorded it (`plan::restore::cluster_state_changed`'s
/// twin): so it comes back exactly as it was deleted.
/// Columns an old schema lacks are not compared (the plan read them as NULL).
fn cluster_state(d: Dialect, schema: &Schema, r: &ClusterRecord) -> Stmt {
    let mut parts = Vec::new();
    for (col, on) in [
        ("disabled", r.is_disabled()),
        ("frozen", r.frozen.unwrap_or(false)),
    ] {
        if schema.has("clusters", col) {
            let mut s = Stmt::new(format!("COALESCE({col}, 0) = "));
            s.push_bind(i64::from(on));
            parts.push(s);
        }
    }
    for (col, v) in [
        ("disabled_reason", &r.disabled_reason),
        ("replication_status", &r.replication_status),
        ("active_backend_id", &r.active_backend_id),
    ] {
        if schema.has("clusters", col) {
            parts.push(d.same_value(col, v.as_deref()));
        }
    }
    parts.push(Stmt::new("1 = 1"));
    Stmt::join(&parts, " AND ")
}

/// What the restore sets, as stored.
fn set(d: Dialect, updated_at: Option<chrono::NaiveDateTime>, race_preventer: Option<i64>) -> Set {
    Set {
        deleted: false,
        deleted_at: None,
        updated_at: updated_at.map(|t| d.timestamp(t)),
        race_preventer,
    }
}

impl Change for Restore<'_> {
    type Outcome = Restored;

    fn what(&self) -> &str {
        "restoring services"
    }

    async fn apply(&self, tx: &mut Tx<'_>) -> Result<Restored> {
        let d = tx.dialect();
        let services: Vec<&DeletedService> =
            self.plan.services.iter().map(|i| &i.deleted).collect();
        let mut ids: Vec<i64> = services.iter().map(|s| s.record.id).collect();
        ids.sort_unstable();
        let before: Vec<ServiceRow> = if ids.is_empty() {
            Vec::new()
        } else {
            tx.lock_services(&ids).await?
        };
        let mut out = Restored::default();
        let with_uuid = tx.schema().has("services", "uuid");
        for s in services {
            let r = &s.record;
            let mut recorded = vec![
                ("host", r.host.as_deref()),
                ("`binary`", r.binary.as_deref()),
            ];
            if with_uuid {
                recorded.push(("uuid", r.uuid.as_deref()));
            }
            let n = tx
                .execute(&update(
                    d,
                    "services",
                    "",
                    &["host", "`binary`"],
                    s.record.id,
                    s.deleted_at,
                    s.updated_at,
                    &recorded,
                ))
                .await?;
            match (n, before.iter().find(|r| r.id == s.record.id)) {
                // Still deleted: never up, whatever service_down_time says.
                (1, Some(row)) => out.services.push((
                    Service::judge(row.clone(), tx.now, 0),
                    set(d, s.updated_at, None),
                )),
                _ => out.changed.push(Changed::Service {
                    id: s.record.id,
                    binary: s.record.binary.clone().unwrap_or_default(),
                    host: s.record.host.clone().unwrap_or_default(),
                }),
            }
        }
        let list: Vec<&DeletedCluster> = self.plan.clusters.iter().map(|i| &i.deleted).collect();
        let mut cids: Vec<i64> = list.iter().map(|c| c.record.id).collect();
        cids.sort_unstable();
        let before = tx.lock_clusters(&cids).await?;
        for c in list {
            let mut stmt = update(
                d,
                "clusters",
                ", race_preventer = 0",
                &["name", "`binary`"],
                c.record.id,
                c.deleted_at,
                c.updated_at,
                &[
                    ("name", Some(c.record.name.as_str())),
                    ("`binary`", Some(c.record.binary.as_str())),
                ],
            );
            stmt.push(" AND ")
                .push_stmt(&cluster_state(d, tx.schema(), &c.record));
            let n = tx.execute(&stmt).await?;
            match (n, before.iter().find(|r| r.id == c.record.id)) {
                (1, Some(row)) => out
                    .clusters
                    .push((row.clone(), set(d, c.updated_at, Some(0)))),
                _ => out.changed.push(Changed::Cluster {
                    id: c.record.id,
                    name: c.record.name.clone(),
                }),
            }
        }
        Ok(out)
    }

    /// All or nothing: one row no longer as the plan saw it keeps them all.
    fn refuses(&self, outcome: &Restored) -> bool {
        !outcome.changed.is_empty()
    }

    fn audit(&self, outcome: &Restored) -> Vec<(Event, Detail)> {
        let restores = Some(self.plan.txn.clone());
        let services = outcome.services.iter().map(|(s, set)| {
            (
                Event::ServiceRestored,
                Detail {
                    service: Some(ServiceRecord::new(s, None)),
                    set: Some(set.clone()),
                    restores: restores.clone(),
                    ..Detail::default()
                },
            )
        });
        let clusters = outcome.clusters.iter().map(|(c, set)| {
            (
                Event::ClusterRestored,
                Detail {
                    cluster: Some(ClusterRecord::new(c)),
                    set: Some(set.clone()),
                    restores: restores.clone(),
                    ..Detail::default()
                },
            )
        });
        services.chain(clusters).collect()
    }
}
