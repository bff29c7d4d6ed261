//! The schema as it is: which tables and columns this Cinder database really has, so that
//! svcctl works on releases older than the fixtures (no `services.uuid`, no `workers`, ...).
//! svcctl only reads the schema; it never creates or alters a table of a database it did not create.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;

use super::conn::Conn;
use super::dialect::Dialect;
use super::stmt::Stmt;
use super::url::DbUrl;

/// Tables and their columns, as introspected.
#[derive(Debug, Clone, Default)]
pub(crate) struct Schema {
    tables: BTreeMap<String, BTreeSet<String>>,
}

/// The services columns svcctl cannot work without (present since Cinder's first release).
const REQUIRED_SERVICE_COLUMNS: &[&str] = &[
    "id",
    "host",
    "binary",
    "deleted",
    "deleted_at",
    "created_at",
    "updated_at",
    "disabled",
];

#[cfg(test)]
impl Schema {
    /// A schema of these tables and columns, for unit tests.
    pub fn of(tables: &[(&str, &[&str])]) -> Schema {
        Schema {
            tables: tables
                .iter()
                .map(|(t, cols)| (t.to_string(), cols.iter().map(|c| c.to_string()).collect()))
                .collect(),
        }
    }
}

impl Schema {
    pub async fn read(conn: &mut Conn) -> Result<Schema, sqlx::Error> {
        let rows: Vec<(String, String)> = conn
            .fetch_all(&Stmt::new(conn.dialect().columns_query()))
            .await?;
        let mut tables: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (t, c) in rows {
            tables
                .entry(t.to_lowercase())
                .or_default()
                .insert(c.to_lowercase());
        }
        Ok(Schema { tables })
    }

    pub fn has_table(&self, table: &str) -> bool {
        self.tables.contains_key(table)
    }

    pub fn has(&self, table: &str, column: &str) -> bool {
        self.tables.get(table).is_some_and(|c| c.contains(column))
    }

    /// `SELECT <columns> FROM <table>`, reading a column this schema lacks (an older release's)
    /// as NULL, so one row type serves every release.
    pub fn select(&self, table: &str, columns: &[&str]) -> Stmt {
        self.select_but(table, columns, &[])
    }

    /// `select`, with the columns in `unread` read as NULL too: a caller that never looks at
    /// them keeps the row type and spares the server, the wire and its memory.
    pub fn select_but(&self, table: &str, columns: &[&str], unread: &[&str]) -> Stmt {
        let list: Vec<String> = columns
            .iter()
            .map(|c| {
                if self.has(table, c) && !unread.contains(c) {
                    format!("`{c}`")
                } else {
                    format!("NULL AS `{c}`")
                }
            })
            .collect();
        Stmt::new(format!("SELECT {} FROM {table}", list.join(", ")))
    }

    /// `select(table, columns)` of the rows with these ids, in id order, with `lock` appended
    /// (`Dialect::for_update` inside a write, "" for a plan's read).
    pub fn select_ids(&self, table: &str, columns: &[&str], ids: &[i64], lock: &str) -> Stmt {
        let mut s = self.select(table, columns);
        s.push(" WHERE id IN (")
            .push_ids(ids.iter().copied())
            .push(") ORDER BY id")
            .push(lock);
        s
    }

    /// True for a database svcctl's own migrations built (the demo and test databases).
    pub fn is_svcctl_built(&self) -> bool {
        self.has_table("_sqlx_migrations")
    }

    pub fn require_services(&self, url: &DbUrl) -> Result<()> {
        if !self.has_table("services") {
            anyhow::bail!(
                "{} has no services table; is [database] connection the Cinder database?",
                url.target()
            );
        }
        let missing: Vec<_> = REQUIRED_SERVICE_COLUMNS
            .iter()
            .filter(|c| !self.has("services", c))
            .collect();
        if !missing.is_empty() {
            anyhow::bail!(
                "the services table at {} lacks {missing:?}; is this a Cinder database?",
                url.target()
            );
        }
        Ok(())
    }
}

impl Dialect {
    /// Each (table, column) of the tables svcctl reads. Only those tables:
    /// information_schema is slow to scan on a big server.
    fn columns_query(self) -> &'static str {
        match self {
            // CAST: information_schema's columns come back as binary strings on some servers.
            Dialect::MySql => {
                "SELECT CAST(TABLE_NAME AS CHAR) AS t, CAST(COLUMN_NAME AS CHAR) AS c \
                 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN \
                 ('services', 'clusters', 'volumes', 'backups', 'groups', 'consistencygroups', \
                 'workers', 'image_volume_cache_entries', '_sqlx_migrations')"
            }
            Dialect::Sqlite => {
                "SELECT m.name AS t, p.name AS c FROM sqlite_master m \
                 JOIN pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name IN \
                 ('services', 'clusters', 'volumes', 'backups', 'groups', 'consistencygroups', \
                 'workers', 'image_volume_cache_entries', '_sqlx_migrations')"
            }
        }
    }
}
