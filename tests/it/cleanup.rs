//! `svcctl backend cleanup` with real processes: leftovers started as
//! `exec -a 'cinder-volume --config-file /etc/cinder/backend-<key>.conf' sleep ...`, bystanders
//! that only mention the key, a process that ignores SIGTERM, another backend's service.
//! Process discovery sees the whole machine and tests run in parallel, so every test uses a
//! backend key of its own.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::fleet::{cleanup_seeing_go_down, deleted_hosts};
use crate::harness::{Backend, Run, Schema, TestDb, load_fixture_rows};

/// A process whose command line reads `title`; with `ignore_term`, it survives SIGTERM.
struct Fake {
    child: Child,
}

impl Fake {
    fn start(title: &str, ignore_term: bool) -> Fake {
        let trap = if ignore_term { "trap '' TERM; " } else { "" };
        let child = Command::new("bash")
            .arg("-c")
            .arg(format!("{trap}exec -a '{title}' sleep 600"))
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        let fake = Fake { child };
        let deadline = Instant::now() + Duration::from_secs(5);
        while !fake.cmdline().starts_with(title) {
            assert!(
                Instant::now() < deadline,
                "fake process never showed {title:?}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        fake
    }

    fn pid(&self) -> i64 {
        self.child.id() as i64
    }

    fn cmdline(&self) -> String {
        std::fs::read(format!("/proc/{}/cmdline", self.child.id()))
            .map(|b| {
                String::from_utf8_lossy(&b)
                    .split('\0')
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default()
    }

    /// Still running (not exited, not a zombie waiting for us).
    fn running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn leftover(key: &str) -> String {
    format!("cinder-volume --config-file /etc/cinder/{key}.conf")
}

/// The "done when": the seed's cluster in a Cinder 29 database, cleanup of backend
/// deffaf27 run on node01.
#[test]
fn seed_cluster_cleanup_on_node01() {
    for backend in [Backend::Sqlite, Backend::MySql] {
        let Some(db) = TestDb::new(backend, Schema::Cinder) else {
            continue;
        };
        load_fixture_rows(&db);
        db.exec(&format!(
            "UPDATE services SET updated_at = '{}' WHERE host LIKE 'node01%'",
            db.ago(3)
        ));
        // deffaf27 is this test's alone: the SQLite and MySQL rounds run one after the other.
        let key = "backend-deffaf27-95b1";
        let mut mine = Fake::start(&leftover(key), false);
        let mut stubborn = Fake::start(
            &format!("cinder-volume --config-file /etc/cinder/cinder.conf --backend {key}"),
            true,
        );
        let mut bystander = Fake::start(
            &format!("less /var/log/cinder/cinder-volume-{key}.log"),
            false,
        );
        let mut other = Fake::start(&leftover("backend-ffdc2630-def2"), false);
        let before_other = db.rows("SELECT CAST(id AS CHAR) FROM services WHERE deleted = 0 AND host NOT LIKE '%deffaf27%' ORDER BY id");
        let run = db
            .audited()
            .run(&[
                "backend",
                "cleanup",
                "deffaf27-95b1-41ca-862f-43075258a8e5",
                "--yes",
                "--kill-timeout",
                "1",
                "-f",
                "json",
            ])
            .code(0);
        let v = run.json();
        assert_eq!(
            deleted_hosts(&v),
            [
                "node01@backend-deffaf27-95b1",
                "node02@backend-deffaf27-95b1"
            ]
        );
        let procs = v["processes"].as_array().unwrap();
        assert_eq!(procs.len(), 2, "{v}");
        let by_pid = |pid: i64| {
            procs
                .iter()
                .find(|p| p["pid"] == pid)
                .unwrap_or_else(|| panic!("{pid} not in {v}"))
        };
        assert_eq!(by_pid(mine.pid())["signal"], "SIGTERM");
        assert_eq!(by_pid(stubborn.pid())["signal"], "SIGKILL");
        assert!(procs.iter().all(|p| p["stopped"] == true));
        assert!(!mine.running() && !stubborn.running());
        assert!(
            bystander.running(),
            "a process that only mentions the key survives"
        );
        assert!(other.running(), "another backend's service survives");
        // Removed the way Cinder would; nothing else touched.
        assert_eq!(
            db.int("SELECT COUNT(*) FROM services WHERE deleted = 1 AND host LIKE '%deffaf27%'"),
            2
        );
        assert_eq!(before_other, db.rows("SELECT CAST(id AS CHAR) FROM services WHERE deleted = 0 AND host NOT LIKE '%deffaf27%' ORDER BY id"));
        assert_eq!(db.audit_rows().len(), 2);
        // Nothing left: a clean 4, or 0 with --missing-ok.
        db.audited()
            .run(&[
                "backend",
                "cleanup",
                "deffaf27-95b1-41ca-862f-43075258a8e5",
                "--yes",
            ])
            .code(4);
        db.audited()
            .run(&[
                "backend",
                "cleanup",
                "deffaf27-95b1",
                "--yes",
                "--missing-ok",
            ])
            .code(0);
        // Backend 2813902f still owns a volume (on node02@...#nvme, whose row is already gone).
        let before = db.fingerprint();
        let refused = db
            .audited()
            .run(&[
                "backend",
                "cleanup",
                "2813902f-2c94-4ff9-988a-2b475e0bd5a5",
                "--yes",
            ])
            .code(3);
        assert!(
            refused.stderr.contains("still owns 1 volume"),
            "{}",
            refused.stderr
        );
        assert_eq!(db.fingerprint(), before);
        assert!(other.running());
    }
}

#[test]
fn volume_on_a_pool_refuses_and_kills_nothing() {
    let db = TestDb::new(Backend::Sqlite, Schema::Cinder).unwrap();
    let key = "backend-0a0a0a0a-0001";
    db.service(1, &format!("node01@{key}"), "cinder-volume", 5);
    db.service(2, &format!("node02@{key}"), "cinder-volume", 600);
    db.volume("v1", &format!("node02@{key}#pool"));
    let mut p = Fake::start(&leftover(key), false);
    let before = db.fingerprint();
    let run = db
        .audited()
        .run(&["backend", "cleanup", "0a0a0a0a-0001", "--yes", "-f", "json"])
        .code(3);
    let v = run.json();
    assert_eq!(v["refused"].as_array().unwrap().len(), 2);
    assert!(
        v["refused"][1]["reasons"].to_string().contains("1 volume"),
        "{v}"
    );
    assert!(p.running(), "a refused cleanup stops nothing");
    assert_eq!(db.fingerprint(), before);
    // --force overrides, and says what it overrode.
    let forced = db
        .audited()
        .run(&[
            "backend",
            "cleanup",
            "0a0a0a0a-0001",
            "--yes",
            "--force",
            "--kill-timeout",
            "5",
        ])
        .code(0);
    assert!(
        forced.stderr.contains("WARNING: --force"),
        "{}",
        forced.stderr
    );
    assert!(!p.running());
}

#[test]
fn dry_run_touches_no_process_and_no_row() {
    let db = TestDb::new(Backend::Sqlite, Schema::Cinder).unwrap();
    let key = "backend-0b0b0b0b-0002";
    db.service(1, &format!("node01@{key}"), "cinder-volume", 5);
    db.service(2, &format!("node02@{key}"), "cinder-volume", 600);
    let mut p = Fake::start(&leftover(key), false);
    let before = db.fingerprint();
    let v = db
        .audited()
        .run(&[
            "backend",
            "cleanup",
            "0b0b0b0b-0002",
            "--dry-run",
            "-f",
            "json",
        ])
        .code(0)
        .json();
    assert_eq!(v["dry_run"], true);
    assert_eq!(
        v["deleted"],
        serde_json::json!([]),
        "a dry run deletes nothing"
    );
    assert_eq!(v["would_delete"].as_array().unwrap().len(), 2);
    assert_eq!(v["processes"][0]["pid"], p.pid());
    assert_eq!(v["processes"][0]["signal"], Value::Null);
    assert!(p.running());
    assert_eq!(db.fingerprint(), before);
    // The table form shows the processes and the plan; without --yes and no terminal: exit 2.
    let run = db
        .audited()
        .run(&["backend", "cleanup", "0b0b0b0b-0002"])
        .code(2);
    // The command line, cut with `…` to keep the table within 80 columns (JSON has it whole).
    let cmdline = leftover(key);
    let cut = (20..cmdline.len()).any(|n| run.stdout.contains(&format!("{}…", &cmdline[..n])));
    assert!(cut, "{}", run.stdout);
    assert!(
        run.stdout.lines().all(|l| l.chars().count() <= 80),
        "{}",
        run.stdout
    );
    // Wide enough, the table has it whole, and the verdict on one line.
    let wide = db
        .audited()
        .run(&["backend", "cleanup", "0b0b0b0b-0002", "--max-width", "200"])
        .code(2);
    assert!(wide.stdout.contains(&cmdline), "{}", wide.stdout);
    assert!(
        wide.stdout
            .contains("delete (on node01; after its processes here are stopped)"),
        "{}",
        wide.stdout
    );
    assert!(p.running());
    assert_eq!(db.fingerprint(), before);
}

#[test]
fn other_nodes_must_be_down_or_go_down_within_wait() {
    let db = TestDb::new(Backend::Sqlite, Schema::Cinder).unwrap();
    let key = "lvm-k3"; // a backend named in enabled_backends: the key is the name itself
    db.service(1, &format!("node01@{key}"), "cinder-volume", 5);
    db.service(2, &format!("node02@{key}"), "cinder-volume", 600);
    db.service(3, &format!("node03@{key}"), "cinder-volume", 5);
    db.service(4, "node03@lvm-k3b", "cinder-volume", 600);
    // node01's own process of the backend: stopped, so node01's fresh heartbeat does not count.
    let mut p = Fake::start(&leftover(key), false);
    let before = db.fingerprint();
    let run = db
        .audited()
        .run(&["backend", "cleanup", key, "--yes"])
        .code(3);
    assert!(
        run.stderr.contains("up on node03")
            && run.stderr.contains("run svcctl backend cleanup on node03"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("(this node is node01, from [DEFAULT] host)"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("or pass --wait DURATION"),
        "{}",
        run.stderr
    );
    assert_eq!(db.fingerprint(), before);
    // A wait that runs out says so once, and the refusal no longer advises waiting.
    let run = db
        .audited()
        .run(&["backend", "cleanup", key, "--yes", "--wait", "1"])
        .code(3);
    assert!(
        run.stderr
            .contains("the wait ran out with node03@lvm-k3 still up")
            && run.stderr.contains("it stayed up through --wait 1")
            && !run.stderr.contains("pass --wait"),
        "{}",
        run.stderr
    );
    assert_eq!(db.fingerprint(), before);
    // node03 last heartbeated 56 s ago: it goes down within --wait.
    let v = cleanup_seeing_go_down(&db, key, 3, "node03");
    assert_eq!(
        deleted_hosts(&v),
        [
            format!("node01@{key}"),
            format!("node02@{key}"),
            format!("node03@{key}")
        ]
    );
    assert_eq!(
        db.int("SELECT deleted FROM services WHERE id = 4"),
        0,
        "lvm-k3b is another backend"
    );
    assert!(!p.running());
}

#[test]
fn no_kill_judges_this_node_by_heartbeat() {
    let db = TestDb::new(Backend::Sqlite, Schema::Cinder).unwrap();
    let key = "backend-0c0c0c0c-0003";
    db.service(1, &format!("node01@{key}"), "cinder-volume", 5);
    let mut p = Fake::start(&leftover(key), false);
    let run = db
        .audited()
        .run(&["backend", "cleanup", "0c0c0c0c-0003", "--yes", "--no-kill"])
        .code(3);
    assert!(run.stdout.contains("refuse: up"), "{}", run.stdout);
    assert!(p.running());
    let bad = db
        .audited()
        .run(&["backend", "cleanup", "node01@x", "--yes"])
        .code(2);
    assert!(
        bad.error_line().contains("invalid BACKEND"),
        "{}",
        bad.stderr
    );
}

#[test]
fn two_cleanups_at_once() {
    for backend in [Backend::Sqlite, Backend::MySql] {
        let Some(db) = TestDb::new(backend, Schema::Cinder) else {
            continue;
        };
        let key = "backend-0d0d0d0d-0004";
        for i in 0..30 {
            db.service(i + 1, &format!("node{i:02}@{key}"), "cinder-volume", 600);
        }
        let _p = Fake::start(&leftover(key), false);
        let spawn = || {
            db.audited()
                .command(&[
                    "backend",
                    "cleanup",
                    "0d0d0d0d-0004",
                    "--yes",
                    "--kill-timeout",
                    "5",
                    "-f",
                    "json",
                ])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        };
        let (a, b) = (spawn(), spawn());
        let mut hosts = Vec::new();
        for child in [a, b] {
            let run = Run::from(child.wait_with_output().unwrap(), &["cleanup"]);
            assert!(run.code == 0 || run.code == 4, "{run:?}");
            if run.code == 0 {
                hosts.extend(deleted_hosts(&run.json()));
            }
        }
        hosts.sort();
        assert_eq!(hosts.len(), 30, "each service deleted once: {hosts:?}");
        assert_eq!(db.audit_rows().len(), 30);
    }
}

/// Without permission to signal the leftovers (not root), svcctl fails before it deletes or
/// signals anything.
#[test]
fn no_permission_to_signal_changes_nothing() {
    use std::os::unix::fs::PermissionsExt;
    if !nix::unistd::Uid::effective().is_root() {
        eprintln!(
            "*** SKIPPED no_permission_to_signal_changes_nothing: needs root to run svcctl as nobody ***"
        );
        return;
    }
    let db = TestDb::new(Backend::Sqlite, Schema::Cinder).unwrap();
    let key = "backend-0e0e0e0e-0005";
    db.service(1, &format!("node01@{key}"), "cinder-volume", 600);
    let mut p = Fake::start(&leftover(key), false);
    let conf = db.conf("node01", "");
    for path in [db.dir.path().to_path_buf(), db.sqlite_path(), conf.clone()] {
        let mode = if path.is_dir() { 0o777 } else { 0o666 };
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    let before = db.fingerprint();
    // The log's directory: nobody's own, as svcctl requires of a log's directory (one everyone
    // can write, like the database's here, is refused).
    let logs = db.dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    std::fs::set_permissions(&logs, std::fs::Permissions::from_mode(0o700)).unwrap();
    nix::unistd::chown(&logs, Some(nix::unistd::Uid::from_raw(65534)), None).unwrap();
    let svcctl = crate::harness::Svcctl::new()
        .config(&conf)
        .audit_log(&logs.join("audit.jsonl"));
    let inner = svcctl.command(&["backend", "cleanup", "0e0e0e0e-0005", "--yes"]);
    let mut cmd = Command::new("setpriv");
    cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(inner.get_program())
        .args(inner.get_args());
    cmd.env_clear().stdin(Stdio::null());
    let run = Run::from(cmd.output().unwrap(), &["cleanup"]).code(1);
    assert!(
        run.error_line()
            .contains(&format!("not permitted to signal process {}", p.pid())),
        "{}",
        run.stderr
    );
    assert!(
        run.error_line().contains("nothing was changed"),
        "{}",
        run.stderr
    );
    assert!(p.running());
    assert_eq!(db.fingerprint(), before);
}

/// A volume placed on the backend (any node, any pool) between plan and write stops the write.
#[test]
fn volume_on_the_backend_between_plan_and_write() {
    let db = TestDb::new(Backend::Sqlite, Schema::Cinder).unwrap();
    let key = "backend-0f0f0f0f-0006";
    db.service(1, &format!("node02@{key}"), "cinder-volume", 600);
    let pause = db.dir.path().join("pause");
    let child = db.audited().paused(
        "SVCCTL_TEST_PAUSE_FILE",
        &pause,
        &["backend", "cleanup", "0f0f0f0f-0006", "--yes", "-f", "json"],
    );
    // On node07, whose service row does not even exist: still the backend's volume.
    db.volume("late", &format!("node07@{key}#pool"));
    let v = child.resume().code(3).json();
    assert_eq!(v["deleted"], serde_json::json!([]));
    assert_eq!(v["refused"][0]["id"], 1);
    assert_eq!(db.int("SELECT COUNT(*) FROM services WHERE deleted = 0"), 1);
}
