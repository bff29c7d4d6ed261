//! Values other people stored (issue 19): a `disabled_reason` from anyone with Cinder's admin
//! API, hosts and zones from any node's configuration, a cluster's name. Every class of control
//! character (ESC sequences: clear screen, OSC 52 to the clipboard, OSC 8 links; BEL, BS, DEL,
//! CR, tab, newline; C1 such as CSI U+009B and NEL; bidi overrides) goes through every format:
//! the table, CSV and value show it escaped, with one row per service; JSON and YAML keep it
//! exactly; plan tables and stderr notes escape it too. And svcctl refuses to store one itself.
//! SQLite and MariaDB.

use serde_json::Value;

use crate::both_backends;
use crate::harness::{Schema, TestDb};

const CLEAR_AND_CLIPBOARD: &str = "\u{1b}[2J\u{1b}]52;c;cHduZWQ=\u{7}";
const LINK: &str = "node05@b\u{1b}]8;;http://evil\u{7}click\u{1b}]8;;\u{7}";
const NEWLINE: &str = "node03\nnode04";
const C0_DEL_C1: &str = "z\u{8}\u{7f}\u{9b}2J";
const BIDI: &str = "evil\u{202e}gpj.exe";
const CR_TAB_NEL: &str = "a\rb\tc\u{85}d";

/// What must never reach a terminal outside JSON and YAML strings (the line breaks between rows
/// and lines aside): the C0 and C1 controls, DEL, and the invisible format characters.
fn hostile(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{206f}' | '\u{feff}')
}

fn assert_clean(text: &str, what: &str) {
    let bad: Vec<char> = text.chars().filter(|c| *c != '\n' && hostile(*c)).collect();
    assert!(bad.is_empty(), "{what} shows {bad:?} raw:\n{text}");
}

/// Four down services whose host, zone and reason hold every class: 11 node02 (the reason
/// clears the screen and sets the clipboard), 12 on a host that is an OSC 8 link (zone: BS, DEL,
/// CSI), 13 on a host with a newline, 14 on a host with a right-to-left override (reason: CR,
/// tab, NEL).
fn hostile_services(db: &TestDb) {
    for (id, host, zone, reason) in [
        (11, "node02", "nova", CLEAR_AND_CLIPBOARD),
        (12, LINK, C0_DEL_C1, "ok"),
        (13, NEWLINE, "nova", "ok"),
        (14, BIDI, "nova", CR_TAB_NEL),
    ] {
        db.service(id, host, "cinder-volume", 600);
        db.exec(&format!(
            "UPDATE services SET availability_zone = '{zone}', disabled_reason = '{reason}' \
             WHERE id = {id}"
        ));
    }
}

/// The stored values, by id: host, zone, reason.
fn stored(id: i64) -> (&'static str, &'static str, &'static str) {
    match id {
        11 => ("node02", "nova", CLEAR_AND_CLIPBOARD),
        12 => (LINK, C0_DEL_C1, "ok"),
        13 => (NEWLINE, "nova", "ok"),
        _ => (BIDI, "nova", CR_TAB_NEL),
    }
}

// service list: table, CSV and value escape every class and keep one line per service (a
// newline in a host no longer looks like another row); JSON and YAML give the values exactly.
both_backends!(every_class_through_every_format, Schema::Cinder, |db| {
    hostile_services(&db);
    let list = |f: &str| {
        db.svcctl()
            .run(&["service", "list", "-f", f, "--include-deleted"])
            .code(0)
    };
    let table = list("table");
    assert_clean(&table.stdout, "the table");
    assert_clean(&table.stderr, "stderr");
    assert_eq!(table.stdout.lines().count(), 4 + 4, "{}", table.stdout);
    for shown in [
        "\\e[2J\\e]52;c;cHduZWQ=\\x07",
        "node03\\nnode04",
        "evil\\u{202e}gpj.exe",
    ] {
        assert!(table.stdout.contains(shown), "{shown}:\n{}", table.stdout);
    }
    let value = list("value");
    assert_clean(&value.stdout, "-f value");
    assert_eq!(
        value.stdout.lines().count(),
        4,
        "one line per service:\n{}",
        value.stdout
    );
    assert!(
        value
            .stdout
            .contains("node05@b\\e]8;;http://evil\\x07click\\e]8;;\\x07 z\\x08\\x7f\\x9b2J"),
        "{}",
        value.stdout
    );
    let csv = list("csv");
    assert_clean(&csv.stdout, "CSV");
    let mut reader = csv::Reader::from_reader(csv.stdout.as_bytes());
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), 4);
    assert!(
        records
            .iter()
            .any(|r| r.iter().any(|f| f == "a\\rb\\tc\\x85d")),
        "{}",
        csv.stdout
    );
    let json = list("json").json();
    let yaml: Value = serde_saphyr::from_str(&list("yaml").stdout).unwrap();
    for doc in [json, yaml] {
        for row in doc.as_array().unwrap() {
            let (host, zone, reason) = stored(row["id"].as_i64().unwrap());
            assert_eq!(row["host"], host, "exact: {row}");
            assert_eq!(row["zone"], zone, "exact: {row}");
            assert_eq!(row["disabled_reason"], reason, "exact: {row}");
        }
    }
});

// Plan tables (stdout) and the notes naming refused services (stderr) escape them too; the
// JSON result document keeps them exact.
both_backends!(plans_and_notes_escape_them, Schema::Cinder, |db| {
    hostile_services(&db);
    // A volume on the OSC 8 host: its delete is refused, naming host and volume host on stderr.
    db.volume("v1", &format!("{LINK}#pool"));
    let hosts = ["--host", "node0*", "--host", "evil*"];
    // Wide enough that no cell wraps: every line is a row.
    let mut disable = vec![
        "service",
        "disable",
        "--reason",
        "ok",
        "--dry-run",
        "--max-width",
        "1000",
    ];
    disable.extend(hosts);
    let run = db.svcctl().run(&disable).code(0);
    assert_clean(&run.stdout, "the disable plan");
    assert_eq!(
        run.stdout.lines().count(),
        4 + 4,
        "one line per service:\n{}",
        run.stdout
    );
    assert_clean(&run.stderr, "the disable notes");
    assert!(run.stdout.contains("\\e[2J"), "{}", run.stdout);
    let mut delete = vec!["service", "delete", "--dry-run"];
    delete.extend(hosts);
    let run = db.audited().run(&delete).code(3);
    assert_clean(&run.stdout, "the delete plan");
    assert_clean(&run.stderr, "the refusal notes");
    assert!(
        run.stderr
            .contains("refusing cinder-volume node05@b\\e]8;;http://evil\\x07click"),
        "{}",
        run.stderr
    );
    delete.extend(["-f", "json"]);
    let doc = db.audited().run(&delete).code(3).json();
    assert_eq!(doc["refused"][0]["host"], LINK);
    assert!(
        doc["refused"][0]["reasons"][0]["text"]
            .as_str()
            .unwrap()
            .contains(&format!("{LINK}#pool")),
        "{doc}"
    );
});

// cluster list: the same for a cluster's name.
both_backends!(cluster_names_are_escaped_too, Schema::Cinder, |db| {
    let name = "c\u{1b}[31mred\u{9b}";
    db.exec(&format!(
        "INSERT INTO clusters (created_at, updated_at, deleted, id, name, `binary`, disabled, \
         race_preventer, frozen) VALUES ('2026-01-01 00:00:00', '2026-01-02 00:00:00', 0, 1, \
         '{name}', 'cinder-volume', 0, 0, 0)"
    ));
    for f in ["table", "csv", "value"] {
        let run = db.svcctl().run(&["cluster", "list", "-f", f]).code(0);
        assert_clean(&run.stdout, f);
        assert!(
            run.stdout.contains("c\\e[31mred\\x9b"),
            "{f}: {}",
            run.stdout
        );
    }
    let v = db
        .svcctl()
        .run(&["cluster", "list", "-f", "json"])
        .code(0)
        .json();
    assert_eq!(v[0]["name"], name);
});

// svcctl stores none of it: --reason and --to holding a control character (each class), empty,
// only blanks or longer than the column are usage errors, one escaped line, nothing changed.
both_backends!(svcctl_refuses_to_store_them, Schema::Cinder, |db| {
    db.service(1, "node01@lvm", "cinder-volume", 5);
    db.service(2, "node02@lvm", "cinder-volume", 600);
    db.volume("v1", "node02@lvm#p");
    let before = db.fingerprint();
    let long = "r".repeat(256);
    for reason in [
        "",
        "   ",
        "\t",
        "RMA\n4711",
        CLEAR_AND_CLIPBOARD,
        "a\u{7}",
        "a\u{8}",
        "a\u{7f}",
        "a\u{9b}2J",
        BIDI,
        "zero\u{200b}width",
        long.as_str(),
    ] {
        let run = db
            .audited()
            .run(&[
                "service",
                "disable",
                "--host",
                "node02@lvm",
                "--reason",
                reason,
                "--yes",
            ])
            .code(2);
        assert_eq!(run.stderr.lines().count(), 1, "{reason:?}: {}", run.stderr);
        assert_clean(&run.stderr, "the usage error");
        assert!(run.error_line().contains("--reason"), "{}", run.stderr);
    }
    for to in [
        "node01@lvm#\u{1b}[2J",
        "node01@lvm\n",
        " ",
        "node01@lvm#\u{202e}x",
    ] {
        let run = db
            .audited()
            .run(&[
                "volume",
                "move-host",
                "--from",
                "node02@lvm",
                "--to",
                to,
                "--force",
                "--yes",
            ])
            .code(2);
        assert_eq!(run.stderr.lines().count(), 1, "{to:?}: {}", run.stderr);
        assert_clean(&run.stderr, "the usage error");
    }
    assert_eq!(db.fingerprint(), before);
    assert!(db.audit_lines().is_empty());
    // What Cinder itself accepts goes through.
    db.audited()
        .run(&[
            "service",
            "disable",
            "--host",
            "node02@lvm",
            "--reason",
            "RMA 4711 (disk \"a\")",
            "--yes",
        ])
        .code(0);
});
