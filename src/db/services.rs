//! Reading the services table: typed rows, filters, and Cinder's up/down verdict.

use anyhow::Result;
use chrono::NaiveDateTime;
use futures_util::TryStreamExt;
use sqlx::Row;

use super::schema::Schema;
use super::{Conn, Db, sql};
use crate::hosts::{HostPattern, LIKE_ESCAPE};

/// One row of `services`, with the columns an old schema lacks as None.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ServiceRow {
    pub id: i64,
    pub uuid: Option<String>,
    pub host: Option<String>,
    pub binary: Option<String>,
    pub topic: Option<String>,
    pub availability_zone: Option<String>,
    pub disabled: Option<bool>,
    pub disabled_reason: Option<String>,
    pub created_at: Option<NaiveDateTime>,
    pub updated_at: Option<NaiveDateTime>,
    pub deleted: Option<bool>,
    pub deleted_at: Option<NaiveDateTime>,
    pub cluster_name: Option<String>,
    pub replication_status: Option<String>,
    pub active_backend_id: Option<String>,
    pub frozen: Option<bool>,
    pub report_count: Option<i64>,
}

impl ServiceRow {
    /// The last heartbeat: `updated_at`, else `created_at` (as Cinder's `service_is_up`).
    pub fn heartbeat(&self) -> Option<NaiveDateTime> {
        self.updated_at.or(self.created_at)
    }

    pub fn host(&self) -> &str {
        self.host.as_deref().unwrap_or("")
    }

    pub fn binary(&self) -> &str {
        self.binary.as_deref().unwrap_or("")
    }
}

#[cfg(test)]
impl ServiceRow {
    /// A live row for unit tests: `binary` on `host`, last heartbeat `hb`.
    pub fn example(id: i64, host: &str, binary: &str, hb: Option<NaiveDateTime>) -> ServiceRow {
        ServiceRow {
            id,
            uuid: None,
            host: Some(host.into()),
            binary: Some(binary.into()),
            topic: None,
            availability_zone: None,
            disabled: Some(false),
            disabled_reason: None,
            created_at: hb,
            updated_at: hb,
            deleted: Some(false),
            deleted_at: None,
            cluster_name: None,
            replication_status: None,
            active_backend_id: None,
            frozen: None,
            report_count: Some(1),
        }
    }
}

/// Cinder's verdict (`cinder.utils.service_is_up`): up when the last heartbeat is within
/// `service_down_time` seconds of now, either way. A row with no timestamp at all is down.
pub fn is_up(row: &ServiceRow, now: NaiveDateTime, service_down_time: i64) -> bool {
    row.heartbeat().is_some_and(|hb| {
        (now - hb).num_milliseconds().abs() <= service_down_time.saturating_mul(1000)
    })
}

/// The columns read, in order. Those an old schema lacks are read as NULL.
const COLUMNS: &[&str] = &[
    "id",
    "uuid",
    "host",
    "binary",
    "topic",
    "availability_zone",
    "disabled",
    "disabled_reason",
    "created_at",
    "updated_at",
    "deleted",
    "deleted_at",
    "cluster_name",
    "replication_status",
    "active_backend_id",
    "frozen",
    "report_count",
];

/// Which live (or, with `include_deleted`, also soft-deleted) rows to read.
#[derive(Debug, Clone, Default)]
pub struct ServiceFilter {
    /// Any of these hosts; empty means every host.
    pub hosts: Vec<HostPattern>,
    pub binary: Option<String>,
    pub zone: Option<String>,
    pub disabled: Option<bool>,
    pub include_deleted: bool,
}

impl ServiceFilter {
    /// The exact verdict on a row the SQL pre-filter let through.
    fn accepts(&self, row: &ServiceRow) -> bool {
        (self.hosts.is_empty() || self.hosts.iter().any(|h| h.matches(row.host())))
            && self.binary.as_deref().is_none_or(|b| b == row.binary())
            && self
                .zone
                .as_deref()
                .is_none_or(|z| row.availability_zone.as_deref() == Some(z))
    }
}

fn select_list(schema: &Schema) -> String {
    COLUMNS
        .iter()
        .map(|c| {
            if schema.has("services", c) {
                format!("`{c}`")
            } else {
                format!("NULL AS `{c}`")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A statement and its bound values, in order.
struct Query {
    text: String,
    binds: Vec<String>,
}

fn build_query(db: &Db, f: &ServiceFilter) -> Query {
    let mut clauses = Vec::new();
    let mut binds = Vec::new();
    if !f.include_deleted {
        clauses.push("deleted = 0".to_string());
    }
    if !f.hosts.is_empty() {
        let ors: Vec<String> = f
            .hosts
            .iter()
            .map(|h| {
                binds.push(h.like_pattern());
                format!("host LIKE ? ESCAPE '{LIKE_ESCAPE}'")
            })
            .collect();
        clauses.push(format!("({})", ors.join(" OR ")));
    }
    if let Some(b) = &f.binary {
        binds.push(b.clone());
        clauses.push("`binary` = ?".into());
    }
    if let Some(z) = &f.zone {
        binds.push(z.clone());
        clauses.push("availability_zone = ?".into());
    }
    match f.disabled {
        Some(true) => clauses.push("disabled = 1".into()),
        Some(false) => clauses.push("(disabled = 0 OR disabled IS NULL)".into()),
        None => {}
    }
    let filter = if clauses.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", clauses.join(" AND "))
    };
    Query {
        text: format!(
            "SELECT {} FROM services{filter} ORDER BY `binary`, host, id",
            select_list(&db.schema)
        ),
        binds,
    }
}

/// `?, ?, ?` for an `IN (...)` list.
pub fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

macro_rules! decode_service {
    ($r:expr) => {
        ServiceRow {
            id: $r.try_get("id")?,
            uuid: $r.try_get("uuid")?,
            host: $r.try_get("host")?,
            binary: $r.try_get("binary")?,
            topic: $r.try_get("topic")?,
            availability_zone: $r.try_get("availability_zone")?,
            disabled: $r.try_get("disabled")?,
            disabled_reason: $r.try_get("disabled_reason")?,
            created_at: $r.try_get("created_at")?,
            updated_at: $r.try_get("updated_at")?,
            deleted: $r.try_get("deleted")?,
            deleted_at: $r.try_get("deleted_at")?,
            cluster_name: $r.try_get("cluster_name")?,
            replication_status: $r.try_get("replication_status")?,
            active_backend_id: $r.try_get("active_backend_id")?,
            frozen: $r.try_get("frozen")?,
            report_count: $r.try_get("report_count")?,
        }
    };
}

macro_rules! bind_all {
    ($q:expr, $binds:expr) => {{
        let mut q = $q;
        for b in $binds {
            q = q.bind(b.clone());
        }
        q
    }};
}

/// Streams the matching rows to `each`, one at a time, in the order binary, host, id:
/// nothing is held beyond the row in hand.
pub async fn for_each(
    db: &mut Db,
    filter: &ServiceFilter,
    mut each: impl FnMut(ServiceRow) -> Result<()>,
) -> Result<()> {
    let q = build_query(db, filter);
    crate::on_conn!(&mut db.conn, c => {
        let mut rows = bind_all!(sqlx::query(sql(q.text.clone())), &q.binds).fetch(&mut *c);
        while let Some(r) = rows.try_next().await? {
            let row = decode_service!(r);
            if filter.accepts(&row) {
                each(row)?;
            }
        }
    });
    Ok(())
}

/// Reads every matching row, retrying per the `[database]` policy.
pub async fn fetch_all(db: &mut Db, filter: &ServiceFilter) -> Result<Vec<ServiceRow>> {
    let q = build_query(db, filter);
    let text = q.text;
    let binds = q.binds;
    let rows = db
        .retrying("reading services", |conn| {
            let text = text.clone();
            let binds = binds.clone();
            Box::pin(async move {
                let mut out = Vec::new();
                crate::on_conn!(conn, c => {
                    let mut rows = bind_all!(sqlx::query(sql(text)), &binds).fetch(&mut *c);
                    while let Some(r) = rows.try_next().await? {
                        out.push(decode_service!(r));
                    }
                });
                Ok(out)
            })
        })
        .await?;
    Ok(rows.into_iter().filter(|r| filter.accepts(r)).collect())
}

/// `SELECT ... FROM services WHERE id IN (...)`, optionally locking the rows (`FOR UPDATE`).
pub fn select_by_ids(schema: &Schema, n: usize, lock: &str) -> String {
    format!(
        "SELECT {} FROM services WHERE id IN ({}) ORDER BY id{lock}",
        select_list(schema),
        placeholders(n)
    )
}

/// Runs a `select_by_ids` statement on an open connection (inside a transaction).
pub async fn read_by_ids(conn: &mut Conn, text: &str, ids: &[i64]) -> Result<Vec<ServiceRow>> {
    let mut out = Vec::new();
    crate::on_conn!(conn, c => {
        let mut q = sqlx::query(sql(text.to_string()));
        for id in ids {
            q = q.bind(*id);
        }
        for r in q.fetch_all(&mut *c).await? {
            out.push(decode_service!(r));
        }
    });
    Ok(out)
}
