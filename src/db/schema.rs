//! The schema as it is: which tables and columns this Cinder database really has, so that
//! svcctl works on releases older than the fixtures (no `services.uuid`, no `workers`, ...).
//! svcctl only reads the schema; it never creates or alters a table of a database it did not create.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;
use sqlx::Row;

use super::connect::Conn;
use super::url::DbUrl;

/// Tables and their columns, as introspected.
#[derive(Debug, Clone, Default)]
pub struct Schema {
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

impl Schema {
    pub async fn read(conn: &mut Conn) -> Result<Schema, sqlx::Error> {
        // Only the tables svcctl uses: information_schema is slow to scan on a big server.
        let text = match conn {
            // CAST: information_schema's columns come back as binary strings on some servers.
            Conn::MySql(_) => {
                "SELECT CAST(TABLE_NAME AS CHAR) AS t, CAST(COLUMN_NAME AS CHAR) AS c \
                 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN \
                 ('services', 'clusters', 'volumes', 'backups', 'groups', 'consistencygroups', \
                 'workers', 'image_volume_cache_entries', '_sqlx_migrations')"
            }
            Conn::Sqlite(_) => {
                "SELECT m.name AS t, p.name AS c FROM sqlite_master m \
                 JOIN pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name IN \
                 ('services', 'clusters', 'volumes', 'backups', 'groups', 'consistencygroups', \
                 'workers', 'image_volume_cache_entries', '_sqlx_migrations')"
            }
        };
        let mut rows = Vec::new();
        crate::on_conn!(conn, c => {
            for r in sqlx::query(text).fetch_all(&mut *c).await? {
                rows.push((r.try_get::<String, _>("t")?, r.try_get::<String, _>("c")?));
            }
        });
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
