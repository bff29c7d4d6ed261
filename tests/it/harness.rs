//! The test harness: a private MariaDB (one `mariadbd` per test run, in a temp dir, on a free
//! 127.0.0.1 port), a fresh database per test loaded with Cinder 29's real schema or svcctl's
//! migrations, real SQLite files, and the svcctl binary run with a cleared environment whose
//! every output is scanned for the password.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Output, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use sqlx::mysql::MySqlConnectOptions;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Row};

/// The MariaDB user the tests give svcctl, with a password that needs percent-encoding.
pub const USER: &str = "svcctl_test";
pub const PASSWORD: &str = "Sv:c/tl@pw-9%x";
pub const PASSWORD_ENCODED: &str = "Sv%3Ac%2Ftl%40pw-9%25x";

/// The fixtures: Cinder 29.0.0's own schema and rows.
pub fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/fixtures")
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

pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

pub struct MariaDb {
    pub port: u16,
    pub socket: PathBuf,
}

static SERVER: OnceLock<Option<MariaDb>> = OnceLock::new();

fn find_program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs = std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"].map(PathBuf::from));
    for dir in dirs {
        for n in names {
            let p = dir.join(n);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The private MariaDB, started on first use; None (after a loud notice) where the machine has
/// no mariadbd, unless SVCCTL_REQUIRE_MARIADB=1 makes that a failure.
pub fn mariadb() -> Option<&'static MariaDb> {
    let server = SERVER.get_or_init(start_mariadb).as_ref();
    if server.is_none() {
        // Straight to the process's stderr: libtest captures eprintln! inside tests, and a
        // skip must be seen.
        use std::io::Write;
        let test = std::thread::current().name().unwrap_or("?").to_string();
        let _ = writeln!(
            std::io::stderr(),
            "*** SKIPPED {test}: no mariadbd here (apt-get install -y mariadb-server); \
             SVCCTL_REQUIRE_MARIADB=1 makes this a failure ***"
        );
    }
    server
}

fn start_mariadb() -> Option<MariaDb> {
    let required = std::env::var("SVCCTL_REQUIRE_MARIADB").is_ok_and(|v| v == "1");
    // SVCCTL_MARIADBD names the server binary explicitly (and lets the skip path be tried).
    let server = match std::env::var_os("SVCCTL_MARIADBD") {
        Some(p) => Some(PathBuf::from(p)).filter(|p| p.is_file()),
        None => find_program(&["mariadbd", "mysqld"]),
    };
    let (Some(server), Some(install)) = (
        server,
        find_program(&["mariadb-install-db", "mysql_install_db"]),
    ) else {
        assert!(
            !required,
            "SVCCTL_REQUIRE_MARIADB=1 but mariadbd/mariadb-install-db are not installed"
        );
        return None;
    };
    let dir = tempfile::Builder::new()
        .prefix("svcctl-mariadb-")
        .tempdir()
        .unwrap()
        .keep();
    let data = dir.join("data");
    let user = nix_user();
    let out = StdCommand::new(&install)
        .args([
            "--no-defaults",
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
        ])
        .arg(format!("--datadir={}", data.display()))
        .arg(format!("--user={user}"))
        .output()
        .expect("running mariadb-install-db");
    assert!(
        out.status.success(),
        "mariadb-install-db failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let port = free_port();
    let socket = dir.join("mysqld.sock");
    // A watchdog shell owns the server: when this test process is gone it stops the server and
    // removes the directory, so no server or datadir outlives the run.
    let script = format!(
        "{server} --no-defaults --datadir={data} --socket={socket} --port={port} \
         --bind-address=127.0.0.1 --user={user} --pid-file={dir}/mysqld.pid \
         --log-error={dir}/error.log --skip-log-bin --innodb-buffer-pool-size=64M \
         --innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0 --skip-name-resolve \
         --max-connections=500 >/dev/null 2>&1 & child=$!; \
         while kill -0 {parent} 2>/dev/null && kill -0 $child 2>/dev/null; do sleep 0.5; done; \
         kill $child 2>/dev/null; wait $child; rm -rf {dir}",
        server = server.display(),
        data = data.display(),
        socket = socket.display(),
        dir = dir.display(),
        parent = std::process::id(),
    );
    // Not waited on: the watchdog outlives this function by design and ends with the run.
    #[allow(clippy::zombie_processes)]
    let _watchdog = StdCommand::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting mariadbd");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ok = block_on(async {
            let mut c = root_options(&socket).connect().await?;
            for host in ["127.0.0.1", "localhost"] {
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "CREATE USER IF NOT EXISTS '{USER}'@'{host}' IDENTIFIED BY '{PASSWORD}'; \
                     GRANT ALL ON *.* TO '{USER}'@'{host}';"
                )))
                .execute(&mut c)
                .await?;
            }
            // Short lock waits, so a test can provoke MySQL error 1205 and see svcctl retry it.
            sqlx::raw_sql("SET GLOBAL innodb_lock_wait_timeout = 2")
                .execute(&mut c)
                .await?;
            Ok::<_, sqlx::Error>(())
        });
        match ok {
            Ok(()) => break,
            Err(e) if Instant::now() > deadline => panic!(
                "mariadbd did not come up: {e}; log: {}",
                std::fs::read_to_string(dir.join("error.log")).unwrap_or_default()
            ),
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    }
    Some(MariaDb { port, socket })
}

fn nix_user() -> String {
    nix::unistd::User::from_uid(nix::unistd::Uid::current())
        .ok()
        .flatten()
        .map_or_else(|| "root".into(), |u| u.name)
}

fn root_options(socket: &Path) -> MySqlConnectOptions {
    MySqlConnectOptions::new()
        .socket(socket)
        .username("root")
        .log_statements(log_off())
}

fn log_off() -> log::LevelFilter {
    log::LevelFilter::Off
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// Which schema a test database gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schema {
    /// The schema Cinder 29.0.0's own migrations create (../shared/fixtures).
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
        let db = match backend {
            Backend::MySql => {
                let server = mariadb()?;
                block_on(async {
                    let mut c = root_options(&server.socket).connect().await.unwrap();
                    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                        .execute(&mut c)
                        .await
                        .unwrap();
                });
                TestDb {
                    backend,
                    name,
                    dir,
                    port: server.port,
                }
            }
            Backend::Sqlite => {
                let path = dir.path().join("cinder.sqlite");
                block_on(async {
                    SqliteConnectOptions::new()
                        .filename(&path)
                        .create_if_missing(true)
                        .connect()
                        .await
                        .unwrap();
                });
                TestDb {
                    backend,
                    name,
                    dir,
                    port: 0,
                }
            }
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
        let sql = sql.to_string();
        block_on(async {
            match self.backend {
                Backend::MySql => {
                    let mut c = self.mysql().await;
                    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.clone()))
                        .execute(&mut c)
                        .await
                        .map(|_| ())
                }
                Backend::Sqlite => {
                    let mut c = self.sqlite().await;
                    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.clone()))
                        .execute(&mut c)
                        .await
                        .map(|_| ())
                }
            }
            .unwrap_or_else(|e| panic!("{e}: {sql}"));
        });
    }

    /// Rows of a query, every column read as text (NULL as None). Write the query so that
    /// every column is text: `CAST(x AS CHAR)` on MySQL; SQLite returns text for text columns.
    pub fn rows(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        let sql = sql.to_string();
        block_on(async {
            macro_rules! collect {
                ($c:expr) => {{
                    let rows = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                        .fetch_all(&mut $c)
                        .await
                        .unwrap();
                    rows.iter()
                        .map(|r| {
                            (0..r.len())
                                .map(|i| r.try_get::<Option<String>, _>(i).unwrap())
                                .collect()
                        })
                        .collect()
                }};
            }
            match self.backend {
                Backend::MySql => {
                    let mut c = self.mysql().await;
                    collect!(c)
                }
                Backend::Sqlite => {
                    let mut c = self.sqlite().await;
                    collect!(c)
                }
            }
        })
    }

    /// A single integer.
    pub fn int(&self, sql: &str) -> i64 {
        let sql = sql.to_string();
        block_on(async {
            match self.backend {
                Backend::MySql => {
                    let mut c = self.mysql().await;
                    sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql))
                        .fetch_one(&mut c)
                        .await
                }
                Backend::Sqlite => {
                    let mut c = self.sqlite().await;
                    sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql))
                        .fetch_one(&mut c)
                        .await
                }
            }
            .unwrap()
        })
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
        let t = chrono::Utc::now().naive_utc() - chrono::Duration::seconds(secs);
        match self.backend {
            Backend::MySql => t.format("%Y-%m-%d %H:%M:%S").to_string(),
            Backend::Sqlite => t.format("%Y-%m-%d %H:%M:%S%.6f").to_string(),
        }
    }

    /// Like `ago`, but never older than `secs`: MySQL keeps whole seconds, and truncating
    /// would age the heartbeat by up to a second more than asked.
    pub fn ago_ceil(&self, secs: i64) -> String {
        let t = chrono::Utc::now().naive_utc() - chrono::Duration::seconds(secs);
        let t = match self.backend {
            Backend::MySql if t.and_utc().timestamp_subsec_nanos() > 0 => {
                t + chrono::Duration::seconds(1)
            }
            _ => t,
        };
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

/// A svcctl invocation: global flags first (config files must precede the subcommand).
pub struct Svcctl {
    global: Vec<String>,
    audit: Option<PathBuf>,
    env: Vec<(String, String)>,
}

impl Svcctl {
    pub fn new() -> Svcctl {
        Svcctl {
            global: vec![],
            audit: None,
            env: vec![],
        }
    }

    pub fn config(mut self, path: &Path) -> Svcctl {
        self.global.push("--config-file".into());
        self.global.push(path.display().to_string());
        self
    }

    pub fn audit(mut self, path: PathBuf) -> Svcctl {
        self.audit = Some(path);
        self
    }

    pub fn env(mut self, k: &str, v: &str) -> Svcctl {
        self.env.push((k.into(), v.into()));
        self
    }

    /// The command, not yet run.
    pub fn command(&self, args: &[&str]) -> StdCommand {
        let mut cmd = StdCommand::new(assert_cmd::cargo::cargo_bin!("svcctl"));
        cmd.env_clear();
        cmd.env("PATH", std::env::var_os("PATH").unwrap_or_default());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd.args(&self.global);
        cmd.args(args);
        let deletes = args.contains(&"delete") || args.contains(&"cleanup");
        if let (true, Some(a)) = (deletes, &self.audit) {
            cmd.arg("--audit-log").arg(a);
        }
        cmd.stdin(Stdio::null());
        cmd
    }

    /// Runs svcctl to completion and checks its output never shows the password.
    pub fn run(&self, args: &[&str]) -> Run {
        Run::from(self.command(args).output().unwrap(), args)
    }
}

/// svcctl stopped at one of its test seams (`SVCCTL_TEST_PAUSE_FILE`, between plan and write;
/// `SVCCTL_TEST_PAUSE_IN_TXN_FILE`, inside the transaction), for the test to act there.
pub struct Paused {
    child: std::process::Child,
    pause: PathBuf,
}

impl Svcctl {
    /// Starts svcctl with the seam `var` and returns once it has stopped there.
    pub fn paused(self, var: &str, pause: &Path, args: &[&str]) -> Paused {
        let child = self
            .env(var, pause.to_str().unwrap())
            .command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while !pause.exists() {
            assert!(
                Instant::now() < deadline,
                "svcctl {args:?} never reached {var}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Paused {
            child,
            pause: pause.to_path_buf(),
        }
    }
}

impl Paused {
    pub fn pid(&self) -> nix::unistd::Pid {
        nix::unistd::Pid::from_raw(self.child.id() as i32)
    }

    /// Lets svcctl go on, and waits for it.
    pub fn resume(self) -> Run {
        std::fs::remove_file(&self.pause).unwrap();
        self.finish()
    }

    /// Waits for svcctl without resuming it (it was signalled).
    pub fn finish(self) -> Run {
        let _ = std::fs::remove_file(&self.pause);
        Run::from(self.child.wait_with_output().unwrap(), &["paused"])
    }
}

/// What a run printed and how it exited.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn from(out: Output, args: &[&str]) -> Run {
        let run = Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        for secret in [PASSWORD, PASSWORD_ENCODED, "cinder_dbpass"] {
            assert!(
                !run.stdout.contains(secret) && !run.stderr.contains(secret),
                "svcctl {args:?} printed the password:\n{}\n{}",
                run.stdout,
                run.stderr
            );
        }
        run
    }

    /// Asserts the exit code, showing the output when it is wrong.
    pub fn code(self, expected: i32) -> Run {
        assert_eq!(
            self.code, expected,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!("not JSON ({e}):\n{}\nstderr:\n{}", self.stdout, self.stderr)
        })
    }

    /// The last stderr line: the one-line error.
    pub fn error_line(&self) -> &str {
        self.stderr.lines().last().unwrap_or("")
    }
}

/// Runs a test body once per backend: SQLite always, MySQL where MariaDB is available.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $schema:expr, |$db:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            fn body($db: $crate::harness::TestDb) $body
            #[test]
            fn sqlite() {
                body($crate::harness::TestDb::new($crate::harness::Backend::Sqlite, $schema).unwrap());
            }
            #[test]
            fn mysql() {
                if let Some(db) = $crate::harness::TestDb::new($crate::harness::Backend::MySql, $schema) {
                    body(db);
                }
            }
        }
    };
}
