//! A MariaDB of one test's own, on a free 127.0.0.1 port, that the test may stop and start
//! again while svcctl waits inside its write (the shared server must never go down).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sqlx::ConnectOptions;

use super::database::fixture;
use super::server::{find_program, free_port, mariadb, nix_user};
use super::session::{Session, root_at};
use super::{PASSWORD, PASSWORD_ENCODED, USER};

/// A MariaDB of this test's own, on a free 127.0.0.1 port, that the test may stop and start.
pub struct OwnServer {
    /// Its data, socket and logs; the test's own files (cinder.conf, audit log) go here too.
    pub dir: tempfile::TempDir,
    port: u16,
    server: PathBuf,
    child: Option<Child>,
}

impl OwnServer {
    pub fn new() -> Option<OwnServer> {
        mariadb()?;
        let server = std::env::var_os("SVCCTL_MARIADBD")
            .map(PathBuf::from)
            .or_else(|| find_program(&["mariadbd", "mysqld"]))?;
        let install = find_program(&["mariadb-install-db", "mysql_install_db"])?;
        let dir = tempfile::Builder::new()
            .prefix("svcctl-restart-")
            .tempdir()
            .unwrap();
        // A temp dir of its own, as the shared server has (see `server::mariadb`).
        std::fs::create_dir(dir.path().join("tmp")).unwrap();
        let out = Command::new(install)
            .args([
                "--no-defaults",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ])
            .arg(format!("--datadir={}", dir.path().join("data").display()))
            .arg(format!("--tmpdir={}", dir.path().join("tmp").display()))
            .arg(format!("--user={}", nix_user()))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut s = OwnServer {
            dir,
            port: free_port(),
            server,
            child: None,
        };
        s.start();
        let root = s.root("mysql");
        for host in ["127.0.0.1", "localhost"] {
            root.exec(&format!(
                "CREATE USER '{USER}'@'{host}' IDENTIFIED BY '{PASSWORD}'; \
                 GRANT ALL ON *.* TO '{USER}'@'{host}'"
            ));
        }
        root.exec("CREATE DATABASE cinder");
        let schema: String = fixture("cinder-29.0.0-mysql-schema.sql")
            .lines()
            .filter(|l| !l.starts_with("/*M!999999"))
            .collect::<Vec<_>>()
            .join("\n");
        s.root("cinder").exec(&schema);
        Some(s)
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("mysqld.sock")
    }

    pub fn root(&self, database: &str) -> Session {
        Session::open(root_at(&self.socket(), database))
    }

    /// Starts mariadbd on the same data and port, and waits until it answers.
    pub fn start(&mut self) {
        let d = self.dir.path();
        let child = Command::new(&self.server)
            .arg("--no-defaults")
            .arg(format!("--datadir={}", d.join("data").display()))
            .arg(format!("--tmpdir={}", d.join("tmp").display()))
            .arg(format!("--socket={}", self.socket().display()))
            .arg(format!("--port={}", self.port))
            .arg(format!("--pid-file={}", d.join("mysqld.pid").display()))
            .arg(format!("--log-error={}", d.join("error.log").display()))
            .arg(format!("--user={}", nix_user()))
            .args([
                "--bind-address=127.0.0.1",
                "--skip-log-bin",
                "--innodb-buffer-pool-size=32M",
                "--innodb-flush-log-at-trx-commit=0",
                "--skip-name-resolve",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        while !super::block_on(async { root_at(&self.socket(), "mysql").connect().await.is_ok() }) {
            assert!(
                Instant::now() < deadline,
                "mariadbd did not come up: {}",
                std::fs::read_to_string(d.join("error.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Stops mariadbd as an init script would (SIGTERM) and waits until it is gone.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let pid = nix::unistd::Pid::from_raw(child.id() as i32);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
            child.wait().unwrap();
        }
    }

    pub fn url(&self) -> String {
        format!(
            "mysql+pymysql://{USER}:{PASSWORD_ENCODED}@127.0.0.1:{}/cinder?charset=utf8",
            self.port
        )
    }
}

impl Drop for OwnServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
