//! Issue 21's "done when", on rows Cinder 29's own code wrote (the fixtures' services and
//! volumes), SQLite and MariaDB: the decommission of node02 step by step, each write checked row
//! by row against what Cinder reads, ending in a purge as `cinder-manage db purge 0` runs it.

use crate::both_backends;
use crate::harness::fleet::{cinder_purge_0, volumes_naming_dead_services};
use crate::harness::{Schema, TestDb, load_fixture_rows};

/// The node02 volume of the fixtures, on backend 2813902f's pool nvme.
const VOLUME: &str = "5e61041f-413e-4421-9ebb-a3e33bbdbaf1";
const FROM: &str = "node02@backend-2813902f-2c94";
const TO: &str = "node01@backend-2813902f-2c94";

/// The fixtures' rows with node01 heartbeating now and node02 dead for half an hour, its
/// backend 2813902f's service live again as Cinder created it (the fixtures' `cinder-manage
/// service remove` undone: it still owns the volume), and an image-cache entry for node02's
/// volume as cinder/image/cache.py create_cache_entry writes it (the volume's host and
/// cluster_name).
fn cloud(db: &TestDb) {
    load_fixture_rows(db);
    db.exec("UPDATE services SET deleted = 0, deleted_at = NULL WHERE id = 21");
    db.exec(&format!(
        "UPDATE services SET updated_at = '{}' WHERE host LIKE 'node01%'",
        db.ago(5)
    ));
    db.exec(&format!(
        "UPDATE services SET updated_at = '{}' WHERE host LIKE 'node02%' AND deleted = 0",
        db.ago(1800)
    ));
    db.exec(&format!(
        "INSERT INTO image_volume_cache_entries (image_updated_at, id, host, cluster_name, \
         image_id, volume_id, size, last_used) VALUES ('{t}', 1, '{FROM}#nvme', NULL, \
         'c0ffee00-0000-4000-8000-000000000001', '{VOLUME}', 1, '{t}')",
        t = db.ago(600)
    ));
}

fn text(db: &TestDb, sql: &str) -> Option<String> {
    db.rows(sql).remove(0).remove(0)
}

both_backends!(done_when_on_rows_cinder_wrote, Schema::Cinder, |db| {
    cloud(&db);
    let node02 = ["--host", "node02", "--host", "node02@*"];
    let run = |args: &[&str], code: i32| db.audited().run(args).code(code);

    // Disable, then again with a new reason: it is stored and modified_at restamped.
    run(
        &[
            &["service", "disable"][..],
            &node02,
            &["--reason", "RMA 4711", "--yes"],
        ]
        .concat(),
        0,
    );
    db.exec("UPDATE services SET modified_at = '2026-01-01 00:00:00' WHERE id = 22");
    run(
        &[
            &["service", "disable"][..],
            &node02,
            &["--reason", "RMA 4712", "--yes"],
        ]
        .concat(),
        0,
    );
    let row = db.service_row(22);
    assert_eq!(row.disabled_reason.as_deref(), Some("RMA 4712"));
    assert_ne!(
        row.modified_at.as_deref().map(|t| &t[..10]),
        Some("2026-01-01")
    );
    // Enable keeps the reason (service_update(disabled=False)); disabled again for the rest.
    run(
        &[
            "service",
            "enable",
            "--host",
            "node02@backend-deffaf27-95b1",
            "--yes",
        ],
        0,
    );
    assert_eq!(db.service_row(22).disabled.as_deref(), Some("0"));
    assert_eq!(
        db.service_row(22).disabled_reason.as_deref(),
        Some("RMA 4712")
    );
    run(
        &[
            &["service", "disable"][..],
            &node02,
            &["--reason", "RMA 4712", "--yes"],
        ]
        .concat(),
        0,
    );

    // The old host's delete is refused for its volume and cache entry.
    run(&["service", "delete", "--host", FROM, "--yes"], 3);
    // A disabled target is refused; enabled again, the move goes.
    run(
        &[
            "service", "disable", "--host", TO, "--reason", "full", "--yes",
        ],
        0,
    );
    let refused = run(
        &["volume", "move-host", "--from", FROM, "--to", TO, "--yes"],
        3,
    );
    assert!(
        refused.error_line().contains("is disabled"),
        "{}",
        refused.stderr
    );
    run(&["service", "enable", "--host", TO, "--yes"], 0);
    let v = run(
        &[
            "volume",
            "move-host",
            "--from",
            FROM,
            "--to",
            TO,
            "--yes",
            "-f",
            "json",
        ],
        0,
    )
    .json();
    let txn = v["txn"].as_str().unwrap().to_string();
    let volume = db
        .rows(&format!(
            "SELECT host, service_uuid, availability_zone FROM volumes WHERE id = '{VOLUME}'"
        ))
        .remove(0);
    assert_eq!(
        volume,
        [
            Some(format!("{TO}#nvme")),
            Some("10cd3de7-5087-4839-bfdd-730d10c92b18".into()),
            Some("zettakit".into())
        ]
    );
    assert_eq!(
        text(
            &db,
            "SELECT host FROM image_volume_cache_entries WHERE id = 1"
        ),
        Some(format!("{TO}#nvme")),
        "the cache entry follows its volume"
    );

    // node02's delete now goes through; the move's undo is refused and changes nothing.
    run(
        &[&["service", "delete"][..], &node02, &["--yes"]].concat(),
        0,
    );
    let before = db.fingerprint();
    let undo = run(&["volume", "move-host", "--undo", &txn, "--yes"], 3);
    assert!(
        undo.error_line()
            .contains("no live cinder-volume service on host"),
        "{}",
        undo.stderr
    );
    assert_eq!(db.fingerprint(), before);
    assert_eq!(volumes_naming_dead_services(&db), Vec::<String>::new());
    cinder_purge_0(&db);
    assert_eq!(
        db.int("SELECT COUNT(*) FROM services WHERE host LIKE 'node02%'"),
        0,
        "every node02 row purged"
    );
});
