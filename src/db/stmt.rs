//! A statement: SQL text and its bound values, built together in one value, so that no caller
//! ever binds by position or formats a value into SQL (lists of ids, `push_ids`, excepted).
//! Fragments (a WHERE condition with its own binds) are `Stmt`s too and are appended whole.

use chrono::NaiveDateTime;

/// A bound value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Bind {
    Int(i64),
    Text(String),
    /// A timestamp, sent as text the way Cinder writes it on the open backend
    /// (`Dialect::timestamp`), so the comparison in SQL is the one Cinder's own rows get.
    Time(NaiveDateTime),
    /// SQL NULL (a nullable text column set to nothing).
    Null,
}

impl<T: Into<Bind>> From<Option<T>> for Bind {
    fn from(v: Option<T>) -> Bind {
        v.map_or(Bind::Null, Into::into)
    }
}

impl From<i64> for Bind {
    fn from(v: i64) -> Bind {
        Bind::Int(v)
    }
}

impl From<String> for Bind {
    fn from(v: String) -> Bind {
        Bind::Text(v)
    }
}

impl From<&str> for Bind {
    fn from(v: &str) -> Bind {
        Bind::Text(v.to_string())
    }
}

impl From<NaiveDateTime> for Bind {
    fn from(v: NaiveDateTime) -> Bind {
        Bind::Time(v)
    }
}

/// SQL text with one `?` per bound value, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Stmt {
    sql: String,
    binds: Vec<Bind>,
}

impl Stmt {
    /// A statement from svcctl's own text (identifiers, keywords, placeholders): every value
    /// from the user or the database goes through `bind`, never into the text.
    pub fn new(sql: impl Into<String>) -> Stmt {
        Stmt {
            sql: sql.into(),
            binds: Vec::new(),
        }
    }

    /// Appends svcctl's own SQL text.
    pub fn push(&mut self, sql: &str) -> &mut Stmt {
        self.sql.push_str(sql);
        self
    }

    /// Appends `?` and binds `v` to it.
    pub fn push_bind(&mut self, v: impl Into<Bind>) -> &mut Stmt {
        self.sql.push('?');
        self.binds.push(v.into());
        self
    }

    /// Appends `?, ?, ?` for an `IN (...)` list, binding each value.
    pub fn push_list<B: Into<Bind>>(&mut self, vs: impl IntoIterator<Item = B>) -> &mut Stmt {
        for (i, v) in vs.into_iter().enumerate() {
            if i > 0 {
                self.sql.push_str(", ");
            }
            self.push_bind(v);
        }
        self
    }

    /// Appends `3, 4, 5` for an `IN (...)` list of ids, written into the text. An `i64` cannot
    /// carry SQL (whether read from the database or from the audit log), and placeholders cost: a statement with 2,000 of
    /// them cost the client more than the server's whole work (MySQL answers a PREPARE with one
    /// parameter definition per placeholder, sqlx sends each value typed), and SQLite caps
    /// their number. The one place a value goes into the text, and only an `i64`.
    pub fn push_ids(&mut self, ids: impl IntoIterator<Item = i64>) -> &mut Stmt {
        use std::fmt::Write;
        for (i, id) in ids.into_iter().enumerate() {
            let sep = if i > 0 { ", " } else { "" };
            write!(self.sql, "{sep}{id}").expect("writing to a String");
        }
        self
    }

    /// Appends a fragment with its binds.
    pub fn push_stmt(&mut self, other: &Stmt) -> &mut Stmt {
        self.sql.push_str(&other.sql);
        self.binds.extend(other.binds.iter().cloned());
        self
    }

    /// The fragments joined by `sep` (e.g. `" AND "`), binds in order.
    pub fn join(parts: &[Stmt], sep: &str) -> Stmt {
        let mut out = Stmt::default();
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                out.push(sep);
            }
            out.push_stmt(p);
        }
        out
    }

    pub fn sql(&self) -> &str {
        &self.sql
    }

    pub fn binds(&self) -> &[Bind] {
        &self.binds
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_binds_stay_together() {
        let mut cond = Stmt::new("host = ");
        cond.push_bind("node01");
        let mut s = Stmt::new("SELECT id FROM services WHERE id IN (");
        s.push_list([3i64, 4]).push(") AND ").push_stmt(&cond);
        assert_eq!(
            s.sql(),
            "SELECT id FROM services WHERE id IN (?, ?) AND host = ?"
        );
        assert_eq!(
            s.binds(),
            &[Bind::Int(3), Bind::Int(4), Bind::Text("node01".into())]
        );
        assert_eq!(s.sql().matches('?').count(), s.binds().len());
        let j = Stmt::join(&[cond.clone(), cond], " OR ");
        assert_eq!(j.sql(), "host = ? OR host = ?");
        assert_eq!(j.binds().len(), 2);
    }

    #[test]
    fn ids_are_text_and_nothing_else() {
        let mut s = Stmt::new("id IN (");
        s.push_ids([3, -4, i64::MAX])
            .push(") AND host = ")
            .push_bind("h");
        assert_eq!(s.sql(), "id IN (3, -4, 9223372036854775807) AND host = ?");
        assert_eq!(s.binds(), [Bind::Text("h".into())]);
        let mut empty = Stmt::new("");
        empty.push_ids([]);
        assert_eq!(empty.sql(), "");
    }
}
