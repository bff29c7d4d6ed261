//! Reading the services table: which rows (`ServiceFilter`), as typed `ServiceRow`s.

use anyhow::Result;

use super::schema::Schema;
use super::stmt::Stmt;
use super::{Conn, Db, Dialect};
use crate::hosts::{HostPattern, LIKE_ESCAPE};
use crate::model::ServiceRow;

/// Which live (or, with `include_deleted`, also soft-deleted) rows to read.
#[derive(Debug, Clone, Default)]
pub(crate) struct ServiceFilter {
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

    /// The SQL pre-filter: it may let through more than `accepts` (LIKE ignores case on MySQL).
    fn condition(&self) -> Stmt {
        let mut clauses = Vec::new();
        if !self.include_deleted {
            clauses.push(Stmt::new("deleted = 0"));
        }
        if !self.hosts.is_empty() {
            let ors: Vec<Stmt> = self
                .hosts
                .iter()
                .map(|h| {
                    let mut s = Stmt::new("host LIKE ");
                    s.push_bind(h.like_pattern())
                        .push(&format!(" ESCAPE '{LIKE_ESCAPE}'"));
                    s
                })
                .collect();
            let mut any = Stmt::new("(");
            any.push_stmt(&Stmt::join(&ors, " OR ")).push(")");
            clauses.push(any);
        }
        if let Some(b) = &self.binary {
            let mut s = Stmt::new("`binary` = ");
            s.push_bind(b.as_str());
            clauses.push(s);
        }
        if let Some(z) = &self.zone {
            let mut s = Stmt::new("availability_zone = ");
            s.push_bind(z.as_str());
            clauses.push(s);
        }
        match self.disabled {
            Some(true) => clauses.push(Stmt::new("disabled = 1")),
            Some(false) => clauses.push(Stmt::new("(disabled = 0 OR disabled IS NULL)")),
            None => {}
        }
        if clauses.is_empty() {
            Stmt::default()
        } else {
            let mut s = Stmt::new(" WHERE ");
            s.push_stmt(&Stmt::join(&clauses, " AND "));
            s
        }
    }
}

/// `SELECT <every ServiceRow column> FROM services`: the columns an old schema lacks are read
/// as NULL.
fn select(schema: &Schema) -> Stmt {
    let list: Vec<String> = ServiceRow::COLUMNS
        .iter()
        .map(|c| {
            if schema.has("services", c) {
                format!("`{c}`")
            } else {
                format!("NULL AS `{c}`")
            }
        })
        .collect();
    Stmt::new(format!("SELECT {} FROM services", list.join(", ")))
}

fn filtered(schema: &Schema, f: &ServiceFilter) -> Stmt {
    let mut s = select(schema);
    s.push_stmt(&f.condition())
        .push(" ORDER BY `binary`, host, id");
    s
}

/// Streams the matching rows to `each`, one at a time, in the order binary, host, id:
/// nothing is held beyond the row in hand.
pub(crate) async fn for_each(
    db: &mut Db,
    filter: &ServiceFilter,
    mut each: impl FnMut(ServiceRow) -> Result<()>,
) -> Result<()> {
    let stmt = filtered(&db.schema, filter);
    db.conn
        .for_each(&stmt, |row: ServiceRow| {
            if filter.accepts(&row) {
                each(row)
            } else {
                Ok(())
            }
        })
        .await
}

/// Reads every matching row, retrying per the `[database]` policy.
pub(crate) async fn fetch_all(db: &mut Db, filter: &ServiceFilter) -> Result<Vec<ServiceRow>> {
    let stmt = filtered(&db.schema, filter);
    let rows: Vec<ServiceRow> = db
        .retrying("reading services", async |conn| {
            Ok(conn.fetch_all(&stmt).await?)
        })
        .await?;
    Ok(rows.into_iter().filter(|r| filter.accepts(r)).collect())
}

/// Reads the rows with these ids, in id order, inside a write transaction: locked (`FOR
/// UPDATE`) so that nobody changes them until it ends.
pub(crate) async fn lock_by_ids(
    conn: &mut Conn,
    schema: &Schema,
    ids: &[i64],
) -> Result<Vec<ServiceRow>> {
    let d: Dialect = conn.dialect();
    let mut s = select(schema);
    s.push(" WHERE id IN (")
        .push_list(ids.iter().copied())
        .push(") ORDER BY id")
        .push(d.for_update());
    Ok(conn.fetch_all(&s).await?)
}
