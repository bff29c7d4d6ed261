//! Reading the clusters table (`cluster list`, `cluster remove`, purge, restore) and the live
//! services that name a cluster, as typed rows. A service belongs to a cluster through
//! `services.cluster_name = clusters.name`, as in Cinder's own `num_hosts`.

use anyhow::Result;
use chrono::NaiveDateTime;

use super::schema::Schema;
use super::stmt::Stmt;
use super::{Conn, Db};

/// One row of `clusters`, with the columns an old schema lacks as None (read as NULL).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub(crate) struct ClusterRow {
    pub id: i64,
    pub name: String,
    pub binary: String,
    pub disabled: Option<bool>,
    pub disabled_reason: Option<String>,
    pub created_at: Option<NaiveDateTime>,
    pub updated_at: Option<NaiveDateTime>,
    pub deleted: Option<bool>,
    pub deleted_at: Option<NaiveDateTime>,
    pub race_preventer: Option<i64>,
    pub replication_status: Option<String>,
    pub active_backend_id: Option<String>,
    pub frozen: Option<bool>,
}

impl ClusterRow {
    /// The columns read into a `ClusterRow`, in its field order.
    const COLUMNS: &[&str] = &[
        "id",
        "name",
        "binary",
        "disabled",
        "disabled_reason",
        "created_at",
        "updated_at",
        "deleted",
        "deleted_at",
        "race_preventer",
        "replication_status",
        "active_backend_id",
        "frozen",
    ];
}

/// True when this database has Cinder's clusters (Ocata and later).
pub(crate) fn supported(schema: &Schema) -> bool {
    schema.has("clusters", "race_preventer") && schema.has("services", "cluster_name")
}

/// `SELECT <every ClusterRow column> FROM clusters`.
fn select(schema: &Schema) -> Stmt {
    schema.select("clusters", ClusterRow::COLUMNS)
}

/// Every live cluster, by name and binary.
pub(crate) async fn live(db: &mut Db) -> Result<Vec<ClusterRow>> {
    let mut s = select(&db.schema);
    s.push(" WHERE deleted = 0 ORDER BY name, `binary`, id");
    db.retrying("reading clusters", async |conn| {
        Ok(conn.fetch_all(&s).await?)
    })
    .await
}

/// The live cluster named exactly `name` with this binary, if any (none on a schema without
/// clusters).
pub(crate) async fn find_live(db: &mut Db, name: &str, binary: &str) -> Result<Option<ClusterRow>> {
    if !supported(&db.schema) {
        return Ok(None);
    }
    let d = db.dialect;
    let mut s = select(&db.schema);
    s.push(" WHERE deleted = 0 AND ")
        .push_stmt(&d.eq_exact_value("name", name))
        .push(" AND ")
        .push_stmt(&d.eq_exact_value("`binary`", binary))
        .push(" ORDER BY id");
    let rows: Vec<ClusterRow> = db
        .retrying("reading clusters", async |conn| {
            Ok(conn.fetch_all(&s).await?)
        })
        .await?;
    Ok(rows.into_iter().next())
}

/// Soft-deleted clusters whose `deleted_at` is before `cutoff`, for purge.
pub(crate) async fn deleted_before(db: &mut Db, cutoff: NaiveDateTime) -> Result<Vec<ClusterRow>> {
    let mut s = select(&db.schema);
    s.push(" WHERE deleted = 1 AND deleted_at IS NOT NULL AND ")
        .push_stmt(&db.dialect.before("deleted_at", cutoff))
        .push(" ORDER BY id");
    db.retrying("reading deleted clusters", async |conn| {
        Ok(conn.fetch_all(&s).await?)
    })
    .await
}

/// The clusters with these ids, deleted or not.
pub(crate) async fn by_ids(db: &mut Db, ids: &[i64]) -> Result<Vec<ClusterRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let s = db
        .schema
        .select_ids("clusters", ClusterRow::COLUMNS, ids, "");
    db.retrying("reading clusters", async |conn| {
        Ok(conn.fetch_all(&s).await?)
    })
    .await
}

/// Locks the clusters with these ids inside a write transaction and reads them as they are.
pub(crate) async fn lock_by_ids(
    conn: &mut Conn,
    schema: &Schema,
    ids: &[i64],
) -> Result<Vec<ClusterRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let s = schema.select_ids(
        "clusters",
        ClusterRow::COLUMNS,
        ids,
        conn.dialect().for_update(),
    );
    Ok(conn.fetch_all(&s).await?)
}

/// Locks the live clusters among these (name, binary) pairs, compared exactly.
pub(crate) async fn lock_live_named(
    conn: &mut Conn,
    schema: &Schema,
    pairs: &[(String, String)],
) -> Result<Vec<ClusterRow>> {
    if pairs.is_empty() {
        return Ok(Vec::new());
    }
    let d = conn.dialect();
    let mut s = select(schema);
    s.push(" WHERE deleted = 0 AND (")
        .push_stmt(&named(d, pairs))
        .push(") ORDER BY id")
        .push(d.for_update());
    Ok(conn.fetch_all(&s).await?)
}

/// `(name = ? AND binary = ?) OR ...`, compared exactly.
pub(crate) fn named(d: super::Dialect, pairs: &[(String, String)]) -> Stmt {
    let parts: Vec<Stmt> = pairs
        .iter()
        .map(|(name, binary)| {
            let mut s = Stmt::new("(");
            s.push_stmt(&d.eq_exact_value("name", name.as_str()))
                .push(" AND ")
                .push_stmt(&d.eq_exact_value("`binary`", binary.as_str()))
                .push(")");
            s
        })
        .collect();
    Stmt::join(&parts, " OR ")
}

/// A live service that names a cluster: enough to count hosts and judge heartbeats.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub(crate) struct Member {
    pub id: i64,
    pub host: Option<String>,
    pub binary: Option<String>,
    pub cluster_name: String,
    pub created_at: Option<NaiveDateTime>,
    pub updated_at: Option<NaiveDateTime>,
}

impl Member {
    /// The last heartbeat, by the same rule as `ServiceRow::heartbeat`.
    pub fn heartbeat(&self) -> Option<NaiveDateTime> {
        self.updated_at.or(self.created_at)
    }
}

/// Every live service that names a cluster (all of them, or of the cluster `name`).
pub(crate) async fn members(db: &mut Db, name: Option<&str>) -> Result<Vec<Member>> {
    let mut s = Stmt::new(
        "SELECT id, host, `binary`, cluster_name, created_at, updated_at FROM services \
         WHERE deleted = 0 AND cluster_name IS NOT NULL",
    );
    if let Some(n) = name {
        s.push(" AND ")
            .push_stmt(&db.dialect.eq_exact_value("cluster_name", n));
    }
    s.push(" ORDER BY id");
    db.retrying("reading cluster members", async |conn| {
        Ok(conn.fetch_all(&s).await?)
    })
    .await
}

/// The condition, on the outer `clusters` row, that no live service names it.
pub(crate) fn empty_condition(d: super::Dialect) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM services s WHERE s.deleted = 0 AND {})",
        d.eq_exact("s.cluster_name", "clusters.name")
    )
}
