//! cinder.conf read by oslo.config's rules, end to end, and every bad input's one-line error
//! and exit code.

use crate::harness::{Backend, Schema, Svcctl, TestDb};

fn sqlite() -> TestDb {
    let db = TestDb::new(Backend::Sqlite, Schema::Cinder).unwrap();
    db.service(1, "node01", "cinder-scheduler", 5);
    db
}

fn write(db: &TestDb, name: &str, text: &str) -> std::path::PathBuf {
    let p = db.dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn lists_node01(run: crate::harness::Run) {
    let run = run.code(0);
    assert_eq!(run.json()[0]["host"], "node01", "{}", run.stderr);
}

#[test]
fn oslo_rules_end_to_end() {
    let db = sqlite();
    let url = db.url();
    // Section names fold to lower case, a repeated section merges, the later file wins.
    let a = write(
        &db,
        "a.conf",
        "[DATABASE]\nconnection = sqlite:////nonexistent.db\n\n[DEFAULT]\nhost = x\n",
    );
    let b = write(
        &db,
        "b.conf",
        &format!(
            "[Database]\nmax_retries = 1\n[DEFAULT]\nhost = y\n[database]\nconnection = {url}\n"
        ),
    );
    lists_node01(
        Svcctl::new()
            .config(&a)
            .config(&b)
            .run(&["service", "list", "-f", "json"]),
    );
    // Order matters: with the files swapped, the bad connection wins.
    let run = Svcctl::new()
        .config(&b)
        .config(&a)
        .run(&["service", "list"])
        .code(2);
    assert!(
        run.error_line().contains("/nonexistent.db does not exist"),
        "{}",
        run.stderr
    );
    // $state_path substitution, as in Cinder's own default connection.
    let dir = db.dir.path().display();
    let c = write(
        &db,
        "c.conf",
        &format!(
            "[DEFAULT]\nstate_path = {dir}\n[database]\nconnection = sqlite:///$state_path/cinder.sqlite\n"
        ),
    );
    lists_node01(
        Svcctl::new()
            .config(&c)
            .run(&["service", "list", "-f", "json"]),
    );
    // No inline comments: the '# comment' is part of the path, as oslo reads it.
    let d = write(
        &db,
        "d.conf",
        &format!("[database]\nconnection = {url} # comment\n"),
    );
    let run = Svcctl::new().config(&d).run(&["service", "list"]).code(2);
    assert!(
        run.error_line()
            .contains("cinder.sqlite # comment does not exist"),
        "{}",
        run.stderr
    );
    // A continuation line joins the value with a newline: the URL is not usable then.
    let e = write(
        &db,
        "e.conf",
        &format!("[database]\nconnection = {url}\n  ?extra\n"),
    );
    Svcctl::new().config(&e).run(&["service", "list"]).code(2);
    // --config-dir reads its *.conf sorted, after the files named before it.
    let confd = db.dir.path().join("conf.d");
    std::fs::create_dir(&confd).unwrap();
    std::fs::write(
        confd.join("90-db.conf"),
        format!("[database]\nconnection = {url}\n"),
    )
    .unwrap();
    std::fs::write(
        confd.join("10-bad.conf"),
        "[database]\nconnection = sqlite:////nope.db\n",
    )
    .unwrap();
    let run = Svcctl::new().config(&a).run(&[
        "--config-dir",
        confd.to_str().unwrap(),
        "service",
        "list",
        "-f",
        "json",
    ]);
    lists_node01(run);
}

#[test]
fn environment_beats_files_and_flags_beat_environment() {
    let db = sqlite();
    let a = write(
        &db,
        "a.conf",
        "[database]\nconnection = sqlite:////nonexistent.db\n",
    );
    lists_node01(
        Svcctl::new()
            .config(&a)
            .env("OS_DATABASE__CONNECTION", &db.url())
            .run(&["service", "list", "-f", "json"]),
    );
    // OS_DATABASE__MAX_RETRIES=abc is a bad value from the environment...
    let run = Svcctl::new()
        .config(&a)
        .env("OS_DATABASE__MAX_RETRIES", "abc")
        .run(&["service", "list"])
        .code(2);
    assert!(
        run.error_line()
            .contains("[database] max_retries = \"abc\""),
        "{}",
        run.stderr
    );
    // ...which --max-retries overrides.
    lists_node01(
        Svcctl::new()
            .config(&a)
            .env("OS_DATABASE__CONNECTION", &db.url())
            .env("OS_DATABASE__MAX_RETRIES", "abc")
            .run(&["--max-retries", "1", "service", "list", "-f", "json"]),
    );
}

#[test]
fn bad_inputs_get_one_line_and_a_documented_code() {
    let db = sqlite();
    let cases: Vec<(Vec<&str>, &str, i32, &str)> = vec![
        (
            vec![],
            "[database]\nconnection = sqlite:///x\njunk line\n",
            2,
            "bad.conf:3: \"junk line\" is not an option assignment",
        ),
        (vec![], "[database\n", 2, "bad.conf:1: section header"),
        (
            vec![],
            "[database]\nconnection = postgresql://cinder:cinder_dbpass@db/cinder\n",
            2,
            "unsupported dialect \"postgresql\"",
        ),
        (
            vec![],
            "[database]\nconnection = mysql+pymysql://cinder:cinder_dbpass@db/cinder?ssl_mode=DISABLED\n",
            2,
            "parameter \"ssl_mode\" is not supported",
        ),
        (
            vec![],
            "[database]\nconnection = mysql+pymysql://cinder:cinder_dbpass@db:99999/cinder\n",
            2,
            "port \"99999\"",
        ),
        (
            vec![],
            "[DEFAULT]\nservice_down_time = soon\n",
            2,
            "[DEFAULT] service_down_time = \"soon\"",
        ),
        (vec!["--max-retries", "-5"], "", 2, "-5"),
        (vec!["--timeout", "0"], "", 2, "no time at all"),
    ];
    for (flags, text, code, want) in cases {
        let conf = write(&db, "bad.conf", text);
        let mut args = flags.clone();
        args.extend(["service", "list"]);
        let run = Svcctl::new().config(&conf).run(&args).code(code);
        assert!(
            run.stderr.contains(want),
            "{text:?} {flags:?}: {}",
            run.stderr
        );
        if flags.is_empty() {
            assert_eq!(run.stderr.lines().count(), 1, "one line: {}", run.stderr);
            assert!(run.stderr.starts_with("svcctl: "), "{}", run.stderr);
        }
    }
    let run = Svcctl::new()
        .config(std::path::Path::new("/nonexistent/cinder.conf"))
        .run(&["service", "list"])
        .code(2);
    assert_eq!(
        run.stderr,
        "svcctl: cannot read config file /nonexistent/cinder.conf: no such file or directory; pass an existing, readable --config-file\n"
    );
    // A database without Cinder's tables is a runtime error naming it.
    let empty = TestDb::new(Backend::Sqlite, Schema::Empty).unwrap();
    let run = empty.svcctl().run(&["service", "list"]).code(1);
    assert!(
        run.error_line().contains("has no services table"),
        "{}",
        run.stderr
    );
}
