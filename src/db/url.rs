//! `[database] connection`: the SQLAlchemy URL parsed into what svcctl connects to (`DbUrl`),
//! refusing what it cannot honour; every error quotes the URL masked (`secret::mask`), never
//! its password. (The sqlx options it becomes are `options.rs`'s.)

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use percent_encoding::percent_decode_str;

use crate::config::DatabaseSettings;
use crate::error::{Failure, io_reason};
use crate::secret::{self, Secret, Split};
use crate::text;

/// Where a MySQL server is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    Tcp { host: String, port: u16 },
    Socket(PathBuf),
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Tcp { host, port } if host.contains(':') => write!(f, "[{host}]:{port}"),
            Endpoint::Tcp { host, port } => write!(f, "{host}:{port}"),
            Endpoint::Socket(p) => write!(f, "{}", p.display()),
        }
    }
}

/// TLS as asked for by pymysql's `ssl_*` parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tls {
    pub ca: Option<PathBuf>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    pub verify_cert: bool,
    pub check_hostname: bool,
}

/// A parsed `[database] connection`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbUrl {
    MySql {
        /// The URL as written, masked: for messages.
        masked: String,
        user: String,
        password: Option<Secret>,
        endpoint: Endpoint,
        database: String,
        charset: Option<String>,
        connect_timeout: Option<Duration>,
        tls: Option<Tls>,
    },
    Sqlite {
        masked: String,
        /// None for `sqlite://`, an in-memory database.
        path: Option<PathBuf>,
    },
}

impl fmt::Display for DbUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DbUrl::MySql { masked, .. } | DbUrl::Sqlite { masked, .. } => f.write_str(masked),
        }
    }
}

/// The error for an SQLite file that is not there. When `connection` was never set it says so:
/// the file named is then only Cinder's default, and the fix is to set the option.
pub fn missing_sqlite(path: &Path, settings: &DatabaseSettings) -> anyhow::Error {
    let path = text::one_line(&path.display().to_string(), 200);
    Failure::Config(match &settings.connection_origin {
        Some(origin) => format!(
            "SQLite database {path} does not exist; check [database] connection (from \
             {origin}) (svcctl never creates the database it is pointed at)"
        ),
        None => format!(
            "[database] connection is not set ({}) and Cinder's default {path} does not exist; \
             set [database] connection in cinder.conf",
            settings.connection_unset
        ),
    })
    .into()
}

/// The config error for a connection string, quoting it masked (and cut short).
fn bad(masked: &str, origin: Option<&str>, why: impl fmt::Display) -> anyhow::Error {
    Failure::Config(format!(
        "[database] connection {}{}: {why}",
        text::quote(masked),
        origin.map_or(String::new(), |o| format!(" (from {o})"))
    ))
    .into()
}

fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

fn parse_bool(v: &str) -> Result<bool, String> {
    match v.to_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(format!(
            "{} is not a boolean; use true or false",
            text::quote(v)
        )),
    }
}

/// The longest `connect_timeout` svcctl takes: a year, like every other wait.
pub const MAX_CONNECT_TIMEOUT_SECS: u64 = crate::limits::YEAR_SECS;

/// `connect_timeout`: a finite number of seconds, more than 0 and at most a year.
fn parse_timeout(v: &str) -> Result<Duration, String> {
    v.trim()
        .parse::<f64>()
        .ok()
        .filter(|s| *s > 0.0 && *s <= MAX_CONNECT_TIMEOUT_SECS as f64)
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .ok_or_else(|| {
            format!(
                "connect_timeout={} is not a number of seconds more than 0 and at most \
                 {MAX_CONNECT_TIMEOUT_SECS} (a year)",
                text::quote(v)
            )
        })
}

impl DbUrl {
    /// Parses an SQLAlchemy URL. Anything svcctl cannot honour is an error.
    pub fn parse(url: &str) -> anyhow::Result<DbUrl> {
        Self::parse_from(url, None)
    }

    /// The `[database] connection` of these settings, parsed, with the files it names
    /// (`ssl_ca`, `ssl_cert`, `ssl_key`) checked; errors say where the option was set.
    pub fn from_settings(settings: &DatabaseSettings) -> anyhow::Result<DbUrl> {
        let origin = settings.connection_origin.as_deref();
        let url = Self::parse_from(settings.connection.expose(), origin)?;
        url.check_files(origin)?;
        crate::seams::panic_after_parse(settings.connection.expose());
        Ok(url)
    }

    fn parse_from(url: &str, origin: Option<&str>) -> anyhow::Result<DbUrl> {
        secret::register_url(url);
        let url = url.trim();
        let masked = secret::mask(url);
        let fail = |why: &dyn fmt::Display| bad(&masked, origin, why);
        if url.is_empty() {
            return Err(Failure::Config(format!(
                "[database] connection is empty{}; set it in cinder.conf or \
                 OS_DATABASE__CONNECTION",
                origin.map_or(String::new(), |o| format!(" (from {o})"))
            ))
            .into());
        }
        if url.chars().any(char::is_control) {
            return Err(fail(
                &"it holds a line break or control character; an indented line \
                            after it continues it (oslo); unindent that line",
            ));
        }
        let split = Split::of(url);
        let Some(scheme) = split.head.strip_suffix("://") else {
            return Err(fail(
                &"not a URL; expected e.g. mysql+pymysql://USER:PASS@HOST/cinder or \
                  sqlite:////PATH",
            ));
        };
        let (dialect, driver) = match scheme.split_once('+') {
            Some((d, drv)) => (d.to_lowercase(), Some(drv.to_lowercase())),
            None => (scheme.to_lowercase(), None),
        };
        match (dialect.as_str(), driver.as_deref()) {
            ("mysql", None | Some("pymysql" | "mysqldb" | "mysqlconnector")) => {
                Self::parse_mysql(&masked, split).map_err(|why| fail(&why))
            }
            ("sqlite", None | Some("pysqlite")) => {
                Self::parse_sqlite(&masked, split).map_err(|why| fail(&why))
            }
            _ => Err(fail(&format!(
                "unsupported dialect {}; svcctl speaks to MySQL/MariaDB (mysql+pymysql://) \
                 and SQLite (sqlite:///)",
                text::quote(scheme)
            ))),
        }
    }

    fn parse_sqlite(masked: &str, split: Split) -> Result<DbUrl, String> {
        if split.userinfo.is_some() || !split.tail.is_empty() && !split.tail.starts_with('/') {
            return Err(
                "a SQLite URL has no host; write sqlite:///relative or sqlite:////absolute".into(),
            );
        }
        let (path, query) = split.tail.split_once('?').unwrap_or((split.tail, ""));
        if !query.is_empty() {
            return Err(format!(
                "SQLite URL parameters ({}) are not supported; remove them",
                text::quote(query)
            ));
        }
        // SQLAlchemy: sqlite:// is in memory, sqlite:///rel is relative, sqlite:////abs is absolute.
        let path = match path.strip_prefix('/') {
            None | Some("") | Some(":memory:") => None,
            Some(file) => {
                let file = decode(file);
                if file.contains(char::is_control) {
                    return Err(
                        "the path holds a control character (percent-encoded); fix it".into(),
                    );
                }
                Some(PathBuf::from(file))
            }
        };
        Ok(DbUrl::Sqlite {
            masked: masked.to_string(),
            path,
        })
    }

    fn parse_mysql(masked: &str, split: Split) -> Result<DbUrl, String> {
        let (user, password) = match (split.userinfo, split.credentials()) {
            (None, _) => (String::new(), None),
            (Some(_), Some((u, p))) => (decode(u), p.map(|p| Secret::new(decode(p)))),
            (Some(ui), None) if ui.contains('@') => {
                return Err(
                    "the user name or password holds a raw '@'; percent-encode it as \
                            %40 (':' as %3A, '/' as %2F)"
                        .into(),
                );
            }
            (Some(_), None) => {
                return Err("the user name holds a '/'; percent-encode it as %2F".into());
            }
        };
        let (main, query) = split.tail.split_once('?').unwrap_or((split.tail, ""));
        let (hostport, database) = match main.split_once('/') {
            Some((h, d)) => (h, decode(d)),
            None => (main, String::new()),
        };
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let Some((h, after)) = v6.split_once(']') else {
                return Err("IPv6 host has no closing ']'".into());
            };
            (h, after.strip_prefix(':'))
        } else {
            match hostport.split_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (hostport, None),
            }
        };
        if host.contains(|c: char| c.is_whitespace() || "@/?#[]".contains(c)) {
            return Err(format!(
                "{} is not a host name or address",
                text::quote(host)
            ));
        }
        let port = match port {
            None | Some("") => 3306,
            Some(p) => match p.parse::<u16>() {
                Ok(n) if n > 0 => n,
                // A number is no secret; anything else after ':' may be a password whose
                // `@HOST` is missing, and is not quoted.
                _ if p.bytes().all(|b| b.is_ascii_digit()) => {
                    return Err(format!(
                        "port {} is not a number from 1 to 65535",
                        text::quote(p)
                    ));
                }
                _ => {
                    return Err("the port after ':' is not a number from 1 to 65535 (for \
                                USER:PASSWORD, add @HOST after it)"
                        .into());
                }
            },
        };
        if database.is_empty() {
            return Err("no database name; end the URL with /cinder".into());
        }
        if database.contains(char::is_control) {
            return Err("the database name holds a control character; fix it".into());
        }

        let mut charset = None;
        let mut socket = None;
        let mut connect_timeout = None;
        let mut tls = Tls {
            verify_cert: true,
            check_hostname: true,
            ..Tls::default()
        };
        let mut wants_tls = false;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let v = decode(v);
            let path = || -> Result<PathBuf, String> {
                if v.is_empty() || v.contains(char::is_control) {
                    Err(format!("{k}={} is not a file path", text::quote(&v)))
                } else {
                    Ok(PathBuf::from(&v))
                }
            };
            match k {
                "charset" => {
                    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                        return Err(format!(
                            "charset={} is not a character set name",
                            text::quote(&v)
                        ));
                    }
                    charset = Some(v);
                }
                "unix_socket" => socket = Some(path()?),
                "connect_timeout" => connect_timeout = Some(parse_timeout(&v)?),
                "ssl_ca" => (tls.ca, wants_tls) = (Some(path()?), true),
                "ssl_cert" => (tls.cert, wants_tls) = (Some(path()?), true),
                "ssl_key" => (tls.key, wants_tls) = (Some(path()?), true),
                "ssl_verify_cert" => {
                    tls.verify_cert = parse_bool(&v).map_err(|e| format!("{k}={e}"))?;
                    wants_tls = true;
                }
                "ssl_check_hostname" => {
                    tls.check_hostname = parse_bool(&v).map_err(|e| format!("{k}={e}"))?;
                    wants_tls = true;
                }
                // SQLAlchemy engine plugins (devstack adds plugin=dbcounter) only instrument
                // the Python engine; they say nothing about how to reach the database.
                "plugin" => tracing::debug!(plugin = %v, "ignoring SQLAlchemy plugin"),
                other => {
                    return Err(format!(
                        "parameter {} is not supported; svcctl honours charset, unix_socket, \
                         connect_timeout and ssl_ca/ssl_cert/ssl_key/ssl_verify_cert/\
                         ssl_check_hostname",
                        text::quote(other)
                    ));
                }
            }
        }
        if tls.cert.is_some() != tls.key.is_some() {
            return Err("ssl_cert and ssl_key go together; give both or neither".into());
        }
        let endpoint = match socket {
            Some(path) => Endpoint::Socket(path),
            None if host.is_empty() => Endpoint::Tcp {
                host: "localhost".into(),
                port,
            },
            None => Endpoint::Tcp {
                host: host.to_string(),
                port,
            },
        };
        Ok(DbUrl::MySql {
            masked: masked.to_string(),
            user,
            password,
            endpoint,
            database,
            charset,
            connect_timeout,
            tls: wants_tls.then_some(tls),
        })
    }

    /// The files the URL names must be there: a missing `ssl_ca` would otherwise surface as
    /// a TLS error that never says which file is missing.
    fn check_files(&self, origin: Option<&str>) -> anyhow::Result<()> {
        let DbUrl::MySql {
            masked,
            tls: Some(tls),
            ..
        } = self
        else {
            return Ok(());
        };
        for (name, path) in [
            ("ssl_ca", &tls.ca),
            ("ssl_cert", &tls.cert),
            ("ssl_key", &tls.key),
        ] {
            let Some(path) = path else { continue };
            let why = match std::fs::metadata(path) {
                Ok(m) if m.is_file() => continue,
                Ok(_) => "not a file".to_string(),
                Err(e) => io_reason(&e),
            };
            return Err(bad(
                masked,
                origin,
                format!(
                    "{name} file {}: {why}; fix the path",
                    text::one_line(&path.display().to_string(), text::QUOTE_MAX)
                ),
            ));
        }
        Ok(())
    }

    /// How the server is named in messages: `host:port`, a socket path, or the SQLite file.
    pub fn target(&self) -> String {
        match self {
            DbUrl::MySql { endpoint, .. } => endpoint.to_string(),
            DbUrl::Sqlite { path: Some(p), .. } => p.display().to_string(),
            DbUrl::Sqlite { path: None, .. } => "in-memory SQLite".into(),
        }
    }

    pub fn connect_timeout(&self) -> Option<Duration> {
        match self {
            DbUrl::MySql {
                connect_timeout, ..
            } => *connect_timeout,
            DbUrl::Sqlite { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::mask;
    use proptest::prelude::*;

    fn mysql(url: &str) -> (String, Option<String>, Endpoint, String) {
        match DbUrl::parse(url).unwrap() {
            DbUrl::MySql {
                user,
                password,
                endpoint,
                database,
                ..
            } => (
                user,
                password.map(|p| p.expose().to_string()),
                endpoint,
                database,
            ),
            other => panic!("not mysql: {other:?}"),
        }
    }

    fn tcp(host: &str, port: u16) -> Endpoint {
        Endpoint::Tcp {
            host: host.into(),
            port,
        }
    }

    #[test]
    fn seed_url() {
        let (u, p, e, d) = mysql("mysql+pymysql://cinder:cinder_dbpass@192.168.41.10/cinder");
        assert_eq!(u, "cinder");
        assert_eq!(p.as_deref(), Some("cinder_dbpass"));
        assert_eq!(e, tcp("192.168.41.10", 3306));
        assert_eq!(d, "cinder");
    }

    #[test]
    fn every_mysql_driver_and_port_and_ipv6() {
        assert_eq!(mysql("mysql://u:p@db:3307/c").2, tcp("db", 3307));
        assert_eq!(mysql("mysql+mysqldb://u:p@db/c").2, tcp("db", 3306));
        assert_eq!(
            mysql("mysql+pymysql://u:p@[::1]:3310/c").2,
            tcp("::1", 3310)
        );
        assert_eq!(
            mysql("mysql+pymysql://u:p@[fe80::1]/c").2,
            tcp("fe80::1", 3306)
        );
        assert_eq!(tcp("::1", 3310).to_string(), "[::1]:3310");
    }

    #[test]
    fn password_with_colon_slash_and_percent_escapes() {
        let (u, p, e, d) = mysql("mysql+pymysql://ci%40nder:p%3Aa:s/s%40w@h:1/db?charset=utf8");
        assert_eq!(u, "ci@nder");
        assert_eq!(p.as_deref(), Some("p:a:s/s@w"));
        assert_eq!((e, d.as_str()), (tcp("h", 1), "db"));
    }

    #[test]
    fn query_parameters() {
        let url = DbUrl::parse(
            "mysql+pymysql://u:p@h/c?charset=utf8&connect_timeout=5&ssl_ca=/ca.pem&ssl_check_hostname=false",
        )
        .unwrap();
        let DbUrl::MySql {
            charset,
            connect_timeout,
            tls,
            ..
        } = &url
        else {
            panic!()
        };
        assert_eq!(charset.as_deref(), Some("utf8"));
        assert_eq!(*connect_timeout, Some(Duration::from_secs(5)));
        let tls = tls.clone().unwrap();
        assert_eq!(tls.ca, Some(PathBuf::from("/ca.pem")));
        assert!(tls.verify_cert && !tls.check_hostname);
        let sock = mysql("mysql+pymysql://u:p@/c?unix_socket=/run/mysqld/mysqld.sock").2;
        assert_eq!(sock, Endpoint::Socket("/run/mysqld/mysqld.sock".into()));
    }

    #[test]
    fn sqlite_forms() {
        let path = |u: &str| match DbUrl::parse(u).unwrap() {
            DbUrl::Sqlite { path, .. } => path,
            _ => panic!(),
        };
        assert_eq!(path("sqlite:///rel/x.db"), Some(PathBuf::from("rel/x.db")));
        assert_eq!(
            path("sqlite:////abs/x.db"),
            Some(PathBuf::from("/abs/x.db"))
        );
        assert_eq!(path("sqlite://"), None);
        assert_eq!(path("sqlite:///:memory:"), None);
    }

    #[test]
    fn what_cannot_be_honoured_is_an_error() {
        for url in [
            "postgresql://u:secretpw@h/c",
            "mysql+pymysql://u:secretpw@h/c?ssl_mode=DISABLED",
            "mysql+pymysql://u:secretpw@h/c?ssl_cert=/c.pem",
            "mysql+pymysql://u:secretpw@h:port/c",
            "mysql+pymysql://u:secretpw@h",
            "sqlite:////x.db?mode=ro",
            "sqlite://host/x.db",
            "not a url",
            "",
        ] {
            let err = DbUrl::parse(url).unwrap_err();
            let msg = format!("{err:#}");
            assert_eq!(crate::error::exit_code(&err), 2, "{url}: {msg}");
            assert!(!msg.contains("secretpw"), "{msg}");
        }
    }

    #[test]
    fn a_parsed_url_shows_itself_masked() {
        let url = DbUrl::parse("mysql://u:hunter2@h/c").unwrap();
        assert!(!format!("{url:?} {url}").contains("hunter2"));
        assert_eq!(url.to_string(), "mysql://u:***@h/c");
    }

    /// The leaks: no scheme, one slash, a raw '@' in the password, a password where
    /// the port goes. Each is an error that quotes the URL masked, never the password.
    #[test]
    fn malformed_urls_never_show_the_password() {
        for (url, masked) in [
            (
                "cinder:PASSWD1@10.0.0.1/cinder",
                "cinder:***@10.0.0.1/cinder",
            ),
            (
                "mysql+pymysql:/cinder:PASSWD1@10.0.0.1/cinder",
                "mysql+pymysql:***@10.0.0.1/cinder",
            ),
            (
                "mysql+pymysql://cinder:abc@PASSWD1@127.0.0.1/cinder",
                "mysql+pymysql://cinder:***@127.0.0.1/cinder",
            ),
            (
                "mysql+pymysql://abc@PASSWD1@127.0.0.1/cinder",
                "mysql+pymysql://***@127.0.0.1/cinder",
            ),
            (
                "mysql+pymysql://cinder:PASSWD1/cinder",
                "mysql+pymysql://cinder:***/cinder",
            ),
            (
                "mysql+pymysql://cinder:PASSWD1",
                "mysql+pymysql://cinder:***",
            ),
            ("sqlite://u:PASSWD1@h/x.db", "sqlite://u:***@h/x.db"),
        ] {
            assert_eq!(mask(url), masked, "{url}");
            let msg = format!("{:#}", DbUrl::parse(url).unwrap_err());
            assert!(!msg.contains("PASSWD1"), "{url}: {msg}");
            assert!(msg.contains(&text::quote(masked)), "{url}: {msg}");
        }
        // '?' and '=' are fine in a password: the host's '@' still ends it.
        assert_eq!(mask("mysql://u:pa?x=PASSWD1@h/c"), "mysql://u:***@h/c");
        let msg = format!(
            "{:#}",
            DbUrl::parse("mysql+pymysql://cinder:abc@def@127.0.0.1/cinder").unwrap_err()
        );
        assert!(msg.contains("%40") && !msg.contains("def"), "{msg}");
    }

    #[test]
    fn numbers_at_the_edge_are_config_errors() {
        for url in [
            "mysql://u:p@h:0/c",
            "mysql://u:p@h:65536/c",
            "mysql://u:p@h/c?connect_timeout=inf",
            "mysql://u:p@h/c?connect_timeout=1e300",
            "mysql://u:p@h/c?connect_timeout=NaN",
            "mysql://u:p@h/c?connect_timeout=-1",
            "mysql://u:p@h/c?connect_timeout=0",
            "mysql://u:p@h/c?connect_timeout=31536001",
        ] {
            let err = DbUrl::parse(url).unwrap_err();
            assert_eq!(crate::error::exit_code(&err), 2, "{url}");
        }
        assert_eq!(
            DbUrl::parse("mysql://u:p@h/c?connect_timeout=31536000")
                .unwrap()
                .connect_timeout(),
            Some(Duration::from_secs(crate::limits::YEAR_SECS))
        );
    }

    #[test]
    fn control_characters_are_refused_not_passed_on() {
        for url in [
            "mysql://u:p@h/cinder\n?x",
            "mysql://u:p@h/cin%0Ader",
            "sqlite:////x%0A.db",
        ] {
            let msg = format!("{:#}", DbUrl::parse(url).unwrap_err());
            assert!(!msg.contains('\n'), "{msg}");
        }
    }

    proptest! {
        /// Whatever the text, parsing never panics and an error is one line. (That masking
        /// hides what the split calls the secret is `secret`'s test.)
        #[test]
        fn any_text_parses_without_panic(url in "(?s).{0,80}") {
            if let Err(e) = DbUrl::parse(&url) {
                let msg = format!("{e:#}");
                prop_assert!(!msg.contains(['\n', '\r']), "{}", msg);
            }
        }

        /// The same split parses and masks: the password parse finds is the one mask hides.
        #[test]
        fn parse_and_mask_agree_on_the_password(
            user in "[a-z0-9]{0,8}",
            password in "[A-Z][ -~]{0,20}",
            host in "[a-z][a-z0-9.]{0,10}",
            db in "[a-z]{1,8}",
            query in prop::option::of("(charset=utf8|connect_timeout=5|plugin=x)"),
        ) {
            let url = format!(
                "mysql+pymysql://{user}:{password}@{host}/{db}{}",
                query.map_or(String::new(), |q| format!("?{q}"))
            );
            let masked = mask(&url);
            prop_assert!(!masked.contains(&password), "{}", masked);
            prop_assert_eq!(&masked, &format!("mysql+pymysql://{user}:***@{}", &url[url.rfind(&format!("@{host}/")).unwrap() + 1..]));
            match DbUrl::parse(&url) {
                Ok(DbUrl::MySql { password: Some(p), user: u, .. }) => {
                    prop_assert_eq!(p.expose(), decode(&password));
                    prop_assert_eq!(u, user);
                }
                Ok(_) => prop_assert!(false, "parsed as something else"),
                Err(e) => {
                    let msg = format!("{e:#}");
                    prop_assert!(!msg.contains(&password), "{}", msg);
                    prop_assert!(password.contains('@'), "only a raw '@' may fail: {}", msg);
                }
            }
        }
    }
}
