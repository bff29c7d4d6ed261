//! A corpus of malformed inputs (config files, URLs, flags, hosts, backend IDs, audit paths),
//! each run against a real database on both backends. Every one must end in its documented exit
//! code with exactly one line on stderr, `svcctl: ...`, naming the problem; nothing on stdout;
//! no password (the harness scans every run for the test password, this file adds its own);
//! no panic; and the database exactly as it was.

use crate::harness::{Backend, PASSWORD, Schema, Svcctl, TestDb, USER, mariadb};

/// The password written into malformed connection strings below.
const SECRET: &str = "Corpus-Secret-7q";

/// What svcctl is given as configuration.
enum Conf {
    /// The test database's own cinder.conf with these lines added (`[database]` splits them).
    Db(String),
    /// A whole file of this text.
    Text(Vec<u8>),
    /// No --config-file at all (the case passes its own flags).
    None,
}

struct Case {
    what: String,
    conf: Conf,
    args: Vec<String>,
    env: Vec<(String, String)>,
    code: i32,
    /// A piece of the one line: the thing it names.
    want: String,
}

fn case(what: &str, conf: Conf, args: &[&str], code: i32, want: &str) -> Case {
    Case {
        what: what.to_string(),
        conf,
        args: args.iter().map(|s| s.to_string()).collect(),
        env: vec![],
        code,
        want: want.to_string(),
    }
}

fn db(extra: &str) -> Conf {
    Conf::Db(extra.to_string())
}

fn text(t: &str) -> Conf {
    Conf::Text(t.as_bytes().to_vec())
}

const LIST: &[&str] = &["service", "list"];

/// Config-file and option errors: exit 2.
#[rustfmt::skip]
fn config_cases(d: &TestDb) -> Vec<Case> {
    let url = d.url();
    let dir = d.dir.path().display().to_string();
    let mut c = vec![
        case("junk", text("[database]\nconnection = sqlite:///x\njunk line\n"), LIST, 2, ":3: \"junk line\" is not an option assignment"),
        case("open section", text("[database\n"), LIST, 2, "has no closing ']'"),
        case("empty section", text("[]\n"), LIST, 2, "empty section name"),
        case("indented first", text("  host = a\n"), LIST, 2, "continues no option"),
        case("before section", text("host = a\n"), LIST, 2, "comes before any [section]"),
        case("no name", text("[database]\n= 1\n"), LIST, 2, "has no option name"),
        case("10 MB junk line", Conf::Text(format!("[DEFAULT]\n{}\n", "y".repeat(10_000_000)).into_bytes()), LIST, 2, "is not an option assignment"),
        case("10 MB connection", db(&format!("[database]\nconnection = {}", "z".repeat(10_000_000))), LIST, 2, "not a URL"),
        case("invalid UTF-8", Conf::Text(b"[DEFAULT]\nhost = \xff\xfe\n".to_vec()), LIST, 2, ":2: not valid UTF-8"),
        case("continuation in connection", db(&format!("[database]\nconnection = {url}\n  ?extra=1")), LIST, 2, "[database] connection"),
        case("continuation in host", db("host = a\n  b\n"), LIST, 2, "[DEFAULT] host"),
        case("NUL in host", db("host = a\u{0}b\n"), LIST, 2, "control character"),
        case("service_down_time word", db("service_down_time = soon"), LIST, 2, "[DEFAULT] service_down_time = \"soon\""),
        case("service_down_time i64 max", db("service_down_time = 9223372036854775807"), LIST, 2, "from 1 to 315360000"),
        case("service_down_time overflow x1000", db("service_down_time = 9999999999999999"), LIST, 2, "from 1 to 315360000"),
        case("service_down_time 0", db("service_down_time = 0"), LIST, 2, "from 1 to 315360000"),
        case("service_down_time negative", db("service_down_time = -5"), LIST, 2, "from 1 to 315360000"),
        case("service_down_time float", db("service_down_time = 1e3"), LIST, 2, "service_down_time"),
        case("service_down_time 10y+1", db("service_down_time = 315360001"), LIST, 2, "315360000"),
        case("service_down_time 20 digits", db("service_down_time = 99999999999999999999"), LIST, 2, "service_down_time"),
        case("max_retries word", db("[database]\nmax_retries = many"), LIST, 2, "[database] max_retries = \"many\""),
        case("max_retries -2", db("[database]\nmax_retries = -2"), LIST, 2, "from -1 to 2147483647"),
        case("max_retries huge", db("[database]\nmax_retries = 99999999999999999999"), LIST, 2, "max_retries"),
        case("retry_interval -1", db("[database]\nretry_interval = -1"), LIST, 2, "from 0 to 31536000"),
        case("retry_interval 1y+1", db("[database]\nretry_interval = 31536001"), LIST, 2, "from 0 to 31536000"),
        case("db_retry_interval float", db("[database]\ndb_retry_interval = 1.5"), LIST, 2, "db_retry_interval"),
        case("db_max_retry_interval huge", db("[database]\ndb_max_retry_interval = 18446744073709551615"), LIST, 2, "db_max_retry_interval"),
        case("db_max_retries -7", db("[database]\ndb_max_retries = -7"), LIST, 2, "db_max_retries"),
        case("use_db_reconnect maybe", db("[database]\nuse_db_reconnect = maybe"), LIST, 2, "not a boolean"),
        case("db_inc_retry_interval 2", db("[database]\ndb_inc_retry_interval = 2"), LIST, 2, "not a boolean"),
        case("wsrep 16", db("[database]\nmysql_wsrep_sync_wait = 16"), LIST, 2, "from 0 to 15"),
        case("wsrep -1", db("[database]\nmysql_wsrep_sync_wait = -1"), LIST, 2, "from 0 to 15"),
        case("unknown $ref", db("host = $nowhere"), LIST, 2, "refers to $nowhere"),
        case("self $ref", db("host = x$host"), LIST, 2, "refers to itself"),
        case("$ loop", db("host = $a\na = $b\nb = $a"), LIST, 2, "refers to itself"),
        case("$ growth", db(&growth()), LIST, 2, "grows past"),
        case("$ depth", db(&format!("host = $h0\n{}", (0..100).map(|i| format!("h{i} = $h{}\n", i + 1)).collect::<String>())), LIST, 2, "deep"),
        case("bad state_path ref", db("state_path = $nowhere"), LIST, 2, "[DEFAULT] state_path"),
        case("empty connection", db("[database]\nconnection ="), LIST, 2, "[database] connection is empty"),
        case("empty file", text(""), LIST, 2, "[database] connection is not set"),
        case("misspelt conection", text(&format!("[database]\nconection = {url}\n")), LIST, 2, "conection"),
        case("connection in DEFAULT", text(&format!("[DEFAULT]\nconnection = {url}\n")), LIST, 2, "belongs under [database]"),
        case("config file missing", Conf::None, &["--config-file", "/nonexistent/cinder.conf", "service", "list"], 2, "cannot read config file /nonexistent/cinder.conf"),
        case("config file is a dir", Conf::None, &["--config-file", &dir, "service", "list"], 2, "it is a directory"),
        case("config dir missing", Conf::None, &["--config-dir", "/nonexistent/conf.d", "service", "list"], 2, "cannot read config directory"),
        case("config dir empty", Conf::None, &["--config-dir", &format!("{dir}/empty.d"), "service", "list"], 2, "[database] connection is not set"),
    ];
    let mut env = case("env max_retries", db(""), LIST, 2, "[database] max_retries = \"abc\"");
    env.env.push(("OS_DATABASE__MAX_RETRIES".into(), "abc".into()));
    c.push(env);
    let mut env = case("env service_down_time", db(""), LIST, 2, "from 1 to 315360000");
    env.env.push(("OS_DEFAULT__SERVICE_DOWN_TIME".into(), "99999999999999999".into()));
    c.push(env);
    let mut env = case("env odd names ignored", db("service_down_time = x"), LIST, 2, "service_down_time");
    env.env.push(("OS_X[99999999]__Y".into(), "1".into()));
    env.env.push(("OS_A.B__C".into(), "1".into()));
    c.push(env);
    c
}

/// `host = $g0`, each `gN` eight references to `gN+1`: 8^30 characters if nothing stopped it.
fn growth() -> String {
    let mut t = String::from("host = $g0\n");
    for i in 0..30 {
        t.push_str(&format!("g{i} = {}\n", format!("$g{} ", i + 1).repeat(8)));
    }
    t.push_str("g30 = x\n");
    t
}

/// `[database] connection` strings that must fail before any connection is tried: exit 2.
#[rustfmt::skip]
fn url_cases(d: &TestDb) -> Vec<Case> {
    let dir = d.dir.path().display().to_string();
    let s = SECRET;
    let u = |url: String, want: &str| {
        case(&format!("url {url}"), db(&format!("[database]\nconnection = {url}")), LIST, 2, want)
    };
    vec![
        u(format!("postgresql://cinder:{s}@db/cinder"), "unsupported dialect \"postgresql\""),
        u(format!("mysql+foo://cinder:{s}@db/cinder"), "unsupported dialect"),
        u(format!("cinder:{s}@10.0.0.1/cinder"), "not a URL"),
        u(format!("mysql+pymysql:/cinder:{s}@10.0.0.1/cinder"), "not a URL"),
        u(format!("mysql+pymysql://cinder:abc@{s}@127.0.0.1/cinder"), "percent-encode it as %40"),
        u(format!("mysql+pymysql://abc@{s}@127.0.0.1/cinder"), "%40"),
        u(format!("mysql+pymysql://cinder:{s}"), "port after ':'"),
        u(format!("mysql+pymysql://cinder:{s}/cinder"), "port after ':'"),
        u(format!("mysql://u:{s}@127.0.0.1:0/c"), "port \"0\" is not a number from 1 to 65535"),
        u(format!("mysql://u:{s}@127.0.0.1:65536/c"), "from 1 to 65535"),
        u(format!("mysql://u:{s}@127.0.0.1:-1/c"), "from 1 to 65535"),
        u(format!("mysql://u:{s}@127.0.0.1/"), "no database name"),
        u(format!("mysql://u:{s}@127.0.0.1"), "no database name"),
        u(format!("mysql://u:{s}@[::1/c"), "no closing ']'"),
        u(format!("mysql://u:{s}@my host/c"), "is not a host name"),
        u(format!("mysql://u:{s}@127.0.0.1/c?connect_timeout=inf"), "connect_timeout=\"inf\""),
        u(format!("mysql://u:{s}@127.0.0.1/c?connect_timeout=1e300"), "at most 31536000"),
        u(format!("mysql://u:{s}@127.0.0.1/c?connect_timeout=NaN"), "connect_timeout"),
        u(format!("mysql://u:{s}@127.0.0.1/c?connect_timeout=-1"), "connect_timeout"),
        u(format!("mysql://u:{s}@127.0.0.1/c?connect_timeout=0"), "connect_timeout"),
        u(format!("mysql://u:{s}@127.0.0.1/c?connect_timeout=abc"), "connect_timeout"),
        u(format!("mysql://u:{s}@127.0.0.1/c?ssl_mode=DISABLED"), "parameter \"ssl_mode\" is not supported"),
        u(format!("mysql://u:{s}@127.0.0.1/c?plugin=x&bogus=1"), "\"bogus\""),
        u(format!("mysql://u:{s}@127.0.0.1/c?ssl_cert={dir}/cinder.conf"), "ssl_cert and ssl_key go together"),
        u(format!("mysql://u:{s}@127.0.0.1/c?ssl_ca=/nonexistent/ca.pem"), "ssl_ca file /nonexistent/ca.pem: no such file"),
        u(format!("mysql://u:{s}@127.0.0.1/c?ssl_ca={dir}"), "not a file"),
        u(format!("mysql://u:{s}@127.0.0.1/c?ssl_verify_cert=maybe"), "not a boolean"),
        u(format!("mysql://u:{s}@127.0.0.1/c?charset=utf8;DROP"), "not a character set name"),
        u(format!("mysql://u:{s}@127.0.0.1/c?charset="), "not a character set name"),
        u(format!("mysql://u:{s}@127.0.0.1/c?unix_socket="), "not a file path"),
        u(format!("mysql://u:{s}@127.0.0.1/cin%0Ader"), "control character"),
        u(format!("sqlite://u:{s}@h/x.db"), "has no host"),
        u("sqlite://host/x.db".into(), "has no host"),
        u("sqlite:////x.db?mode=ro".into(), "not supported"),
        u("sqlite:////nonexistent/x.db".into(), "/nonexistent/x.db does not exist"),
        u("sqlite:////x%0A.db".into(), "control character"),
    ]
}

/// Flags, hosts, backend IDs and audit paths: clap's and svcctl's usage errors, exit 2.
#[rustfmt::skip]
fn flag_cases(d: &TestDb) -> Vec<Case> {
    let dir = d.dir.path().display().to_string();
    let long_host = "h".repeat(100_000);
    let f = |what: &str, args: &[&str], want: &str| case(what, db(""), args, 2, want);
    vec![
        f("timeout -1", &["--timeout", "-1", "service", "list"], "\"-1\" is negative; give more than 0 up to 31536000 seconds"),
        f("timeout 0", &["--timeout", "0", "service", "list"], "\"0\" is no time at all"),
        f("timeout 0s", &["--timeout", "0s", "service", "list"], "\"0s\" is no time at all"),
        f("timeout 1e300", &["--timeout", "1e300", "service", "list"], "unknown unit \"e300\""),
        f("timeout 366d", &["--timeout", "366d", "service", "list"], "\"366d\" is too long; give more than 0 up to 31536000 seconds"),
        f("timeout inf", &["--timeout", "inf", "service", "list"], "--timeout"),
        f("timeout NaN", &["--timeout", "NaN", "service", "list"], "--timeout"),
        f("timeout word", &["--timeout", "soon", "service", "list"], "--timeout"),
        f("timeout ns", &["--timeout", "0.0000000001", "service", "list"], "finer than a nanosecond"),
        f("max-retries -5", &["--max-retries", "-5", "service", "list"], "\"-5\" is outside -1 (forever) to 2147483647"),
        f("max-retries huge", &["--max-retries", "99999999999", "service", "list"], "outside -1 (forever) to 2147483647"),
        f("max-retries word", &["--max-retries", "x", "service", "list"], "\"x\" is not a whole number; give -1 (forever) to 2147483647"),
        f("max-width word", &["service", "list", "--max-width", "abc"], "\"abc\" is not a whole number"),
        f("batch 0", &["service", "purge", "--older-than", "1", "--batch", "0"], "\"0\" is outside 1 to 100000"),
        f("batch huge", &["service", "purge", "--older-than", "1", "--batch", "100001"], "outside 1 to 100000"),
        f("wait u64 max", &["backend", "cleanup", "normal", "--wait", "18446744073709551615"], "is too long; give 0 to 31536000 seconds"),
        f("wait -1", &["backend", "cleanup", "normal", "--wait", "-1"], "--wait"),
        f("wait fraction", &["backend", "cleanup", "normal", "--wait", "2.5s"], "not a whole number of seconds"),
        f("wait unit", &["backend", "cleanup", "normal", "--wait", "5y"], "unknown unit \"y\""),
        f("kill-timeout 1y+1", &["backend", "cleanup", "normal", "--kill-timeout", "31536001"], "--kill-timeout"),
        f("kill-timeout 53w", &["backend", "cleanup", "normal", "--kill-timeout", "53w"], "too long"),
        f("kill-timeout -5", &["backend", "cleanup", "normal", "--kill-timeout", "-5"], "--kill-timeout"),
        f("down-for bare seconds", &["service", "delete", "--down-for", "7", "--yes"], "--down-for \"7\" (7s) is shorter than [DEFAULT] service_down_time (1m)"),
        f("down-for unit", &["service", "list", "--down-for", "7y"], "invalid --down-for: \"7y\" has the unknown unit"),
        f("empty zone", &["service", "list", "--zone", ""], "--zone"),
        f("empty binary", &["service", "list", "--binary", ""], "--binary"),
        f("empty binary on delete", &["service", "delete", "--host", "node02", "--binary", "", "--yes"], "--binary"),
        f("zone with newline", &["service", "list", "--zone", "a\nb"], "control character"),
        f("state sideways", &["service", "list", "--state", "sideways"], "--state"),
        f("format xml", &["service", "list", "-f", "xml"], "xml"),
        f("unknown column", &["service", "list", "-c", "nope"], "unknown column \"nope\""),
        f("delete without host", &["service", "delete"], "--host"),
        f("remove", &["service", "remove"], "unrecognized subcommand"),
        f("bogus flag", &["--bogus", "service", "list"], "--bogus"),
        f("disabled and enabled", &["service", "list", "--disabled", "--enabled"], "cannot be used with"),
        f("no subcommand", &["service"], "subcommand"),
        f("empty host", &["service", "list", "--host", ""], "invalid --host \"\""),
        f("host with pool", &["service", "delete", "--host", "node01#pool", "--yes"], "'#pool'"),
        f("host with two @", &["service", "delete", "--host", "a@b@c", "--yes"], "at most one '@'"),
        f("host with space", &["service", "list", "--host", "node 01"], "no spaces"),
        f("host 100 kB", &["service", "list", "--host", &long_host], "longer than the 255"),
        f("host with control", &["service", "delete", "--host", "node\u{1}01", "--yes"], "control characters"),
        f("host with newline", &["service", "list", "--host", "n\n1"], "invalid --host"),
        f("backend empty", &["backend", "cleanup", "", "--yes"], "invalid BACKEND \"\""),
        f("backend with @", &["backend", "cleanup", "node01@normal", "--yes"], "invalid BACKEND"),
        f("backend with space", &["backend", "cleanup", "a b", "--yes"], "invalid BACKEND"),
        f("backend glob", &["backend", "cleanup", "x*", "--yes"], "invalid BACKEND"),
        f("backend pool", &["backend", "cleanup", "pool#1", "--yes"], "invalid BACKEND"),
        f("backend newline", &["backend", "cleanup", "back\nend", "--yes"], "invalid BACKEND"),
        f("backend 100 kB", &["backend", "cleanup", &format!("a b{long_host}"), "--yes"], "invalid BACKEND"),
        f("audit dir missing", &["service", "delete", "--host", "node02", "--yes", "--audit-log", &format!("{dir}/missing/deeper/a.jsonl")], &format!("directory \"{dir}/missing/deeper\" does not exist")),
        f("audit is a dir", &["service", "delete", "--host", "node02", "--yes", "--audit-log", &dir], "is a directory"),
        f("audit empty", &["service", "delete", "--host", "node02", "--yes", "--audit-log", ""], "--audit-log"),
        f("audit on cleanup", &["backend", "cleanup", "normal", "--yes", "--audit-log", &format!("{dir}/missing/deeper/x.jsonl")], "does not exist"),
        f("audit with newline", &["service", "delete", "--host", "node02", "--yes", "--audit-log", "a\nb"], "--audit-log"),
    ]
}

/// Connecting to the private MariaDB with what its server refuses: exit 1, said once.
#[rustfmt::skip]
fn server_cases(d: &TestDb) -> Vec<Case> {
    let port = mariadb().map_or(1, |m| m.port);
    let name = &d.name;
    let norights = format!("norights_{name}");
    d.exec(&format!(
        "CREATE USER IF NOT EXISTS '{norights}'@'127.0.0.1' IDENTIFIED BY '{SECRET}'"
    ));
    let conn = |c: String| db(&format!("[database]\nconnection = {c}"));
    vec![
        case("wrong password", conn(format!("mysql+pymysql://{USER}:{SECRET}@127.0.0.1:{port}/{name}")), LIST, 1, &format!("refused user \"{USER}\" (access denied)")),
        case("no rights (1044)", conn(format!("mysql+pymysql://{norights}:{SECRET}@127.0.0.1:{port}/{name}")), LIST, 1, &format!("has no rights on database \"{name}\"")),
        case("unknown database", conn(d.url().replace(name.as_str(), "no_such_db")), LIST, 1, "database \"no_such_db\" does not exist"),
        case("bad sql_mode", db("[database]\nmysql_sql_mode = NOT_A_MODE"), LIST, 1, "rejected [database] mysql_sql_mode = \"NOT_A_MODE\""),
        case("nothing listening", conn(format!("mysql+pymysql://{USER}:{SECRET}@127.0.0.1:1/{name}")), LIST, 1, "cannot reach the database at 127.0.0.1:1"),
    ]
}

fn run(d: &TestDb, c: &Case) {
    let mut svcctl = Svcctl::new();
    match &c.conf {
        Conf::Db(extra) => svcctl = svcctl.config(&d.conf("node01", extra)),
        Conf::Text(bytes) => {
            let path = d.dir.path().join("corpus.conf");
            std::fs::write(&path, bytes).unwrap();
            svcctl = svcctl.config(&path);
        }
        Conf::None => {}
    }
    for (k, v) in &c.env {
        svcctl = svcctl.env(k, v);
    }
    let args: Vec<&str> = c.args.iter().map(String::as_str).collect();
    let run = svcctl.run(&args);
    let what = &c.what;
    let all = format!(
        "{what}: exit {}\nstdout:\n{}\nstderr:\n{}",
        run.code, run.stdout, run.stderr
    );
    assert_ne!(run.code, 101, "panicked: {all}");
    assert!(
        !run.stderr.contains("panicked") && !run.stderr.contains("RUST_BACKTRACE"),
        "{all}"
    );
    for secret in [SECRET, PASSWORD] {
        assert!(
            !run.stdout.contains(secret) && !run.stderr.contains(secret),
            "password shown: {all}"
        );
    }
    assert_eq!(run.code, c.code, "{all}");
    assert_eq!(run.stdout, "", "{all}");
    assert_eq!(run.stderr.lines().count(), 1, "one line: {all}");
    assert!(
        run.stderr.starts_with("svcctl: ") && run.stderr.ends_with('\n'),
        "{all}"
    );
    assert!(run.stderr.contains(&c.want), "wanted {:?}: {all}", c.want);
    assert!(
        run.stderr.chars().count() <= 1100,
        "{what}: {} characters",
        run.stderr.len()
    );
}

fn corpus(d: &TestDb) {
    d.service(1, "node01", "cinder-scheduler", 5);
    d.service(2, "node02", "cinder-scheduler", 3600);
    d.service(3, "node01@normal", "cinder-volume", 3600);
    d.volume("11111111-1111-1111-1111-111111111111", "node01@normal#p");
    std::fs::create_dir(d.dir.path().join("empty.d")).unwrap();
    let before = d.fingerprint();
    let mut cases = config_cases(d);
    cases.extend(url_cases(d));
    cases.extend(flag_cases(d));
    if d.backend == Backend::MySql {
        cases.extend(server_cases(d));
    }
    assert!(cases.len() >= 100, "{} cases", cases.len());
    for c in &cases {
        run(d, c);
    }
    assert_eq!(
        d.fingerprint(),
        before,
        "a malformed input changed the database"
    );
    assert!(!d.audit_path().exists());
    assert!(
        !d.dir.path().join("missing").exists(),
        "an --audit-log directory was created"
    );
}

#[test]
fn sqlite() {
    corpus(&TestDb::new(Backend::Sqlite, Schema::Cinder).unwrap());
}

#[test]
fn mysql() {
    if let Some(d) = TestDb::new(Backend::MySql, Schema::Cinder) {
        corpus(&d);
        let norights = format!("norights_{}", d.name);
        d.exec(&format!("DROP USER IF EXISTS '{norights}'@'127.0.0.1'"));
    }
}

/// A panic still ends in one line, without the password, exit 1: forced through the
/// `test-seams` build's `SVCCTL_TEST_PANIC`, after the connection string was read.
#[test]
fn a_panic_is_one_line_without_the_password() {
    let d = TestDb::new(Backend::Sqlite, Schema::Cinder).unwrap();
    let conf = d.conf(
        "node01",
        &format!("[database]\nconnection = mysql+pymysql://u:{SECRET}@127.0.0.1:1/c"),
    );
    let run = Svcctl::new()
        .config(&conf)
        .env("SVCCTL_TEST_PANIC", "1")
        .run(&["service", "list"]);
    let all = format!("exit {}\n{}", run.code, run.stderr);
    assert_eq!(run.code, 1, "{all}");
    assert_eq!(run.stderr.lines().count(), 1, "{all}");
    assert!(
        run.stderr
            .starts_with("svcctl: internal error: forced by SVCCTL_TEST_PANIC"),
        "{all}"
    );
    assert!(!run.stderr.contains(SECRET), "{all}");
}
