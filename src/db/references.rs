//! What still points at a service: live volumes, backups, groups, consistency groups, workers
//! and image-volume cache entries. The same SQL conditions serve the plan's counts and the
//! write's `WHERE NOT EXISTS`, so the plan and the write can never disagree.

use std::collections::{HashMap, HashSet};

use anyhow::Result;
use serde::Serialize;

use super::schema::Schema;
use super::stmt::Stmt;
use super::{Db, Dialect};
use crate::hosts::{LIKE_ESCAPE, like_literal};
use crate::model::ServiceRow;

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
        if has_service_uuid(schema) {
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

/// Whether a volume can name its service by uuid (Cinder's `service_uuid`, since Queens).
fn has_service_uuid(schema: &Schema) -> bool {
    schema.has("volumes", "service_uuid") && schema.has("services", "uuid")
}

/// The tables whose live rows name a host, each with the host its row names as an SQL
/// expression on `r`: before its first `#` where the table's hosts may name a pool, a backup's
/// whole host. For the supersets (`superset`, `named_statement`).
fn named_hosts(schema: &Schema, d: Dialect) -> Vec<(&'static str, String)> {
    [
        ("volumes", true),
        ("backups", false),
        ("groups", true),
        ("consistencygroups", true),
        ("image_volume_cache_entries", true),
    ]
    .into_iter()
    .filter(|(t, _)| schema.has(t, "host"))
    .map(|(t, pools)| {
        let host = if pools {
            d.before_hash("r.host")
        } else {
            "r.host".to_string()
        };
        (t, host)
    })
    .collect()
}

/// A condition on the outer `services` row alone that holds (is TRUE) whenever any of
/// `kinds`' conditions holds for some live row: a superset, for the write's guard (the plan's
/// count decides the same in svcctl: `Named`), which the server answers with one read of each
/// table per statement instead of a subquery per service and table (the exact
/// conditions compare with BINARY, across an OR, so no index serves them, and MariaDB 10.11
/// runs them per row: 12,000 for a backend on 2,000 nodes, each a scan of its table).
///
/// Three lookups: the service's host among the hosts the tables name (each row's host before
/// its first `#`: the host itself or `host#pool` gives the host), its uuid among the volumes'
/// `service_uuid`s, its id among the workers' `service_id`s; and every service whose own host
/// holds a `#` (its pools' rows have its host before their second `#`, not their first). Why
/// it is a superset: a row on host `h` (no `#`) by the exact condition is `h` or starts with
/// `h#`, so its host before the first `#` is `h`, byte for byte, and the sets compare bytes
/// (`Dialect::bytes`, in each column's own character set, as BINARY does: text converted to one
/// character set would let the same bytes of two differently encoded tables differ); backups
/// are looked up whatever the binary; a uuid or id compares as the exact condition compares it.
/// NULLs are left out of the sets, so that a service with nothing on it reads FALSE, not NULL.
///
/// The host sets are one derived table, a UNION, which the server materializes once (a
/// subquery with a UNION it would run per service).
fn superset(schema: &Schema, d: Dialect) -> Option<Stmt> {
    let mut hosts = Vec::new();
    for (t, host) in named_hosts(schema, d) {
        hosts.push(format!(
            "SELECT {} AS h FROM {} r WHERE {}r.host IS NOT NULL",
            d.bytes(&host),
            quote(t),
            live(schema, t)
        ));
    }
    let mut parts = Vec::new();
    if !hosts.is_empty() {
        parts.push("services.host LIKE '%#%'".to_string());
        parts.push(format!(
            "{} IN (SELECT h FROM ({}) hosts)",
            d.bytes("services.host"),
            hosts.join(" UNION ")
        ));
    }
    if schema.has("volumes", "host") && has_service_uuid(schema) {
        parts.push(format!(
            "services.uuid IN (SELECT r.service_uuid FROM volumes r WHERE {}r.service_uuid IS NOT NULL)",
            live(schema, "volumes")
        ));
    }
    if schema.has("workers", "service_id") {
        parts.push(format!(
            "services.id IN (SELECT r.service_id FROM workers r WHERE {}r.service_id IS NOT NULL)",
            live(schema, "workers")
        ));
    }
    if parts.is_empty() {
        return None;
    }
    Some(Stmt::new(format!("({})", parts.join(" OR "))))
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

/// The tables whose `cluster_name` can name a cluster (`c1@lvm`, or `c1@lvm#pool`). Snapshots
/// have no `cluster_name`: they follow their volume.
const CLUSTER_TABLES: &[&str] = &[
    "volumes",
    "groups",
    "consistencygroups",
    "image_volume_cache_entries",
];

/// Live rows that reach the outer `services` row only through its cluster once the services
/// `going` (ids of services with a cluster) are gone: their `cluster_name` names its cluster,
/// no live service outside `going` is left in that cluster (same binary), and their `host`
/// names no live service outside `going`. A going service without a cluster is not excluded:
/// one whose host a row names is refused as in use, and so stays. The outer row must have a
/// `cluster_name` (`cluster_only_condition` checks that first). The live services are read through a derived table, which MySQL materializes
/// before an UPDATE of `services` runs: a plain subquery on the table being updated is MySQL
/// 8's error 1093, and DISTINCT keeps the optimizer from merging the derived table back in.
fn cluster_kinds(schema: &Schema, d: Dialect, going: &[i64]) -> Vec<RefKind> {
    if !schema.has("services", "cluster_name") {
        return Vec::new();
    }
    let in_cluster = |col: &str| {
        format!(
            "({} OR {})",
            d.eq_exact(col, "services.cluster_name"),
            d.starts_with_then(col, "services.cluster_name", '#')
        )
    };
    CLUSTER_TABLES
        .iter()
        .filter(|t| schema.has(t, "cluster_name"))
        .map(|t| {
            let mut staying = Stmt::new(
                "SELECT 1 FROM (SELECT DISTINCT id, host, cluster_name, `binary` FROM services \
                 WHERE deleted = 0) s WHERE ",
            );
            if !going.is_empty() {
                staying
                    .push("s.id NOT IN (")
                    .push_ids(going.iter().copied())
                    .push(") AND ");
            }
            staying.push(&format!(
                "(({} AND s.`binary` = services.`binary`)",
                in_cluster("s.cluster_name")
            ));
            if schema.has(t, "host") {
                staying.push(&format!(
                    " OR {} OR {}",
                    d.eq_exact("r.host", "s.host"),
                    d.starts_with_then("r.host", "s.host", '#')
                ));
            }
            staying.push(")");
            let mut condition = Stmt::new(format!(
                "{}{} AND NOT EXISTS (",
                live(schema, t),
                in_cluster("r.cluster_name")
            ));
            condition.push_stmt(&staying).push(")");
            RefKind {
                table: t,
                condition,
            }
        })
        .collect()
}

/// Live rows naming the outer `clusters` row through their `cluster_name` (`c1@lvm`, or
/// `c1@lvm#pool`), whatever their host says.
fn cluster_named_kinds(schema: &Schema, d: Dialect) -> Vec<RefKind> {
    CLUSTER_TABLES
        .iter()
        .filter(|t| schema.has(t, "cluster_name"))
        .map(|t| RefKind {
            table: t,
            condition: Stmt::new(format!(
                "{}({} OR {})",
                live(schema, t),
                d.eq_exact("r.cluster_name", "clusters.name"),
                d.starts_with_then("r.cluster_name", "clusters.name", '#')
            )),
        })
        .collect()
}

/// The condition, on the outer `clusters` row, that no live row names it (see
/// `cluster_named_kinds`). For a cluster's soft delete's WHERE clause.
pub(crate) fn cluster_unnamed_condition(schema: &Schema, d: Dialect) -> Stmt {
    none_exist(&cluster_named_kinds(schema, d))
}

/// Counts the live rows naming cluster `id` through their `cluster_name`, by table. One
/// statement.
pub(crate) async fn count_cluster_named(db: &mut Db, id: i64) -> Result<RefCounts> {
    let kinds = cluster_named_kinds(&db.schema, db.dialect);
    if kinds.is_empty() {
        return Ok(RefCounts::default());
    }
    let mut stmt = Stmt::new("SELECT ");
    stmt.push_stmt(&count_columns(&kinds))
        .push(" FROM clusters WHERE clusters.id = ")
        .push_bind(id);
    db.retrying("counting what names the cluster", async |conn| {
        Ok(conn.fetch_one(&stmt).await?)
    })
    .await
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

/// The condition, on the outer `services` row, that nothing live points at it: the exact
/// conditions (`none_exist`), asked only of a service the superset may hold (see `superset`).
/// It is exactly `none_exist`, in three-valued logic too: where the superset is FALSE no exact
/// condition holds, so `NOT superset` (TRUE) agrees with `none_exist`; where it is TRUE or NULL,
/// the OR is `none_exist`'s answer, or NULL where that is FALSE (a WHERE clause keeps neither).
pub(crate) fn unreferenced_condition(schema: &Schema, d: Dialect) -> Stmt {
    let exact = none_exist(&kinds(schema, d));
    let Some(maybe) = superset(schema, d) else {
        return exact;
    };
    let mut s = Stmt::new("(NOT ");
    s.push_stmt(&maybe)
        .push(" OR (")
        .push_stmt(&exact)
        .push("))");
    s
}

/// The ids, sorted, of the services of `going` that belong to a cluster.
fn clustered<'a>(going: impl IntoIterator<Item = &'a ServiceRow>) -> Vec<i64> {
    let mut ids: Vec<i64> = going
        .into_iter()
        .filter(|r| r.cluster_name.is_some())
        .map(|r| r.id)
        .collect();
    ids.sort_unstable();
    ids
}

/// The condition, on the outer `services` row, that nothing live would reach it only through
/// its cluster once the services `going` are gone (see `cluster_kinds`).
pub(crate) fn cluster_only_condition<'a>(
    schema: &Schema,
    d: Dialect,
    going: impl IntoIterator<Item = &'a ServiceRow>,
) -> Stmt {
    let kinds = cluster_kinds(schema, d, &clustered(going));
    if kinds.is_empty() {
        return Stmt::new("1 = 1");
    }
    let mut s = Stmt::new("(services.cluster_name IS NULL OR (");
    s.push_stmt(&none_exist(&kinds)).push("))");
    s
}

/// Counts, per service of `going` that has a cluster, the live rows that would reach it only
/// through its cluster once all of `going` are gone. One statement.
pub(crate) async fn count_cluster_only(
    db: &mut Db,
    going: &[ServiceRow],
) -> Result<HashMap<i64, RefCounts>> {
    let clustered = clustered(going);
    let kinds = cluster_kinds(&db.schema, db.dialect, &clustered);
    count_per_service(
        db,
        &clustered,
        &kinds,
        "counting what reaches the services through their clusters",
    )
    .await
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

/// Counts, per service, what still points at it: one read of what the tables name, then, only
/// for the services that read says may be used, one statement of exact counts (none at all
/// when no service may be, as for a removed backend's).
pub(crate) async fn count(
    db: &mut Db,
    services: &[&ServiceRow],
) -> Result<HashMap<i64, RefCounts>> {
    if services.is_empty() {
        return Ok(HashMap::new());
    }
    let Some(named) = named_statement(&db.schema, db.dialect) else {
        return Ok(HashMap::new());
    };
    let rows: Vec<NamedRow> = db
        .retrying("reading what the tables name", async |conn| {
            Ok(conn.fetch_all(&named).await?)
        })
        .await?;
    let named = Named::from_rows(rows);
    let mut ids: Vec<i64> = services
        .iter()
        .filter(|s| named.may_use(s))
        .map(|s| s.id)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let kinds = kinds(&db.schema, db.dialect);
    // Only the services something may be on: the exact counts cost the server a subquery per
    // service and table (12,000 for a backend on 2,000 nodes, each a scan of the table, as
    // BINARY keeps its index out). A service left out has nothing on it, and reads as no row:
    // zero, as the callers take a missing id.
    count_per_service(db, &ids, &kinds, "counting what still uses the services").await
}

/// One value a referencing table names: `h` a host (before its first `#` where the table's
/// hosts may name a pool; a backup's whole host), `u` a volume's `service_uuid`, `w` a
/// worker's `service_id`; as bytes, which the server neither converts nor folds (and `e`,
/// SQLite's text encoding).
#[derive(sqlx::FromRow)]
struct NamedRow {
    k: String,
    v: Vec<u8>,
}

/// The statement that reads every distinct value the live rows of the referencing tables
/// name (see `NamedRow`); None when this schema has none of them.
fn named_statement(schema: &Schema, d: Dialect) -> Option<Stmt> {
    let mut parts = Vec::new();
    let mut read = |k: &str, expr: &str, t: &str, col: &str| {
        parts.push(format!(
            "SELECT DISTINCT '{k}' AS k, {} AS v FROM {} r WHERE {}r.{col} IS NOT NULL",
            d.bytes(expr),
            quote(t),
            live(schema, t)
        ))
    };
    for (t, host) in named_hosts(schema, d) {
        read("h", &host, t, "host");
    }
    if schema.has("volumes", "host") && has_service_uuid(schema) {
        read("u", "r.service_uuid", "volumes", "service_uuid");
    }
    if schema.has("workers", "service_id") {
        read("w", &d.as_text("r.service_id"), "workers", "service_id");
    }
    // SQLite's bytes are its text in the database's own encoding, which may be UTF-16: `e`
    // says which, and any but UTF-8 has every service asked.
    if d == Dialect::Sqlite && !parts.is_empty() {
        parts.push("SELECT 'e' AS k, CAST(encoding AS BLOB) AS v FROM pragma_encoding".into());
    }
    (!parts.is_empty()).then(|| Stmt::new(parts.join(" UNION ALL ")))
}

/// What the referencing tables name, as sets to look services up in: a superset of the exact
/// conditions (`kinds`), decided here without a statement per service.
///
/// Why a service left out has nothing on it: an exact host condition compares bytes (BINARY),
/// and a row on host `h` (no `#`) is `h` or starts with `h#`, so its host before the first `#`
/// is `h`, the bytes of an ASCII host in any charset the tables may have; a host that is not
/// ASCII (its bytes in its own column may not be the UTF-8 svcctl reads), or that holds a `#`
/// (its pools' rows have it before their second `#`), is always asked. Backups are looked up
/// whatever the binary. A uuid compares under the columns' collation, which may fold case (and
/// in some collations ignore other characters): uuids of letters, digits and `-` are compared
/// without case, and any other uuid, on either side, is always asked. Ids are integers.
#[derive(Default)]
struct Named {
    hosts: HashSet<Vec<u8>>,
    uuids: HashSet<String>,
    /// A `service_uuid` that is not plain (see `plain_uuid`): every service with a uuid may
    /// be its.
    odd_uuid: bool,
    workers: HashSet<i64>,
    /// A worker's `service_id` that did not read as an integer (never so for an integer
    /// column), or SQLite text not in UTF-8: every service is asked.
    unreadable: bool,
}

impl Named {
    fn from_rows(rows: Vec<NamedRow>) -> Named {
        let mut named = Named::default();
        for row in rows {
            match row.k.as_str() {
                "h" => {
                    named.hosts.insert(row.v);
                }
                "e" => named.unreadable |= row.v != b"UTF-8",
                "u" => match std::str::from_utf8(&row.v).ok().and_then(plain_uuid) {
                    Some(u) => {
                        named.uuids.insert(u);
                    }
                    None => named.odd_uuid = true,
                },
                _ => match std::str::from_utf8(&row.v)
                    .ok()
                    .and_then(|v| v.parse().ok())
                {
                    Some(id) => {
                        named.workers.insert(id);
                    }
                    None => named.unreadable = true,
                },
            }
        }
        named
    }

    /// Whether something may point at `s` (when not, nothing does).
    fn may_use(&self, s: &ServiceRow) -> bool {
        let host = s
            .host
            .as_deref()
            .is_some_and(|h| !h.is_ascii() || h.contains('#') || self.hosts.contains(h.as_bytes()));
        let uuid = s.uuid.as_deref().is_some_and(|u| {
            self.odd_uuid || plain_uuid(u).is_none_or(|u| self.uuids.contains(&u))
        });
        // A host or uuid svcctl could not read (not UTF-8, say) is the server's to judge.
        let unread = s
            .invalid
            .iter()
            .any(|i| i.column == "host" || i.column == "uuid");
        host || uuid || unread || self.workers.contains(&s.id) || self.unreadable
    }
}

/// A uuid of letters, digits and `-` only, lowercased; None for any other.
fn plain_uuid(u: &str) -> Option<String> {
    u.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        .then(|| u.to_ascii_lowercase())
}

/// Counts the rows of `kinds` per service id. One statement for any number of ids.
async fn count_per_service(
    db: &mut Db,
    ids: &[i64],
    kinds: &[RefKind],
    what: &str,
) -> Result<HashMap<i64, RefCounts>> {
    if ids.is_empty() || kinds.is_empty() {
        return Ok(HashMap::new());
    }
    let mut stmt = Stmt::new("SELECT services.id AS id, ");
    stmt.push_stmt(&count_columns(kinds))
        .push(" FROM services WHERE services.id IN (")
        .push_ids(ids.iter().copied())
        .push(")");
    let rows: Vec<IdCounts> = db
        .retrying(what, async |conn| Ok(conn.fetch_all(&stmt).await?))
        .await?;
    let mut counts: HashMap<i64, RefCounts> = rows.into_iter().map(|r| (r.id, r.counts)).collect();
    let with_volumes: Vec<i64> = counts
        .iter()
        .filter(|(_, c)| c.volumes > 0)
        .map(|(id, _)| *id)
        .collect();
    let volumes = kinds.iter().find(|k| k.table == "volumes");
    if let (false, Some(volumes)) = (with_volumes.is_empty(), volumes) {
        let mut stmt = Stmt::new(
            "SELECT DISTINCT services.id AS id, r.host AS host FROM services, volumes r WHERE services.id IN (",
        );
        stmt.push_ids(with_volumes)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// MySQL 8 refuses an UPDATE whose WHERE clause reads the updated table in a subquery
    /// (error 1093; MariaDB allows it, so the tests' server cannot show it): the write's
    /// conditions read `services` only through the materialized derived table.
    #[test]
    fn write_conditions_read_services_only_through_a_derived_table() {
        let cols: &[&str] = &["id", "host", "binary", "deleted", "cluster_name", "uuid"];
        let refs: &[&str] = &[
            "host",
            "cluster_name",
            "deleted",
            "service_uuid",
            "service_id",
        ];
        let schema = Schema::of(&[
            ("services", cols),
            ("volumes", refs),
            ("groups", refs),
            ("consistencygroups", refs),
            ("image_volume_cache_entries", refs),
            ("backups", refs),
            ("workers", refs),
        ]);
        let derived = "(SELECT DISTINCT id, host, cluster_name, `binary` FROM services \
                       WHERE deleted = 0) s";
        for d in [Dialect::MySql, Dialect::Sqlite] {
            let mut rows = [1, 2, 3].map(|id| ServiceRow::example(id, "h", "cinder-volume", None));
            rows[0].cluster_name = Some("c1@lvm".into());
            rows[1].cluster_name = Some("c1@lvm".into());
            let cluster = cluster_only_condition(&schema, d, &rows);
            assert_eq!(
                cluster.sql().matches(derived).count(),
                4,
                "{}",
                cluster.sql()
            );
            assert!(cluster.binds().is_empty(), "{:?}", cluster.binds());
            for cond in [
                cluster,
                unreferenced_condition(&schema, d),
                backend_unreferenced(&schema, "lvm"),
            ] {
                let rest = cond.sql().replace(derived, "");
                assert!(!rest.to_lowercase().contains(" services "), "{rest}");
                assert!(!rest.to_lowercase().contains("from services"), "{rest}");
            }
        }
    }
}
