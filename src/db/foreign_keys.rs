//! The foreign keys that point at a services row, whatever the pointing row's own `deleted`
//! says: `volumes.service_uuid` -> `services.uuid` and `workers.service_id` -> `services.id`.
//! A hard delete of a row they name fails (and, in `cinder-manage db purge`, rolls back the
//! whole purge); `service purge` skips such rows instead. The same SQL serves the plan's
//! counts and the DELETE's `WHERE`, so the two cannot disagree.

use std::collections::HashMap;

use anyhow::Result;

use super::Db;
use super::schema::Schema;
use super::stmt::Stmt;

/// Rows naming one service through a foreign key, deleted or not, and how many of them are
/// live (a purge skips the service either way; what to do differs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, sqlx::FromRow)]
pub(crate) struct FkCounts {
    pub id: i64,
    pub volumes: i64,
    pub live_volumes: i64,
    pub workers: i64,
    pub live_workers: i64,
}

/// (column as messages name it, table, condition on alias `r` against the outer `services`).
fn kinds(schema: &Schema) -> Vec<(&'static str, &'static str, &'static str)> {
    let mut out = Vec::new();
    if schema.has("volumes", "service_uuid") && schema.has("services", "uuid") {
        out.push(("volumes", "volumes", "r.service_uuid = services.uuid"));
    }
    if schema.has("workers", "service_id") {
        out.push(("workers", "workers", "r.service_id = services.id"));
    }
    out
}

/// `NOT EXISTS (...) AND ...` on the outer `services` row: nothing names it by a foreign key.
pub(crate) fn unnamed_condition(schema: &Schema) -> String {
    let parts: Vec<String> = kinds(schema)
        .iter()
        .map(|(_, table, cond)| format!("NOT EXISTS (SELECT 1 FROM `{table}` r WHERE {cond})"))
        .collect();
    if parts.is_empty() {
        "1 = 1".into()
    } else {
        parts.join(" AND ")
    }
}

/// Per service id, the rows naming it by a foreign key. One statement for any number of ids.
pub(crate) async fn count(db: &mut Db, ids: &[i64]) -> Result<HashMap<i64, FkCounts>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let kinds = kinds(&db.schema);
    let schema = &db.schema;
    let column = |name: &str, live: bool| match kinds.iter().find(|k| k.0 == name) {
        Some((_, table, cond)) => {
            let only_live = if live && schema.has(table, "deleted") {
                "r.deleted = 0 AND "
            } else {
                ""
            };
            let alias = if live {
                format!("live_{name}")
            } else {
                name.into()
            };
            format!("(SELECT COUNT(*) FROM `{table}` r WHERE {only_live}{cond}) AS {alias}")
        }
        None if live => format!("0 AS live_{name}"),
        None => format!("0 AS {name}"),
    };
    let mut s = Stmt::new(format!(
        "SELECT services.id AS id, {}, {}, {}, {} FROM services WHERE services.id IN (",
        column("volumes", false),
        column("volumes", true),
        column("workers", false),
        column("workers", true),
    ));
    s.push_ids(ids.iter().copied()).push(")");
    let rows: Vec<FkCounts> = db
        .retrying("counting what still names the services", async |conn| {
            Ok(conn.fetch_all(&s).await?)
        })
        .await?;
    Ok(rows.into_iter().map(|c| (c.id, c)).collect())
}
