//! Reading the services table: which rows (`ServiceFilter`), as typed `ServiceRow`s.

use anyhow::Result;
use chrono::NaiveDateTime;

use super::schema::Schema;
use super::stmt::Stmt;
use super::{Conn, Db, Dialect};
use crate::hosts::{HostPattern, LIKE_ESCAPE, Selection};
use crate::model::{Invalid, ServiceRow};

/// Which live (or, with `include_deleted`, also soft-deleted) rows to read.
#[derive(Debug, Clone, Default)]
pub(crate) struct ServiceFilter {
    /// Any of these hosts; empty means every host.
    pub hosts: Vec<HostPattern>,
    pub binary: Option<String>,
    pub zone: Option<String>,
    pub disabled: Option<bool>,
    pub include_deleted: bool,
    /// None of these hosts.
    pub exclude: Vec<HostPattern>,
    /// Only services whose last heartbeat is before this (or that never had one): a sweep's
    /// `--down-for`.
    pub heartbeat_before: Option<NaiveDateTime>,
}

impl ServiceFilter {
    /// The live rows `sel` selects at `now` (of `binary`, if given).
    pub fn selecting(sel: &Selection, binary: Option<String>, now: NaiveDateTime) -> ServiceFilter {
        ServiceFilter {
            hosts: sel.hosts.clone(),
            binary,
            exclude: sel.exclude.clone(),
            heartbeat_before: sel.down_for.as_ref().map(|(_, d)| now - *d),
            ..ServiceFilter::default()
        }
    }

    /// The exact verdict on a row the SQL pre-filter let through.
    fn accepts(&self, row: &ServiceRow) -> bool {
        (self.hosts.is_empty() || self.hosts.iter().any(|h| h.matches(row.host())))
            && self.binary.as_deref().is_none_or(|b| b == row.binary())
            && self
                .zone
                .as_deref()
                .is_none_or(|z| row.availability_zone.as_deref() == Some(z))
            && !self.exclude.iter().any(|h| h.matches(row.host()))
            && self
                .heartbeat_before
                .is_none_or(|t| row.heartbeat().is_none_or(|hb| hb < t))
    }

    /// The SQL pre-filter: it may let through more than `accepts` (LIKE ignores case on MySQL).
    fn condition(&self, d: Dialect) -> Stmt {
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
        if let Some(t) = self.heartbeat_before {
            let hb = "COALESCE(updated_at, created_at)";
            let mut s = Stmt::new(format!("({hb} IS NULL OR "));
            s.push_stmt(&d.before(hb, t)).push(")");
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
    schema.select("services", ServiceRow::COLUMNS)
}

/// The position of `name` in `ServiceRow::COLUMNS`, and so in every SELECT `select` builds, at
/// compile time: an unknown name fails the build.
const fn column(name: &str) -> usize {
    let cols = ServiceRow::COLUMNS;
    let mut i = 0;
    while i < cols.len() {
        let (c, n) = (cols[i].as_bytes(), name.as_bytes());
        if c.len() == n.len() {
            let mut j = 0;
            while j < n.len() && c[j] == n[j] {
                j += 1;
            }
            if j == n.len() {
                return i;
            }
        }
        i += 1;
    }
    panic!("not a column of ServiceRow::COLUMNS")
}

/// Decodes a row of `select`'s SELECT by position. The derived `FromRow` looks each of the 18
/// names up in a hash map per row, an eighth of a 10,000-service listing's CPU time. Still
/// checked: each position's column must carry the field's name (a cheap byte comparison; a
/// SELECT in another order is an error, never a shuffled row), and sqlx checks each type.
///
/// A bad row is one row: a nullable column whose value cannot be read as its type (a zero
/// date, `2026-00-15`; text that is not UTF-8) is read as None and named in `invalid` with the
/// value as stored, so the listing goes on and shows it, and a write can refuse it by name.
impl<'r, R: sqlx::Row> sqlx::FromRow<'r, R> for ServiceRow
where
    usize: sqlx::ColumnIndex<R>,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    bool: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Vec<u8>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    chrono::NaiveDateTime: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    fn from_row(row: &'r R) -> Result<Self, sqlx::Error> {
        use sqlx::Column as _;
        let columns = row.columns();
        let mut invalid = Vec::new();
        macro_rules! at {
            ($name:literal) => {{
                const AT: usize = column($name);
                match columns.get(AT) {
                    Some(c) if c.name() == $name => AT,
                    _ => return Err(sqlx::Error::ColumnNotFound($name.into())),
                }
            }};
        }
        macro_rules! get {
            ($name:literal) => {{ row.try_get(at!($name))? }};
        }
        // A nullable column: a value of the wrong shape is None, and named in `invalid`.
        macro_rules! lenient {
            ($name:literal) => {{
                let at = at!($name);
                match row.try_get(at) {
                    Ok(v) => v,
                    Err(sqlx::Error::ColumnDecode { .. }) => {
                        invalid.push(Invalid {
                            column: $name,
                            value: stored_text(row, at, $name.ends_with("_at")),
                        });
                        None
                    }
                    Err(e) => return Err(e),
                }
            }};
        }
        Ok(ServiceRow {
            id: get!("id"),
            uuid: lenient!("uuid"),
            host: lenient!("host"),
            binary: lenient!("binary"),
            topic: lenient!("topic"),
            availability_zone: lenient!("availability_zone"),
            disabled: lenient!("disabled"),
            disabled_reason: lenient!("disabled_reason"),
            created_at: lenient!("created_at"),
            updated_at: lenient!("updated_at"),
            deleted: lenient!("deleted"),
            deleted_at: lenient!("deleted_at"),
            modified_at: lenient!("modified_at"),
            cluster_name: lenient!("cluster_name"),
            replication_status: lenient!("replication_status"),
            active_backend_id: lenient!("active_backend_id"),
            frozen: lenient!("frozen"),
            report_count: lenient!("report_count"),
            invalid,
        })
    }
}

/// A value that could not be decoded, as text: its bytes as the driver has them, a MySQL
/// binary-protocol DATETIME (`time`) written out as MySQL shows it (`2026-00-15`), anything
/// else as (lossy) UTF-8.
fn stored_text<'r, R: sqlx::Row>(row: &'r R, at: usize, time: bool) -> String
where
    usize: sqlx::ColumnIndex<R>,
    Vec<u8>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    match row.try_get_unchecked::<Option<Vec<u8>>, _>(at) {
        Ok(Some(bytes)) => time
            .then(|| mysql_binary_datetime(&bytes))
            .flatten()
            .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned()),
        Ok(None) => "NULL".into(),
        Err(e) => format!("unreadable ({e})"),
    }
}

/// MySQL's binary-protocol DATETIME (a length byte, then year, month, day, hour, minute,
/// second, microseconds; 0, 4, 7 or 11 bytes) as MySQL writes it, whatever the values; None for
/// anything else (text, where the bytes are the value itself).
fn mysql_binary_datetime(b: &[u8]) -> Option<String> {
    let (&len, v) = b.split_first()?;
    if usize::from(len) != v.len() {
        return None;
    }
    let date = |v: &[u8]| {
        format!(
            "{:04}-{:02}-{:02}",
            u16::from_le_bytes([v[0], v[1]]),
            v[2],
            v[3]
        )
    };
    match len {
        0 => Some("0000-00-00 00:00:00".into()),
        4 => Some(date(v)),
        7 => Some(format!("{} {:02}:{:02}:{:02}", date(v), v[4], v[5], v[6])),
        11 => Some(format!(
            "{} {:02}:{:02}:{:02}.{:06}",
            date(v),
            v[4],
            v[5],
            v[6],
            u32::from_le_bytes([v[7], v[8], v[9], v[10]])
        )),
        _ => None,
    }
}

/// The matching rows; `ordered` adds `ORDER BY binary, host, id`, else they come in the
/// server's order.
fn filtered(schema: &Schema, d: Dialect, f: &ServiceFilter, ordered: bool) -> Stmt {
    let mut s = select(schema);
    s.push_stmt(&f.condition(d));
    if ordered {
        s.push(" ORDER BY `binary`, host, id");
    }
    s
}

/// The columns a listing never shows, read as NULL by `for_each`.
const NOT_LISTED: &[&str] = &["topic", "report_count"];

/// Streams the matching rows to `each`, one at a time, in no particular order: nothing is
/// held beyond the row in hand. Unordered because the listing sorts them itself, in the
/// table's order, which no collation gives; an ORDER BY made MySQL re-read each of these wide
/// rows to sort them, which for 10,000 services cost the server more than twice the SELECT.
/// For the listing only: `topic` and `report_count`, which no listing shows, come as None (a
/// string per row fewer to send, decode and, while the listing sorts, hold).
pub(crate) async fn for_each(
    db: &mut Db,
    filter: &ServiceFilter,
    mut each: impl FnMut(ServiceRow) -> Result<()>,
) -> Result<()> {
    let mut stmt = db
        .schema
        .select_but("services", ServiceRow::COLUMNS, NOT_LISTED);
    stmt.push_stmt(&filter.condition(db.dialect));
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

/// Reads every matching row in the order binary, host, id, retrying per the `[database]`
/// policy.
pub(crate) async fn fetch_all(db: &mut Db, filter: &ServiceFilter) -> Result<Vec<ServiceRow>> {
    let stmt = filtered(&db.schema, db.dialect, filter, true);
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
    let s = schema.select_ids(
        "services",
        ServiceRow::COLUMNS,
        ids,
        conn.dialect().for_update(),
    );
    Ok(conn.fetch_all(&s).await?)
}

/// The rows with these ids, deleted or not, in id order (no lock: for a plan).
pub(crate) async fn by_ids(db: &mut Db, ids: &[i64]) -> Result<Vec<ServiceRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let s = db
        .schema
        .select_ids("services", ServiceRow::COLUMNS, ids, "");
    db.retrying("reading services", async |conn| {
        Ok(conn.fetch_all(&s).await?)
    })
    .await
}

/// Those of `uuids` that a live service has, compared as the foreign key `volumes.service_uuid`
/// -> `services.uuid` compares them; all of them on a schema without uuids (nothing to check).
pub(crate) async fn live_uuids(db: &mut Db, uuids: &[String]) -> Result<Vec<String>> {
    if uuids.is_empty() || !db.schema.has("services", "uuid") {
        return Ok(uuids.to_vec());
    }
    let mut s = Stmt::new("SELECT uuid FROM services WHERE deleted = 0 AND uuid IN (");
    s.push_list(uuids.iter().map(String::as_str)).push(")");
    let rows: Vec<(String,)> = db
        .retrying("reading service uuids", async |conn| {
            Ok(conn.fetch_all(&s).await?)
        })
        .await?;
    Ok(rows.into_iter().map(|(u,)| u).collect())
}

/// Soft-deleted rows whose `deleted_at` is before `cutoff`, in id order (purge's candidates,
/// as `cinder-manage db purge` picks them).
pub(crate) async fn deleted_before(db: &mut Db, cutoff: NaiveDateTime) -> Result<Vec<ServiceRow>> {
    let mut s = select(&db.schema);
    s.push(" WHERE deleted = 1 AND deleted_at IS NOT NULL AND ")
        .push_stmt(&db.dialect.before("deleted_at", cutoff))
        .push(" ORDER BY id");
    db.retrying("reading deleted services", async |conn| {
        Ok(conn.fetch_all(&s).await?)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::Connection;

    #[test]
    fn mysql_binary_datetimes_are_written_as_mysql_shows_them() {
        assert_eq!(
            mysql_binary_datetime(&[4, 0xea, 0x07, 0, 15]).as_deref(),
            Some("2026-00-15")
        );
        assert_eq!(
            mysql_binary_datetime(&[7, 0xea, 0x07, 2, 30, 25, 61, 0]).as_deref(),
            Some("2026-02-30 25:61:00")
        );
        assert_eq!(
            mysql_binary_datetime(&[0]).as_deref(),
            Some("0000-00-00 00:00:00")
        );
        assert_eq!(
            mysql_binary_datetime(&[11, 0xea, 0x07, 1, 1, 0, 0, 0, 1, 0, 0, 0]).as_deref(),
            Some("2026-01-01 00:00:00.000001")
        );
        // Text is not the binary protocol.
        assert_eq!(mysql_binary_datetime(b"2026-00-15"), None);
        assert_eq!(mysql_binary_datetime(&[4, 1]), None);
    }

    /// Rows decode by position only from a SELECT in `COLUMNS` order: one in another order
    /// (here the table's own, as `SELECT *` gives it) is an error, never a shuffled row.
    #[tokio::test(flavor = "current_thread")]
    async fn decoding_by_position_checks_each_name() {
        let mut c = sqlx::SqliteConnection::connect("sqlite::memory:")
            .await
            .unwrap();
        // Cinder's order, not ServiceRow's: created_at first, host after binary.
        sqlx::raw_sql(
            "CREATE TABLE services (created_at DATETIME, updated_at DATETIME, deleted_at DATETIME,
               deleted BOOLEAN, id INTEGER, `binary` VARCHAR(255), host VARCHAR(255));
             INSERT INTO services VALUES
               ('2021-01-12 09:28:10', NULL, NULL, 0, 7, 'cinder-volume', 'node01@lvm');",
        )
        .execute(&mut c)
        .await
        .unwrap();
        let schema = Schema::of(&[(
            "services",
            &[
                "created_at",
                "updated_at",
                "deleted_at",
                "deleted",
                "id",
                "binary",
                "host",
            ],
        )]);
        let row: ServiceRow =
            sqlx::query_as(sqlx::AssertSqlSafe(select(&schema).sql().to_string()))
                .fetch_one(&mut c)
                .await
                .unwrap();
        assert_eq!(
            (row.id, row.binary(), row.host()),
            (7, "cinder-volume", "node01@lvm")
        );
        assert!(row.uuid.is_none() && row.updated_at.is_none() && row.created_at.is_some());
        // A value its column's type does not allow is one bad cell, named, not a failed row.
        sqlx::raw_sql(
            "INSERT INTO services VALUES
               ('2026-00-15', 'yesterday', NULL, 0, 8, 'cinder-volume', X'6e6f6465ff');",
        )
        .execute(&mut c)
        .await
        .unwrap();
        let rows: Vec<ServiceRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{} WHERE id = 8",
            select(&schema).sql()
        )))
        .fetch_all(&mut c)
        .await
        .unwrap();
        let bad = &rows[0];
        assert_eq!(
            (bad.id, bad.created_at, bad.updated_at, bad.host.as_deref()),
            (8, None, None, None)
        );
        assert_eq!(bad.invalid("created_at"), Some("2026-00-15"));
        assert_eq!(bad.invalid("updated_at"), Some("yesterday"));
        assert_eq!(bad.invalid("host"), Some("node\u{fffd}"));
        assert_eq!(bad.binary(), "cinder-volume");
        let shuffled = sqlx::query_as::<_, ServiceRow>("SELECT * FROM services")
            .fetch_one(&mut c)
            .await;
        assert!(
            matches!(shuffled, Err(sqlx::Error::ColumnNotFound(ref n)) if n == "id"),
            "{shuffled:?}"
        );
    }
}
