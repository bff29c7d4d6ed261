//! SIGINT, SIGTERM and SIGKILL at every point of a write, for `service delete`, `volume
//! move-host`, `service disable` and `service purge` on MariaDB: blocked on a row lock another
//! session holds, between its statements (the one test seam), while its audit line is synced
//! (strace holds the sync back), while its COMMIT is in flight (a relay holds it), and while
//! the COMMIT's answer is held back and then lost (the relay again). After each, the database
//! is changed wholly or not at all, the exit code says which (130/143: nothing changed; 6: it
//! committed before the stop; 5: unknown), the audit log confirms exactly what landed, and what
//! it leaves unconfirmed a reader (`service restore`, `move-host --undo`) resolves against the
//! database before acting on it. A second signal exits at once; `--timeout` and a signal end a
//! run whose stdout nobody reads.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use serde_json::Value;

use crate::harness::fleet::{ids, mysql_db};
use crate::harness::{Background, Hold, Relay, Run, Session, Svcctl, TestDb, strace};

/// The writing commands a signal interrupts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmd {
    Delete,
    Move,
    Disable,
    Purge,
}

/// How a run left the database: never anything between.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Unchanged,
    Changed,
}

impl Cmd {
    /// A live node01@lvm (1) beside what the command acts on, rows 3 and 4 or volumes v1, v2:
    /// node02's dead scheduler and backup (delete, disable), two volumes on the dead
    /// node02@lvm (2) for node01@lvm (move), two services soft-deleted ten days ago (purge).
    fn seed(self, db: &TestDb) {
        db.service(1, "node01@lvm", "cinder-volume", 5);
        match self {
            Cmd::Delete | Cmd::Disable => {
                db.service(3, "node02", "cinder-scheduler", 600);
                db.service(4, "node02", "cinder-backup", 600);
            }
            Cmd::Move => {
                db.service(2, "node02@lvm", "cinder-volume", 600);
                db.volume("v1", "node02@lvm#nvme");
                db.volume("v2", "node02@lvm#nvme");
            }
            Cmd::Purge => {
                for id in [3, 4] {
                    db.service(id, &format!("old{id}@lvm"), "cinder-volume", 11 * 86400);
                    db.exec(&format!(
                        "UPDATE services SET deleted = 1, deleted_at = '{}' WHERE id = {id}",
                        db.ago(10 * 86400)
                    ));
                }
            }
        }
    }

    fn args(self) -> Vec<&'static str> {
        match self {
            Cmd::Delete => vec!["service", "delete", "--host", "node02"],
            Cmd::Move => vec![
                "volume",
                "move-host",
                "--from",
                "node02@lvm",
                "--to",
                "node01@lvm",
            ],
            Cmd::Disable => vec![
                "service", "disable", "--host", "node02", "--reason", "RMA 4711",
            ],
            Cmd::Purge => vec!["service", "purge", "--older-than", "1"],
        }
        .into_iter()
        .chain(["--yes", "-f", "json"])
        .collect()
    }

    /// What a root session locks to hold the write in its lock wait.
    fn lock(self) -> &'static str {
        match self {
            Cmd::Move => "SELECT id FROM volumes WHERE id = 'v1' FOR UPDATE",
            _ => "SELECT id FROM services WHERE id = 3 FOR UPDATE",
        }
    }

    /// The write, row by row: in the database or not.
    fn rows(self, db: &TestDb) -> Vec<bool> {
        let yes = |sql: &str| db.int(sql) == 1;
        match self {
            Cmd::Delete => [3, 4]
                .map(|id| yes(&format!("SELECT deleted FROM services WHERE id = {id}")))
                .to_vec(),
            Cmd::Disable => [3, 4]
                .map(|id| yes(&format!("SELECT disabled FROM services WHERE id = {id}")))
                .to_vec(),
            Cmd::Move => ["v1", "v2"]
                .map(|id| {
                    yes(&format!(
                        "SELECT COUNT(*) FROM volumes WHERE id = '{id}' AND host = \
                         'node01@lvm#nvme'"
                    ))
                })
                .to_vec(),
            Cmd::Purge => [3, 4]
                .map(|id| !yes(&format!("SELECT COUNT(*) FROM services WHERE id = {id}")))
                .to_vec(),
        }
    }

    /// Whether the write is in the database: wholly, or not at all; anything else fails.
    fn state(self, db: &TestDb) -> State {
        let rows = self.rows(db);
        if rows.iter().all(|r| *r) {
            State::Changed
        } else if rows.iter().all(|r| !*r) {
            State::Unchanged
        } else {
            panic!("{self:?} is half-written: {rows:?}");
        }
    }

    /// The reader that acts on this command's records (a dry run: it checks, changes nothing).
    fn reader(self, txn: &str) -> Option<Vec<String>> {
        let args: &[&str] = match self {
            Cmd::Delete => &["service", "restore", "--txn", txn],
            Cmd::Move => &["volume", "move-host", "--undo", txn],
            Cmd::Disable | Cmd::Purge => return None,
        };
        Some(
            args.iter()
                .chain(&["--dry-run", "-f", "json"])
                .map(|s| s.to_string())
                .collect(),
        )
    }
}

/// The three signals, as the tests send them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sig {
    Int,
    Term,
    Kill,
}

const SIGNALS: [Sig; 3] = [Sig::Int, Sig::Term, Sig::Kill];

impl Sig {
    fn nix(self) -> Signal {
        match self {
            Sig::Int => Signal::SIGINT,
            Sig::Term => Signal::SIGTERM,
            Sig::Kill => Signal::SIGKILL,
        }
    }

    /// The exit code of a run it stopped with nothing changed (-1: killed, no code).
    fn nothing_changed(self) -> i32 {
        match self {
            Sig::Int => 130,
            Sig::Term => 143,
            Sig::Kill => -1,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Sig::Int => "SIGINT",
            Sig::Term => "SIGTERM",
            Sig::Kill => "SIGKILL",
        }
    }
}

/// What the audit log must hold after a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Log {
    /// Nothing: the write never reached its audit.
    Empty,
    /// One transaction: its intents, then `rolled_back`.
    RolledBack,
    /// One transaction: its intents, then `committed`.
    Confirmed,
    /// One transaction: its intents and no end; a reader must check it in the database.
    Unconfirmed,
}

/// What a run left, for `verify`.
struct Ran {
    /// svcctl as the run had it (through a relay, or not), for the reader.
    svcctl: Svcctl,
    run: Run,
    /// Kept until the reader ran through it.
    _relay: Option<Relay>,
}

/// svcctl through `relay`, with the test's audit log; a lost connection is retried.
fn through(db: &TestDb, relay: &Relay) -> Svcctl {
    let path = db.dir.path().join("relay.conf");
    std::fs::write(
        &path,
        format!(
            "[DEFAULT]\nhost = node01\n[database]\nconnection = {}\nmax_retries = 1\n\
             retry_interval = 0\nuse_db_reconnect = true\ndb_retry_interval = 0\n",
            relay.url(db)
        ),
    )
    .unwrap();
    Svcctl::new().config(&path).audit_log(&db.audit_path())
}

/// Waits until `done` holds, or fails saying `what`.
fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "never: {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The note svcctl gives when a stop comes with its COMMIT in flight.
fn commit_in_flight_note(lines: &[String]) -> bool {
    lines
        .iter()
        .any(|l| l.contains("was already sent; waiting up to 5s"))
}

// ---------------------------------------------------------------------------------------------
// The points.

/// Blocked on a row lock another session holds.
fn at_lock(db: &TestDb, cmd: Cmd, sig: Sig) -> Option<Ran> {
    let holder = Session::root(db);
    holder.exec("START TRANSACTION");
    holder.exec(cmd.lock());
    let mut bg = Background::start(&db.audited(), &cmd.args());
    bg.wait_for_lock(&holder, &db.name);
    bg.signal(sig.nix());
    let run = bg.finish();
    holder.exec("ROLLBACK");
    let svcctl = db.audited();
    Some(Ran {
        svcctl,
        run,
        _relay: None,
    })
}

/// Between its statements: after the guarded UPDATE, before the audit (the test seam).
fn between_statements(db: &TestDb, cmd: Cmd, sig: Sig) -> Option<Ran> {
    let paused = db.audited().paused(
        "SVCCTL_TEST_PAUSE_IN_TXN_FILE",
        &db.dir.path().join("pause-in-txn"),
        &cmd.args(),
    );
    nix::sys::signal::kill(paused.pid(), sig.nix()).unwrap();
    let run = paused.finish();
    let svcctl = db.audited();
    Some(Ran {
        svcctl,
        run,
        _relay: None,
    })
}

/// How long strace holds back each sync: the test signals svcctl inside that window.
const SYNC_DELAY: Duration = Duration::from_millis(1500);

/// While its intent lines are synced to disk (strace delays the sync's return).
fn audit_sync(db: &TestDb, cmd: Cmd, sig: Sig) -> Option<Ran> {
    if !strace::usable() {
        return None;
    }
    let mut bg = Background::start_traced(&db.audited(), SYNC_DELAY, &cmd.args());
    // Written, and now being synced.
    let log = db.audit_path();
    wait_for("the intent lines", || {
        std::fs::read_to_string(&log).is_ok_and(|t| t.ends_with('\n'))
    });
    assert!(!bg.ended(), "svcctl ended before the signal");
    bg.signal(sig.nix());
    let run = bg.finish();
    let svcctl = db.audited();
    Some(Ran {
        svcctl,
        run,
        _relay: None,
    })
}

/// With its COMMIT in flight: the relay holds it, the signal comes, then the COMMIT goes on.
fn commit_in_flight(db: &TestDb, cmd: Cmd, sig: Sig) -> Option<Ran> {
    let relay = Relay::holding(db.port, Hold::Commit);
    let svcctl = through(db, &relay);
    let mut bg = Background::start(&svcctl, &cmd.args());
    relay.wait_held();
    bg.signal(sig.nix());
    match sig {
        Sig::Kill => wait_for("svcctl killed", || bg.ended()),
        _ => bg.wait_until("its note", commit_in_flight_note),
    }
    relay.release();
    let run = bg.finish();
    // Killed: the COMMIT it sent reaches the server all the same.
    wait_for("the COMMIT to land", || cmd.rows(db).iter().all(|r| *r));
    Some(Ran {
        svcctl,
        run,
        _relay: Some(relay),
    })
}

/// With the COMMIT's answer held back (the server committed), then lost: the relay cuts.
fn answer_lost(db: &TestDb, cmd: Cmd, sig: Sig) -> Option<Ran> {
    let relay = Relay::holding(db.port, Hold::Answer);
    let svcctl = through(db, &relay);
    let mut bg = Background::start(&svcctl, &cmd.args());
    relay.wait_held();
    bg.signal(sig.nix());
    match sig {
        Sig::Kill => wait_for("svcctl killed", || bg.ended()),
        _ => bg.wait_until("its note", commit_in_flight_note),
    }
    relay.cut();
    let run = bg.finish();
    Some(Ran {
        svcctl,
        run,
        _relay: Some(relay),
    })
}

// ---------------------------------------------------------------------------------------------
// What each run must leave.

/// The one transaction of the log, checked against `want`; None for an empty log.
fn check_log(lines: &[Value], want: Log) -> Option<String> {
    let ends = ["committed", "rolled_back", "outcome_unknown"];
    if want == Log::Empty {
        assert!(lines.is_empty(), "no audit line expected:\n{lines:#?}");
        return None;
    }
    let txns: BTreeSet<&str> = lines.iter().map(|l| l["txn"].as_str().unwrap()).collect();
    assert_eq!(txns.len(), 1, "one transaction:\n{lines:#?}");
    let (end_lines, intents): (Vec<&Value>, Vec<&Value>) = lines
        .iter()
        .partition(|l| ends.contains(&l["event"].as_str().unwrap()));
    assert!(!intents.is_empty(), "its intent lines:\n{lines:#?}");
    let end: Vec<&str> = end_lines
        .iter()
        .map(|l| l["event"].as_str().unwrap())
        .collect();
    let expected: &[&str] = match want {
        Log::RolledBack => &["rolled_back"],
        Log::Confirmed => &["committed"],
        _ => &[],
    };
    assert_eq!(end, expected, "how it ended:\n{lines:#?}");
    if let Some(last) = end_lines.first() {
        assert_eq!(
            *last,
            lines.last().unwrap(),
            "the end comes last:\n{lines:#?}"
        );
    }
    txns.into_iter().next().map(String::from)
}

/// The reader (`service restore --txn`, `move-host --undo`, dry run) acts on the transaction
/// exactly when it landed: it lists the rows, or says it did not commit (exit 4).
fn check_reader(cmd: Cmd, svcctl: &Svcctl, txn: &str, state: State) {
    let Some(args) = cmd.reader(txn) else { return };
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = svcctl.run(&args);
    match state {
        State::Changed => {
            let v = run.code(0).json();
            match cmd {
                Cmd::Delete => {
                    let mut restored = ids(&v, "would_restore");
                    restored.sort();
                    assert_eq!(restored, [3, 4], "{v}");
                }
                _ => {
                    let mut moved: Vec<&str> = v["would_move"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|m| m["id"].as_str().unwrap())
                        .collect();
                    moved.sort();
                    assert_eq!(moved, ["v1", "v2"], "{v}");
                }
            }
        }
        State::Unchanged => {
            let run = run.code(4);
            let last = run.error_line();
            assert!(
                last.contains(txn)
                    && (last.contains("did not commit") || last.contains("that committed")),
                "{cmd:?}'s reader on {txn}: {}",
                run.stderr
            );
        }
    }
}

/// The database, the exit code, the last line and the audit log after `ran`, and the reader
/// on what the log holds.
fn verify(db: &TestDb, cmd: Cmd, sig: Sig, ran: Ran, state: State, log: Log, code: i32) {
    let Ran { svcctl, run, .. } = ran;
    let context = format!("{cmd:?}, {}:\n{}\n{}", sig.name(), run.stdout, run.stderr);
    assert_eq!(cmd.state(db), state, "{context}");
    assert_eq!(run.code, code, "{context}");
    let lines = db.audit_lines();
    let txn = check_log(&lines, log);
    let last = run.error_line();
    match code {
        130 | 143 => assert!(
            last == format!("svcctl: interrupted by {}; nothing was changed", sig.name()),
            "{context}"
        ),
        6 => {
            let txn = txn.as_deref().unwrap();
            assert!(
                last.starts_with(&format!(
                    "svcctl: interrupted by {} after transaction {txn} had committed",
                    sig.name()
                )),
                "{context}"
            );
            assert!(
                commit_in_flight_note(&run.stderr.lines().map(String::from).collect::<Vec<_>>()),
                "{context}"
            );
        }
        _ => {}
    }
    if let Some(txn) = &txn {
        check_reader(cmd, &svcctl, txn, state);
    }
}

/// The command's rows as they were, and no audit log: each run of a test starts afresh on
/// the test's one database.
fn fresh(db: &TestDb, cmd: Cmd) {
    db.exec("DELETE FROM volumes; DELETE FROM services");
    let _ = std::fs::remove_file(db.audit_path());
    cmd.seed(db);
}

/// A point of the write, reached on `db` and stopped there by a signal.
type Point = fn(&TestDb, Cmd, Sig) -> Option<Ran>;

/// Each signal at `point`, one run after another on one database; `expect` says what the
/// run must leave.
fn every_signal(cmd: Cmd, point: Point, expect: impl Fn(Sig) -> (State, Log, i32)) {
    let Some(db) = mysql_db() else { return };
    for sig in SIGNALS {
        fresh(&db, cmd);
        let Some(ran) = point(&db, cmd, sig) else {
            return;
        };
        let (state, log, code) = expect(sig);
        verify(&db, cmd, sig, ran, state, log, code);
    }
}

/// Every signal at the lock and between statements: nothing changed, nothing on record.
fn before_the_audit(cmd: Cmd, point: Point) {
    every_signal(cmd, point, |sig| {
        (State::Unchanged, Log::Empty, sig.nothing_changed())
    });
}

/// Every signal while the audit line syncs: nothing changed; INT and TERM record
/// `rolled_back`, KILL leaves the intents unconfirmed (and the reader finds nothing landed).
fn during_the_sync(cmd: Cmd) {
    every_signal(cmd, audit_sync, |sig| {
        let log = match sig {
            Sig::Kill => Log::Unconfirmed,
            _ => Log::RolledBack,
        };
        (State::Unchanged, log, sig.nothing_changed())
    });
}

/// Every signal once COMMIT is sent: the change landed; INT and TERM wait for the truth,
/// confirm it and exit 6; KILL leaves it unconfirmed (and the reader finds it landed).
fn after_commit_sent(cmd: Cmd, point: Point) {
    every_signal(cmd, point, |sig| match sig {
        Sig::Kill => (State::Changed, Log::Unconfirmed, -1),
        _ => (State::Changed, Log::Confirmed, 6),
    });
}

macro_rules! every_point {
    ($($module:ident: $cmd:expr),* $(,)?) => {$(
        mod $module {
            use super::*;

            #[test]
            fn lock() {
                before_the_audit($cmd, at_lock);
            }

            #[test]
            fn between_statements() {
                before_the_audit($cmd, super::between_statements);
            }

            #[test]
            fn audit_sync() {
                during_the_sync($cmd);
            }

            #[test]
            fn commit_in_flight() {
                after_commit_sent($cmd, super::commit_in_flight);
            }

            #[test]
            fn answer_lost() {
                after_commit_sent($cmd, super::answer_lost);
            }

            #[test]
            fn twice_with_commit_in_flight() {
                super::twice_with_commit_in_flight($cmd);
            }
        }
    )*};
}

every_point!(
    delete: Cmd::Delete,
    move_host: Cmd::Move,
    disable: Cmd::Disable,
    purge: Cmd::Purge,
);

// ---------------------------------------------------------------------------------------------
// A second signal while COMMIT is in flight: out at once, exit 5, saying how to find out; the
// log leaves the transaction unconfirmed, and the reader finds out either way (the COMMIT is
// lost for delete and disable, goes on for move and purge).

fn twice_with_commit_in_flight(cmd: Cmd) {
    let Some(db) = mysql_db() else { return };
    let db = &db;
    cmd.seed(db);
    let relay = Relay::holding(db.port, Hold::Commit);
    let svcctl = through(db, &relay);
    let mut bg = Background::start(&svcctl, &cmd.args());
    relay.wait_held();
    bg.signal(Signal::SIGINT);
    bg.wait_until("its note", commit_in_flight_note);
    bg.signal(Signal::SIGTERM);
    // The relay still holds the COMMIT: svcctl ends on its own, at once.
    let run = bg.finish_on_its_own();
    let lands = matches!(cmd, Cmd::Move | Cmd::Purge);
    if lands {
        relay.release();
        wait_for("the COMMIT to land", || cmd.rows(db).iter().all(|r| *r));
    } else {
        relay.cut();
    }
    let state = if lands {
        State::Changed
    } else {
        State::Unchanged
    };
    let context = format!("{cmd:?}:\n{}", run.stderr);
    assert_eq!(run.code, 5, "{context}");
    let txn = check_log(&db.audit_lines(), Log::Unconfirmed).unwrap();
    let last = run.error_line();
    assert!(
        last.starts_with(&format!(
            "svcctl: outcome unknown: interrupted by SIGTERM again while the COMMIT of \
             transaction {txn} was in flight"
        )),
        "{context}"
    );
    let how = match cmd {
        Cmd::Delete => format!("`svcctl service restore --txn {txn} --dry-run --audit-log"),
        Cmd::Move => format!("`svcctl volume move-host --undo {txn} --dry-run --audit-log"),
        Cmd::Disable => "check services 3, 4: disabled = 1 with modified_at = '".into(),
        Cmd::Purge => "check services 3, 4: no such rows means the purge committed".into(),
    };
    assert!(
        last.contains(&how),
        "says how to find out ({how}): {context}"
    );
    assert_eq!(cmd.state(db), state, "{context}");
    check_reader(cmd, &svcctl, &txn, state);
}

// The COMMIT's answer never comes and the relay never lets go: 5 s after SIGINT svcctl stops
// waiting, reads back on a new connection, finds the deletion, confirms it and exits 6.
#[test]
fn an_answer_that_never_comes_is_read_back() {
    let Some(db) = mysql_db() else { return };
    let db = &db;
    let cmd = Cmd::Delete;
    cmd.seed(db);
    let relay = Relay::holding(db.port, Hold::Answer);
    let svcctl = through(db, &relay);
    let bg = Background::start(&svcctl, &cmd.args());
    relay.wait_held();
    bg.signal(Signal::SIGINT);
    let run = bg.finish_on_its_own();
    let ran = Ran {
        svcctl,
        run,
        _relay: Some(relay),
    };
    let lines = db.audit_lines();
    let note = lines.last().unwrap()["note"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(
        note.contains("had no answer within 5s of SIGINT to the COMMIT sent to 127.0.0.1:")
            && note.contains("read back after reconnecting, it committed"),
        "{lines:#?}"
    );
    verify(db, cmd, Sig::Int, ran, State::Changed, Log::Confirmed, 6);
}

// ---------------------------------------------------------------------------------------------
// A stdout nobody reads.

/// `n` live services, ids from 1000.
fn many_services(db: &TestDb, n: i64, secs_ago: i64) {
    let t = db.ago(secs_ago);
    let values: Vec<String> = (1000..1000 + n)
        .map(|id| {
            format!(
                "('{t}', '{t}', 0, {id}, 'host{id}@lvm', 'cinder-volume', 'cinder-volume', 1, 0, \
                 'nova', 'uuid-{id}')"
            )
        })
        .collect();
    db.exec(&format!(
        "INSERT INTO services (created_at, updated_at, deleted, id, host, `binary`, topic, \
         report_count, disabled, availability_zone, uuid) VALUES {}",
        values.join(", ")
    ));
}

/// svcctl with a stdout pipe nobody reads (held open, never read), its stderr read as it
/// comes; `act` runs once svcctl has filled the pipe and waits on it. svcctl must end on its
/// own: the test gives up after a minute (it would hang for ever, as it did).
fn with_stdout_unread(svcctl: &Svcctl, args: &[&str], act: impl FnOnce(nix::unistd::Pid)) -> Run {
    let mut child = svcctl
        .command(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _unread = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<String>>()
    });
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    // Filled: it has written about a pipe's worth (64 KiB, less what partly filled pages
    // leave) and writes no more.
    let written = || -> u64 {
        std::fs::read_to_string(format!("/proc/{pid}/io"))
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("wchar: ")?.parse().ok())
            .unwrap_or(0)
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let before = written();
        std::thread::sleep(Duration::from_millis(200));
        if (before >= 60_000 && written() == before) || child.try_wait().unwrap().is_some() {
            break;
        }
        assert!(Instant::now() < deadline, "svcctl never filled its stdout");
    }
    act(pid);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("svcctl {args:?} never ended with its stdout unread");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stderr = reader.join().unwrap().join("\n");
    Run::checked(status.code().unwrap_or(-1), String::new(), stderr, args)
}

// `svcctl --timeout 2 service list | sleep 15` on 10,000 services, table and JSON: it ends at
// its timeout, exit 1, with one line that says so.
#[test]
fn a_stdout_nobody_reads_ends_at_the_timeout() {
    let Some(db) = mysql_db() else { return };
    let db = &db;
    many_services(db, 10_000, 5);
    for format in ["table", "json"] {
        let run = with_stdout_unread(
            &db.svcctl(),
            &["--timeout", "2", "service", "list", "-f", format],
            |_| {},
        )
        .code(1);
        assert_eq!(run.stderr.lines().count(), 1, "one line: {}", run.stderr);
        assert!(
            run.stderr.starts_with(
                "svcctl: gave up after 2s (--timeout) writing to standard output (pipe:"
            ),
            "{}",
            run.stderr
        );
    }
}

// Without --timeout, SIGINT or SIGTERM ends a run blocked on its stdout at once.
#[test]
fn a_signal_ends_a_stdout_nobody_reads() {
    let Some(db) = mysql_db() else { return };
    let db = &db;
    many_services(db, 10_000, 5);
    for sig in [Sig::Int, Sig::Term] {
        let run = with_stdout_unread(&db.svcctl(), &["service", "list"], |pid| {
            nix::sys::signal::kill(pid, sig.nix()).unwrap()
        })
        .code(sig.nothing_changed());
        assert_eq!(
            run.stderr,
            format!("svcctl: interrupted by {}", sig.name()),
            "a read-only command says nothing of changes"
        );
    }
}

// A sweep that committed, then blocked on its JSON result: --timeout ends it with exit 6 (the
// change stands, confirmed), and so does SIGTERM.
#[test]
fn a_stdout_nobody_reads_after_the_commit() {
    for stop in ["timeout", "SIGTERM"] {
        let Some(db) = mysql_db() else { return };
        let db = &db;
        many_services(db, 1000, 3600);
        let mut args = vec![
            "service",
            "delete",
            "--down-for",
            "30m",
            "--yes",
            "-f",
            "json",
        ];
        if stop == "timeout" {
            args.splice(0..0, ["--timeout", "8"]);
        }
        let run = with_stdout_unread(&db.audited(), &args, |pid| {
            if stop == "SIGTERM" {
                nix::sys::signal::kill(pid, Signal::SIGTERM).unwrap();
            }
        })
        .code(6);
        assert_eq!(
            db.int("SELECT COUNT(*) FROM services WHERE deleted = 1"),
            1000
        );
        let rows = db.audit_rows();
        assert_eq!(rows.len(), 1000);
        let txn = rows[0]["txn"].as_str().unwrap();
        let last = run.error_line();
        let head = match stop {
            "timeout" => {
                "svcctl: gave up after 8s (--timeout) writing to standard output".to_string()
            }
            _ => "svcctl: interrupted by SIGTERM".to_string(),
        };
        assert!(last.starts_with(&head), "{}", run.stderr);
        assert!(
            last.contains(&format!("after transaction {txn} had committed"))
                && last.contains(&format!(
                    "confirmed in the audit log {}",
                    db.audit_path().display()
                )),
            "{}",
            run.stderr
        );
    }
}
