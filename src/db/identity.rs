//! Which database svcctl is connected to, as the audit log records it (`db_identity` on every
//! line), so that a record drives a write (`service restore`, `move-host --undo`) only on the
//! database it was written for: not on another cloud's whose URL reads the same, nor on a
//! staging copy. The URL alone (the record's `database`) cannot tell: every cloud's is
//! `mysql+pymysql://cinder:***@controller/cinder`, and one database has several URLs.

use std::os::unix::fs::MetadataExt;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::url::DbUrl;
use super::{Conn, Db, Stmt};

/// A database as the audit log identifies it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "backend", rename_all = "snake_case")]
pub(crate) enum Identity {
    /// A MySQL or MariaDB server and the schema on it.
    Mysql {
        /// MySQL's `@@server_uuid` (MariaDB has none).
        #[serde(default)]
        server_uuid: Option<String>,
        /// Galera's `wsrep_cluster_state_uuid`, the same on every node of a cluster.
        #[serde(default)]
        cluster_uuid: Option<String>,
        /// The server's `@@hostname` and `@@port`.
        hostname: String,
        port: i64,
        /// `DATABASE()`.
        schema: String,
    },
    /// An SQLite file: its absolute path and inode (a copy elsewhere, or a file put in its
    /// place, is another database).
    Sqlite {
        path: String,
        device: u64,
        inode: u64,
    },
}

impl Identity {
    /// Whether a record written on `self` may act on `now`: the same schema on the same Galera
    /// cluster (any node), or the same MySQL server (`server_uuid`), or else the same host and
    /// port; for SQLite, the same file at the same path.
    pub fn same_as(&self, now: &Identity) -> bool {
        match (self, now) {
            (
                Identity::Mysql {
                    server_uuid: su1,
                    cluster_uuid: cu1,
                    hostname: h1,
                    port: p1,
                    schema: s1,
                },
                Identity::Mysql {
                    server_uuid: su2,
                    cluster_uuid: cu2,
                    hostname: h2,
                    port: p2,
                    schema: s2,
                },
            ) => {
                s1 == s2
                    && match (cu1, cu2, su1, su2) {
                        (Some(a), Some(b), _, _) => a == b,
                        (_, _, Some(a), Some(b)) => a == b,
                        _ => h1 == h2 && p1 == p2,
                    }
            }
            (
                Identity::Sqlite {
                    path: a,
                    device: d1,
                    inode: i1,
                },
                Identity::Sqlite {
                    path: b,
                    device: d2,
                    inode: i2,
                },
            ) => a == b && d1 == d2 && i1 == i2,
            _ => false,
        }
    }
}

impl std::fmt::Display for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Identity::Mysql {
                server_uuid,
                cluster_uuid,
                hostname,
                port,
                schema,
            } => {
                write!(f, "schema {schema} on server {hostname}:{port}")?;
                if let Some(u) = server_uuid {
                    write!(f, " (server_uuid {u})")?;
                }
                if let Some(u) = cluster_uuid {
                    write!(f, " (Galera cluster {u})")?;
                }
                Ok(())
            }
            Identity::Sqlite { path, inode, .. } => write!(f, "SQLite file {path} (inode {inode})"),
        }
    }
}

/// The identity of the database `db` is connected to.
pub(crate) async fn read(db: &mut Db) -> Result<Identity> {
    match &db.url {
        DbUrl::Sqlite { path: Some(p), .. } => {
            let abs = std::fs::canonicalize(p)
                .with_context(|| format!("reading the identity of {}", p.display()))?;
            let meta = std::fs::metadata(&abs)
                .with_context(|| format!("reading the identity of {}", abs.display()))?;
            Ok(Identity::Sqlite {
                path: abs.display().to_string(),
                device: meta.dev(),
                inode: meta.ino(),
            })
        }
        DbUrl::Sqlite { path: None, .. } => Ok(Identity::Sqlite {
            path: ":memory:".into(),
            device: 0,
            inode: 0,
        }),
        DbUrl::MySql { .. } => {
            db.retrying("reading the database's identity", async |conn| {
                mysql(conn).await
            })
            .await
        }
    }
}

async fn mysql(conn: &mut Conn) -> Result<Identity> {
    let (hostname, port, schema): (String, i64, Option<String>) = conn
        .fetch_one(&Stmt::new(
            "SELECT CAST(@@hostname AS CHAR), CAST(@@port AS SIGNED), CAST(DATABASE() AS CHAR)",
        ))
        .await?;
    // SHOW, not @@server_uuid: MariaDB has no such variable (nor, without Galera, the status).
    let variable = async |conn: &mut Conn, sql: &'static str| -> Result<Option<String>> {
        let rows: Vec<(String, String)> = conn.fetch_all(&Stmt::new(sql)).await?;
        Ok(rows
            .into_iter()
            .next()
            .map(|(_, v)| v)
            .filter(|v| !v.is_empty()))
    };
    let server_uuid = variable(conn, "SHOW GLOBAL VARIABLES LIKE 'server_uuid'").await?;
    let cluster_uuid = variable(conn, "SHOW GLOBAL STATUS LIKE 'wsrep_cluster_state_uuid'").await?;
    Ok(Identity::Mysql {
        server_uuid,
        cluster_uuid,
        hostname,
        port,
        schema: schema.unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mysql(server: Option<&str>, cluster: Option<&str>, host: &str, schema: &str) -> Identity {
        Identity::Mysql {
            server_uuid: server.map(String::from),
            cluster_uuid: cluster.map(String::from),
            hostname: host.into(),
            port: 3306,
            schema: schema.into(),
        }
    }

    #[test]
    fn what_counts_as_the_same_database() {
        let a = mysql(None, None, "db1", "cinder");
        assert!(a.same_as(&a.clone()));
        assert!(
            !a.same_as(&mysql(None, None, "db2", "cinder")),
            "another server"
        );
        assert!(
            !a.same_as(&mysql(None, None, "db1", "cinder_staging")),
            "another schema"
        );
        // Galera: any node of the same cluster.
        assert!(mysql(None, Some("c"), "n1", "cinder").same_as(&mysql(
            None,
            Some("c"),
            "n2",
            "cinder"
        )));
        assert!(!mysql(None, Some("c"), "n1", "cinder").same_as(&mysql(
            None,
            Some("d"),
            "n1",
            "cinder"
        )));
        assert!(!mysql(Some("u1"), None, "h", "cinder").same_as(&mysql(
            Some("u2"),
            None,
            "h",
            "cinder"
        )));
        let f = Identity::Sqlite {
            path: "/a".into(),
            device: 1,
            inode: 2,
        };
        assert!(!f.same_as(&Identity::Sqlite {
            path: "/a".into(),
            device: 1,
            inode: 3,
        }));
        assert!(!f.same_as(&a));
    }
}
