//! The typed settings svcctl takes from cinder.conf (`Settings`, `DatabaseSettings`), layered
//! as oslo.config layers them: the table's defaults (`options.rs`), then config files in
//! command-line order (`files.rs`), then `OS_<GROUP>__<OPT>` environment variables, then
//! command-line flags; then `$opt` substitution (`oslo::Resolver`); then typed values.

use std::path::PathBuf;

use anyhow::Result;
use config::{Config, Environment, Map, Source};

use super::files::{self, ConfigSource};
use super::hints;
use super::options::{OPTIONS, Typed};
use super::oslo::{self, DEFAULT_GROUP, Resolver};
use crate::error::Failure;
use crate::secret::SecretUrl;
use crate::text;

/// Values given as command-line flags; they beat files and the environment.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub max_retries: Option<i64>,
}

/// The `[database]` options of oslo.db that svcctl honours; the database layer connects from
/// them as they are. `Debug` shows the connection masked (`SecretUrl`).
#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    /// The SQLAlchemy URL, password and all.
    pub connection: SecretUrl,
    /// Where `connection` was set (`path:line`, "the environment"); None when nowhere and
    /// Cinder's default applies.
    pub connection_origin: Option<String>,
    /// When it was set nowhere: the files read, and a near miss (`conection`), for the message.
    pub connection_unset: String,
    pub max_retries: i64,
    pub retry_interval: u64,
    pub use_db_reconnect: bool,
    pub db_retry_interval: u64,
    pub db_inc_retry_interval: bool,
    pub db_max_retry_interval: u64,
    pub db_max_retries: i64,
    pub mysql_sql_mode: String,
    pub mysql_wsrep_sync_wait: Option<i64>,
}

/// Everything svcctl takes from cinder.conf.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database: DatabaseSettings,
    /// `[DEFAULT] service_down_time`: seconds without a heartbeat before a service is down.
    pub service_down_time: i64,
    /// `[DEFAULT] host`: this node's name in the services table.
    pub host: String,
    /// `[DEFAULT] enabled_backends` (a ListOpt: comma-separated, blanks dropped): the backends
    /// cinder-volume starts a service for; `backend cleanup` refuses a backend still listed.
    pub enabled_backends: Vec<String>,
    /// The files actually read, in order.
    pub files_read: Vec<PathBuf>,
}

/// Reads the configuration. `env` is the environment to take `OS_*` overrides from.
pub fn load(
    sources: &[ConfigSource],
    env: impl IntoIterator<Item = (String, String)>,
    overrides: &Overrides,
) -> Result<Settings> {
    let files = files::resolve(sources)?;
    let mut builder = Config::builder();
    for opt in OPTIONS {
        if let Some(default) = opt.default {
            builder = builder.set_default(format!("{}.{}", opt.group, opt.name), default)?;
        }
    }
    let mut files_read = Vec::new();
    for path in &files {
        let Some(file) = files::read(path, sources.is_empty())? else {
            continue;
        };
        builder = builder.add_source(file);
        files_read.push(path.clone());
    }
    // Only OS_<GROUP>__<OPT>, and only plain names: other OS_* variables (OS_AUTH_URL, ...)
    // belong to the clients, and the config crate would read `[`, `.` in a name as a path.
    let env: Map<String, String> = env
        .into_iter()
        .filter(|(k, _)| {
            k.strip_prefix("OS_").is_some_and(|rest| {
                rest.contains("__") && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            })
        })
        .collect();
    builder = builder.add_source(
        Environment::with_prefix("OS")
            .prefix_separator("_")
            .separator("__")
            .source(Some(env)),
    );
    if let Some(n) = overrides.max_retries {
        builder = builder.set_override("database.max_retries", n.to_string())?;
    }
    let merged = builder.build().map_err(|e| {
        Failure::Config(format!(
            "cannot combine configuration: {}",
            text::one_line(&e.to_string(), text::QUOTE_MAX)
        ))
    })?;
    let raw = oslo::flatten(Source::collect(&merged).map_err(|e| {
        Failure::Config(format!(
            "cannot read the merged configuration: {}",
            text::one_line(&e.to_string(), text::QUOTE_MAX)
        ))
    })?);
    Settings::from_resolver(&Resolver::new(&raw), files_read)
}

impl Settings {
    fn from_resolver(r: &Resolver, files_read: Vec<PathBuf>) -> Result<Settings> {
        let t = Typed { r };
        let wsrep = match r.get("database", "mysql_wsrep_sync_wait")? {
            Some((v, _)) if v.trim().is_empty() => None,
            _ => t.int("database", "mysql_wsrep_sync_wait")?,
        };
        let (connection, connection_origin) = t.text("database", "connection")?.unwrap_or_default();
        let connection_unset = match connection_origin {
            Some(_) => String::new(),
            None => hints::unset_note(&files_read, hints::connection_hint(r)),
        };
        let database = DatabaseSettings {
            connection: SecretUrl::new(connection),
            connection_origin,
            connection_unset,
            max_retries: t.required("database", "max_retries")?,
            retry_interval: t.seconds("database", "retry_interval")?,
            use_db_reconnect: t.boolean("database", "use_db_reconnect")?,
            db_retry_interval: t.seconds("database", "db_retry_interval")?,
            db_inc_retry_interval: t.boolean("database", "db_inc_retry_interval")?,
            db_max_retry_interval: t.seconds("database", "db_max_retry_interval")?,
            db_max_retries: t.required("database", "db_max_retries")?,
            mysql_sql_mode: t.text("database", "mysql_sql_mode")?.unwrap_or_default().0,
            mysql_wsrep_sync_wait: wsrep,
        };
        let host = match t.text(DEFAULT_GROUP, "host")? {
            Some((h, _)) if !h.trim().is_empty() => h.trim().to_string(),
            _ => this_hostname(),
        };
        // Read for its own errors (a bad state_path is reported even if nothing refers to it).
        t.text(DEFAULT_GROUP, "state_path")?;
        Ok(Settings {
            database,
            service_down_time: t.required(DEFAULT_GROUP, "service_down_time")?,
            host,
            enabled_backends: t
                .text(DEFAULT_GROUP, "enabled_backends")?
                .unwrap_or_default()
                .0
                .split(',')
                .map(|b| b.trim().to_string())
                .filter(|b| !b.is_empty())
                .collect(),
            files_read,
        })
    }
}

/// oslo's default for `[DEFAULT] host`: the machine's hostname (`socket.gethostname()`).
fn this_hostname() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_else(|| "localhost".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::io::Write;

    fn conf(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::Builder::new().suffix(".conf").tempfile().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f
    }

    fn load_files(files: &[&tempfile::NamedTempFile], env: &[(&str, &str)]) -> Result<Settings> {
        let sources: Vec<_> = files
            .iter()
            .map(|f| ConfigSource::File(f.path().to_path_buf()))
            .collect();
        let env = env.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        load(&sources, env, &Overrides::default())
    }

    #[test]
    fn defaults_are_oslo_defaults() {
        let f = conf("[DEFAULT]\nhost = node01\n");
        let s = load_files(&[&f], &[]).unwrap();
        assert_eq!(
            s.database.connection.expose(),
            "sqlite:////var/lib/cinder/cinder.sqlite"
        );
        assert_eq!(
            (
                s.database.max_retries,
                s.database.retry_interval,
                s.database.db_max_retries
            ),
            (10, 10, 20)
        );
        assert!(!s.database.use_db_reconnect);
        assert!(s.database.db_inc_retry_interval);
        assert_eq!(s.database.db_max_retry_interval, 10);
        assert_eq!(s.database.mysql_sql_mode, "TRADITIONAL");
        assert_eq!(s.database.mysql_wsrep_sync_wait, None);
        assert_eq!(s.service_down_time, 60);
        assert_eq!(s.host, "node01");
        assert!(s.enabled_backends.is_empty());
        let f = conf("[DEFAULT]\nenabled_backends = lvm, backend-2813902f-2c94,,\n");
        assert_eq!(
            load_files(&[&f], &[]).unwrap().enabled_backends,
            ["lvm", "backend-2813902f-2c94"]
        );
    }

    #[test]
    fn seed_block_reads_as_cinder_reads_it() {
        let f = conf(
            "[database]\nconnection = mysql+pymysql://cinder:cinder_dbpass@192.168.41.10/cinder\n\
             max_retries = -1\nretry_interval = 1\nuse_db_reconnect = true\n\
             db_max_retry_interval = 1\ndb_max_retries = -1\n",
        );
        let s = load_files(&[&f], &[]).unwrap();
        assert_eq!(s.database.max_retries, -1);
        assert_eq!(s.database.retry_interval, 1);
        assert!(s.database.use_db_reconnect);
        assert_eq!(s.database.db_max_retries, -1);
        assert!(!format!("{s:?}").contains("cinder_dbpass"));
    }

    #[test]
    fn later_files_win_and_repeated_sections_merge() {
        let a = conf(
            "[database]\nmax_retries = 3\nretry_interval = 4\n[DATABASE]\nretry_interval = 5\n",
        );
        let b = conf("[Database]\nmax_retries = 7\n");
        let s = load_files(&[&a, &b], &[]).unwrap();
        assert_eq!((s.database.max_retries, s.database.retry_interval), (7, 5));
    }

    #[test]
    fn environment_beats_files_and_flags_beat_environment() {
        let a = conf("[database]\nmax_retries = 3\n[DEFAULT]\nservice_down_time = 5\n");
        let s = load_files(
            &[&a],
            &[
                ("OS_DATABASE__MAX_RETRIES", "4"),
                ("OS_DEFAULT__SERVICE_DOWN_TIME", "9"),
            ],
        )
        .unwrap();
        assert_eq!((s.database.max_retries, s.service_down_time), (4, 9));
        let s = load(
            &[ConfigSource::File(a.path().into())],
            [("OS_DATABASE__MAX_RETRIES".to_string(), "4".to_string())],
            &Overrides {
                max_retries: Some(0),
            },
        )
        .unwrap();
        assert_eq!(s.database.max_retries, 0);
    }

    #[test]
    fn substitution_follows_oslo() {
        let f = conf(
            "[DEFAULT]\nstate_path = /srv/cinder\nname = x\n[database]\n\
             connection = sqlite:///${DEFAULT.state_path}/${name}.sqlite\nmysql_sql_mode = a$$b\\$c\n",
        );
        let s = load_files(&[&f], &[]).unwrap();
        assert_eq!(
            s.database.connection.expose(),
            "sqlite:////srv/cinder/x.sqlite"
        );
        assert_eq!(s.database.mysql_sql_mode, "a$b$c");
        // Cinder's default connection goes through $state_path too.
        let g = conf("[DEFAULT]\nstate_path = /st\n");
        assert_eq!(
            load_files(&[&g], &[]).unwrap().database.connection.expose(),
            "sqlite:////st/cinder.sqlite"
        );
    }

    #[test]
    fn unknown_substitution_is_a_config_error() {
        let f = conf("[database]\nconnection = sqlite:///$nowhere/x\n");
        let e = load_files(&[&f], &[]).unwrap_err();
        let msg = format!("{e:#}");
        assert!(
            msg.contains("$nowhere") && msg.contains("[database] connection"),
            "{msg}"
        );
        assert!(msg.contains(&format!("{}:2", f.path().display())), "{msg}");
        assert_eq!(crate::error::exit_code(&e), 2);
    }

    #[test]
    fn bad_values_name_option_and_line() {
        let f = conf("[database]\n\nmax_retries = many\n");
        let msg = format!("{:#}", load_files(&[&f], &[]).unwrap_err());
        assert!(msg.contains("[database] max_retries"), "{msg}");
        assert!(msg.contains(&format!("{}:3", f.path().display())), "{msg}");
        let g = conf("[database]\nuse_db_reconnect = maybe\n");
        assert!(format!("{:#}", load_files(&[&g], &[]).unwrap_err()).contains("not a boolean"));
    }

    #[test]
    fn config_dir_reads_sorted_conf_files_after_earlier_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("20-b.conf"),
            "[database]\nmax_retries = 2\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("10-a.conf"),
            "[database]\nmax_retries = 1\nretry_interval = 1\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("99-z.txt"),
            "[database]\nmax_retries = 99\n",
        )
        .unwrap();
        let f = conf("[database]\nretry_interval = 7\nmax_retries = 0\n");
        let s = load(
            &[
                ConfigSource::File(f.path().into()),
                ConfigSource::Dir(dir.path().into()),
            ],
            std::iter::empty(),
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!((s.database.max_retries, s.database.retry_interval), (2, 1));
        assert_eq!(s.files_read.len(), 3);
    }

    #[test]
    fn missing_explicit_file_is_a_config_error() {
        let e = load(
            &[ConfigSource::File("/nonexistent/cinder.conf".into())],
            std::iter::empty(),
            &Overrides::default(),
        )
        .unwrap_err();
        assert_eq!(crate::error::exit_code(&e), 2);
        assert!(format!("{e:#}").contains("/nonexistent/cinder.conf"));
    }

    #[test]
    fn numbers_are_range_checked_with_the_range_in_the_error() {
        for (text, want) in [
            (
                "[DEFAULT]\nservice_down_time = 9223372036854775807\n",
                "from 1 to 315360000",
            ),
            (
                "[DEFAULT]\nservice_down_time = 9999999999999999\n",
                "from 1 to 315360000",
            ),
            ("[DEFAULT]\nservice_down_time = 0\n", "from 1 to 315360000"),
            ("[database]\nretry_interval = -1\n", "from 0 to 31536000"),
            (
                "[database]\ndb_max_retry_interval = 99999999999999999999\n",
                "from 0 to 31536000",
            ),
            ("[database]\nmax_retries = -2\n", "from -1 to 2147483647"),
            ("[database]\nmysql_wsrep_sync_wait = 16\n", "from 0 to 15"),
        ] {
            let f = conf(text);
            let e = load_files(&[&f], &[]).unwrap_err();
            let msg = format!("{e:#}");
            assert!(msg.contains(want), "{text}: {msg}");
            assert_eq!(crate::error::exit_code(&e), 2);
        }
        let f = conf("[DEFAULT]\nservice_down_time = 315360000\n");
        assert_eq!(
            load_files(&[&f], &[]).unwrap().service_down_time,
            315_360_000
        );
    }

    #[test]
    fn a_continuation_line_in_connection_is_named_not_passed_on() {
        let f = conf("[database]\nconnection = mysql://u:hunter22@h/cinder\n  more\n");
        let msg = format!("{:#}", load_files(&[&f], &[]).unwrap_err());
        assert!(msg.contains("[database] connection"), "{msg}");
        assert!(msg.contains(&format!("{}:2", f.path().display())), "{msg}");
        assert!(!msg.contains("hunter22") && !msg.contains('\n'), "{msg}");
    }

    #[test]
    fn unset_connection_says_so_with_a_hint() {
        let f = conf("[database]\nconection = sqlite:////x.db\n");
        let s = load_files(&[&f], &[]).unwrap();
        assert_eq!(s.database.connection_origin, None);
        let unset = &s.database.connection_unset;
        assert!(
            unset.starts_with(&format!("not in {}", f.path().display())),
            "{unset}"
        );
        assert!(unset.contains("is [database] conection (from"), "{unset}");
        let g = conf("[DEFAULT]\nconnection = sqlite:////x.db\n");
        let s = load_files(&[&g], &[]).unwrap();
        assert!(
            s.database
                .connection_unset
                .contains("belongs under [database]")
        );
        let h = conf("[database]\nconnection = sqlite:////x.db\n");
        let s = load_files(&[&h], &[]).unwrap();
        assert_eq!(
            s.database.connection_origin,
            Some(format!("{}:2", h.path().display()))
        );
        assert_eq!(s.database.connection_unset, "");
    }

    #[test]
    fn substitution_that_multiplies_or_nests_deep_is_an_error_not_a_hang() {
        let mut text = String::from("[DEFAULT]\nhost = $a0\n");
        for i in 0..40 {
            text.push_str(&format!("a{i} = {}\n", format!("$a{} ", i + 1).repeat(10)));
        }
        text.push_str("a40 = x\n");
        let f = conf(&text);
        let msg = format!("{:#}", load_files(&[&f], &[]).unwrap_err());
        assert!(msg.contains("grows past"), "{msg}");
        let mut deep = String::from("[DEFAULT]\nhost = $b0\n");
        for i in 0..200 {
            deep.push_str(&format!("b{i} = $b{}\n", i + 1));
        }
        let g = conf(&deep);
        let msg = format!("{:#}", load_files(&[&g], &[]).unwrap_err());
        assert!(msg.contains("more than 64 deep"), "{msg}");
    }

    #[test]
    fn odd_group_and_environment_names_are_ignored_not_expanded() {
        let f = conf("[x[99999999]]\na = 1\n[a.b]\nc = 2\n[DEFAULT]\nhost = n1\n");
        let s = load_files(&[&f], &[("OS_X[99999999]__Y", "1"), ("OS_A.B__C", "2")]).unwrap();
        assert_eq!(s.host, "n1");
    }

    #[test]
    fn invalid_utf8_names_the_line() {
        let mut f = tempfile::Builder::new().suffix(".conf").tempfile().unwrap();
        f.write_all(b"[DEFAULT]\nhost = a\xff\n").unwrap();
        let msg = format!("{:#}", load_files(&[&f], &[]).unwrap_err());
        assert!(
            msg.contains(&format!("{}:2: not valid UTF-8", f.path().display())),
            "{msg}"
        );
    }

    #[test]
    fn every_option_in_the_table_is_read() {
        let f = conf("[DEFAULT]\nhost = n\n");
        let s = load_files(&[&f], &[]).unwrap();
        let debug = format!("{:?}", s);
        for opt in OPTIONS.iter().filter(|o| o.name != "state_path") {
            assert!(
                debug.contains(opt.name),
                "{} is in OPTIONS but not in Settings",
                opt.name
            );
        }
    }

    fn database(connection: String) -> DatabaseSettings {
        DatabaseSettings {
            connection: SecretUrl::new(connection),
            connection_origin: Some("cinder.conf:2".into()),
            connection_unset: String::new(),
            max_retries: 10,
            retry_interval: 10,
            use_db_reconnect: false,
            db_retry_interval: 1,
            db_inc_retry_interval: true,
            db_max_retry_interval: 10,
            db_max_retries: 20,
            mysql_sql_mode: "TRADITIONAL".into(),
            mysql_wsrep_sync_wait: None,
        }
    }

    proptest! {
        /// `Debug` of the database settings never shows the password, whatever the connection
        /// string's shape (a scheme or none, one slash, a raw '@', ':' or "://" in the
        /// password, a port or none): it is the same whatever the password is.
        #[test]
        fn debug_of_database_settings_never_shows_the_password(
            head in prop::sample::select(vec![
                "mysql+pymysql://", "mysql://", "sqlite://", "postgresql://", "mysql+pymysql:/", "",
            ]),
            user in "[a-z0-9_]{0,8}",
            password in prop::collection::vec(
                prop_oneof!["[ -~]{0,6}", "(://|@|:|/|\\?|=|&|#|%40|@h/|@h:1)"],
                0..6,
            )
            .prop_map(|pieces| pieces.concat()),
            host in "[a-z][a-z0-9.-]{0,10}(:[0-9]{1,5})?",
            rest in "(/[a-z]{0,8})?(\\?charset=utf8)?",
        ) {
            let shown = |password: &str| {
                format!("{:?}", database(format!("{head}{user}:Pw{password}@{host}{rest}")))
            };
            let with = shown(&password);
            prop_assert!(!with.contains(&format!("Pw{password}")), "{}", with);
            prop_assert_eq!(&with, &shown("other"));
            prop_assert!(with.contains(":***@"), "{}", with);
        }

        /// Any text as a config file: no panic, and an error is one line without the password.
        #[test]
        fn any_config_loads_or_fails_in_one_line(
            lines in prop::collection::vec(
                "(\\[(DEFAULT|database|Database|x)\\]|[ \t]?[a-z_$]{0,12} ?[=:] ?[ -~]{0,30}|#.*|)",
                0..12,
            )
        ) {
            let text = format!("[database]\nconnection = mysql://u:Pw-Prop-9@h/c\n{}\n", lines.join("\n"));
            let f = conf(&text);
            if let Err(e) = load_files(&[&f], &[]) {
                let msg = format!("{e:#}");
                prop_assert!(!msg.contains('\n'), "{}", msg);
                prop_assert!(!msg.contains("Pw-Prop-9"), "{}", msg);
            }
        }
    }
}
