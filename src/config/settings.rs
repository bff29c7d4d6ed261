//! The options svcctl reads from cinder.conf, layered as oslo.config layers them:
//! defaults, then config files in command-line order, then `OS_<GROUP>__<OPT>` environment
//! variables, then command-line flags; then `$opt` substitution; then typed values.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, Result};
use config::{Config, Environment, File, Map, Source, Value, ValueKind};

use super::oslo::{DEFAULT_GROUP, OsloIni};
use crate::error::Failure;

/// Where cinder.conf is looked for when no `--config-file`/`--config-dir` is given.
pub const DEFAULT_CONFIG_FILE: &str = "/etc/cinder/cinder.conf";

/// Cinder's own default for `[database] connection` (cinder/db/api.py sets it this way).
const DEFAULT_CONNECTION: &str = "sqlite:///$state_path/cinder.sqlite";

/// One `--config-file` or `--config-dir`, in the order given on the command line: oslo parses
/// them in that order, so a later one overrides an earlier one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    File(PathBuf),
    Dir(PathBuf),
}

/// Values given as command-line flags; they beat files and the environment.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub max_retries: Option<i64>,
}

/// The `[database]` options of oslo.db that svcctl honours.
#[derive(Clone)]
pub struct DatabaseSettings {
    /// The SQLAlchemy URL. It holds the password: never print it, use `db::url` to mask it.
    pub connection: String,
    pub max_retries: i64,
    pub retry_interval: u64,
    pub use_db_reconnect: bool,
    pub db_retry_interval: u64,
    pub db_inc_retry_interval: bool,
    pub db_max_retry_interval: u64,
    pub db_max_retries: i64,
    pub connection_recycle_time: u64,
    pub max_pool_size: u32,
    pub mysql_sql_mode: String,
    pub mysql_wsrep_sync_wait: Option<i64>,
}

impl std::fmt::Debug for DatabaseSettings {
    // Hand-written so that the connection URL (and its password) never reaches a debug log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseSettings")
            .field("connection", &crate::db::url::mask(&self.connection))
            .field("max_retries", &self.max_retries)
            .field("retry_interval", &self.retry_interval)
            .field("use_db_reconnect", &self.use_db_reconnect)
            .field("db_retry_interval", &self.db_retry_interval)
            .field("db_inc_retry_interval", &self.db_inc_retry_interval)
            .field("db_max_retry_interval", &self.db_max_retry_interval)
            .field("db_max_retries", &self.db_max_retries)
            .field("mysql_sql_mode", &self.mysql_sql_mode)
            .field("mysql_wsrep_sync_wait", &self.mysql_wsrep_sync_wait)
            .finish_non_exhaustive()
    }
}

/// Everything svcctl takes from cinder.conf.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database: DatabaseSettings,
    /// `[DEFAULT] service_down_time`: seconds without a heartbeat before a service is down.
    pub service_down_time: i64,
    pub report_interval: i64,
    /// `[DEFAULT] host`: this node's name in the services table.
    pub host: String,
    pub state_path: String,
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
    let files = resolve_files(sources)?;
    let mut builder = Config::builder();
    for (key, value) in defaults() {
        builder = builder.set_default(key, value)?;
    }
    let mut files_read = Vec::new();
    for path in &files {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            // oslo reads the default file only if it is there; an explicit one must exist.
            Err(e) if sources.is_empty() && e.kind() == std::io::ErrorKind::NotFound => {
                tracing::debug!(file = %path.display(), "default config file absent; using defaults and environment");
                continue;
            }
            Err(e) => {
                return Err(Failure::Config(format!(
                    "cannot read config file {}: {}; pass an existing, readable --config-file",
                    path.display(),
                    io_reason(&e)
                ))
                .into());
            }
        };
        tracing::debug!(file = %path.display(), "reading config file");
        let format = OsloIni {
            path: path.display().to_string(),
        };
        // Parse here first so a malformed line is reported as `file:line: ...`, not wrapped in
        // the config crate's own wording.
        super::oslo::parse(&format.path, &text).map_err(|e| {
            Failure::Config(format!("{e}; fix the line or pass another --config-file"))
        })?;
        builder = builder.add_source(File::from_str(&text, format));
        files_read.push(path.clone());
    }
    // Only OS_<GROUP>__<OPT>: other OS_* variables (OS_AUTH_URL, ...) belong to the clients.
    let env: Map<String, String> = env
        .into_iter()
        .filter(|(k, _)| k.starts_with("OS_") && k.contains("__"))
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
    let merged = builder
        .build()
        .map_err(|e| Failure::Config(format!("cannot combine configuration: {e}")))?;
    let raw = flatten(Source::collect(&merged).context("reading merged configuration")?);
    Settings::from_raw(&raw, files_read)
}

/// The files to read, in order: the explicit ones (a directory contributes its `*.conf`,
/// sorted), or the default cinder.conf.
fn resolve_files(sources: &[ConfigSource]) -> Result<Vec<PathBuf>> {
    if sources.is_empty() {
        return Ok(vec![PathBuf::from(DEFAULT_CONFIG_FILE)]);
    }
    let mut files = Vec::new();
    for source in sources {
        match source {
            ConfigSource::File(path) => files.push(path.clone()),
            ConfigSource::Dir(dir) => {
                let entries = std::fs::read_dir(dir).map_err(|e| {
                    Failure::Config(format!(
                        "cannot read config directory {}: {}; pass an existing --config-dir",
                        dir.display(),
                        io_reason(&e)
                    ))
                })?;
                let mut confs: Vec<PathBuf> = entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "conf") && p.is_file())
                    .collect();
                confs.sort();
                files.extend(confs);
            }
        }
    }
    Ok(files)
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

fn defaults() -> Vec<(&'static str, &'static str)> {
    vec![
        ("database.connection", DEFAULT_CONNECTION),
        ("database.max_retries", "10"),
        ("database.retry_interval", "10"),
        ("database.use_db_reconnect", "false"),
        ("database.db_retry_interval", "1"),
        ("database.db_inc_retry_interval", "true"),
        ("database.db_max_retry_interval", "10"),
        ("database.db_max_retries", "20"),
        ("database.connection_recycle_time", "3600"),
        ("database.max_pool_size", "5"),
        ("database.mysql_sql_mode", "TRADITIONAL"),
        ("default.service_down_time", "60"),
        ("default.report_interval", "10"),
        ("default.state_path", "/var/lib/cinder"),
    ]
}

/// A raw option value and where it came from (`file:line`, "the environment", ...).
#[derive(Debug, Clone)]
struct RawValue {
    value: String,
    origin: Option<String>,
}

type RawConfig = BTreeMap<(String, String), RawValue>;

fn flatten(groups: Map<String, Value>) -> RawConfig {
    let mut out = RawConfig::new();
    for (group, value) in groups {
        if let ValueKind::Table(opts) = value.kind {
            for (opt, v) in opts {
                let origin = v.origin().map(str::to_string);
                let text = match v.kind {
                    ValueKind::String(s) => s,
                    other => other.to_string(),
                };
                out.insert(
                    (group.clone(), opt),
                    RawValue {
                        value: text,
                        origin,
                    },
                );
            }
        }
    }
    out
}

/// How an option is named in messages: `[database] max_retries`.
fn option_name(group: &str, opt: &str) -> String {
    let group = if group == DEFAULT_GROUP {
        "DEFAULT"
    } else {
        group
    };
    format!("[{group}] {opt}")
}

fn origin_suffix(origin: &Option<String>) -> String {
    match origin {
        Some(o) => format!(" (from {o})"),
        None => String::new(),
    }
}

struct Resolver<'a> {
    raw: &'a RawConfig,
}

impl Resolver<'_> {
    /// The substituted value of an option, or None when it is not set anywhere.
    fn get(&self, group: &str, opt: &str) -> Result<Option<(String, Option<String>)>> {
        self.get_depth(group, opt, 0)
    }

    fn get_depth(
        &self,
        group: &str,
        opt: &str,
        depth: usize,
    ) -> Result<Option<(String, Option<String>)>> {
        let Some(raw) = self.raw.get(&(group.to_string(), opt.to_string())) else {
            return Ok(None);
        };
        if depth > 16 {
            return Err(Failure::Config(format!(
                "{} refers to itself through $-substitution; break the loop",
                option_name(group, opt)
            ))
            .into());
        }
        let value = self.substitute(&raw.value, group, opt, &raw.origin, depth)?;
        Ok(Some((value, raw.origin.clone())))
    }

    /// oslo.config's template rules: `$$` and `\$` are a literal `$`; `$name` and `${name}`
    /// look the option up in the same group, then in DEFAULT; `${group.name}` names the group.
    /// A `$` not followed by a name is left as it is (oslo uses `safe_substitute`).
    fn substitute(
        &self,
        value: &str,
        group: &str,
        opt: &str,
        origin: &Option<String>,
        depth: usize,
    ) -> Result<String> {
        let value = value.replace("\\$", "$$");
        let bytes = value.as_bytes();
        let mut out = String::with_capacity(value.len());
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] != b'$' {
                let next = value[i..].find('$').map_or(value.len(), |n| i + n);
                out.push_str(&value[i..next]);
                i = next;
                continue;
            }
            let rest = &value[i + 1..];
            if rest.starts_with('$') {
                out.push('$');
                i += 2;
                continue;
            }
            let (name, consumed) = if let Some(braced) = rest.strip_prefix('{') {
                match braced.find('}') {
                    Some(end) if is_identifier(&braced[..end]) => {
                        (braced[..end].to_string(), end + 2)
                    }
                    _ => (String::new(), 0),
                }
            } else {
                let len = rest
                    .char_indices()
                    .take_while(|&(n, c)| {
                        c == '_'
                            || c.is_ascii_alphabetic()
                            || (n > 0 && (c == '.' || c.is_ascii_digit()))
                    })
                    .count();
                (rest[..len].to_string(), len)
            };
            if name.is_empty() {
                out.push('$');
                i += 1;
                continue;
            }
            let (ref_group, ref_opt) = match name.split_once('.') {
                Some((g, o)) => (normalize_ref_group(g), o.to_lowercase()),
                None => (group.to_string(), name.to_lowercase()),
            };
            let found = match self.get_depth(&ref_group, &ref_opt, depth + 1)? {
                Some(v) => Some(v),
                None if !name.contains('.') => {
                    self.get_depth(DEFAULT_GROUP, &ref_opt, depth + 1)?
                }
                None => None,
            };
            let Some((text, _)) = found else {
                return Err(Failure::Config(format!(
                    "{}{} refers to ${}, which is not set; set it or write $$ for a literal '$'",
                    option_name(group, opt),
                    origin_suffix(origin),
                    name
                ))
                .into());
            };
            out.push_str(&text);
            i += 1 + consumed;
        }
        Ok(out)
    }
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c == '.' || c.is_ascii_alphanumeric())
}

fn normalize_ref_group(g: &str) -> String {
    if g == "DEFAULT" {
        DEFAULT_GROUP.to_string()
    } else {
        g.to_lowercase()
    }
}

/// oslo.config's boolean spellings.
fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_lowercase().as_str() {
        "true" | "1" | "on" | "yes" => Some(true),
        "false" | "0" | "off" | "no" => Some(false),
        _ => None,
    }
}

impl Settings {
    fn from_raw(raw: &RawConfig, files_read: Vec<PathBuf>) -> Result<Settings> {
        let r = Resolver { raw };
        let s = |g: &str, o: &str| -> Result<Option<String>> { Ok(r.get(g, o)?.map(|(v, _)| v)) };
        let typed = |g: &str, o: &str, want: &str, min: i64| -> Result<i64> {
            let (text, origin) = r.get(g, o)?.expect("every integer option has a default");
            match text.trim().parse::<i64>() {
                Ok(n) if n >= min => Ok(n),
                _ => Err(Failure::Config(format!(
                    "{} = {:?}{} is not {}; fix the value",
                    option_name(g, o),
                    text,
                    origin_suffix(&origin),
                    want
                ))
                .into()),
            }
        };
        let int = |g: &str, o: &str| typed(g, o, "a whole number of 0 or more", 0);
        let retries = |g: &str, o: &str| typed(g, o, "a whole number (-1 = forever)", -1);
        let boolean = |g: &str, o: &str| -> Result<bool> {
            let (text, origin) = r.get(g, o)?.expect("every boolean option has a default");
            parse_bool(&text).ok_or_else(|| {
                Failure::Config(format!(
                    "{} = {:?}{} is not a boolean; use true or false",
                    option_name(g, o),
                    text,
                    origin_suffix(&origin)
                ))
                .into()
            })
        };
        let wsrep = match r.get("database", "mysql_wsrep_sync_wait")? {
            None => None,
            Some((t, _)) if t.trim().is_empty() => None,
            Some(_) => Some(int("database", "mysql_wsrep_sync_wait")?),
        };
        let database = DatabaseSettings {
            connection: s("database", "connection")?.unwrap_or_default(),
            max_retries: retries("database", "max_retries")?,
            retry_interval: int("database", "retry_interval")? as u64,
            use_db_reconnect: boolean("database", "use_db_reconnect")?,
            db_retry_interval: int("database", "db_retry_interval")? as u64,
            db_inc_retry_interval: boolean("database", "db_inc_retry_interval")?,
            db_max_retry_interval: int("database", "db_max_retry_interval")? as u64,
            db_max_retries: retries("database", "db_max_retries")?,
            connection_recycle_time: int("database", "connection_recycle_time")? as u64,
            max_pool_size: int("database", "max_pool_size")? as u32,
            mysql_sql_mode: s("database", "mysql_sql_mode")?.unwrap_or_default(),
            mysql_wsrep_sync_wait: wsrep,
        };
        let host = match s(DEFAULT_GROUP, "host")? {
            Some(h) if !h.trim().is_empty() => h.trim().to_string(),
            _ => this_hostname(),
        };
        Ok(Settings {
            database,
            service_down_time: int(DEFAULT_GROUP, "service_down_time")?,
            report_interval: int(DEFAULT_GROUP, "report_interval")?,
            host,
            state_path: s(DEFAULT_GROUP, "state_path")?.unwrap_or_default(),
            enabled_backends: s(DEFAULT_GROUP, "enabled_backends")?
                .unwrap_or_default()
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
            s.database.connection,
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
        assert_eq!((s.service_down_time, s.report_interval), (60, 10));
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
        assert_eq!(s.database.connection, "sqlite:////srv/cinder/x.sqlite");
        assert_eq!(s.database.mysql_sql_mode, "a$b$c");
        // Cinder's default connection goes through $state_path too.
        let g = conf("[DEFAULT]\nstate_path = /st\n");
        assert_eq!(
            load_files(&[&g], &[]).unwrap().database.connection,
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
}
