//! Every plan and result table of every writing command, piped, on the seed's hosts
//! (`node01@backend-2813902f-2c94`, 28 characters; volume pools of 33): each is
//! snapshot-tested and no line of stdout is wider than 80 columns (counted in characters, as
//! a terminal shows them, not bytes: `…` is one). The database is the seed's (Cinder 29's own
//! rows, tests/fixtures/) with node02's volume backend live again as in the demo, and its
//! heartbeats set again right before each command, so the ages a plan shows (`10m ago`) hold
//! for a minute; the times of deletions are masked as wide as they are.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::snapshot::SAME_WIDTH;
use crate::harness::{Backend, Run, Schema, Svcctl, TestDb, load_fixture_rows};

/// What a plan must fit when piped.
const WIDTH: usize = 80;

/// The seed's database on SQLite, as the demo tells it: node01 up (but for its deffaf27
/// backend, which stopped two hours ago), node02 down for ten days, a volume on
/// node02@backend-2813902f-2c94#nvme; and a cinder.conf for node01 with an hour's
/// `service_down_time`, as cinder.conf.example has.
struct Seed {
    db: TestDb,
    conf: PathBuf,
}

impl Seed {
    fn new() -> Seed {
        let db = TestDb::new(Backend::Sqlite, Schema::Cinder).expect("SQLite is always there");
        load_fixture_rows(&db);
        db.exec("UPDATE services SET deleted = 0, deleted_at = NULL WHERE id = 21");
        let conf = db.conf("node01", "").with_file_name("plans.conf");
        std::fs::write(
            &conf,
            format!(
                "[DEFAULT]\nhost = node01\nservice_down_time = 3600\n[database]\nconnection = {}\n",
                db.url()
            ),
        )
        .unwrap();
        Seed { db, conf }
    }

    /// The heartbeats, again from now: what a plan shows of them holds for a minute.
    fn beat(&self) {
        let db = &self.db;
        for (hosts, secs) in [
            ("host LIKE 'node01%'", 600),
            ("host = 'node01@backend-deffaf27-95b1'", 7200),
            ("host LIKE 'node02%'", 10 * 86_400),
        ] {
            db.exec(&format!(
                "UPDATE services SET updated_at = '{}' WHERE {hosts}",
                db.ago(secs)
            ));
        }
    }

    /// `svcctl args` (heartbeats set just before), its exit code checked, its stdout no wider
    /// than 80 columns on any line.
    fn run(&self, args: &[&str], code: i32) -> Run {
        self.beat();
        let run = Svcctl::new()
            .config(&self.conf)
            .audit_log(&self.db.audit_path())
            .run(args)
            .code(code);
        assert_fits(&run.stdout, args);
        run
    }
}

/// No line wider than `WIDTH` characters, and (but for a cluster's one line) a table was
/// drawn. A JSON document is not a table: it keeps every value whole.
fn assert_fits(out: &str, args: &[&str]) {
    if args.contains(&"-f") {
        return;
    }
    assert!(
        args.contains(&"--cluster") || out.contains("+--"),
        "svcctl {args:?} drew no table:\n{out}"
    );
    for line in out.lines() {
        let width = line.chars().count();
        assert!(
            width <= WIDTH,
            "svcctl {args:?}: a line of {width} columns:\n{line}\n\n{out}"
        );
    }
}

/// The snapshot of a plan or result, its times masked as wide as they are.
macro_rules! plan_snapshot {
    ($name:expr, $value:expr) => {
        crate::svcctl_snapshot!(SAME_WIDTH, $name, $value)
    };
}

#[test]
fn delete_plans_fit_80_columns() {
    let seed = Seed::new();
    let run = seed.run(&["service", "delete", "--host", "node02", "--dry-run"], 0);
    plan_snapshot!("delete_node02", run.stdout);
    let run = seed.run(&["service", "delete", "--host", "node01", "--dry-run"], 3);
    plan_snapshot!("delete_node01_refused", run.stdout);
    let run = seed.run(
        &[
            "service",
            "delete",
            "--host",
            "node01",
            "--dry-run",
            "--force",
        ],
        0,
    );
    plan_snapshot!("delete_node01_forced", run.stdout);
    // The sweep: node02's free services go, the one with a volume is refused; its hosts cut.
    let run = seed.run(&["service", "delete", "--down-for", "7d", "--dry-run"], 3);
    plan_snapshot!("sweep", run.stdout);
    assert!(
        run.stdout.contains("node02@backend-28139…"),
        "{}",
        run.stdout
    );
    // The whole host lives on in JSON.
    let run = seed.run(
        &[
            "service",
            "delete",
            "--down-for",
            "7d",
            "--dry-run",
            "-f",
            "json",
        ],
        3,
    );
    assert!(run.stdout.contains("\"node02@backend-2813902f-2c94\""));
    // Results: what a delete did.
    let run = seed.run(
        &[
            "service",
            "delete",
            "--down-for",
            "7d",
            "--skip-refused",
            "--yes",
        ],
        0,
    );
    plan_snapshot!("sweep_result", run.stdout);
}

#[test]
fn backend_cleanup_plans_fit_80_columns() {
    let seed = Seed::new();
    let deffaf27 = "deffaf27-95b1-41ca-862f-43075258a8e5";
    let run = seed.run(&["backend", "cleanup", deffaf27, "--dry-run"], 0);
    plan_snapshot!("cleanup_deffaf27", run.stdout);
    // Refused on both nodes, for three reasons each: each reason a line of its own.
    let run = seed.run(
        &[
            "backend",
            "cleanup",
            "2813902f-2c94-4ff9-988a-2b475e0bd5a5",
            "--dry-run",
        ],
        3,
    );
    plan_snapshot!("cleanup_2813902f_refused", run.stdout);
    let run = seed.run(&["backend", "cleanup", deffaf27, "--yes"], 0);
    plan_snapshot!("cleanup_deffaf27_result", run.stdout);
}

/// A process whose command line reads `title`, stopped when dropped.
struct Fake(Child);

impl Fake {
    fn start(title: &str) -> Fake {
        let child = Command::new("bash")
            .arg("-c")
            .arg(format!("exec -a '{title}' sleep 600"))
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        let path = format!("/proc/{}/cmdline", child.id());
        let deadline = Instant::now() + Duration::from_secs(5);
        while !std::fs::read_to_string(&path)
            .unwrap_or_default()
            .starts_with(title)
        {
            assert!(Instant::now() < deadline, "{title:?} never showed");
            std::thread::sleep(Duration::from_millis(10));
        }
        Fake(child)
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The process tables, each replaced by one line: a pid's width is the pid's, and the
/// command line gets what the pid leaves, so neither holds from run to run (the test asserts
/// them apart). The services' tables are kept.
fn mask_process_tables(out: &str) -> String {
    let lines: Vec<&str> = out.lines().collect();
    let mut masked = String::new();
    let mut i = 0;
    while i < lines.len() {
        let processes =
            lines[i].starts_with("+-") && lines.get(i + 1).is_some_and(|l| l.starts_with("| PID "));
        if !processes {
            masked.push_str(lines[i]);
            masked.push('\n');
            i += 1;
            continue;
        }
        // A table has three rules: above and below its header, and at its end.
        let mut rules = 0;
        while i < lines.len() && rules < 3 {
            rules += usize::from(lines[i].starts_with('+'));
            i += 1;
        }
        masked.push_str("[process table]\n");
    }
    masked
}

/// The process table's lines: the header's, then one per process (or more, wrapped).
fn process_table(out: &str) -> Vec<&str> {
    out.lines()
        .skip_while(|l| !l.starts_with("| PID "))
        .take_while(|l| l.starts_with('|') || l.starts_with("+-"))
        .collect()
}

#[test]
fn backend_cleanup_process_tables_fit_80_columns() {
    let seed = Seed::new();
    // A backend of this test's own (process discovery sees the whole machine), as long as
    // the seed's: node01@backend-c0ffee80-0f80.
    let key = "c0ffee80-0f80-4f80-8f80-0123456789ab";
    seed.db.exec(
        "INSERT INTO services (created_at, updated_at, deleted, id, host, `binary`, topic, \
         report_count, disabled, availability_zone, uuid) VALUES ('2026-11-25 03:48:55', \
         '2026-11-25 03:48:55', 0, 90, 'node01@backend-c0ffee80-0f80', 'cinder-volume', \
         'cinder-volume', 1, 0, 'zettakit', 'c0ffee80-uuid')",
    );
    let _leftover = Fake::start(
        "cinder-volume --config-file /etc/cinder/cinder.conf --config-file \
         /etc/cinder/backend-c0ffee80-0f80.conf --log-file /var/log/cinder/volume.log",
    );
    let run = seed.run(&["backend", "cleanup", key, "--dry-run"], 0);
    assert!(
        run.stdout.contains("cinder-volume --config-file"),
        "{}",
        run.stdout
    );
    let table = process_table(&run.stdout);
    assert!(
        table
            .iter()
            .any(|l| l.contains("| cinder-volume --config-file /etc/cinder/")
                && l.contains("… | SIGTERM, SIGKILL ")),
        "the command line is cut, the action whole:\n{}",
        run.stdout
    );
    plan_snapshot!("cleanup_processes_plan", mask_process_tables(&run.stdout));
    let run = seed.run(
        &["backend", "cleanup", key, "--yes", "--kill-timeout", "5"],
        0,
    );
    let stopped = run.stdout.split("| Signal ").nth(1).unwrap_or_default();
    assert!(
        stopped.contains("… | SIGTERM | yes "),
        "the stopped processes:\n{}",
        run.stdout
    );
    plan_snapshot!("cleanup_processes_result", mask_process_tables(&run.stdout));
}

#[test]
fn restore_and_purge_plans_fit_80_columns() {
    let seed = Seed::new();
    let deffaf27 = "deffaf27-95b1-41ca-862f-43075258a8e5";
    seed.run(&["backend", "cleanup", deffaf27, "--yes"], 0);
    seed.run(&["service", "delete", "--host", "node02", "--yes"], 0);
    let run = seed.run(
        &[
            "service",
            "restore",
            "--host",
            "node02@backend-deffaf27-95b1",
            "--dry-run",
        ],
        0,
    );
    plan_snapshot!("restore_plan", run.stdout);
    let run = seed.run(
        &[
            "service",
            "restore",
            "--host",
            "node02@backend-deffaf27-95b1",
            "--yes",
        ],
        0,
    );
    plan_snapshot!("restore_result", run.stdout);
    let run = seed.run(&["service", "purge", "--older-than", "0", "--dry-run"], 0);
    plan_snapshot!("purge_plan", run.stdout);
    let run = seed.run(&["service", "purge", "--older-than", "0", "--yes"], 0);
    plan_snapshot!("purge_result", run.stdout);
}

#[test]
fn disable_and_enable_plans_fit_80_columns() {
    let seed = Seed::new();
    let reason = "RMA 4711: the controller of node02 failed, replacement due Friday";
    let run = seed.run(
        &[
            "service",
            "disable",
            "--host",
            "node0*",
            "--reason",
            reason,
            "--dry-run",
        ],
        0,
    );
    plan_snapshot!("disable_plan", run.stdout);
    let run = seed.run(
        &[
            "service", "disable", "--host", "node02*", "--reason", reason, "--yes",
        ],
        0,
    );
    plan_snapshot!("disable_result", run.stdout);
    let run = seed.run(&["service", "enable", "--host", "node0*", "--dry-run"], 0);
    plan_snapshot!("enable_plan", run.stdout);
    let run = seed.run(&["service", "enable", "--host", "node02*", "--yes"], 0);
    plan_snapshot!("enable_result", run.stdout);
}

#[test]
fn cluster_plans_fit_80_columns() {
    let seed = Seed::new();
    for (id, name) in [
        (1, "cluster1@backend-2813902f-2c94"),
        (2, "cluster2@backend-ffdc2630-def2"),
    ] {
        seed.db.exec(&format!(
            "INSERT INTO clusters (created_at, updated_at, deleted, id, name, `binary`, disabled, \
             race_preventer, frozen) VALUES ('2026-11-25 03:48:55', '2026-11-25 03:48:55', 0, \
             {id}, '{name}', 'cinder-volume', 0, 0, 0)"
        ));
    }
    seed.db.exec(
        "UPDATE services SET cluster_name = 'cluster1@backend-2813902f-2c94' WHERE id IN (15, 21)",
    );
    let c1 = "cluster1@backend-2813902f-2c94";
    let c2 = "cluster2@backend-ffdc2630-def2";
    let reason = "RMA 4711: the controller of node02 failed";
    let run = seed.run(
        &[
            "service",
            "disable",
            "--cluster",
            c1,
            "--binary",
            "cinder-volume",
            "--reason",
            reason,
            "--dry-run",
        ],
        0,
    );
    plan_snapshot!("cluster_disable_plan", run.stdout);
    let run = seed.run(
        &[
            "cluster",
            "remove",
            c2,
            "--binary",
            "cinder-volume",
            "--dry-run",
        ],
        0,
    );
    plan_snapshot!("cluster_remove_plan", run.stdout);
    let run = seed.run(
        &[
            "cluster",
            "remove",
            c2,
            "--binary",
            "cinder-volume",
            "--yes",
        ],
        0,
    );
    plan_snapshot!("cluster_remove_result", run.stdout);
    let run = seed.run(
        &[
            "cluster",
            "remove",
            c1,
            "--binary",
            "cinder-volume",
            "--recursive",
            "--dry-run",
            "--force",
        ],
        0,
    );
    plan_snapshot!("cluster_remove_recursive_plan", run.stdout);
}

#[test]
fn move_host_plans_fit_80_columns() {
    let seed = Seed::new();
    seed.db.exec(
        "INSERT INTO backups (deleted, id, volume_id, host, status) VALUES \
         (0, 'b7a1c0de-3c1e-4d6a-9a53-6c1b2f0e9d11', '5e61041f-413e-4421-9ebb-a3e33bbdbaf1', \
         'node02', 'available')",
    );
    let (from, to) = (
        "node02@backend-2813902f-2c94",
        "node01@backend-2813902f-2c94",
    );
    let run = seed.run(
        &[
            "volume",
            "move-host",
            "--from",
            from,
            "--to",
            to,
            "--dry-run",
        ],
        0,
    );
    plan_snapshot!("volume_move_plan", run.stdout);
    let to_pool = format!("{to}#gold");
    let run = seed.run(
        &[
            "volume",
            "move-host",
            "--from",
            from,
            "--to",
            &to_pool,
            "--dry-run",
        ],
        0,
    );
    plan_snapshot!("volume_move_to_pool_plan", run.stdout);
    let run = seed.run(
        &[
            "volume",
            "move-host",
            "--from",
            from,
            "--to",
            to,
            "--yes",
            "-f",
            "json",
        ],
        0,
    );
    let txn = run.json()["txn"]
        .as_str()
        .map(str::to_string)
        .or_else(|| {
            seed.db
                .audit_rows()
                .last()
                .and_then(|l| l["txn"].as_str().map(str::to_string))
        })
        .expect("a move has a transaction");
    let run = seed.run(&["volume", "move-host", "--undo", &txn, "--dry-run"], 0);
    plan_snapshot!("volume_undo_plan", run.stdout);
    let run = seed.run(&["volume", "move-host", "--undo", &txn, "--yes"], 0);
    plan_snapshot!("volume_undo_result", run.stdout);
    let run = seed.run(
        &[
            "backup",
            "move-host",
            "--from",
            "node02",
            "--to",
            "node01",
            "--dry-run",
        ],
        0,
    );
    plan_snapshot!("backup_move_plan", run.stdout);
    let run = seed.run(
        &[
            "backup",
            "move-host",
            "--from",
            "node02",
            "--to",
            "node01",
            "--yes",
        ],
        0,
    );
    plan_snapshot!("backup_move_result", run.stdout);
    let run = seed.run(
        &["volume", "move-host", "--from", from, "--to", to, "--yes"],
        0,
    );
    plan_snapshot!("volume_move_result", run.stdout);
}
