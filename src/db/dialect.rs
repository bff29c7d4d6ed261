//! The SQL dialect: the little that differs between MySQL and SQLite for svcctl's statements.
//! Callers build SQL through these methods and never match on the dialect themselves.

use chrono::NaiveDateTime;

use super::stmt::{Bind, Stmt};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    MySql,
    Sqlite,
}

impl Dialect {
    /// A case- and collation-exact string comparison. MySQL compares case-insensitively under
    /// Cinder's utf8 collations; Cinder itself compares hosts with BINARY, and so does svcctl.
    pub fn eq_exact(self, a: &str, b: &str) -> String {
        match self {
            Dialect::MySql => format!("BINARY {a} = {b}"),
            Dialect::Sqlite => format!("{a} = {b}"),
        }
    }

    /// `expr` as text (an integer id read where ids are text).
    pub fn as_text(self, expr: &str) -> String {
        match self {
            Dialect::MySql => format!("CAST({expr} AS CHAR)"),
            Dialect::Sqlite => format!("CAST({expr} AS TEXT)"),
        }
    }

    /// `col` equals `value` exactly, NULL equal to NULL (a column as the plan saw it).
    pub fn same_value(self, col: &str, value: Option<&str>) -> Stmt {
        match value {
            Some(v) => self.eq_exact_value(col, v),
            None => Stmt::new(format!("{col} IS NULL")),
        }
    }

    /// `a` starts with `b` followed by `sep`, compared exactly; no LIKE, so `_` and `%` in
    /// a host are never wildcards.
    pub fn starts_with_then(self, a: &str, b: &str, sep: char) -> String {
        match self {
            Dialect::MySql => format!(
                "BINARY SUBSTRING({a}, 1, CHAR_LENGTH({b}) + 1) = BINARY CONCAT({b}, '{sep}')"
            ),
            Dialect::Sqlite => format!("substr({a}, 1, length({b}) + 1) = {b} || '{sep}'"),
        }
    }

    /// `expr` as raw bytes, neither converted to the connection's character set nor compared
    /// under a collation (so `DISTINCT` keeps `a` and `A` apart).
    pub fn bytes(self, expr: &str) -> String {
        match self {
            Dialect::MySql => format!("CAST({expr} AS BINARY)"),
            Dialect::Sqlite => format!("CAST({expr} AS BLOB)"),
        }
    }

    /// The part of a host before its first `#`: `node01@lvm` of `node01@lvm#pool`, and the
    /// whole host when it has none.
    pub fn before_hash(self, col: &str) -> String {
        match self {
            Dialect::MySql => format!("SUBSTRING_INDEX({col}, '#', 1)"),
            Dialect::Sqlite => format!(
                "CASE WHEN instr({col}, '#') > 0 THEN substr({col}, 1, instr({col}, '#') - 1) \
                 ELSE {col} END"
            ),
        }
    }

    /// `col = value`, compared exactly (see `eq_exact`).
    pub fn eq_exact_value(self, col: &str, value: impl Into<Bind>) -> Stmt {
        let mut s = Stmt::new(self.eq_exact(col, ""));
        s.push_bind(value);
        s
    }

    /// `time_expr < t`, comparing instants: on SQLite, julianday() compares Cinder's text
    /// timestamps as instants, with or without fractions.
    pub fn before(self, time_expr: &str, t: NaiveDateTime) -> Stmt {
        match self {
            Dialect::MySql => {
                let mut s = Stmt::new(format!("{time_expr} < "));
                s.push_bind(t);
                s
            }
            Dialect::Sqlite => {
                let mut s = Stmt::new(format!("julianday({time_expr}) < julianday("));
                s.push_bind(t).push(")");
                s
            }
        }
    }

    /// `UPDATE table` for a statement whose WHERE clause holds subqueries, in the form the server
    /// plans them best in: MariaDB before 11.1 plans a single-table UPDATE's subqueries one
    /// service at a time (each a subquery per row, whatever their shape), and a multi-table
    /// UPDATE's as a SELECT's (an uncorrelated `IN` read once into a lookup table). The second
    /// "table" is one constant row, joined to nothing: the statement changes the same rows.
    pub fn update(self, table: &str) -> String {
        match self {
            Dialect::MySql => format!("UPDATE {table}, (SELECT 1) AS one_row"),
            Dialect::Sqlite => format!("UPDATE {table}"),
        }
    }

    /// Timestamps as Cinder writes them: DATETIME to the second on MySQL, text with
    /// microseconds on SQLite.
    pub fn timestamp(self, t: NaiveDateTime) -> String {
        match self {
            Dialect::MySql => t.format("%Y-%m-%d %H:%M:%S").to_string(),
            Dialect::Sqlite => t.format("%Y-%m-%d %H:%M:%S%.6f").to_string(),
        }
    }

    /// How a write transaction starts. SQLite takes the write lock at once (IMMEDIATE) so two
    /// svcctl runs serialize instead of failing at commit.
    pub fn begin(self) -> &'static str {
        match self {
            Dialect::MySql => "START TRANSACTION",
            Dialect::Sqlite => "BEGIN IMMEDIATE",
        }
    }

    /// Locks rows read inside a write transaction (SQLite's IMMEDIATE lock already covers it).
    pub fn for_update(self) -> &'static str {
        match self {
            Dialect::MySql => " FOR UPDATE",
            Dialect::Sqlite => "",
        }
    }
}
