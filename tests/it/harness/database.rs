//! A database for one test: a fresh MariaDB database on the private server, or a real SQLite
//! file, loaded with Cinder 29's real schema or svcctl's migrations; and the administrator's
//! view of it (exec, rows, fingerprints) that tests check svcctl's work with.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use sqlx::ConnectOptions;
use sqlx::sqlite::SqliteConnectOptions;

use super::runner::Svcctl;
use super::server::{log_off, mariadb, root_options};
use super::{PASSWORD_ENCODED, USER, block_on};

/// Runs `$body` with `$c` bound to an administrator's connection to `$db`, on whichever
/// backend it is, and waits for it: the one place both arms are written.
macro_rules! on_backend {
    ($db:expr, |$c:ident| $body:expr) => {
        block_on(async {
            match $db.backend {
                Backend::MySql => {
                    let mut $c = $db.mysql().await;
                    $body
                }
                Backend::Sqlite => {
                    let mut $c = $db.sqlite().await;
                    $body
                }
            }
        })
    };
}

/// The fixtures: Cinder 29.0.0's own schema and rows, in this repository (tests/fixtures/, its
/// README says where they came from), so a clone alone runs the tests.
pub fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

/// Loads the services and volumes rows Cinder's own code wrote (the seed's two nodes).
pub fn load_fixture_rows(db: &TestDb) {
    let sql: String = fixture("cinder-29.0.0-mysql-rows.sql")
        .lines()
        .filter(|l| l.starts_with("INSERT"))
        .collect::<Vec<_>>()
        .join("\n");
    db.exec(&sql);
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// Which schema a test database gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schema {
    /// The schema Cinder 29.0.0's own migrations create (tests/fixtures/).
    Cinder,
    /// svcctl's own migrations.
    Migrations,
    /// Nothing: the test builds its own (e.g. an old release's services table).
    Empty,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    MySql,
    Sqlite,
}

/// Rows with every column read as text (NULL as None), on either backend.
pub fn text_rows<R: sqlx::Row>(rows: &[R]) -> Vec<Vec<Option<String>>>
where
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    usize: sqlx::ColumnIndex<R>,
{
    rows.iter()
        .map(|r| {
            (0..r.len())
                .map(|i| r.try_get::<Option<String>, _>(i).unwrap())
                .collect()
        })
        .collect()
}

/// A database for one test, dropped (MySQL) or deleted (SQLite) when the test ends.
pub struct TestDb {
    pub backend: Backend,
    pub name: String,
    pub dir: tempfile::TempDir,
    pub port: u16,
}

impl TestDb {
    /// None when the backend is MariaDB and no server can be had (the skip was announced).
    pub fn new(backend: Backend, schema: Schema) -> Option<TestDb> {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir = tempfile::tempdir().unwrap();
        let name = format!("t{}_{n}", std::process::id());
        // Create the empty database: on the server, or as a new file.
        let port = match backend {
            Backend::MySql => {
                let server = mariadb()?;
                block_on(async {
                    let mut c = root_options(&server.socket).connect().await.unwrap();
                    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                        .execute(&mut c)
                        .await
                        .unwrap();
                });
                server.port
            }
            Backend::Sqlite => {
                block_on(async {
                    SqliteConnectOptions::new()
                        .filename(dir.path().join("cinder.sqlite"))
                        .create_if_missing(true)
                        .connect()
                        .await
                        .unwrap();
                });
                0
            }
        };
        let db = TestDb {
            backend,
            name,
            dir,
            port,
        };
        match (schema, backend) {
            (Schema::Cinder, Backend::MySql) => {
                // The dump's first line is a client-side sandbox marker, not SQL.
                let sql: String = fixture("cinder-29.0.0-mysql-schema.sql")
                    .lines()
                    .filter(|l| !l.starts_with("/*M!999999"))
                    .collect::<Vec<_>>()
                    .join("\n");
                db.exec(&sql);
            }
            (Schema::Cinder, Backend::Sqlite) => {
                db.exec(&fixture("cinder-29.0.0-sqlite-schema.sql"))
            }
            (Schema::Migrations, Backend::MySql) => {
                db.exec(&std::fs::read_to_string(migration("mysql")).unwrap())
            }
            (Schema::Migrations, Backend::Sqlite) => {
                db.exec(&std::fs::read_to_string(migration("sqlite")).unwrap())
            }
            (Schema::Empty, _) => {}
        }
        Some(db)
    }

    pub fn sqlite_path(&self) -> PathBuf {
        self.dir.path().join("cinder.sqlite")
    }

    /// The `[database] connection` svcctl is given.
    pub fn url(&self) -> String {
        match self.backend {
            Backend::MySql => format!(
                "mysql+pymysql://{USER}:{PASSWORD_ENCODED}@127.0.0.1:{}/{}?charset=utf8",
                self.port, self.name
            ),
            Backend::Sqlite => format!("sqlite:///{}", self.sqlite_path().display()),
        }
    }

    /// Runs SQL (several statements allowed) as an administrator.
    pub fn exec(&self, sql: &str) {
        let text = sqlx::AssertSqlSafe(sql.to_string());
        on_backend!(self, |c| sqlx::raw_sql(text)
            .execute(&mut c)
            .await
            .map(|_| ()))
        .unwrap_or_else(|e| panic!("{e}: {sql}"));
    }

    /// Rows of a query, every column read as text (NULL as None). Write the query so that
    /// every column is text: `CAST(x AS CHAR)` on MySQL; SQLite returns text for text columns.
    pub fn rows(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        let text = sqlx::AssertSqlSafe(sql.to_string());
        on_backend!(self, |c| {
            text_rows(&sqlx::query(text).fetch_all(&mut c).await.unwrap())
        })
    }

    /// A single integer.
    pub fn int(&self, sql: &str) -> i64 {
        let text = sqlx::AssertSqlSafe(sql.to_string());
        on_backend!(self, |c| sqlx::query_scalar::<_, i64>(text)
            .fetch_one(&mut c)
            .await)
        .unwrap()
    }

    pub async fn mysql(&self) -> sqlx::MySqlConnection {
        let server = mariadb().unwrap();
        root_options(&server.socket)
            .database(&self.name)
            .connect()
            .await
            .unwrap()
    }

    async fn sqlite(&self) -> sqlx::SqliteConnection {
        SqliteConnectOptions::new()
            .filename(self.sqlite_path())
            .log_statements(log_off())
            .connect()
            .await
            .unwrap()
    }

    /// Text to cast a column to, for `rows`.
    pub fn text(&self, col: &str) -> String {
        match self.backend {
            Backend::MySql => format!("CAST({col} AS CHAR)"),
            Backend::Sqlite => format!("CAST({col} AS TEXT)"),
        }
    }

    /// A timestamp `secs` seconds before now, as Cinder stores it on this backend.
    pub fn ago(&self, secs: i64) -> String {
        self.stamp(chrono::Utc::now().naive_utc() - chrono::Duration::seconds(secs))
    }

    /// Like `ago`, but never older than `secs`: MySQL keeps whole seconds, and truncating
    /// would age the heartbeat by up to a second more than asked.
    pub fn ago_ceil(&self, secs: i64) -> String {
        let t = chrono::Utc::now().naive_utc() - chrono::Duration::seconds(secs);
        match self.backend {
            Backend::MySql if t.and_utc().timestamp_subsec_nanos() > 0 => {
                self.stamp(t + chrono::Duration::seconds(1))
            }
            _ => self.stamp(t),
        }
    }

    /// `t` as Cinder stores it on this backend.
    fn stamp(&self, t: chrono::NaiveDateTime) -> String {
        match self.backend {
            Backend::MySql => t.format("%Y-%m-%d %H:%M:%S").to_string(),
            Backend::Sqlite => t.format("%Y-%m-%d %H:%M:%S%.6f").to_string(),
        }
    }

    /// Inserts a live service, as Cinder would, whose heartbeat is `secs_ago` seconds old.
    pub fn service(&self, id: i64, host: &str, binary: &str, secs_ago: i64) {
        let t = self.ago(secs_ago);
        self.exec(&format!(
            "INSERT INTO services (created_at, updated_at, deleted, id, host, `binary`, topic, \
             report_count, disabled, availability_zone, uuid) VALUES ('{t}', '{t}', 0, {id}, \
             '{host}', '{binary}', '{binary}', 1, 0, 'nova', 'uuid-{id}')"
        ));
    }

    /// Inserts a live volume on `host` (e.g. `node01@lvm#pool`).
    pub fn volume(&self, id: &str, host: &str) {
        self.exec(&format!(
            "INSERT INTO volumes (created_at, deleted, id, host, status, volume_type_id, use_quota) \
             VALUES ('{}', 0, '{id}', '{host}', 'available', 'vt', 1)",
            self.ago(100)
        ));
    }

    /// Everything a delete could touch, as text: compared before and after to prove a run
    /// changed nothing.
    pub fn fingerprint(&self) -> Vec<Vec<Option<String>>> {
        let mut all = Vec::new();
        for (table, cols) in [
            (
                "services",
                "id, host, `binary`, deleted, deleted_at, updated_at, created_at, uuid, cluster_name",
            ),
            (
                "volumes",
                "id, host, deleted, deleted_at, updated_at, service_uuid",
            ),
            ("clusters", "id, name, deleted, deleted_at, race_preventer"),
        ] {
            let cast: Vec<String> = cols.split(", ").map(|c| self.text(c)).collect();
            all.extend(self.rows(&format!(
                "SELECT {} FROM {table} ORDER BY id",
                cast.join(", ")
            )));
            all.push(vec![Some(format!("-- end of {table}"))]);
        }
        all
    }

    /// Writes a cinder.conf for svcctl: this database, this node's name, the down time.
    pub fn conf(&self, host: &str, extra: &str) -> PathBuf {
        let path = self.dir.path().join("cinder.conf");
        std::fs::write(
            &path,
            format!(
                "[DEFAULT]\nhost = {host}\nservice_down_time = 60\n{extra_default}\n[database]\n\
                 connection = {}\nmax_retries = 1\nretry_interval = 0\ndb_retry_interval = 0\n{extra_db}\n",
                self.url(),
                extra_default = extra.split("[database]").next().unwrap_or(""),
                extra_db = extra.split("[database]").nth(1).unwrap_or(""),
            ),
        )
        .unwrap();
        path
    }

    /// svcctl against this database, as node `node01`, with a cleared environment.
    pub fn svcctl(&self) -> Svcctl {
        let conf = self.conf("node01", "");
        Svcctl::new()
            .config(&conf)
            .audit(self.dir.path().join("audit.jsonl"))
    }

    pub fn audit_path(&self) -> PathBuf {
        self.dir.path().join("audit.jsonl")
    }

    pub fn audit_lines(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.audit_path())
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if self.backend == Backend::MySql {
            let name = self.name.clone();
            // Drop runs inside tests' runtimes too: use a thread of its own.
            let _ = std::thread::spawn(move || {
                block_on(async {
                    if let Some(server) = mariadb()
                        && let Ok(mut c) = root_options(&server.socket).connect().await
                    {
                        let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                            "DROP DATABASE IF EXISTS {name}"
                        )))
                        .execute(&mut c)
                        .await;
                    }
                })
            })
            .join();
        }
    }
}

fn migration(dialect: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(dialect)
        .join("0001_cinder_tables.sql")
}
