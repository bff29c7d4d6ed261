//! `svcctl demo`: it builds only its own SQLite database, and the README's decommission
//! walk-through runs on that database as written.

use std::path::{Path, PathBuf};

use crate::harness::{Backend, Schema, Svcctl, TestDb, block_on};

/// The demo database's path in `dir` (not created yet) and a cinder.conf for node01 naming it.
fn demo_conf(dir: &Path) -> (PathBuf, PathBuf) {
    let path = dir.join("demo.sqlite");
    let conf = dir.join("demo.conf");
    std::fs::write(
        &conf,
        format!(
            "[DEFAULT]\nhost = node01\n[database]\nconnection = sqlite:///{}\n",
            path.display()
        ),
    )
    .unwrap();
    (path, conf)
}

/// cinder.conf.example as the README uses it (service_down_time, host, enabled_backends), its
/// demo database in `dir`.
fn example_conf(dir: &Path) -> (PathBuf, PathBuf) {
    let path = dir.join("demo.sqlite");
    let conf = dir.join("demo.conf");
    let example = include_str!("../../cinder.conf.example");
    let ours = format!("connection = sqlite:///{}", path.display());
    assert!(example.contains("\nconnection = sqlite:///svcctl-demo.sqlite\n"));
    std::fs::write(
        &conf,
        example.replace("connection = sqlite:///svcctl-demo.sqlite", &ours),
    )
    .unwrap();
    (path, conf)
}

/// `svcctl demo` builds its SQLite file and lists it, rebuilds its own file, and never touches a
/// database it did not create.
#[test]
fn demo_builds_only_its_own_database() {
    let dir = tempfile::tempdir().unwrap();
    let (_, conf) = demo_conf(dir.path());
    for _ in 0..2 {
        let run = Svcctl::new().config(&conf).run(&["demo"]).code(0);
        assert_eq!(run.stdout.lines().count(), 15, "{}", run.stdout);
        assert!(
            run.stdout.contains(
                "|  cinder-backup   |            node01            | zettakit | enabled |   up  |"
            ),
            "{}",
            run.stdout
        );
        assert!(
            run.stdout.contains(
                "|  cinder-backup   |            node02            | zettakit | enabled |  down |"
            ),
            "{}",
            run.stdout
        );
    }
    // A Cinder database (no _sqlx_migrations) at that path is refused, untouched.
    let db = TestDb::new(Backend::Sqlite, Schema::Cinder).unwrap();
    db.service(1, "node01", "cinder-scheduler", 5);
    let before = db.fingerprint();
    std::fs::write(&conf, format!("[database]\nconnection = {}\n", db.url())).unwrap();
    let run = Svcctl::new().config(&conf).run(&["demo"]).code(2);
    assert!(
        run.error_line()
            .contains("is not a svcctl demo database; refusing to touch it"),
        "{}",
        run.stderr
    );
    assert_eq!(db.fingerprint(), before);
    std::fs::write(
        &conf,
        "[database]\nconnection = mysql://u:p@127.0.0.1:1/cinder\n",
    )
    .unwrap();
    Svcctl::new().config(&conf).run(&["demo"]).code(2);
}

// The README's decommission walk-through, on the demo database and with cinder.conf.example's
// settings, as the README runs it: the delete refused for the volume succeeds after the move,
// the volume keeps its pool and points at node01's service.
#[test]
fn the_readme_decommission_runs_on_the_demo() {
    let dir = tempfile::tempdir().unwrap();
    let (path, conf) = example_conf(dir.path());
    let audit = dir.path().join("demo-audit.jsonl");
    let svcctl = || Svcctl::new().config(&conf);
    svcctl().run(&["demo"]).code(0);
    let all = ["--host", "node02", "--host", "node02@*"];
    // The writing steps with the test's own audit log; the listing without.
    let step = |args: &[&str], code: i32| svcctl().audit_log(&audit).run(args).code(code);
    step(
        &[
            &["service", "disable"][..],
            &all,
            &["--reason", "RMA 4711", "--yes"],
        ]
        .concat(),
        0,
    );
    let backend = "node02@backend-2813902f-2c94";
    step(&["service", "delete", "--host", backend, "--yes"], 3);
    step(
        &[
            "volume",
            "move-host",
            "--from",
            backend,
            "--to",
            "node01@backend-2813902f-2c94",
            "--yes",
        ],
        0,
    );
    let up = svcctl()
        .run(
            &[
                &["service", "list"][..],
                &all,
                &["--state", "up", "-f", "json"],
            ]
            .concat(),
        )
        .code(0);
    assert_eq!(up.json(), serde_json::json!([]));
    let v = step(
        &[&["service", "delete"][..], &all, &["--yes", "-f", "json"]].concat(),
        0,
    )
    .json();
    assert_eq!(v["deleted"].as_array().unwrap().len(), 5, "{v}");
    let rows = block_on(async {
        use sqlx::ConnectOptions;
        let mut c = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .connect()
            .await
            .unwrap();
        sqlx::query_as::<_, (String, Option<String>)>(
            "SELECT host, service_uuid FROM volumes WHERE id = '5e61041f-413e-4421-9ebb-a3e33bbdbaf1'",
        )
        .fetch_all(&mut c)
        .await
        .unwrap()
    });
    assert_eq!(
        rows,
        [(
            "node01@backend-2813902f-2c94#nvme".to_string(),
            Some("10cd3de7-5087-4839-bfdd-730d10c92b18".to_string())
        )]
    );
}
