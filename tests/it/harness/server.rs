//! The private MariaDB: one `mariadbd` per test run, in a temp dir, on a free 127.0.0.1 port,
//! owned by a watchdog shell that stops it and removes its directory when the run ends.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use sqlx::ConnectOptions;
use sqlx::mysql::MySqlConnectOptions;

use super::{PASSWORD, USER, block_on};

pub struct MariaDb {
    pub port: u16,
    pub socket: PathBuf,
}

static SERVER: OnceLock<Option<MariaDb>> = OnceLock::new();

pub(super) fn find_program(names: &[&str]) -> Option<PathBuf> {
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
    // A temp dir of its own: servers bootstrapping at once (other test runs on the machine)
    // otherwise share /tmp and can trip on each other's #sql-temptable files.
    let tmp = dir.join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let user = nix_user();
    let out = StdCommand::new(&install)
        .args([
            "--no-defaults",
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
        ])
        .arg(format!("--datadir={}", data.display()))
        .arg(format!("--tmpdir={}", tmp.display()))
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
        "{server} --no-defaults --datadir={data} --tmpdir={tmp} --socket={socket} --port={port} \
         --bind-address=127.0.0.1 --user={user} --pid-file={dir}/mysqld.pid \
         --log-error={dir}/error.log --skip-log-bin --innodb-buffer-pool-size=64M \
         --innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0 --skip-name-resolve \
         --max-connections=500 >/dev/null 2>&1 & child=$!; \
         while kill -0 {parent} 2>/dev/null && kill -0 $child 2>/dev/null; do sleep 0.5; done; \
         kill $child 2>/dev/null; wait $child; rm -rf {dir}",
        server = server.display(),
        data = data.display(),
        tmp = tmp.display(),
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

pub(super) fn nix_user() -> String {
    nix::unistd::User::from_uid(nix::unistd::Uid::current())
        .ok()
        .flatten()
        .map_or_else(|| "root".into(), |u| u.name)
}

pub(super) fn root_options(socket: &Path) -> MySqlConnectOptions {
    MySqlConnectOptions::new()
        .socket(socket)
        .username("root")
        .log_statements(log_off())
}

pub(super) fn log_off() -> log::LevelFilter {
    log::LevelFilter::Off
}
