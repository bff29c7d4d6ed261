//! Real faults at every point of the write, with no test seam in svcctl: a root session holds
//! row locks so svcctl waits at a known point, then the server is stopped and started again,
//! a loopback TCP relay cuts the connection right after the server answered COMMIT, a heartbeat
//! commits on one of two planned rows, or a lock-wait timeout makes svcctl try again. After
//! each, the audit log and the database must agree, row for row.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use serde_json::Value;
use sqlx::ConnectOptions;
use sqlx::mysql::MySqlConnectOptions;

use crate::harness::{
    Backend, PASSWORD, PASSWORD_ENCODED, Run, Schema, Svcctl, TestDb, USER, fixture, free_port,
    mariadb, text_rows,
};

// ---------------------------------------------------------------------------------------------
// A root session on its own thread, so it can hold locks while the test does other things.

enum Ask {
    Exec(String),
    Rows(String),
}

type Rows = Vec<Vec<Option<String>>>;

/// A question to the session's thread, and where its answer goes.
type Asked = (Ask, mpsc::Sender<Result<Rows, String>>);

/// A MySQL session kept open across calls (on a thread with its own runtime).
struct Session {
    tx: Option<mpsc::Sender<Asked>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Session {
    fn open(opts: MySqlConnectOptions) -> Session {
        let (tx, rx) = mpsc::channel::<Asked>();
        let (ready_tx, ready_rx) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            crate::harness::block_on(async move {
                let mut c = match opts.log_statements(log::LevelFilter::Off).connect().await {
                    Ok(c) => {
                        ready_tx.send(Ok(())).unwrap();
                        c
                    }
                    Err(e) => {
                        ready_tx.send(Err(e.to_string())).unwrap();
                        return;
                    }
                };
                while let Ok((ask, reply)) = rx.recv() {
                    let answer = match ask {
                        Ask::Exec(sql) => sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                            .execute(&mut c)
                            .await
                            .map(|_| Vec::new()),
                        Ask::Rows(sql) => sqlx::query(sqlx::AssertSqlSafe(sql))
                            .fetch_all(&mut c)
                            .await
                            .map(|rows| text_rows(&rows)),
                    };
                    let _ = reply.send(answer.map_err(|e| e.to_string()));
                }
            })
        });
        ready_rx.recv().unwrap().expect("root session");
        Session {
            tx: Some(tx),
            thread: Some(thread),
        }
    }

    fn ask(&self, ask: Ask) -> Result<Rows, String> {
        let (reply, answer) = mpsc::channel();
        self.tx.as_ref().unwrap().send((ask, reply)).unwrap();
        answer.recv().unwrap_or_else(|_| Err("session gone".into()))
    }

    fn exec(&self, sql: &str) {
        self.ask(Ask::Exec(sql.into()))
            .unwrap_or_else(|e| panic!("{e}: {sql}"));
    }

    fn rows(&self, sql: &str) -> Rows {
        self.ask(Ask::Rows(sql.into()))
            .unwrap_or_else(|e| panic!("{e}: {sql}"))
    }

    fn int(&self, sql: &str) -> i64 {
        self.rows(sql)[0][0].as_ref().unwrap().parse().unwrap()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn root_at(socket: &Path, database: &str) -> MySqlConnectOptions {
    MySqlConnectOptions::new()
        .socket(socket)
        .username("root")
        .database(database)
}

/// How many transactions on `database` wait for a lock.
fn lock_waits(s: &Session, database: &str) -> i64 {
    s.int(&format!(
        "SELECT CAST(COUNT(*) AS CHAR) FROM information_schema.INNODB_TRX t \
         JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id \
         WHERE t.trx_state = 'LOCK WAIT' AND p.DB = '{database}'"
    ))
}

// ---------------------------------------------------------------------------------------------
// svcctl running in the background, its stderr read line by line as it comes.

struct Background {
    child: Child,
    stderr: Arc<Mutex<Vec<String>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Background {
    fn start(svcctl: &Svcctl, args: &[&str]) -> Background {
        let mut child = svcctl
            .command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let pipe = child.stderr.take().unwrap();
        let lines = stderr.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                lines.lock().unwrap().push(line);
            }
        });
        Background {
            child,
            stderr,
            reader: Some(reader),
        }
    }

    /// Waits (polling) until svcctl's transaction on `database` waits for a lock `s` holds.
    fn wait_for_lock(&mut self, s: &Session, database: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while lock_waits(s, database) == 0 {
            assert!(
                self.child.try_wait().unwrap().is_none() && Instant::now() < deadline,
                "svcctl never waited for the lock:\n{}",
                self.lines().join("\n")
            );
            // InnoDB refreshes INNODB_TRX only when it was not read for 0.1 s.
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    fn lines(&self) -> Vec<String> {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits until `enough` holds for the stderr lines so far, or svcctl has ended.
    fn wait_until(&mut self, what: &str, enough: impl Fn(&[String]) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(120);
        while !enough(&self.lines()) {
            if self.child.try_wait().unwrap().is_some() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "svcctl never got to {what}:\n{}",
                self.lines().join("\n")
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn finish(mut self) -> Run {
        let mut stdout = String::new();
        self.child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut stdout)
            .unwrap();
        let status = self.child.wait().unwrap();
        self.reader.take().unwrap().join().unwrap();
        let run = Run {
            code: status.code().unwrap_or(-1),
            stdout,
            stderr: self.lines().join("\n"),
        };
        for secret in [PASSWORD, PASSWORD_ENCODED] {
            assert!(!run.stdout.contains(secret) && !run.stderr.contains(secret));
        }
        run
    }
}

/// The retry numbers svcctl's progress lines announce, in order.
fn retry_numbers(lines: &[String]) -> Vec<u64> {
    lines
        .iter()
        .filter_map(|l| {
            let rest = l.split("; retry ").nth(1)?;
            rest.split(|c: char| !c.is_ascii_digit())
                .next()?
                .parse()
                .ok()
        })
        .collect()
}

/// Each driver text (each `: `-separated part of a message) appears once in a line.
fn assert_said_once(line: &str) {
    let parts: Vec<&str> = line.split(": ").filter(|p| p.len() >= 12).collect();
    for (i, p) in parts.iter().enumerate() {
        assert!(
            !parts[i + 1..]
                .iter()
                .any(|q| q.contains(p) || p.contains(q)),
            "{p:?} repeated in: {line}"
        );
    }
    assert!(!line.contains("UPDATE services"), "raw SQL in: {line}");
}

// ---------------------------------------------------------------------------------------------
// The audit log and the database agree.

/// Rows the database shows as deleted: id -> deleted_at, as text to the second.
type DeletedRows = BTreeMap<i64, String>;

/// Each row the database shows deleted is in exactly one committed audit record, whose time is
/// the row's `deleted_at`; no other committed record exists; a `rolled_back` line never follows
/// a transaction whose rows are in the database.
fn assert_audit_agrees(deleted: &DeletedRows, audit: &[Value]) {
    let marked = |event: &str| -> Vec<String> {
        audit
            .iter()
            .filter(|l| l["event"] == event)
            .map(|l| l["txn"].as_str().unwrap().to_string())
            .collect()
    };
    let rolled_back = marked("rolled_back");
    let unknown = marked("outcome_unknown");
    let mut committed: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for l in audit
        .iter()
        .filter(|l| l["event"] == "service_soft_deleted")
    {
        let txn = l["txn"].as_str().unwrap().to_string();
        let id = l["service"]["id"].as_i64().unwrap();
        if rolled_back.contains(&txn) {
            let at = second(l["time"].as_str().unwrap());
            assert_ne!(
                deleted.get(&id),
                Some(&at),
                "row {id} is deleted with the time of txn {txn}, which the audit log says \
                 rolled back:\n{audit:#?}"
            );
            continue;
        }
        if unknown.contains(&txn) {
            continue;
        }
        committed
            .entry(id)
            .or_default()
            .push(second(l["time"].as_str().unwrap()));
    }
    let expected: BTreeMap<i64, Vec<String>> = deleted
        .iter()
        .map(|(id, at)| (*id, vec![at.clone()]))
        .collect();
    assert_eq!(
        committed, expected,
        "committed audit records (id -> time) vs rows deleted in the database:\n{audit:#?}"
    );
}

/// An audit time (RFC 3339) to the second, as MySQL stores `deleted_at`.
fn second(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .naive_utc()
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

fn deleted_rows(rows: Rows) -> DeletedRows {
    rows.into_iter()
        .map(|r| {
            (
                r[0].as_ref().unwrap().parse().unwrap(),
                r[1].clone().unwrap_or_default(),
            )
        })
        .collect()
}

const DELETED_SQL: &str = "SELECT CAST(id AS CHAR), CAST(deleted_at AS CHAR) FROM services \
                           WHERE deleted = 1 ORDER BY id";

fn deleted_in(db: &TestDb) -> DeletedRows {
    deleted_rows(db.rows(DELETED_SQL))
}

fn deleted_ids(v: &Value) -> Vec<i64> {
    let mut ids: Vec<i64> = v["deleted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    ids.sort();
    ids
}

/// A live node01 beside a dead node02 (scheduler 3, backup 4).
fn two_dead(db: &TestDb) {
    db.service(1, "node01", "cinder-scheduler", 5);
    db.service(3, "node02", "cinder-scheduler", 600);
    db.service(4, "node02", "cinder-backup", 600);
}

const DELETE_NODE02: &[&str] = &[
    "service", "delete", "--host", "node02", "--yes", "-f", "json",
];

fn mysql_db() -> Option<TestDb> {
    TestDb::new(Backend::MySql, Schema::Cinder)
}

fn shared_root(db: &TestDb) -> Session {
    Session::open(root_at(&mariadb().unwrap().socket, &db.name))
}

// ---------------------------------------------------------------------------------------------
// Fault 3: a heartbeat commits on one of two planned rows while svcctl waits for their locks.
// All or nothing: exit 3, nothing deleted, the changed row named, "run again".

#[test]
fn heartbeat_on_one_of_two_rows_changes_nothing() {
    let Some(db) = mysql_db() else { return };
    two_dead(&db);
    let before = db.fingerprint();
    let holder = shared_root(&db);
    holder.exec("START TRANSACTION");
    holder.exec("SELECT id FROM services WHERE id = 3 FOR UPDATE");
    let mut bg = Background::start(&db.svcctl(), DELETE_NODE02);
    bg.wait_for_lock(&holder, &db.name);
    // node02's scheduler came back: Cinder's heartbeat, committed while svcctl waits.
    let beat = db.ago(0);
    holder.exec(&format!(
        "UPDATE services SET updated_at = '{beat}', report_count = report_count + 1 WHERE id = 3"
    ));
    holder.exec("COMMIT");
    let run = bg.finish().code(3);
    let v = run.json();
    assert_eq!(v["deleted"], serde_json::json!([]), "{v}");
    assert_eq!(v["refused"][0]["id"], 3, "{v}");
    let last = run.error_line();
    assert!(last.contains("nothing was changed"), "{}", run.stderr);
    assert!(last.contains("run the command again"), "{}", run.stderr);
    assert!(
        run.stderr.contains("(id 3)") && run.stderr.contains("came up"),
        "the changed row is named: {}",
        run.stderr
    );
    // Nothing changed but the heartbeat itself.
    let without_3 = |mut fp: Rows| {
        fp.retain(|r| r[0].as_deref() != Some("3"));
        fp
    };
    assert_eq!(without_3(db.fingerprint()), without_3(before));
    assert_eq!(
        db.rows(
            "SELECT CAST(deleted AS CHAR), CAST(deleted_at AS CHAR) FROM services WHERE id = 3"
        ),
        [[Some("0".to_string()), None]]
    );
    assert_eq!(
        db.int("SELECT COUNT(*) FROM services WHERE deleted = 0"),
        3,
        "no row deleted"
    );
    assert_audit_agrees(&deleted_in(&db), &db.audit_lines());
    assert!(
        db.audit_lines()
            .iter()
            .all(|l| l["event"] != "service_soft_deleted"),
        "a refused write is never audited as a deletion: {:#?}",
        db.audit_lines()
    );
}

// The same rule for `backend cleanup`: a backend on two other nodes, one of which heartbeats
// while svcctl waits for the rows' locks.
#[test]
fn cleanup_is_all_or_nothing_too() {
    let Some(db) = mysql_db() else { return };
    let key = "backend-0d0d0d0d-0004";
    db.service(5, &format!("node02@{key}"), "cinder-volume", 600);
    db.service(6, &format!("node03@{key}"), "cinder-volume", 600);
    let before = db.fingerprint();
    let holder = shared_root(&db);
    holder.exec("START TRANSACTION");
    holder.exec("SELECT id FROM services WHERE id = 6 FOR UPDATE");
    let mut bg = Background::start(
        &db.svcctl(),
        &[
            "backend",
            "cleanup",
            "0d0d0d0d-0004",
            "--no-kill",
            "--yes",
            "-f",
            "json",
        ],
    );
    bg.wait_for_lock(&holder, &db.name);
    holder.exec(&format!(
        "UPDATE services SET updated_at = '{}' WHERE id = 6",
        db.ago(0)
    ));
    holder.exec("COMMIT");
    let run = bg.finish().code(3);
    let v = run.json();
    assert_eq!(v["deleted"], serde_json::json!([]), "{v}");
    assert_eq!(v["refused"][0]["id"], 6, "{v}");
    assert!(
        run.error_line().contains("run the command again"),
        "{}",
        run.stderr
    );
    let without_6 = |mut fp: Rows| {
        fp.retain(|r| r[0].as_deref() != Some("6"));
        fp
    };
    assert_eq!(without_6(db.fingerprint()), without_6(before));
    assert_audit_agrees(&deleted_in(&db), &db.audit_lines());
    assert!(db.audit_lines().is_empty(), "{:#?}", db.audit_lines());
}

// ---------------------------------------------------------------------------------------------
// Fault 4: a lock-wait timeout makes svcctl try again; the retry writes its own time.

#[test]
fn a_retried_attempt_writes_its_own_time() {
    let Some(db) = mysql_db() else { return };
    two_dead(&db);
    let holder = shared_root(&db);
    holder.exec("START TRANSACTION");
    holder.exec("SELECT id FROM services WHERE id = 4 FOR UPDATE");
    let conf = db.conf(
        "node01",
        "[database]\ndb_max_retries = 5\ndb_retry_interval = 1\ndb_inc_retry_interval = false",
    );
    let svcctl = Svcctl::new().config(&conf).audit(db.audit_path());
    let mut bg = Background::start(&svcctl, DELETE_NODE02);
    bg.wait_for_lock(&holder, &db.name);
    // When the first attempt began to wait, in UTC to the second (the server's clock).
    let first_wait = holder.rows(&format!(
        "SELECT CAST(UTC_TIMESTAMP() - INTERVAL TIMESTAMPDIFF(SECOND, t.trx_wait_started, NOW()) \
         SECOND AS CHAR) FROM information_schema.INNODB_TRX t JOIN information_schema.PROCESSLIST p \
         ON p.ID = t.trx_mysql_thread_id WHERE t.trx_state = 'LOCK WAIT' AND p.DB = '{}'",
        db.name
    ))[0][0]
        .clone()
        .unwrap();
    // innodb_lock_wait_timeout is 2 s here: the first attempt fails with 1205 and is retried.
    bg.wait_until("a retry", |l| !retry_numbers(l).is_empty());
    holder.exec("ROLLBACK");
    let run = bg.finish().code(0);
    assert_eq!(deleted_ids(&run.json()), [3, 4]);
    assert_eq!(
        retry_numbers(&run.stderr.lines().map(String::from).collect::<Vec<_>>())[0],
        1
    );
    let deleted = deleted_in(&db);
    let first_wait =
        chrono::NaiveDateTime::parse_from_str(&first_wait, "%Y-%m-%d %H:%M:%S").unwrap();
    for (id, at) in &deleted {
        let at = chrono::NaiveDateTime::parse_from_str(at, "%Y-%m-%d %H:%M:%S").unwrap();
        // The first attempt waited 2 s for the lock, and the retry began 1 s after it failed:
        // a time taken once, before the first attempt, would be at or before `first_wait`.
        assert!(
            at >= first_wait + chrono::Duration::seconds(2),
            "row {id}: deleted_at {at} is the first attempt's time (it began waiting at \
             {first_wait})"
        );
    }
    let updated = db.rows(
        "SELECT CAST(deleted_at AS CHAR), CAST(updated_at AS CHAR) FROM services WHERE deleted = 1",
    );
    for r in updated {
        assert_eq!(r[0], r[1], "deleted_at and updated_at are the same instant");
    }
    assert_audit_agrees(&deleted, &db.audit_lines());
}

// ---------------------------------------------------------------------------------------------
// Fault 2: the server commits, and the connection drops before svcctl reads the answer.

/// A loopback relay to the real server that, once, forwards the client's COMMIT, reads the
/// server's answer, and closes both sides instead of passing the answer on. With
/// `refuse_after_cut`, every later connection is closed at once (the server is "gone").
struct Relay {
    port: u16,
    cut: Arc<AtomicBool>,
}

impl Relay {
    fn start(to: u16, refuse_after_cut: bool) -> Relay {
        let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let cut = Arc::new(AtomicBool::new(false));
        let armed = Arc::new(AtomicBool::new(true));
        let done = cut.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                if refuse_after_cut && done.load(Ordering::SeqCst) {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(server) = TcpStream::connect(("127.0.0.1", to)) else {
                    return;
                };
                let commit_sent = Arc::new(AtomicBool::new(false));
                // Client to server: packet by packet, so a COMMIT is seen before it is sent.
                {
                    let (mut from, mut to) =
                        (client.try_clone().unwrap(), server.try_clone().unwrap());
                    let (armed, commit_sent) = (armed.clone(), commit_sent.clone());
                    std::thread::spawn(move || {
                        let mut buf = Vec::new();
                        let mut chunk = [0u8; 16384];
                        loop {
                            let n = match from.read(&mut chunk) {
                                Ok(0) | Err(_) => break,
                                Ok(n) => n,
                            };
                            buf.extend_from_slice(&chunk[..n]);
                            while buf.len() >= 4 {
                                let len = buf[0] as usize
                                    | (buf[1] as usize) << 8
                                    | (buf[2] as usize) << 16;
                                if buf.len() < 4 + len {
                                    break;
                                }
                                let packet: Vec<u8> = buf.drain(..4 + len).collect();
                                let payload = &packet[4..];
                                if payload.first() == Some(&0x03)
                                    && payload[1..].eq_ignore_ascii_case(b"COMMIT")
                                    && armed.swap(false, Ordering::SeqCst)
                                {
                                    commit_sent.store(true, Ordering::SeqCst);
                                }
                                if to.write_all(&packet).is_err() {
                                    return;
                                }
                            }
                        }
                        let _ = to.shutdown(Shutdown::Both);
                    });
                }
                // Server to client: the answer to the armed COMMIT is dropped with both sides.
                {
                    let (mut from, mut to) = (server, client);
                    let done = done.clone();
                    std::thread::spawn(move || {
                        let mut chunk = [0u8; 16384];
                        loop {
                            let n = match from.read(&mut chunk) {
                                Ok(0) | Err(_) => break,
                                Ok(n) => n,
                            };
                            if commit_sent.load(Ordering::SeqCst) {
                                let _ = to.shutdown(Shutdown::Both);
                                let _ = from.shutdown(Shutdown::Both);
                                done.store(true, Ordering::SeqCst);
                                return;
                            }
                            if to.write_all(&chunk[..n]).is_err() {
                                break;
                            }
                        }
                        let _ = to.shutdown(Shutdown::Both);
                    });
                }
            }
        });
        Relay { port, cut }
    }

    fn url(&self, db: &TestDb) -> String {
        db.url()
            .replace(&format!(":{}/", db.port), &format!(":{}/", self.port))
    }

    fn did_cut(&self) -> bool {
        self.cut.load(Ordering::SeqCst)
    }
}

fn relay_conf(db: &TestDb, relay: &Relay, retries: i64) -> PathBuf {
    let path = db.dir.path().join("relay.conf");
    std::fs::write(
        &path,
        format!(
            "[DEFAULT]\nhost = node01\n[database]\nconnection = {}\nmax_retries = 1\n\
             retry_interval = 0\nuse_db_reconnect = true\ndb_retry_interval = 0\n\
             db_max_retries = {retries}\n",
            relay.url(db)
        ),
    )
    .unwrap();
    path
}

/// `service delete --host node02` (two dead services) through a relay that drops the answer
/// to svcctl's COMMIT (and, with `refuse_after_cut`, every later connection).
fn delete_through_relay(refuse_after_cut: bool, retries: i64) -> Option<(TestDb, Run)> {
    let db = mysql_db()?;
    two_dead(&db);
    let relay = Relay::start(db.port, refuse_after_cut);
    let run = Svcctl::new()
        .config(&relay_conf(&db, &relay, retries))
        .audit(db.audit_path())
        .run(DELETE_NODE02);
    assert!(relay.did_cut(), "the relay never saw svcctl's COMMIT");
    Some((db, run))
}

#[test]
fn a_commit_whose_answer_is_lost_is_reported_as_done() {
    let Some((db, run)) = delete_through_relay(false, 3) else {
        return;
    };
    let run = run.code(0);
    let v = run.json();
    assert_eq!(deleted_ids(&v), [3, 4], "{}", run.stderr);
    assert_eq!(v["already_deleted"], serde_json::json!([]), "{v}");
    assert!(
        run.stderr.contains("committed"),
        "svcctl says how it found out: {}",
        run.stderr
    );
    let audit = db.audit_lines();
    assert!(
        audit.iter().all(|l| l["event"] != "rolled_back"),
        "a committed write is never marked rolled back: {audit:#?}"
    );
    let deleted = deleted_in(&db);
    assert_eq!(deleted.keys().copied().collect::<Vec<_>>(), [3, 4]);
    assert_audit_agrees(&deleted, &audit);
}

#[test]
fn a_lost_commit_that_cannot_be_checked_is_outcome_unknown() {
    let Some((db, run)) = delete_through_relay(true, 1) else {
        return;
    };
    let run = run.code(1);
    let last = run.error_line();
    assert!(last.contains("outcome unknown"), "{}", run.stderr);
    assert!(
        last.contains("check") && last.contains("3, 4"),
        "says what to check: {last}"
    );
    assert_said_once(last);
    let audit = db.audit_lines();
    assert!(
        audit.iter().all(|l| l["event"] != "rolled_back"),
        "never `rolled_back` when svcctl does not know: {audit:#?}"
    );
    let txns: Vec<&str> = audit
        .iter()
        .filter(|l| l["event"] == "service_soft_deleted")
        .map(|l| l["txn"].as_str().unwrap())
        .collect();
    assert_eq!(txns.len(), 2, "{audit:#?}");
    assert!(
        audit
            .iter()
            .any(|l| l["event"] == "outcome_unknown" && l["txn"] == txns[0]),
        "{audit:#?}"
    );
    // It did commit: the rows the audit log holds as "unknown" are the rows deleted.
    assert_eq!(deleted_in(&db).keys().copied().collect::<Vec<_>>(), [3, 4]);
}

// ---------------------------------------------------------------------------------------------
// Fault 1: the server stops (and starts again) while svcctl waits inside its write.

/// A MariaDB of this test's own, on a free 127.0.0.1 port, that the test may stop and start.
struct OwnServer {
    dir: tempfile::TempDir,
    port: u16,
    server: PathBuf,
    child: Option<Child>,
}

impl OwnServer {
    fn new() -> Option<OwnServer> {
        mariadb()?;
        let find = |names: &[&str]| {
            ["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"]
                .iter()
                .flat_map(|d| names.iter().map(move |n| Path::new(d).join(n)))
                .find(|p| p.is_file())
        };
        let server = std::env::var_os("SVCCTL_MARIADBD")
            .map(PathBuf::from)
            .or_else(|| find(&["mariadbd", "mysqld"]))?;
        let install = find(&["mariadb-install-db", "mysql_install_db"])?;
        let dir = tempfile::Builder::new()
            .prefix("svcctl-restart-")
            .tempdir()
            .unwrap();
        let out = Command::new(install)
            .args([
                "--no-defaults",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ])
            .arg(format!("--datadir={}", dir.path().join("data").display()))
            .arg(format!("--user={}", user()))
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

    fn socket(&self) -> PathBuf {
        self.dir.path().join("mysqld.sock")
    }

    fn root(&self, database: &str) -> Session {
        Session::open(root_at(&self.socket(), database))
    }

    /// Starts mariadbd on the same data and port, and waits until it answers.
    fn start(&mut self) {
        let d = self.dir.path();
        let child = Command::new(&self.server)
            .arg("--no-defaults")
            .arg(format!("--datadir={}", d.join("data").display()))
            .arg(format!("--socket={}", self.socket().display()))
            .arg(format!("--port={}", self.port))
            .arg(format!("--pid-file={}", d.join("mysqld.pid").display()))
            .arg(format!("--log-error={}", d.join("error.log").display()))
            .arg(format!("--user={}", user()))
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
        while !crate::harness::block_on(async {
            root_at(&self.socket(), "mysql").connect().await.is_ok()
        }) {
            assert!(
                Instant::now() < deadline,
                "mariadbd did not come up: {}",
                std::fs::read_to_string(d.join("error.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Stops mariadbd as an init script would (SIGTERM) and waits until it is gone.
    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let pid = nix::unistd::Pid::from_raw(child.id() as i32);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
            child.wait().unwrap();
        }
    }

    fn url(&self) -> String {
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

fn user() -> String {
    nix::unistd::User::from_uid(nix::unistd::Uid::current())
        .ok()
        .flatten()
        .map_or_else(|| "root".into(), |u| u.name)
}

/// node02's two dead services beside a live node01, a root session holding node02's
/// scheduler row, and svcctl (retrying as `retries` says) waiting for it inside its write.
fn restart_setup(server: &OwnServer, retries: i64) -> (Session, Background, PathBuf) {
    let root = server.root("cinder");
    let t = |secs: i64| {
        (chrono::Utc::now().naive_utc() - chrono::Duration::seconds(secs))
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
    };
    for (id, host, binary, ago) in [
        (1, "node01", "cinder-scheduler", 5),
        (3, "node02", "cinder-scheduler", 600),
        (4, "node02", "cinder-backup", 600),
    ] {
        root.exec(&format!(
            "INSERT INTO services (created_at, updated_at, deleted, id, host, `binary`, topic, \
             report_count, disabled, availability_zone, uuid) VALUES ('{t}', '{t}', 0, {id}, \
             '{host}', '{binary}', '{binary}', 1, 0, 'nova', 'uuid-{id}')",
            t = t(ago)
        ));
    }
    root.exec("START TRANSACTION");
    root.exec("SELECT id FROM services WHERE id = 3 FOR UPDATE");
    let conf = server.dir.path().join("cinder.conf");
    std::fs::write(
        &conf,
        format!(
            "[DEFAULT]\nhost = node01\n[database]\nconnection = {}\nmax_retries = 1\n\
             retry_interval = 0\nuse_db_reconnect = true\ndb_retry_interval = 1\n\
             db_max_retry_interval = 1\ndb_max_retries = {retries}\n",
            server.url()
        ),
    )
    .unwrap();
    let audit = server.dir.path().join("audit.jsonl");
    let mut bg = Background::start(
        &Svcctl::new().config(&conf).audit(audit.clone()),
        DELETE_NODE02,
    );
    bg.wait_for_lock(&root, "cinder");
    (root, bg, audit)
}

fn audit_of(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn server_restart_during_the_write_with_retries_forever() {
    let Some(mut server) = OwnServer::new() else {
        return;
    };
    let (root, mut bg, audit) = restart_setup(&server, -1);
    // Stopped with the lock still held: svcctl loses its connection while it waits.
    server.stop();
    drop(root);
    // The lost connection, then at least one reconnect that fails while the server is down.
    bg.wait_until("a failed reconnect", |l| retry_numbers(l).len() >= 2);
    server.start();
    let run = bg.finish().code(0);
    let v = run.json();
    assert_eq!(deleted_ids(&v), [3, 4], "{}", run.stderr);
    let lines: Vec<String> = run.stderr.lines().map(String::from).collect();
    let retries = retry_numbers(&lines);
    assert_eq!(
        retries,
        (1..=retries.len() as u64).collect::<Vec<_>>(),
        "one progress line per retry:\n{}",
        run.stderr
    );
    for l in lines.iter().filter(|l| l.contains("; retry ")) {
        assert!(l.starts_with("deleting services: "), "{l}");
        assert_said_once(l);
    }
    let root = server.root("cinder");
    let deleted = deleted_rows(root.rows(DELETED_SQL));
    assert_eq!(deleted.keys().copied().collect::<Vec<_>>(), [3, 4]);
    assert_audit_agrees(&deleted, &audit_of(&audit));
}

#[test]
fn server_restart_during_the_write_with_finite_retries() {
    let Some(mut server) = OwnServer::new() else {
        return;
    };
    let (root, bg, audit) = restart_setup(&server, 2);
    server.stop();
    drop(root);
    let run = bg.finish().code(1);
    server.start();
    let last = run.error_line();
    assert!(last.starts_with("svcctl: "), "{}", run.stderr);
    assert!(last.contains("nothing was changed"), "{}", run.stderr);
    assert_said_once(last);
    assert_eq!(
        retry_numbers(&run.stderr.lines().map(String::from).collect::<Vec<_>>()),
        [1, 2],
        "db_max_retries = 2: two retries, one line each:\n{}",
        run.stderr
    );
    let root = server.root("cinder");
    assert_eq!(
        root.int("SELECT CAST(COUNT(*) AS CHAR) FROM services WHERE deleted = 0"),
        3
    );
    let deleted = deleted_rows(root.rows(DELETED_SQL));
    assert!(deleted.is_empty());
    assert_audit_agrees(&deleted, &audit_of(&audit));
}
