//! Connecting as oslo.db does, against the private MariaDB: retries on an unreachable server,
//! immediate failure on a wrong password or database, a server that comes up while svcctl
//! retries, a connection lost mid-operation, Ctrl-C and --timeout.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::harness::fleet::mysql_db;
use crate::harness::{Backend, Run, Schema, Svcctl, TestDb, USER, free_port, mariadb};

fn conf_with(db: &TestDb, connection: &str, extra: &str) -> std::path::PathBuf {
    let path = db.dir.path().join("custom.conf");
    std::fs::write(
        &path,
        format!("[DEFAULT]\nhost = node01\n[database]\nconnection = {connection}\nretry_interval = 0\n{extra}\n"),
    )
    .unwrap();
    path
}

#[test]
fn unreachable_server_is_retried_then_reported() {
    let Some(db) = mysql_db() else { return };
    let port = free_port();
    let conf = conf_with(
        &db,
        &format!("mysql+pymysql://cinder:cinder_dbpass@127.0.0.1:{port}/cinder"),
        "",
    );
    let run = Svcctl::new()
        .config(&conf)
        .run(&["--max-retries", "3", "service", "list"])
        .code(1);
    let waits: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("unreachable"))
        .collect();
    assert_eq!(
        waits,
        [
            format!(
                "database 127.0.0.1:{port} unreachable (connection refused); attempt 2/3, next in 0s"
            ),
            format!(
                "database 127.0.0.1:{port} unreachable (connection refused); attempt 3/3, next in 0s"
            ),
        ]
    );
    assert_eq!(
        run.error_line(),
        format!(
            "svcctl: cannot reach the database at 127.0.0.1:{port} (connection refused) after 3 \
             attempts; check that it runs and that [database] connection names it"
        )
    );
}

#[test]
fn wrong_password_and_unknown_database_fail_at_once() {
    let Some(db) = mysql_db() else { return };
    let port = mariadb().unwrap().port;
    let conf = conf_with(
        &db,
        &format!(
            "mysql+pymysql://{USER}:cinder_dbpass@127.0.0.1:{port}/{}",
            db.name
        ),
        "max_retries = 5",
    );
    let run = Svcctl::new()
        .config(&conf)
        .run(&["service", "list"])
        .code(1);
    assert!(
        !run.stderr.contains("attempt"),
        "access denied is not retried: {}",
        run.stderr
    );
    assert!(
        run.error_line()
            .contains(&format!("refused user \"{USER}\" (access denied)")),
        "{}",
        run.stderr
    );
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    let url = db.url().replace(&db.name, "no_such_db");
    let conf = conf_with(&db, &url, "max_retries = 5");
    let run = Svcctl::new()
        .config(&conf)
        .run(&["service", "list"])
        .code(1);
    assert!(
        run.error_line().contains("does not exist"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("attempt"));
}

/// Forwards connections from `listener` to the real server: the database "comes up" when this
/// starts accepting.
fn proxy(listener: TcpListener, to: u16) {
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { return };
            let Ok(server) = TcpStream::connect(("127.0.0.1", to)) else {
                return;
            };
            for (mut a, mut b) in [
                (client.try_clone().unwrap(), server.try_clone().unwrap()),
                (server, client),
            ] {
                std::thread::spawn(move || {
                    let mut buf = [0u8; 16384];
                    while let Ok(n) = a.read(&mut buf) {
                        if n == 0 || b.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = b.shutdown(std::net::Shutdown::Both);
                });
            }
        }
    });
}

#[test]
fn database_that_comes_up_while_retrying() {
    let Some(db) = mysql_db() else { return };
    db.service(1, "node01", "cinder-scheduler", 5);
    let port = free_port();
    let url = db
        .url()
        .replace(&format!(":{}/", db.port), &format!(":{port}/"));
    let conf = conf_with(&db, &url, "max_retries = 30\nretry_interval = 1");
    let child = Svcctl::new()
        .config(&conf)
        .command(&["service", "list", "-f", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    proxy(TcpListener::bind(("127.0.0.1", port)).unwrap(), db.port);
    let run = Run::from(child.wait_with_output().unwrap(), &["list"]).code(0);
    assert!(
        run.stderr
            .contains("unreachable (connection refused); attempt 2/30, next in 1s"),
        "{}",
        run.stderr
    );
    assert_eq!(run.json()[0]["host"], "node01");
}

/// Kills svcctl's connection while it is paused between plan and write. With use_db_reconnect
/// it reconnects and retries the whole transaction; without, it stops with nothing written.
#[test]
fn lost_connection_during_the_write() {
    for reconnect in [false, true] {
        let Some(db) = mysql_db() else { return };
        db.service(1, "dead", "cinder-scheduler", 600);
        let conf = db.conf(
            "node01",
            &format!("[database]\nuse_db_reconnect = {reconnect}"),
        );
        let pause = db.dir.path().join("pause");
        let child = Svcctl::new()
            .config(&conf)
            .audit_log(&db.audit_path())
            .paused(
                "SVCCTL_TEST_PAUSE_FILE",
                &pause,
                &["service", "delete", "--host", "dead", "--yes"],
            );
        for id in db.rows(&format!(
            "SELECT CAST(ID AS CHAR) FROM information_schema.PROCESSLIST WHERE USER = '{USER}' AND DB = '{}'",
            db.name
        )) {
            db.exec(&format!("KILL CONNECTION {}", id[0].as_ref().unwrap()));
        }
        let run = child.resume();
        if reconnect {
            let run = run.code(0);
            assert!(
                run.stderr.contains("lost the connection to 127.0.0.1"),
                "{}",
                run.stderr
            );
            assert_eq!(db.int("SELECT COUNT(*) FROM services WHERE deleted = 1"), 1);
        } else {
            let run = run.code(1);
            assert!(
                run.error_line()
                    .contains("set [database] use_db_reconnect = true"),
                "{}",
                run.stderr
            );
            assert_eq!(db.int("SELECT COUNT(*) FROM services WHERE deleted = 1"), 0);
        }
    }
}

#[test]
fn ctrl_c_and_timeout_end_a_wait() {
    let Some(db) = TestDb::new(Backend::Sqlite, Schema::Empty) else {
        return;
    };
    let port = free_port();
    let conf = conf_with(
        &db,
        &format!("mysql://u:p@127.0.0.1:{port}/cinder"),
        "max_retries = -1\nretry_interval = 1",
    );
    let started = Instant::now();
    let run = Svcctl::new()
        .config(&conf)
        .run(&["--timeout", "2", "service", "list"])
        .code(1);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(
        run.stderr.contains("attempt 2 (retrying forever)"),
        "{}",
        run.stderr
    );
    assert!(
        run.error_line().contains("gave up after 2s (--timeout)"),
        "{}",
        run.stderr
    );
    let child = Svcctl::new()
        .config(&conf)
        .command(&["service", "list"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let run = Run::from(child.wait_with_output().unwrap(), &["list"]).code(130);
    assert!(run.error_line().contains("interrupted"), "{}", run.stderr);
}

#[test]
fn debug_logs_files_url_attempts_and_statements_without_the_password() {
    let Some(db) = mysql_db() else { return };
    db.service(1, "node01", "cinder-scheduler", 5);
    let run = db.svcctl().run(&["--debug", "service", "list"]).code(0);
    assert!(run.stderr.contains("reading config file"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("mysql+pymysql://{USER}:***@127.0.0.1")),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("connection attempt"), "{}", run.stderr);
    assert!(
        run.stderr.contains("FROM services"),
        "each statement is logged: {}",
        run.stderr
    );
    assert!(run.stderr.contains("rows_returned"), "{}", run.stderr);
    // oslo.db's session setup on every new connection.
    assert!(
        run.stderr.contains("SET SESSION sql_mode"),
        "{}",
        run.stderr
    );
    let conf = db.conf(
        "node01",
        "[database]\nmysql_sql_mode = ANSI_QUOTES\nmysql_wsrep_sync_wait = 1",
    );
    let run = Svcctl::new()
        .config(&conf)
        .run(&["--debug", "service", "list"])
        .code(0);
    assert!(
        run.stderr.contains("SET SESSION wsrep_sync_wait"),
        "{}",
        run.stderr
    );
}

/// Another session holds the row's lock longer than innodb_lock_wait_timeout (2 s here):
/// svcctl's transaction fails with 1205, and is retried whole, as oslo.db retries deadlocks.
#[test]
fn lock_wait_timeout_retries_the_transaction() {
    let Some(db) = mysql_db() else { return };
    db.service(1, "dead", "cinder-scheduler", 600);
    let locked = std::sync::Arc::new(std::sync::Barrier::new(2));
    let holder = {
        let locked = locked.clone();
        let name = db.name.clone();
        std::thread::spawn(move || {
            crate::harness::block_on(async {
                use sqlx::ConnectOptions;
                let server = mariadb().unwrap();
                let mut c = sqlx::mysql::MySqlConnectOptions::new()
                    .socket(&server.socket)
                    .username("root")
                    .database(&name)
                    .connect()
                    .await
                    .unwrap();
                sqlx::raw_sql(
                    "START TRANSACTION; SELECT id FROM services WHERE id = 1 FOR UPDATE;",
                )
                .execute(&mut c)
                .await
                .unwrap();
                locked.wait();
                tokio::time::sleep(Duration::from_millis(3500)).await;
                sqlx::raw_sql("ROLLBACK").execute(&mut c).await.unwrap();
            })
        })
    };
    locked.wait();
    let conf = db.conf(
        "node01",
        "[database]\ndb_max_retries = 5\ndb_retry_interval = 1",
    );
    let run = Svcctl::new()
        .config(&conf)
        .audit_log(&db.audit_path())
        .run(&["service", "delete", "--host", "dead", "--yes"])
        .code(0);
    holder.join().unwrap();
    assert!(
        run.stderr
            .contains("deleting services: deadlock or lock wait; retry 1/5, in 1s"),
        "{}",
        run.stderr
    );
    assert_eq!(db.int("SELECT COUNT(*) FROM services WHERE deleted = 1"), 1);
    assert_eq!(
        db.audit_rows().len(),
        1,
        "the failed attempt wrote no audit line"
    );
}
