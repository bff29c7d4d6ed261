//! `svcctl service delete` on Cinder 29's schema, SQLite and MariaDB: refusals, --force,
//! confirmation, exact host matching, Cinder-identical soft delete, the race, concurrency.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::both_backends;
use crate::harness::fleet::{ids, live_ids, node01_up_node02_down};
use crate::harness::{Backend, Schema, TestDb};

// Every binary of the exact host, nothing of node02@...: what Cinder's `service remove` leaves,
// row for row (deleted = 1, deleted_at = updated_at = now, in Cinder's formats), audited.
both_backends!(deletes_exactly_the_host_like_cinder, Schema::Cinder, |db| {
    node01_up_node02_down(&db);
    let started = chrono::Utc::now().naive_utc() - chrono::Duration::seconds(1);
    let v = db
        .audited()
        .run(&[
            "service", "delete", "--host", "node02", "--yes", "-f", "json",
        ])
        .code(0)
        .json();
    assert_eq!(
        ids(&v, "deleted"),
        [4, 3],
        "in plan order: binary, host, id"
    );
    assert_eq!(v["dry_run"], false);
    assert_eq!(v["refused"], serde_json::json!([]));
    assert_eq!(live_ids(&db), [1, 2, 5, 6]);
    for id in [3, 4] {
        let r = db.service_row(id);
        assert_eq!(r.deleted.as_deref(), Some("1"));
        assert_eq!(
            r.deleted_at, r.updated_at,
            "deleted_at and updated_at are the same instant"
        );
        let at = r.deleted_at.unwrap();
        let (fmt, len) = match db.backend {
            Backend::MySql => ("%Y-%m-%d %H:%M:%S", 19),
            Backend::Sqlite => ("%Y-%m-%d %H:%M:%S%.6f", 26),
        };
        assert_eq!(
            at.len(),
            len,
            "Cinder's timestamp format on this backend: {at}"
        );
        let t = chrono::NaiveDateTime::parse_from_str(&at, fmt).unwrap();
        assert!(
            t >= started && t <= chrono::Utc::now().naive_utc(),
            "UTC now: {t}"
        );
    }
    // Invisible to Cinder's `deleted = 0` reads; a Cinder-style purge removes them.
    assert_eq!(
        db.int("SELECT COUNT(*) FROM services WHERE deleted = 0 AND host = 'node02'"),
        0
    );
    db.exec(&format!(
        "DELETE FROM services WHERE deleted = 1 AND deleted_at < '{}'",
        db.ago(-5)
    ));
    assert_eq!(db.int("SELECT COUNT(*) FROM services"), 4);
    let audit = db.audit_rows();
    assert_eq!(audit.len(), 2);
    assert_eq!(audit[0]["event"], "service_soft_deleted");
    assert_eq!(audit[0]["service"]["id"], 4);
    assert_eq!(audit[0]["service"]["deleted"], false, "the row as it was");
    assert!(
        audit[0]["command"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == "delete")
    );
    // A second identical run: nothing left (4), or 0 with --missing-ok.
    let again = db
        .audited()
        .run(&["service", "delete", "--host", "node02", "--yes"])
        .code(4);
    assert!(
        again
            .error_line()
            .contains("no live service on host node02"),
        "{}",
        again.stderr
    );
    db.audited()
        .run(&[
            "service",
            "delete",
            "--host",
            "node02",
            "--yes",
            "--missing-ok",
        ])
        .code(0);
    assert_eq!(db.audit_rows().len(), 2);
});

both_backends!(prefix_never_matches_and_globs_do, Schema::Cinder, |db| {
    db.service(1, "node1@lvm", "cinder-volume", 600);
    db.service(2, "nodeX1", "cinder-volume", 600);
    db.service(3, "NODE1", "cinder-volume", 600);
    let before = db.fingerprint();
    let typo = db
        .audited()
        .run(&["service", "delete", "--host", "node1", "--yes"])
        .code(4);
    assert!(
        typo.error_line()
            .starts_with("svcctl: no live service on host node1"),
        "{}",
        typo.stderr
    );
    db.audited()
        .run(&["service", "delete", "--host", "node_1", "--yes"])
        .code(4);
    assert_eq!(db.fingerprint(), before);
    let v = db
        .audited()
        .run(&[
            "service", "delete", "--host", "node1@*", "--yes", "-f", "json",
        ])
        .code(0)
        .json();
    assert_eq!(ids(&v, "deleted"), [1]);
    assert_eq!(live_ids(&db), [2, 3]);
});

both_backends!(
    refuses_up_and_in_use_and_changes_nothing,
    Schema::Cinder,
    |db| {
        node01_up_node02_down(&db);
        db.volume("v1", "node02@lvm#pool");
        db.exec("INSERT INTO workers (created_at, deleted, resource_type, resource_id, status, service_id, race_preventer) VALUES ('2026-01-01 00:00:00', 0, 'Volume', 'v9', 'creating', 6, 0)");
        let before = db.fingerprint();
        let up = db
            .audited()
            .run(&["service", "delete", "--host", "node01", "--yes"])
            .code(3);
        assert!(up.stdout.contains("refuse: up"), "{}", up.stdout);
        assert!(
            up.stderr.contains("stop its cinder process first"),
            "{}",
            up.stderr
        );
        assert!(
            up.error_line().contains("nothing was changed"),
            "{}",
            up.stderr
        );
        let v = db
            .audited()
            .run(&[
                "service", "delete", "--host", "node02@*", "--yes", "-f", "json",
            ])
            .code(3)
            .json();
        let refused = v["refused"].as_array().unwrap();
        assert_eq!(refused.len(), 2);
        assert!(
            refused[0]["reasons"][0]["text"]
                .as_str()
                .unwrap()
                .contains("in use: 1 worker"),
            "{v}"
        );
        let vol = refused[1]["reasons"][0]["text"].as_str().unwrap();
        assert!(
            vol.contains("1 volume")
                && vol.contains("svcctl volume move-host --from node02@lvm --to NEWHOST"),
            "{vol}"
        );
        // The dry run says the same with the same exit code; none of it changed a thing.
        db.audited()
            .run(&["service", "delete", "--host", "node02@*", "--dry-run"])
            .code(3);
        assert_eq!(db.fingerprint(), before);
        assert!(db.audit_lines().is_empty());
        // --force deletes anyway, loudly, and records what it overrode.
        let forced = db
            .audited()
            .run(&[
                "service", "delete", "--host", "node02@*", "--yes", "--force", "-f", "json",
            ])
            .code(0);
        assert!(
            forced.stderr.contains("WARNING: --force"),
            "{}",
            forced.stderr
        );
        let v = forced.json();
        assert_eq!(ids(&v, "deleted"), [6, 5]);
        assert!(
            v["deleted"][1]["overridden"][0]
                .as_str()
                .unwrap()
                .contains("1 volume")
        );
        assert!(
            db.audit_lines()[0]["forced_over"][0]
                .as_str()
                .unwrap()
                .contains("worker")
        );
    }
);

both_backends!(confirmation_and_dry_run, Schema::Cinder, |db| {
    node01_up_node02_down(&db);
    let before = db.fingerprint();
    let no_tty = db
        .audited()
        .run(&["service", "delete", "--host", "node02"])
        .code(2);
    assert!(
        no_tty.error_line().contains("add --yes"),
        "{}",
        no_tty.stderr
    );
    assert!(
        no_tty.stdout.contains("| 3  | cinder-scheduler | node02 |"),
        "the plan is shown:\n{}",
        no_tty.stdout
    );
    let dry = db
        .audited()
        .run(&[
            "service",
            "delete",
            "--host",
            "node02",
            "--dry-run",
            "-f",
            "json",
        ])
        .code(0)
        .json();
    assert_eq!(dry["dry_run"], true);
    assert_eq!(
        dry["deleted"],
        serde_json::json!([]),
        "a dry run deletes nothing"
    );
    assert_eq!(ids(&dry, "would_delete"), [4, 3]);
    db.audited()
        .run(&["service", "delete", "--host", "nobody", "--dry-run"])
        .code(4);
    assert_eq!(db.fingerprint(), before);
    db.audited()
        .run(&[
            "service", "delete", "--host", "node02", "-f", "csv", "--yes",
        ])
        .code(2);
    db.audited().run(&["service", "delete", "--yes"]).code(2);
    db.audited()
        .run(&["service", "delete", "--host", "", "--yes"])
        .code(2);
    assert_eq!(db.fingerprint(), before);
});

// The last live service of a cluster takes the cluster with it, written as Cinder's
// cluster_destroy writes it; deleting it at all is svcctl's choice (Cinder deletes a cluster
// only in `cinder-manage cluster remove`), which `--keep-clusters` turns off.
both_backends!(emptied_cluster_is_soft_deleted, Schema::Cinder, |db| {
    db.exec("INSERT INTO clusters (created_at, deleted, id, name, `binary`, disabled, race_preventer, frozen) VALUES ('2026-01-01 00:00:00', 0, 7, 'c1@lvm', 'cinder-volume', 0, 0, 0)");
    db.service(1, "a@lvm", "cinder-volume", 600);
    db.service(2, "b@lvm", "cinder-volume", 600);
    db.exec("UPDATE services SET cluster_name = 'c1@lvm'");
    let v = db
        .audited()
        .run(&[
            "service", "delete", "--host", "a@lvm", "--yes", "-f", "json",
        ])
        .code(0)
        .json();
    assert_eq!(v["deleted_clusters"], serde_json::json!([]));
    let v = db
        .audited()
        .run(&[
            "service", "delete", "--host", "b@lvm", "--yes", "-f", "json",
        ])
        .code(0)
        .json();
    assert_eq!(ids(&v, "deleted_clusters"), [7]);
    assert_eq!(v["deleted_clusters"][0]["name"], "c1@lvm");
    assert_eq!(v["deleted_clusters"][0]["binary"], "cinder-volume");
    assert_eq!(v["deleted_clusters"][0]["deleted"], false, "as it was");
    let c = db.rows(&format!(
        "SELECT {}, {} FROM clusters",
        db.text("deleted"),
        db.text("race_preventer")
    ));
    assert_eq!(c, [[Some("1".to_string()), Some("7".to_string())]]);
});

// A heartbeat written between the plan and the write keeps the service (the WHERE clause sees
// it), and, all or nothing, every other planned service too.
both_backends!(
    heartbeat_between_plan_and_write_is_not_deleted,
    Schema::Cinder,
    |db| {
        node01_up_node02_down(&db);
        let pause = db.dir.path().join("pause");
        let child = db.audited().paused(
            "SVCCTL_TEST_PAUSE_FILE",
            &pause,
            &[
                "service", "delete", "--host", "node02", "--yes", "-f", "json",
            ],
        );
        // node02's scheduler comes back to life: Cinder's heartbeat bumps updated_at.
        db.exec(&format!(
            "UPDATE services SET updated_at = '{}', report_count = report_count + 1 WHERE id = 3",
            db.ago(0)
        ));
        // All or nothing: node02's backup is not deleted either, and nothing is audited.
        let run = child.resume().code(3);
        let v = run.json();
        assert_eq!(ids(&v, "deleted"), [] as [i64; 0]);
        assert_eq!(v["refused"][0]["id"], 3);
        assert!(
            run.error_line()
                .contains("nothing was changed: the whole write was rolled back"),
            "{}",
            run.stderr
        );
        assert!(db.audit_lines().is_empty());
        assert!(
            v["refused"][0]["reasons"][0]["text"]
                .as_str()
                .unwrap()
                .contains("came up"),
            "{v}"
        );
        assert_eq!(live_ids(&db), [1, 2, 3, 4, 5, 6]);
    }
);

// Two deletes at once: each row is deleted once, by one of them; the other is told it was
// already gone (or finds nothing), never an error.
both_backends!(
    concurrent_deletes_delete_each_row_once,
    Schema::Cinder,
    |db| {
        for i in 0..40 {
            db.service(100 + i, &format!("gone{i:02}@lvm"), "cinder-volume", 600);
        }
        let spawn = || {
            db.audited()
                .command(&[
                    "service", "delete", "--host", "gone*", "--yes", "-f", "json",
                ])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        };
        let (a, b) = (spawn(), spawn());
        let mut deleted = Vec::new();
        for child in [a, b] {
            let run = crate::harness::Run::from(child.wait_with_output().unwrap(), &["delete"]);
            assert!(run.code == 0 || run.code == 4, "{run:?}");
            if run.code == 0 {
                deleted.extend(ids(&run.json(), "deleted"));
            }
        }
        deleted.sort();
        assert_eq!(deleted, (100..140).collect::<Vec<_>>());
        let audited: Vec<i64> = db
            .audit_rows()
            .iter()
            .map(|l| l["service"]["id"].as_i64().unwrap())
            .collect();
        assert_eq!(audited.len(), 40, "one audit line per row");
        assert_eq!(db.int("SELECT COUNT(*) FROM services WHERE deleted = 0"), 0);
    }
);

/// Shell-quotes a command line for `script -c`.
fn shell_line(cmd: &std::process::Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| format!("'{}'", a.to_string_lossy().replace('\'', r"'\''")))
        .collect::<Vec<_>>()
        .join(" ")
}

// At a terminal svcctl asks; "n" changes nothing (exit 3), "y" deletes. `script` gives it a pty.
#[test]
fn asks_at_a_terminal() {
    use std::io::Write;
    let db = TestDb::new(Backend::Sqlite, Schema::Cinder).unwrap();
    node01_up_node02_down(&db);
    let before = db.fingerprint();
    // Ctrl-C at the prompt (the pty turns \x03 into SIGINT) ends svcctl at once: exit 130.
    for (answer, code) in [("n\n", 3), ("\x03", 130), ("y\n", 0)] {
        let line = shell_line(
            &db.audited()
                .command(&["service", "delete", "--host", "node02"]),
        );
        let mut child = std::process::Command::new("script")
            .args(["-qec", &line, "/dev/null"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Collect the terminal's output as it comes, and answer only once the prompt is shown.
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let reader = {
            let seen = seen.clone();
            let mut out = child.stdout.take().unwrap();
            std::thread::spawn(move || {
                use std::io::Read;
                let mut buf = [0u8; 4096];
                while let Ok(n) = out.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    seen.lock().unwrap().extend_from_slice(&buf[..n]);
                }
            })
        };
        let text = || String::from_utf8_lossy(&seen.lock().unwrap()).into_owned();
        let deadline = Instant::now() + Duration::from_secs(20);
        while !text().contains("Delete 2 services? [y/N]") {
            assert!(Instant::now() < deadline, "no prompt:\n{}", text());
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(100));
        child
            .stdin
            .as_mut()
            .unwrap()
            .write_all(answer.as_bytes())
            .unwrap();
        // The terminal stays open (no EOF to unblock a read): svcctl must end on its own.
        let deadline = Instant::now() + Duration::from_secs(5);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("svcctl did not end after answering {answer:?}:\n{}", text());
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        reader.join().unwrap();
        assert_eq!(status.code(), Some(code), "{}", text());
        let run = crate::harness::Run {
            code,
            stdout: text(),
            stderr: String::new(),
        };
        if code == 130 {
            // svcctl's own message, not just a shell killed by the same SIGINT.
            assert!(run.stdout.contains("svcctl: interrupted"), "{}", run.stdout);
            // On a line of its own, not after the question.
            assert!(
                run.stdout.lines().any(|l| l
                    .trim_start_matches('\r')
                    .starts_with("svcctl: interrupted")),
                "{:?}",
                run.stdout
            );
        }
        if code != 0 {
            assert_eq!(db.fingerprint(), before);
        }
    }
    assert_eq!(live_ids(&db), [1, 2, 5, 6]);
}

// /dev/full as the audit log is refused before anything is read or changed (exit 2): a log is
// a regular file. (A log whose write fails, on a full filesystem, rolls the deletion back and
// leaves the log as it was: audit_file.rs.)
both_backends!(unwritable_audit_log_rolls_back, Schema::Cinder, |db| {
    node01_up_node02_down(&db);
    let before = db.fingerprint();
    let run = crate::harness::Svcctl::new()
        .config(&db.conf("node01", ""))
        .audit_log(std::path::Path::new("/dev/full"))
        .run(&["service", "delete", "--host", "node02", "--yes"])
        .code(2);
    assert!(
        run.error_line()
            .contains("the audit log \"/dev/full\" is a character device"),
        "{}",
        run.stderr
    );
    assert_eq!(db.fingerprint(), before);
});

// A volume scheduled onto the host between the plan and the write keeps the service, and the
// rest of the plan with it.
both_backends!(
    volume_between_plan_and_write_is_not_deleted,
    Schema::Cinder,
    |db| {
        node01_up_node02_down(&db);
        let pause = db.dir.path().join("pause");
        let child = db.audited().paused(
            "SVCCTL_TEST_PAUSE_FILE",
            &pause,
            &[
                "service", "delete", "--host", "node02@*", "--yes", "-f", "json",
            ],
        );
        db.volume("late", "node02@ceph#fast");
        let v = child.resume().code(3).json();
        assert_eq!(ids(&v, "deleted"), [] as [i64; 0], "all or nothing");
        assert_eq!(v["refused"][0]["host"], "node02@ceph");
        assert!(
            v["refused"][0]["reasons"][0]["text"]
                .as_str()
                .unwrap()
                .contains("gained volumes"),
            "{v}"
        );
        assert_eq!(live_ids(&db), [1, 2, 3, 4, 5, 6]);
    }
);

// Ctrl-C inside the transaction, after the UPDATE: exit 130, the update rolled back, no audit.
both_backends!(
    ctrl_c_inside_the_transaction_writes_nothing,
    Schema::Cinder,
    |db| {
        node01_up_node02_down(&db);
        let before = db.fingerprint();
        let pause = db.dir.path().join("pause-in-txn");
        let child = db.audited().paused(
            "SVCCTL_TEST_PAUSE_IN_TXN_FILE",
            &pause,
            &["service", "delete", "--host", "node02", "--yes"],
        );
        nix::sys::signal::kill(child.pid(), nix::sys::signal::Signal::SIGINT).unwrap();
        let run = child.finish().code(130);
        assert!(run.error_line().contains("interrupted"), "{}", run.stderr);
        assert_eq!(db.fingerprint(), before);
        assert!(db.audit_lines().is_empty());
    }
);

// An old release: services without uuid/cluster_name, volumes without service_uuid, no
// workers or clusters tables. Deleting works; the checks that exist still refuse.
both_backends!(old_schema_delete, Schema::Empty, |db| {
    db.exec(
        "CREATE TABLE services (created_at DATETIME, updated_at DATETIME, deleted_at DATETIME, \
         deleted BOOLEAN, id INTEGER NOT NULL PRIMARY KEY, host VARCHAR(255), `binary` VARCHAR(255), \
         topic VARCHAR(255), report_count INTEGER NOT NULL, disabled BOOLEAN, \
         availability_zone VARCHAR(255), disabled_reason VARCHAR(255))",
    );
    db.exec(
        "CREATE TABLE volumes (created_at DATETIME, deleted_at DATETIME, deleted BOOLEAN, \
         id VARCHAR(36) NOT NULL PRIMARY KEY, host VARCHAR(255), status VARCHAR(255))",
    );
    let t = db.ago(600);
    db.exec(&format!(
        "INSERT INTO services VALUES ('{t}', '{t}', NULL, 0, 1, 'old@lvm', 'cinder-volume', 'cinder-volume', 3, 0, 'nova', NULL); \
         INSERT INTO services VALUES ('{t}', '{t}', NULL, 0, 2, 'old@nfs', 'cinder-volume', 'cinder-volume', 3, 0, 'nova', NULL); \
         INSERT INTO volumes VALUES ('{t}', NULL, 0, 'v1', 'old@nfs#share', 'available');"
    ));
    let v = db
        .audited()
        .run(&[
            "service", "delete", "--host", "old@*", "--yes", "-f", "json",
        ])
        .code(3)
        .json();
    assert_eq!(v["refused"][0]["host"], "old@nfs");
    assert_eq!(v["refused"][0]["uuid"], Value::Null);
    let v = db
        .audited()
        .run(&[
            "service", "delete", "--host", "old@lvm", "--yes", "-f", "json",
        ])
        .code(0)
        .json();
    assert_eq!(ids(&v, "deleted"), [1]);
    assert_eq!(v["deleted_clusters"], serde_json::json!([]));
    assert_eq!(db.int("SELECT COUNT(*) FROM services WHERE deleted = 1"), 1);
});
