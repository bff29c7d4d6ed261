//! Rows that live on a host: volumes, backups, groups, consistency groups and image-volume
//! cache entries, read with the columns a host move looks at (host, status, migration status,
//! service uuid, cluster, zone), the ones a table (or an old schema) lacks read as NULL, and
//! every id as text (a cache entry's is an integer). Which rows are "on FROM" is decided here
//! once, for the plan and for the write's look back.

use anyhow::Result;

use super::schema::Schema;
use super::stmt::Stmt;
use super::{Conn, Db, Dialect};
use crate::hosts::{LIKE_ESCAPE, like_literal};

/// One live row on a host.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub(crate) struct HostedRow {
    pub id: String,
    pub host: Option<String>,
    pub status: Option<String>,
    pub migration_status: Option<String>,
    pub service_uuid: Option<String>,
    pub cluster_name: Option<String>,
    pub availability_zone: Option<String>,
}

impl HostedRow {
    pub fn host(&self) -> &str {
        self.host.as_deref().unwrap_or("")
    }

    /// The `#pool` part of its host, if any.
    pub fn pool(&self) -> Option<&str> {
        self.host().split_once('#').map(|(_, p)| p)
    }
}

const COLUMNS: &[&str] = &[
    "id",
    "host",
    "status",
    "migration_status",
    "service_uuid",
    "cluster_name",
    "availability_zone",
];

/// True when `host` is `from`, or (with `pools`) `from#pool`, compared exactly as Cinder's
/// `volume_get_all_by_host` means it (but case-sensitively, as the hosts are).
pub(crate) fn is_on(host: &str, from: &str, pools: bool) -> bool {
    host == from
        || (pools
            && host
                .strip_prefix(from)
                .is_some_and(|rest| rest.starts_with('#')))
}

/// `SELECT <columns> FROM table`, NULL for the columns this schema's table lacks, the id as
/// text.
pub(crate) fn select(schema: &Schema, d: Dialect, table: &str) -> Stmt {
    let list: Vec<String> = COLUMNS
        .iter()
        .map(|c| match (*c, schema.has(table, c)) {
            ("id", _) => format!("{} AS `id`", d.as_text("`id`")),
            (_, true) => format!("`{c}`"),
            (_, false) => format!("NULL AS `{c}`"),
        })
        .collect();
    Stmt::new(format!("SELECT {} FROM `{table}`", list.join(", ")))
}

/// The live rows of `table` whose host is `from` (or `from#pool`): a LIKE pre-filter in SQL
/// (it may match more, e.g. case-insensitively on MySQL), then `is_on`.
fn on_host_stmt(schema: &Schema, d: Dialect, table: &str, from: &str, pools: bool) -> Stmt {
    let mut s = select(schema, d, table);
    s.push(" WHERE ");
    if schema.has(table, "deleted") {
        s.push("deleted = 0 AND ");
    }
    s.push("(host = ").push_bind(from);
    if pools {
        s.push(" OR host LIKE ")
            .push_bind(format!("{}#%", like_literal(from)))
            .push(&format!(" ESCAPE '{LIKE_ESCAPE}'"));
    }
    s.push(") ORDER BY id");
    s
}

/// The live rows of `table` on `from`; nothing when the schema has no such table.
pub(crate) async fn on_host(
    conn: &mut Conn,
    schema: &Schema,
    table: &str,
    from: &str,
    pools: bool,
) -> Result<Vec<HostedRow>> {
    if !schema.has(table, "host") {
        return Ok(Vec::new());
    }
    let rows: Vec<HostedRow> = conn
        .fetch_all(&on_host_stmt(schema, conn.dialect(), table, from, pools))
        .await?;
    Ok(rows
        .into_iter()
        .filter(|r| is_on(r.host(), from, pools))
        .collect())
}

/// `on_host`, retried under the `[database]` policy: for the plan.
pub(crate) async fn fetch_on_host(
    db: &mut Db,
    table: &str,
    from: &str,
    pools: bool,
) -> Result<Vec<HostedRow>> {
    let schema = db.schema.clone();
    db.retrying("reading what sits on the host", async |conn| {
        on_host(conn, &schema, table, from, pools).await
    })
    .await
}

/// The rows of `table` with these ids, live or not, locked inside a write transaction.
pub(crate) async fn lock_by_ids(
    conn: &mut Conn,
    schema: &Schema,
    table: &str,
    ids: &[&str],
) -> Result<Vec<HostedRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut s = select(schema, conn.dialect(), table);
    if schema.has(table, "deleted") {
        s.push(" WHERE deleted = 0 AND id IN (");
    } else {
        s.push(" WHERE id IN (");
    }
    s.push_list(ids.iter().copied())
        .push(") ORDER BY id")
        .push(conn.dialect().for_update());
    Ok(conn.fetch_all(&s).await?)
}

#[cfg(test)]
mod tests {
    use super::is_on;

    #[test]
    fn on_the_host_or_one_of_its_pools_only() {
        assert!(is_on("n2@b", "n2@b", true));
        assert!(is_on("n2@b#p", "n2@b", true));
        assert!(!is_on("n2@b#p", "n2@b", false));
        assert!(!is_on("n2@bx#p", "n2@b", true));
        assert!(!is_on("N2@b", "n2@b", true));
        assert!(!is_on("n2@b", "n2", true));
    }
}
