//! Output and command line as operators expect them from OpenStack tools (issue 14): cliff's
//! formatter options, tables that fit 80 and 200 columns (by `COLUMNS` and through a real
//! pseudo-terminal) while a pipe keeps the seed's bytes, YAML and JSON parsed, sort orders,
//! global flags after the subcommand, one-line usage errors, and the JSON result document's
//! keys on every path.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use unicode_width::UnicodeWidthStr;

use crate::both_backends;
use crate::harness::snapshot::FIXED_TIMES;
use crate::harness::{Backend, Schema, Svcctl, TestDb, load_fixture_rows};
use crate::svcctl_snapshot;

/// The display width of the widest line.
fn widest(text: &str) -> usize {
    text.lines().map(UnicodeWidthStr::width).max().unwrap_or(0)
}

fn fixture_db() -> TestDb {
    let db = TestDb::new(Backend::Sqlite, Schema::Cinder).unwrap();
    load_fixture_rows(&db);
    db
}

/// Runs `svcctl` with its stdout on a pseudo-terminal `cols` wide; returns what the terminal got.
fn on_terminal(svcctl: &Svcctl, cols: u16, args: &[&str]) -> (i32, String) {
    use std::io::Read;
    let ws = nix::pty::Winsize {
        ws_row: 50,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    let pty = nix::pty::openpty(Some(&ws), None).unwrap();
    let mut cmd = svcctl.command(args);
    cmd.stdout(std::process::Stdio::from(pty.slave));
    cmd.stderr(std::process::Stdio::null());
    let mut child = cmd.spawn().unwrap();
    // Our copy of the slave went into `cmd`; drop it so the master sees EOF (EIO) at exit.
    drop(cmd);
    let mut master = std::fs::File::from(pty.master);
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match master.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            // Linux reports the closed slave as EIO.
            Err(_) => break,
        }
    }
    let code = child.wait().unwrap().code().unwrap_or(-1);
    (code, String::from_utf8_lossy(&out).replace("\r\n", "\n"))
}

#[test]
fn tables_fit_80_and_200_columns_and_pipes_keep_the_seed_bytes() {
    let db = fixture_db();
    let seed = db.svcctl().run(&["service", "list"]).code(0).stdout;
    assert_eq!(widest(&seed), 127, "the seed's table is 127 wide:\n{seed}");
    // Piped, COLUMNS alone changes nothing: cliff fits only a terminal or on request.
    let piped = db
        .svcctl()
        .env("COLUMNS", "80")
        .run(&["service", "list"])
        .code(0)
        .stdout;
    assert_eq!(piped, seed);

    let fit80 = db
        .svcctl()
        .env("COLUMNS", "80")
        .run(&["service", "list", "--fit-width"])
        .code(0)
        .stdout;
    assert!(widest(&fit80) <= 80, "{fit80}");
    svcctl_snapshot!(FIXED_TIMES, "list_fit_80", fit80);
    // --max-width, CLIFF_MAX_TERM_WIDTH and CLIFF_FIT_WIDTH=1 say the same.
    for (env, args) in [
        (None, &["service", "list", "--max-width", "80"][..]),
        (Some(("CLIFF_MAX_TERM_WIDTH", "80")), &["service", "list"]),
        (Some(("CLIFF_FIT_WIDTH", "1")), &["service", "list"]),
    ] {
        let mut s = db.svcctl().env("COLUMNS", "80");
        if let Some((k, v)) = env {
            s = s.env(k, v);
        }
        assert_eq!(s.run(args).code(0).stdout, fit80, "{env:?} {args:?}");
    }
    // --max-width beats the environment, as in cliff; 0 turns it off.
    let off = db
        .svcctl()
        .env("CLIFF_MAX_TERM_WIDTH", "80")
        .run(&["service", "list", "--max-width", "0"])
        .code(0)
        .stdout;
    assert_eq!(off, seed);
    // A bad value in the environment is named as the variable, not as a flag never typed;
    // given, --max-width's own value is what counts.
    let bad = db
        .svcctl()
        .env("CLIFF_MAX_TERM_WIDTH", "abc")
        .run(&["service", "list"])
        .code(2);
    assert!(
        bad.error_line().contains("CLIFF_MAX_TERM_WIDTH")
            && !bad.error_line().contains("'--max-width"),
        "{}",
        bad.stderr
    );
    let beaten = db
        .svcctl()
        .env("CLIFF_MAX_TERM_WIDTH", "abc")
        .run(&["service", "list", "--max-width", "0"])
        .code(0)
        .stdout;
    assert_eq!(beaten, seed);

    // At a real 80-column terminal the table fits without being asked.
    let (code, tty80) = on_terminal(&db.svcctl(), 80, &["service", "list"]);
    assert_eq!(code, 0);
    assert_eq!(tty80, fit80, "the terminal gets the fitted table");

    // At 200 columns the default table fits as it is: the seed's bytes.
    let (code, tty200) = on_terminal(&db.svcctl(), 200, &["service", "list"]);
    assert_eq!(code, 0);
    assert_eq!(tty200, seed);
    // The widest listing (206) is fitted into 200, cells wrapped inside their columns.
    let wide = db
        .svcctl()
        .run(&["service", "list", "--withreplication", "--include-deleted"])
        .code(0)
        .stdout;
    assert!(widest(&wide) > 200, "{wide}");
    let (code, wide200) = on_terminal(
        &db.svcctl(),
        200,
        &["service", "list", "--withreplication", "--include-deleted"],
    );
    assert_eq!(code, 0);
    assert!(widest(&wide200) <= 200, "{wide200}");
    svcctl_snapshot!(FIXED_TIMES, "list_wide_200", wide200);
    let wide80 = db
        .svcctl()
        .run(&[
            "service",
            "list",
            "--withreplication",
            "--include-deleted",
            "--max-width",
            "80",
        ])
        .code(0)
        .stdout;
    assert!(widest(&wide80) <= 80, "{wide80}");
    svcctl_snapshot!(FIXED_TIMES, "list_wide_80", wide80);
    // No row is lost or split apart: every host is still there, whole or wrapped.
    for host in ["node01", "node02"] {
        assert!(fit80.contains(host), "{fit80}");
    }
}

#[test]
fn plan_tables_fit_80_columns_for_the_seeds_hosts() {
    let db = fixture_db();
    // Piped, the delete plans of the seed's hosts are under 80 columns as they are.
    for args in [
        &["service", "delete", "--host", "node02", "--dry-run"][..],
        &[
            "service",
            "delete",
            "--host",
            "node0?",
            "--dry-run",
            "--force",
        ],
    ] {
        let run = db.audited().run(args).code(0);
        assert!(
            !run.stdout.is_empty() && widest(&run.stdout) < 80,
            "{args:?}:\n{}",
            run.stdout
        );
    }
    // A refusal's long verdict is wrapped and the hosts cut with `…` to fit 80 columns:
    // piped, at an 80-column terminal, and with --max-width 80 alike.
    let args = [
        "backend",
        "cleanup",
        "2813902f-2c94",
        "--dry-run",
        "--no-kill",
    ];
    let piped = db.audited().run(&args).code(3).stdout;
    assert!(widest(&piped) <= 80, "{piped}");
    assert!(
        piped.contains("node01@backend-2813") && piped.contains('…'),
        "{piped}"
    );
    let (code, tty) = on_terminal(&db.audited(), 80, &args);
    assert_eq!(code, 3);
    assert_eq!(tty, piped);
    let max = db
        .audited()
        .run(&[&args[..], &["--max-width", "80"]].concat())
        .code(3)
        .stdout;
    assert_eq!(max, piped);
    // A wider terminal, or --max-width, has room for the whole hosts: nothing is cut.
    let (_, wide) = on_terminal(&db.audited(), 200, &args);
    assert!(wide.contains("| node01@backend-2813902f-2c94 |"), "{wide}");
    assert!(widest(&wide) > 80 && widest(&wide) <= 200, "{wide}");
    let max = db
        .audited()
        .run(&[&args[..], &["--max-width", "200"]].concat())
        .code(3)
        .stdout;
    assert_eq!(max, wide);
    let narrow = db
        .audited()
        .run(&[&args[..], &["--max-width", "60"]].concat())
        .code(3)
        .stdout;
    assert!(widest(&narrow) <= 60, "{narrow}");
}

/// The same command's `-f yaml`, parsed, equals its `-f json`.
fn yaml_matches_json(svcctl: &Svcctl, args: &[&str], code: i32) {
    let json = svcctl
        .run(&[args, &["-f", "json"]].concat())
        .code(code)
        .json();
    let yaml = svcctl
        .run(&[args, &["-f", "yaml"]].concat())
        .code(code)
        .stdout;
    let parsed: Value = serde_saphyr::from_str(&yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    assert_eq!(parsed, json, "{args:?}:\n{yaml}");
}

#[test]
fn yaml_is_the_json_in_yaml() {
    let db = fixture_db();
    yaml_matches_json(&db.svcctl(), &["service", "list"], 0);
    yaml_matches_json(
        &db.svcctl(),
        &["service", "list", "--include-deleted", "--withreplication"],
        0,
    );
    yaml_matches_json(
        &db.svcctl(),
        &["service", "list", "-c", "host", "-c", "frozen", "-c", "id"],
        0,
    );
    // An empty list is an empty YAML sequence.
    yaml_matches_json(&db.svcctl(), &["service", "list", "--host", "nobody"], 0);
    // A plan's result document too, on every path.
    yaml_matches_json(
        &db.audited(),
        &["service", "delete", "--host", "node02", "--dry-run"],
        0,
    );
    yaml_matches_json(&db.audited(), &["service", "delete", "--host", "nobody"], 4);
    yaml_matches_json(
        &db.audited(),
        &["backend", "cleanup", "2813902f-2c94", "--no-kill", "--yes"],
        3,
    );
}

#[test]
fn noindent_and_quote_follow_cliff() {
    let db = fixture_db();
    let pretty = db.svcctl().run(&["service", "list", "-f", "json"]).code(0);
    let flat = db
        .svcctl()
        .run(&["service", "list", "-f", "json", "--noindent"])
        .code(0);
    assert_eq!(flat.stdout.lines().count(), 1, "{}", flat.stdout);
    assert!(pretty.stdout.lines().count() > 10);
    assert_eq!(flat.json(), pretty.json());
    let csv = |quote: &str| {
        db.svcctl()
            .run(&[
                "service", "list", "-f", "csv", "-c", "id", "-c", "host", "--host", "node01",
                "--quote", quote,
            ])
            .code(0)
            .stdout
    };
    // cliff's default is nonnumeric: strings quoted, numbers not.
    let default = db
        .svcctl()
        .run(&[
            "service", "list", "-f", "csv", "-c", "id", "-c", "host", "--host", "node01",
        ])
        .code(0)
        .stdout;
    assert_eq!(default, "\"ID\",\"Host\"\n13,\"node01\"\n14,\"node01\"\n");
    assert_eq!(csv("nonnumeric"), default);
    assert_eq!(
        csv("all"),
        "\"ID\",\"Host\"\n\"13\",\"node01\"\n\"14\",\"node01\"\n"
    );
    assert_eq!(csv("minimal"), "ID,Host\n13,node01\n14,node01\n");
    assert_eq!(csv("none"), "ID,Host\n13,node01\n14,node01\n");
    db.svcctl()
        .run(&["service", "list", "-f", "csv", "--quote", "sometimes"])
        .code(2);
}

both_backends!(sort_orders, Schema::Cinder, |db| {
    load_fixture_rows(&db);
    let hosts = |extra: &[&str]| -> Vec<String> {
        let v = db
            .svcctl()
            .run(&[&["service", "list", "-f", "json"][..], extra].concat())
            .code(0)
            .json();
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| {
                format!(
                    "{} {}",
                    r["host"].as_str().unwrap(),
                    r["binary"].as_str().unwrap()
                )
            })
            .collect()
    };
    // Stable, as cliff's sort: rows with the same host keep their order (binary, host, id).
    let unsorted = hosts(&[]);
    let host = |s: &String| s.split_once(' ').unwrap().0.to_string();
    let mut by_host = unsorted.clone();
    by_host.sort_by_key(host);
    assert_eq!(hosts(&["--sort-column", "Host"]), by_host);
    assert_eq!(
        hosts(&["--sort-column", "Host", "--sort-ascending"]),
        by_host
    );
    let mut desc = unsorted.clone();
    desc.sort_by_key(|s| std::cmp::Reverse(host(s)));
    assert_ne!(
        desc,
        by_host.iter().rev().cloned().collect::<Vec<_>>(),
        "ties stay in order"
    );
    assert_eq!(hosts(&["--sort-column", "Host", "--sort-descending"]), desc);
    // Columns given first have priority; a column that does not exist is ignored (cliff).
    let two = hosts(&[
        "--sort-column",
        "Binary",
        "--sort-column",
        "Host",
        "--sort-column",
        "Nope",
    ]);
    let mut want = by_host.clone();
    want.sort_by_key(|s| {
        let (h, b) = s.split_once(' ').unwrap();
        (b.to_string(), h.to_string())
    });
    assert_eq!(two, want);
    // Descending applies to every sort column, and the table sorts the same way.
    let table = db
        .svcctl()
        .run(&[
            "service",
            "list",
            "--sort-column",
            "Host",
            "--sort-descending",
            "-c",
            "Host",
        ])
        .code(0)
        .stdout;
    let table_hosts: Vec<&str> = table
        .lines()
        .filter(|l| l.starts_with('|'))
        .skip(1)
        .map(|l| l.trim_matches(|c| c == '|' || c == ' '))
        .collect();
    let mut want: Vec<&str> = table_hosts.clone();
    want.sort_by(|a, b| b.cmp(a));
    assert_eq!(table_hosts, want);
    assert_eq!(table_hosts.first(), Some(&"node02@backend-ffdc2630-def2"));
    // Sorting by a number sorts numerically; NULLs go last ascending.
    let ids = |extra: &[&str]| -> Vec<i64> {
        db.svcctl()
            .run(&[&["service", "list", "-f", "value", "-c", "id"][..], extra].concat())
            .code(0)
            .stdout
            .lines()
            .map(|l| l.parse().unwrap())
            .collect()
    };
    let asc = ids(&["--sort-column", "id"]);
    let mut sorted = asc.clone();
    sorted.sort();
    assert_eq!(asc, sorted);
    db.svcctl()
        .run(&["service", "list", "--sort-ascending", "--sort-descending"])
        .code(2);
});

#[test]
fn deleted_rows_show_state_deleted() {
    let db = fixture_db();
    let v = db
        .svcctl()
        .run(&["service", "list", "--include-deleted", "-f", "json"])
        .code(0)
        .json();
    for row in v.as_array().unwrap() {
        let deleted = row["deleted"] == true;
        assert_eq!(row["state"] == "deleted", deleted, "{row}");
    }
    // A row deleted a moment ago (its updated_at is the deletion time) is not "up".
    db.exec(&format!(
        "UPDATE services SET updated_at = '{t}', deleted_at = '{t}' WHERE id = 21",
        t = db.ago(1)
    ));
    let v = db
        .svcctl()
        .run(&[
            "service",
            "list",
            "--include-deleted",
            "-f",
            "json",
            "--state",
            "up",
        ])
        .code(0)
        .json();
    assert_eq!(v, json!([]));
}

#[test]
fn global_flags_after_the_subcommand_keep_olsos_order() {
    let db = fixture_db();
    let good = db.conf("node01", "");
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.conf");
    std::fs::write(
        &bad,
        "[database]\nconnection = sqlite:////nonexistent/x.sqlite\n",
    )
    .unwrap();
    let good_s = good.to_str().unwrap();
    let bad_s = bad.to_str().unwrap();
    let run = Svcctl::new()
        .run(&["service", "list", "--config-file", good_s, "-f", "json"])
        .code(0);
    assert_eq!(run.json().as_array().unwrap().len(), 10);
    // Later files win, counted across both sides of the subcommand:
    // `svcctl FLAG X service list FLAG Y`.
    let around = |first: [&str; 2], then: [&str; 2]| {
        Svcctl::new().run(&[&first[..], &["service", "list"], &then[..]].concat())
    };
    around(["--config-file", bad_s], ["--config-file", good_s]).code(0);
    let run = around(["--config-file", good_s], ["--config-file", bad_s]).code(2);
    assert!(run.error_line().contains("nonexistent"), "{}", run.stderr);
    // --config-dir after the subcommand too, in order with the files.
    let confd = dir.path().join("conf.d");
    std::fs::create_dir(&confd).unwrap();
    std::fs::copy(&good, confd.join("10-good.conf")).unwrap();
    around(
        ["--config-file", bad_s],
        ["--config-dir", confd.to_str().unwrap()],
    )
    .code(0);
    Svcctl::new()
        .run(&[
            "service",
            "list",
            "--config-dir",
            confd.to_str().unwrap(),
            "--config-file",
            bad_s,
        ])
        .code(2);
    // Every global flag works after the subcommand.
    Svcctl::new()
        .run(&[
            "service",
            "list",
            "--config-file",
            good_s,
            "--timeout",
            "30",
            "--max-retries",
            "1",
        ])
        .code(0);
}

#[test]
fn usage_errors_are_one_svcctl_line_with_a_hint() {
    for (args, want) in [
        (&["service", "list", "--bogus"][..], "--bogus"),
        (
            &["service", "remove", "--host", "node02"],
            "svcctl service delete",
        ),
        (&["service", "list", "-f", "xml"], "xml"),
        (&["frobnicate"], "frobnicate"),
        (&["service"], "service"),
    ] {
        let run = Svcctl::new().run(args).code(2);
        let lines: Vec<&str> = run.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{args:?}: one line:\n{}", run.stderr);
        assert!(lines[0].starts_with("svcctl: "), "{args:?}: {}", lines[0]);
        assert!(lines[0].contains(want), "{args:?}: {}", lines[0]);
        assert!(
            !lines[0].contains("error:"),
            "{args:?}: clap's style: {}",
            lines[0]
        );
        assert!(run.stdout.is_empty());
    }
}

// Notes and progress on stderr carry no `svcctl:` prefix; only the error line does.
both_backends!(notes_are_not_errors, Schema::Cinder, |db| {
    load_fixture_rows(&db);
    let ok = db
        .audited()
        .run(&["service", "delete", "--host", "node02", "--dry-run"])
        .code(0);
    assert!(ok.stderr.contains("dry run"), "{}", ok.stderr);
    assert!(
        !ok.stderr.contains("svcctl:"),
        "a note is not an error:\n{}",
        ok.stderr
    );
    let done = db
        .audited()
        .run(&["service", "delete", "--host", "node02", "--yes"])
        .code(0);
    assert!(!done.stderr.contains("svcctl:"), "{}", done.stderr);
    let refused = db
        .audited()
        .run(&["backend", "cleanup", "2813902f-2c94", "--yes", "--no-kill"])
        .code(3);
    let prefixed: Vec<&str> = refused
        .stderr
        .lines()
        .filter(|l| l.starts_with("svcctl: "))
        .collect();
    assert_eq!(prefixed, [refused.error_line()], "{}", refused.stderr);
});

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect()
}

const DOC_KEYS: &[&str] = &[
    "already_deleted",
    "deleted",
    "deleted_clusters",
    "dry_run",
    "refused",
    "would_delete",
    "would_delete_clusters",
];
const REASON_KEYS: &[&str] = &["counts", "hosts", "kind", "seconds_ago", "text"];

fn doc_keys(extra: &[&str]) -> BTreeSet<String> {
    DOC_KEYS
        .iter()
        .chain(extra)
        .map(|s| s.to_string())
        .collect()
}

// The result document has the same keys on every path: dry run, nothing matched, refused, done.
both_backends!(one_json_vocabulary_on_every_path, Schema::Cinder, |db| {
    load_fixture_rows(&db);
    let want = doc_keys(&[]);
    let delete = |args: &[&str], code: i32| -> Value {
        db.audited()
            .run(&[&["service", "delete", "-f", "json"][..], args].concat())
            .code(code)
            .json()
    };
    // Nothing matched.
    let none = delete(&["--host", "nobody"], 4);
    assert_eq!(keys(&none), want, "{none}");
    assert_eq!(none["already_deleted"], json!([]));
    let none = delete(&["--host", "nobody", "--dry-run", "--missing-ok"], 0);
    assert_eq!(keys(&none), want, "{none}");
    assert_eq!(none["dry_run"], true);
    // A dry run names what it would delete, and deletes nothing.
    let dry = delete(&["--host", "node02", "--dry-run"], 0);
    assert_eq!(keys(&dry), want, "{dry}");
    assert_eq!(dry["deleted"], json!([]));
    assert_eq!(dry["would_delete"].as_array().unwrap().len(), 2, "{dry}");
    assert_eq!(dry["already_deleted"], json!([]));
    // Refused: reasons are objects a script can branch on.
    db.exec(&format!(
        "UPDATE services SET updated_at = '{}' WHERE host LIKE 'node01%'",
        db.ago(5)
    ));
    let refused = delete(&["--host", "node01@normal"], 3);
    assert_eq!(keys(&refused), want, "{refused}");
    let reasons = refused["refused"][0]["reasons"].as_array().unwrap();
    let kinds: Vec<&str> = reasons
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["up", "in_use"], "{refused}");
    for r in reasons {
        assert_eq!(
            keys(r),
            REASON_KEYS.iter().map(|s| s.to_string()).collect(),
            "{r}"
        );
        assert!(r["text"].as_str().unwrap().len() > 10, "{r}");
    }
    assert!(
        (0..60).contains(&reasons[0]["seconds_ago"].as_i64().unwrap()),
        "{refused}"
    );
    assert_eq!(reasons[0]["counts"], Value::Null);
    assert_eq!(reasons[1]["counts"]["volumes"], 1, "{refused}");
    assert_eq!(
        reasons[1]["hosts"],
        json!(["node01@normal#normal"]),
        "{refused}"
    );
    // Done, with what changed.
    let done = delete(&["--host", "node02", "--yes"], 0);
    assert_eq!(keys(&done), want, "{done}");
    assert_eq!(done["dry_run"], false);
    assert_eq!(done["would_delete"], json!([]));
    assert_eq!(done["deleted"].as_array().unwrap().len(), 2);

    // backend cleanup: the same keys plus processes.
    let want = doc_keys(&["processes", "shared_processes"]);
    let cleanup = |args: &[&str], code: i32| -> Value {
        db.audited()
            .run(&[&["backend", "cleanup", "--no-kill", "-f", "json"][..], args].concat())
            .code(code)
            .json()
    };
    assert_eq!(keys(&cleanup(&["0a0a0a0a-9999"], 4)), want);
    // The volume's host is named, as the database knows it, in the text and the JSON.
    let refused = cleanup(&["2813902f-2c94", "--yes"], 3);
    assert_eq!(keys(&refused), want, "{refused}");
    let r = &refused["refused"][0]["reasons"];
    let backend = r
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "backend_in_use")
        .unwrap_or_else(|| panic!("{refused}"));
    assert_eq!(
        backend["hosts"],
        json!(["node02@backend-2813902f-2c94#nvme"])
    );
    assert!(
        backend["text"]
            .as_str()
            .unwrap()
            .contains("node02@backend-2813902f-2c94#nvme"),
        "{backend}"
    );
    let dry = cleanup(&["deffaf27-95b1", "--dry-run", "--yes"], 3);
    assert_eq!(keys(&dry), want, "{dry}");
});

/// A refusal names the first few volume hosts, then how many more, in the text and the JSON.
#[test]
fn refusal_names_a_few_hosts_then_how_many_more() {
    let db = TestDb::new(Backend::Sqlite, Schema::Cinder).unwrap();
    let key = "backend-0b0b0b0b-0001";
    db.service(1, &format!("node01@{key}"), "cinder-volume", 600);
    for n in 1..=9 {
        db.volume(&format!("v{n}"), &format!("node{n:02}@{key}#pool"));
    }
    let before = db.fingerprint();
    let run = db
        .audited()
        .run(&[
            "backend",
            "cleanup",
            "0b0b0b0b-0001",
            "--no-kill",
            "--yes",
            "-f",
            "json",
        ])
        .code(3);
    let v = run.json();
    let reason = v["refused"][0]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "backend_in_use")
        .unwrap_or_else(|| panic!("{v}"));
    let hosts = reason["hosts"].as_array().unwrap();
    assert!(hosts.len() < 9 && !hosts.is_empty(), "{reason}");
    let text = reason["text"].as_str().unwrap();
    assert!(text.contains(&format!("node01@{key}#pool")), "{text}");
    assert!(
        text.contains(&format!("and {} more", 9 - hosts.len())),
        "{text}"
    );
    assert_eq!(db.fingerprint(), before);
}
