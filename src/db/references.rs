//! What still points at a service: live volumes, backups, groups, consistency groups, workers
//! and image-volume cache entries. The same SQL conditions serve the plan's counts and the
//! delete's `WHERE NOT EXISTS`, so the plan and the write can never disagree.

use std::collections::HashMap;

use anyhow::Result;
use serde::Serialize;
use sqlx::Row;

use super::schema::Schema;
use super::services::placeholders;
use super::{Db, Dialect, sql};

/// Live rows pointing at one service, by table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RefCounts {
    pub volumes: i64,
    pub backups: i64,
    pub groups: i64,
    pub consistencygroups: i64,
    pub workers: i64,
    pub image_volume_cache_entries: i64,
}

impl RefCounts {
    pub fn total(&self) -> i64 {
        self.volumes
            + self.backups
            + self.groups
            + self.consistencygroups
            + self.workers
            + self.image_volume_cache_entries
    }

    /// `3 volumes, 1 backup`: the non-zero counts.
    pub fn describe(&self) -> String {
        let parts: Vec<String> = [
            (self.volumes, "volume", "volumes"),
            (self.backups, "backup", "backups"),
            (self.groups, "group", "groups"),
            (
                self.consistencygroups,
                "consistency group",
                "consistency groups",
            ),
            (self.workers, "worker", "workers"),
            (
                self.image_volume_cache_entries,
                "image cache entry",
                "image cache entries",
            ),
        ]
        .iter()
        .filter(|(n, _, _)| *n > 0)
        .map(|(n, one, many)| format!("{n} {}", if *n == 1 { one } else { many }))
        .collect();
        parts.join(", ")
    }
}

/// One kind of reference: the table, its JSON name, and the condition tying a row of it (alias
/// `r`) to the outer `services` row.
struct RefKind {
    name: &'static str,
    table: &'static str,
    condition: String,
}

/// The reference conditions this schema supports. A table or column an old release lacks is
/// simply not checked.
fn kinds(schema: &Schema, d: Dialect) -> Vec<RefKind> {
    let live = |t: &str| {
        if schema.has(t, "deleted") {
            "r.deleted = 0 AND ".to_string()
        } else {
            String::new()
        }
    };
    // host, or host#pool: exact, never LIKE, so `_`/`%` in hosts match only themselves.
    let on_host = |t: &str| {
        format!(
            "{}({} OR {})",
            live(t),
            d.eq_exact("r.host", "services.host"),
            d.starts_with_then("r.host", "services.host", '#')
        )
    };
    let mut out = Vec::new();
    if schema.has("volumes", "host") {
        let mut cond = on_host("volumes");
        if schema.has("volumes", "service_uuid") && schema.has("services", "uuid") {
            cond = format!(
                "{}({} OR {} OR r.service_uuid = services.uuid)",
                live("volumes"),
                d.eq_exact("r.host", "services.host"),
                d.starts_with_then("r.host", "services.host", '#')
            );
        }
        out.push(RefKind {
            name: "volumes",
            table: "volumes",
            condition: cond,
        });
    }
    if schema.has("backups", "host") {
        out.push(RefKind {
            name: "backups",
            table: "backups",
            // backups.host is the cinder-backup service's host; other binaries share the
            // name (node01's scheduler) but own no backups.
            condition: format!(
                "{}services.`binary` = 'cinder-backup' AND {}",
                live("backups"),
                d.eq_exact("r.host", "services.host")
            ),
        });
    }
    for (name, table) in [
        ("groups", "groups"),
        ("consistencygroups", "consistencygroups"),
    ] {
        if schema.has(table, "host") {
            out.push(RefKind {
                name,
                table,
                condition: on_host(table),
            });
        }
    }
    if schema.has("workers", "service_id") {
        out.push(RefKind {
            name: "workers",
            table: "workers",
            condition: format!("{}r.service_id = services.id", live("workers")),
        });
    }
    if schema.has("image_volume_cache_entries", "host") {
        out.push(RefKind {
            name: "image_volume_cache_entries",
            table: "image_volume_cache_entries",
            condition: on_host("image_volume_cache_entries"),
        });
    }
    out
}

/// `NOT EXISTS (...) AND ...`: true for a `services` row nothing live points at. For the
/// delete's WHERE clause; "1 = 1" when the schema has nothing to check.
pub fn unreferenced_condition(schema: &Schema, d: Dialect) -> String {
    let parts: Vec<String> = kinds(schema, d)
        .iter()
        .map(|k| {
            format!(
                "NOT EXISTS (SELECT 1 FROM {} r WHERE {})",
                quote(k.table),
                k.condition
            )
        })
        .collect();
    if parts.is_empty() {
        "1 = 1".into()
    } else {
        parts.join(" AND ")
    }
}

fn quote(table: &str) -> String {
    // `groups` is a reserved word in MySQL 8; backticks work in both MySQL and SQLite.
    format!("`{table}`")
}

/// Counts, per service id, what still points at it. One statement for any number of ids.
pub async fn count(db: &mut Db, ids: &[i64]) -> Result<HashMap<i64, RefCounts>> {
    let kinds = kinds(&db.schema, db.dialect);
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut select = vec!["services.id AS id".to_string()];
    for k in &kinds {
        select.push(format!(
            "(SELECT COUNT(*) FROM {} r WHERE {}) AS {}",
            quote(k.table),
            k.condition,
            k.name
        ));
    }
    let text = format!(
        "SELECT {} FROM services WHERE services.id IN ({})",
        select.join(", "),
        placeholders(ids.len())
    );
    let names: Vec<&'static str> = kinds.iter().map(|k| k.name).collect();
    let ids = ids.to_vec();
    db.retrying("counting what still uses the services", move |conn| {
        let text = text.clone();
        let ids = ids.clone();
        let names = names.clone();
        Box::pin(async move {
            let mut out = HashMap::new();
            crate::on_conn!(conn, c => {
                let mut q = sqlx::query(sql(text));
                for id in &ids {
                    q = q.bind(*id);
                }
                for r in q.fetch_all(&mut *c).await? {
                    let mut counts = RefCounts::default();
                    for name in &names {
                        let n: i64 = r.try_get(*name)?;
                        match *name {
                            "volumes" => counts.volumes = n,
                            "backups" => counts.backups = n,
                            "groups" => counts.groups = n,
                            "consistencygroups" => counts.consistencygroups = n,
                            "workers" => counts.workers = n,
                            _ => counts.image_volume_cache_entries = n,
                        }
                    }
                    out.insert(r.try_get::<i64, _>("id")?, counts);
                }
            });
            Ok(out)
        })
    })
    .await
}

/// An extra condition the delete's WHERE clause must hold, with its bound values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Guard {
    pub sql: String,
    pub binds: Vec<String>,
}

/// The tables whose `host` can name a backend (`node@backend`, `node@backend#pool`).
const BACKEND_TABLES: &[&str] = &[
    "volumes",
    "groups",
    "consistencygroups",
    "image_volume_cache_entries",
];

/// LIKE patterns (ESCAPE '!') for hosts `*@key` and `*@key#*`. On MySQL, LIKE ignores case, so
/// this may count more than Cinder would: for a refusal, erring that way is the safe side.
fn backend_patterns(key: &str) -> [String; 2] {
    let esc: String = key
        .chars()
        .flat_map(|c| match c {
            '!' | '_' | '%' => vec!['!', c],
            c => vec![c],
        })
        .collect();
    [format!("%@{esc}"), format!("%@{esc}#%")]
}

fn backend_kinds(schema: &Schema) -> Vec<(&'static str, String)> {
    BACKEND_TABLES
        .iter()
        .filter(|t| schema.has(t, "host"))
        .map(|t| {
            let live = if schema.has(t, "deleted") {
                "r.deleted = 0 AND "
            } else {
                ""
            };
            (
                *t,
                format!("{live}(r.host LIKE ? ESCAPE '!' OR r.host LIKE ? ESCAPE '!')"),
            )
        })
        .collect()
}

/// `NOT EXISTS` over every live row on any node of backend `key`: for the delete's WHERE.
pub fn backend_unreferenced(schema: &Schema, key: &str) -> Guard {
    let kinds = backend_kinds(schema);
    let [a, b] = backend_patterns(key);
    Guard {
        sql: if kinds.is_empty() {
            "1 = 1".into()
        } else {
            kinds
                .iter()
                .map(|(t, cond)| format!("NOT EXISTS (SELECT 1 FROM {} r WHERE {cond})", quote(t)))
                .collect::<Vec<_>>()
                .join(" AND ")
        },
        binds: kinds.iter().flat_map(|_| [a.clone(), b.clone()]).collect(),
    }
}

/// Counts the live rows on any node of backend `key`, by table. One statement.
pub async fn count_backend(db: &mut Db, key: &str) -> Result<RefCounts> {
    let kinds = backend_kinds(&db.schema);
    if kinds.is_empty() {
        return Ok(RefCounts::default());
    }
    let text = format!(
        "SELECT {}",
        kinds
            .iter()
            .map(|(t, cond)| format!("(SELECT COUNT(*) FROM {} r WHERE {cond}) AS {t}", quote(t)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let [a, b] = backend_patterns(key);
    let names: Vec<&'static str> = kinds.iter().map(|(t, _)| *t).collect();
    db.retrying("counting what still uses the backend", move |conn| {
        let (text, a, b, names) = (text.clone(), a.clone(), b.clone(), names.clone());
        Box::pin(async move {
            let mut counts = RefCounts::default();
            crate::on_conn!(conn, c => {
                let mut q = sqlx::query(sql(text));
                for _ in &names {
                    q = q.bind(a.clone()).bind(b.clone());
                }
                let r = q.fetch_one(&mut *c).await?;
                for name in &names {
                    let n: i64 = r.try_get(*name)?;
                    match *name {
                        "volumes" => counts.volumes = n,
                        "groups" => counts.groups = n,
                        "consistencygroups" => counts.consistencygroups = n,
                        _ => counts.image_volume_cache_entries = n,
                    }
                }
            });
            Ok(counts)
        })
    })
    .await
}
