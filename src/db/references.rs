//! What still points at a service: live volumes, backups, groups, consistency groups, workers
//! and image-volume cache entries. The same SQL conditions serve the plan's counts and the
//! write's `WHERE NOT EXISTS`, so the plan and the write can never disagree.

use std::collections::HashMap;

use anyhow::Result;
use serde::Serialize;

use super::schema::Schema;
use super::stmt::Stmt;
use super::{Db, Dialect};
use crate::hosts::{LIKE_ESCAPE, like_literal};

/// Live rows pointing at one service (or backend), by table. The field names are the tables'
/// names and the columns of the counting statements.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub(crate) struct RefCounts {
    pub volumes: i64,
    pub backups: i64,
    pub groups: i64,
    pub consistencygroups: i64,
    pub workers: i64,
    pub image_volume_cache_entries: i64,
    /// The distinct hosts (`node@backend#pool`) of the live volumes counted, sorted: a
    /// refusal names them, so the operator knows which pools to move.
    #[sqlx(skip)]
    #[serde(skip)]
    pub volume_hosts: Vec<String>,
}

/// Every table `RefCounts` counts, in its field order.
const COUNTED: &[&str] = &[
    "volumes",
    "backups",
    "groups",
    "consistencygroups",
    "workers",
    "image_volume_cache_entries",
];

impl RefCounts {
    pub fn total(&self) -> i64 {
        self.volumes
            + self.backups
            + self.groups
            + self.consistencygroups
            + self.workers
            + self.image_volume_cache_entries
    }
}

/// One kind of reference: its table and the condition tying a row of it (alias `r`) to the
/// outer `services` row (or to the backend), with the condition's binds.
struct RefKind {
    table: &'static str,
    condition: Stmt,
}

fn quote(table: &str) -> String {
    // `groups` is a reserved word in MySQL 8; backticks work in both MySQL and SQLite.
    format!("`{table}`")
}

/// `r.deleted = 0 AND ` where the table has soft deletes.
fn live(schema: &Schema, table: &str) -> &'static str {
    if schema.has(table, "deleted") {
        "r.deleted = 0 AND "
    } else {
        ""
    }
}

/// The reference conditions this schema supports. A table or column an old release lacks is
/// simply not checked.
fn kinds(schema: &Schema, d: Dialect) -> Vec<RefKind> {
    // host, or host#pool: exact, never LIKE, so `_`/`%` in hosts match only themselves.
    let host_or_pool = format!(
        "{} OR {}",
        d.eq_exact("r.host", "services.host"),
        d.starts_with_then("r.host", "services.host", '#')
    );
    let on_host = |t: &str| format!("{}({host_or_pool})", live(schema, t));
    let mut out = Vec::new();
    let mut push = |table: &'static str, condition: String| {
        out.push(RefKind {
            table,
            condition: Stmt::new(condition),
        })
    };
    if schema.has("volumes", "host") {
        if schema.has("volumes", "service_uuid") && schema.has("services", "uuid") {
            push(
                "volumes",
                format!(
                    "{}({host_or_pool} OR r.service_uuid = services.uuid)",
                    live(schema, "volumes")
                ),
            );
        } else {
            push("volumes", on_host("volumes"));
        }
    }
    if schema.has("backups", "host") {
        // backups.host is the cinder-backup service's host; other binaries share the name
        // (node01's scheduler) but own no backups.
        push(
            "backups",
            format!(
                "{}services.`binary` = 'cinder-backup' AND {}",
                live(schema, "backups"),
                d.eq_exact("r.host", "services.host")
            ),
        );
    }
    for table in ["groups", "consistencygroups"] {
        if schema.has(table, "host") {
            push(table, on_host(table));
        }
    }
    if schema.has("workers", "service_id") {
        push(
            "workers",
            format!("{}r.service_id = services.id", live(schema, "workers")),
        );
    }
    if schema.has("image_volume_cache_entries", "host") {
        push(
            "image_volume_cache_entries",
            on_host("image_volume_cache_entries"),
        );
    }
    out
}

/// The tables whose `host` can name a backend (`node@backend`, `node@backend#pool`).
const BACKEND_TABLES: &[&str] = &[
    "volumes",
    "groups",
    "consistencygroups",
    "image_volume_cache_entries",
];

/// Live rows on any node of backend `key`: hosts `*@key` and `*@key#*`, by LIKE. On MySQL,
/// LIKE ignores case, so this may count more than Cinder would: for a refusal, erring that
/// way is the safe side.
fn backend_kinds(schema: &Schema, key: &str) -> Vec<RefKind> {
    let key = like_literal(key);
    BACKEND_TABLES
        .iter()
        .filter(|t| schema.has(t, "host"))
        .map(|t| {
            let mut condition = Stmt::new(format!("{}(r.host LIKE ", live(schema, t)));
            condition
                .push_bind(format!("%@{key}"))
                .push(&format!(" ESCAPE '{LIKE_ESCAPE}' OR r.host LIKE "))
                .push_bind(format!("%@{key}#%"))
                .push(&format!(" ESCAPE '{LIKE_ESCAPE}')"));
            RefKind {
                table: t,
                condition,
            }
        })
        .collect()
}

/// `NOT EXISTS (...) AND ...`: true for a row nothing live points at; "1 = 1" when the schema
/// has nothing to check. For a write's WHERE clause.
fn none_exist(kinds: &[RefKind]) -> Stmt {
    if kinds.is_empty() {
        return Stmt::new("1 = 1");
    }
    let parts: Vec<Stmt> = kinds
        .iter()
        .map(|k| {
            let mut s = Stmt::new(format!(
                "NOT EXISTS (SELECT 1 FROM {} r WHERE ",
                quote(k.table)
            ));
            s.push_stmt(&k.condition).push(")");
            s
        })
        .collect();
    Stmt::join(&parts, " AND ")
}

/// `(SELECT COUNT(*) ...) AS volumes, ..., 0 AS workers`: one column per `RefCounts` field,
/// zero for what the schema does not have.
fn count_columns(kinds: &[RefKind]) -> Stmt {
    let parts: Vec<Stmt> = COUNTED
        .iter()
        .map(|name| match kinds.iter().find(|k| k.table == *name) {
            Some(k) => {
                let mut s = Stmt::new(format!("(SELECT COUNT(*) FROM {} r WHERE ", quote(k.table)));
                s.push_stmt(&k.condition).push(&format!(") AS {name}"));
                s
            }
            None => Stmt::new(format!("0 AS {name}")),
        })
        .collect();
    Stmt::join(&parts, ", ")
}

/// The condition, on the outer `services` row, that nothing live points at it.
pub(crate) fn unreferenced_condition(schema: &Schema, d: Dialect) -> Stmt {
    none_exist(&kinds(schema, d))
}

/// The condition that nothing live sits on backend `key` on any node.
pub(crate) fn backend_unreferenced(schema: &Schema, key: &str) -> Stmt {
    none_exist(&backend_kinds(schema, key))
}

#[derive(sqlx::FromRow)]
struct IdCounts {
    id: i64,
    #[sqlx(flatten)]
    counts: RefCounts,
}

/// Counts, per service id, what still points at it. One statement for any number of ids.
pub(crate) async fn count(db: &mut Db, ids: &[i64]) -> Result<HashMap<i64, RefCounts>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut stmt = Stmt::new("SELECT services.id AS id, ");
    stmt.push_stmt(&count_columns(&kinds(&db.schema, db.dialect)))
        .push(" FROM services WHERE services.id IN (")
        .push_list(ids.iter().copied())
        .push(")");
    let rows: Vec<IdCounts> = db
        .retrying("counting what still uses the services", async |conn| {
            Ok(conn.fetch_all(&stmt).await?)
        })
        .await?;
    let mut counts: HashMap<i64, RefCounts> = rows.into_iter().map(|r| (r.id, r.counts)).collect();
    let with_volumes: Vec<i64> = counts
        .iter()
        .filter(|(_, c)| c.volumes > 0)
        .map(|(id, _)| *id)
        .collect();
    let volumes = kinds(&db.schema, db.dialect)
        .into_iter()
        .find(|k| k.table == "volumes");
    if let (false, Some(volumes)) = (with_volumes.is_empty(), volumes) {
        let mut stmt = Stmt::new(
            "SELECT DISTINCT services.id AS id, r.host AS host FROM services, volumes r WHERE services.id IN (",
        );
        stmt.push_list(with_volumes)
            .push(") AND (")
            .push_stmt(&volumes.condition)
            .push(") ORDER BY r.host");
        let hosts: Vec<IdHost> = db
            .retrying(
                "reading the hosts of the volumes on the services",
                async |conn| Ok(conn.fetch_all(&stmt).await?),
            )
            .await?;
        for h in hosts {
            if let (Some(c), Some(host)) = (counts.get_mut(&h.id), h.host) {
                c.volume_hosts.push(host);
            }
        }
    }
    Ok(counts)
}

#[derive(sqlx::FromRow)]
struct IdHost {
    id: i64,
    host: Option<String>,
}

#[derive(sqlx::FromRow)]
struct Host {
    host: Option<String>,
}

/// Counts the live rows on any node of backend `key`, by table. One statement.
pub(crate) async fn count_backend(db: &mut Db, key: &str) -> Result<RefCounts> {
    let kinds = backend_kinds(&db.schema, key);
    if kinds.is_empty() {
        return Ok(RefCounts::default());
    }
    let mut stmt = Stmt::new("SELECT ");
    stmt.push_stmt(&count_columns(&kinds));
    let mut counts: RefCounts = db
        .retrying("counting what still uses the backend", async |conn| {
            Ok(conn.fetch_one(&stmt).await?)
        })
        .await?;
    if let (true, Some(volumes)) = (
        counts.volumes > 0,
        kinds.iter().find(|k| k.table == "volumes"),
    ) {
        let mut stmt = Stmt::new("SELECT DISTINCT r.host AS host FROM volumes r WHERE ");
        stmt.push_stmt(&volumes.condition).push(" ORDER BY r.host");
        let hosts: Vec<Host> = db
            .retrying(
                "reading the hosts of the volumes on the backend",
                async |conn| Ok(conn.fetch_all(&stmt).await?),
            )
            .await?;
        counts.volume_hosts = hosts.into_iter().filter_map(|h| h.host).collect();
    }
    Ok(counts)
}
