//! Real faults at every point of the write, with no test seam in svcctl: a root session holds
//! row locks so svcctl waits at a known point, then the server is stopped and started again,
//! a loopback TCP relay cuts the connection right after the server answered COMMIT, a heartbeat
//! commits on one of two planned rows, or a lock-wait timeout makes svcctl try again. After
//! each, the audit log and the database must agree, row for row.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::harness::fleet::{ids, mysql_db, node02_scheduler_and_backup_down};
use crate::harness::{Background, OwnServer, Relay, Rows, Run, Session, Svcctl, TestDb};

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

/// Each row the database shows deleted is in exactly one confirmed audit record (a `committed`
/// line follows its transaction), whose time is the row's `deleted_at`; no other confirmed
/// record exists; a `rolled_back` line never follows a transaction whose rows are in the
/// database, and no transaction has two ends.
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
    let confirmed = marked("committed");
    for txn in &confirmed {
        assert!(
            !rolled_back.contains(txn) && !unknown.contains(txn),
            "txn {txn} has two ends:\n{audit:#?}"
        );
        assert_eq!(
            confirmed.iter().filter(|t| *t == txn).count(),
            1,
            "txn {txn} confirmed twice:\n{audit:#?}"
        );
    }
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
        if !confirmed.contains(&txn) {
            // Unconfirmed (`outcome_unknown`, or no end): a reader checks it in the database.
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

/// The ids a JSON result says were deleted, sorted.
fn deleted_ids(v: &Value) -> Vec<i64> {
    let mut deleted = ids(v, "deleted");
    deleted.sort();
    deleted
}

const DELETE_NODE02: &[&str] = &[
    "service", "delete", "--host", "node02", "--yes", "-f", "json",
];

// ---------------------------------------------------------------------------------------------
// Fault 3: a heartbeat commits on one of two planned rows while svcctl waits for their locks.
// All or nothing: exit 3, nothing deleted, the changed row named, "run again".

#[test]
fn heartbeat_on_one_of_two_rows_changes_nothing() {
    let Some(db) = mysql_db() else { return };
    node02_scheduler_and_backup_down(&db);
    let before = db.fingerprint();
    let holder = Session::root(&db);
    holder.exec("START TRANSACTION");
    holder.exec("SELECT id FROM services WHERE id = 3 FOR UPDATE");
    let mut bg = Background::start(&db.audited(), DELETE_NODE02);
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
    let holder = Session::root(&db);
    holder.exec("START TRANSACTION");
    holder.exec("SELECT id FROM services WHERE id = 6 FOR UPDATE");
    let mut bg = Background::start(
        &db.audited(),
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
    node02_scheduler_and_backup_down(&db);
    let holder = Session::root(&db);
    holder.exec("START TRANSACTION");
    holder.exec("SELECT id FROM services WHERE id = 4 FOR UPDATE");
    let conf = db.conf(
        "node01",
        "[database]\ndb_max_retries = 5\ndb_retry_interval = 1\ndb_inc_retry_interval = false",
    );
    let svcctl = Svcctl::new().config(&conf).audit_log(&db.audit_path());
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
    node02_scheduler_and_backup_down(&db);
    let relay = Relay::start(db.port, refuse_after_cut);
    let run = Svcctl::new()
        .config(&relay_conf(&db, &relay, retries))
        .audit_log(&db.audit_path())
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
    let confirmation = audit
        .iter()
        .find(|l| l["event"] == "committed")
        .unwrap_or_else(|| panic!("the read-back's verdict is confirmed: {audit:#?}"));
    assert!(
        confirmation["note"]
            .as_str()
            .is_some_and(|n| n.contains("read back after reconnecting, it committed")),
        "{confirmation}"
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
    let run = run.code(5);
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
    // It did commit: the rows the audit log holds unconfirmed are the rows deleted (a reader
    // finds that out before it acts: signals.rs).
    assert_eq!(deleted_in(&db).keys().copied().collect::<Vec<_>>(), [3, 4]);
    assert!(
        audit.iter().all(|l| l["event"] != "committed"),
        "{audit:#?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Fault 1: the server stops (and starts again) while svcctl waits inside its write.

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
        &Svcctl::new().config(&conf).audit_log(&audit),
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
