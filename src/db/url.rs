//! `[database] connection`: SQLAlchemy URLs translated to sqlx connect options, and masked
//! for display so that no message or log line ever shows the password.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use percent_encoding::percent_decode_str;
use sqlx::mysql::{MySqlConnectOptions, MySqlSslMode};
use sqlx::sqlite::SqliteConnectOptions;

use crate::error::Failure;

/// A password that cannot be printed by accident: `Debug` and `Display` show `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

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

/// The URL with its password replaced by `***`. Works on URLs that fail to parse too, so that
/// an error about a malformed URL can still quote it safely.
pub fn mask(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    // The userinfo ends at the last '@' before the query: a password with a raw '@' is
    // malformed, but must not leak either.
    let before_query = rest.find('?').unwrap_or(rest.len());
    let Some(at) = rest[..before_query].rfind('@') else {
        return url.to_string();
    };
    match rest[..at].find(':') {
        Some(colon) => format!(
            "{}{}:***{}",
            &url[..scheme_end + 3],
            &rest[..colon],
            &rest[at..]
        ),
        None => url.to_string(),
    }
}

fn bad(masked: &str, why: impl fmt::Display) -> anyhow::Error {
    Failure::Config(format!("[database] connection {masked:?}: {why}")).into()
}

fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

fn parse_bool(masked: &str, name: &str, v: &str) -> anyhow::Result<bool> {
    match v.to_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(bad(
            masked,
            format!("{name}={v:?} is not a boolean; use true or false"),
        )),
    }
}

impl DbUrl {
    /// Parses an SQLAlchemy URL. Anything svcctl cannot honour is an error.
    pub fn parse(url: &str) -> anyhow::Result<DbUrl> {
        let masked = mask(url);
        let url = url.trim();
        if url.is_empty() {
            return Err(Failure::Config(
                "[database] connection is empty; set it in cinder.conf or OS_DATABASE__CONNECTION"
                    .into(),
            )
            .into());
        }
        let Some((scheme, rest)) = url.split_once("://") else {
            return Err(bad(
                &masked,
                "not a URL; expected e.g. mysql+pymysql://USER:PASS@HOST/cinder or sqlite:////PATH",
            ));
        };
        let (dialect, driver) = match scheme.split_once('+') {
            Some((d, drv)) => (d.to_lowercase(), Some(drv.to_lowercase())),
            None => (scheme.to_lowercase(), None),
        };
        match (dialect.as_str(), driver.as_deref()) {
            ("mysql", None | Some("pymysql" | "mysqldb" | "mysqlconnector")) => {
                Self::parse_mysql(masked, rest)
            }
            ("sqlite", None | Some("pysqlite")) => Self::parse_sqlite(masked, rest),
            _ => Err(bad(
                &masked,
                format!(
                    "unsupported dialect {scheme:?}; svcctl speaks to MySQL/MariaDB \
                     (mysql+pymysql://) and SQLite (sqlite:///)"
                ),
            )),
        }
    }

    fn parse_sqlite(masked: String, rest: &str) -> anyhow::Result<DbUrl> {
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        if !query.is_empty() {
            return Err(bad(
                &masked,
                format!("SQLite URL parameters ({query:?}) are not supported; remove them"),
            ));
        }
        // SQLAlchemy: sqlite:// is in memory, sqlite:///rel is relative, sqlite:////abs is absolute.
        let path = match path {
            "" => None,
            p => match p.strip_prefix('/') {
                Some("") | Some(":memory:") => None,
                Some(file) => Some(PathBuf::from(decode(file))),
                None => {
                    return Err(bad(
                        &masked,
                        "a SQLite URL has no host; write sqlite:///relative or sqlite:////absolute",
                    ));
                }
            },
        };
        Ok(DbUrl::Sqlite { masked, path })
    }

    fn parse_mysql(masked: String, rest: &str) -> anyhow::Result<DbUrl> {
        let (main, query) = rest.split_once('?').unwrap_or((rest, ""));
        // Userinfo ends at the first '@' whose user part has no '/', as in SQLAlchemy's pattern:
        // the password may hold ':' and '/', and an '@' in it must be written %40.
        let (userinfo, hostpart) = match main.find('@') {
            Some(at) if !main[..at].split(':').next().unwrap_or("").contains('/') => {
                (Some(&main[..at]), &main[at + 1..])
            }
            _ => (None, main),
        };
        let (user, password) = match userinfo {
            None => (String::new(), None),
            Some(ui) => match ui.split_once(':') {
                Some((u, p)) => (decode(u), Some(Secret(decode(p)))),
                None => (decode(ui), None),
            },
        };
        let (hostport, database) = match hostpart.split_once('/') {
            Some((h, d)) => (h, decode(d)),
            None => (hostpart, String::new()),
        };
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let Some((h, after)) = v6.split_once(']') else {
                return Err(bad(&masked, "IPv6 host has no closing ']'"));
            };
            (h.to_string(), after.strip_prefix(':'))
        } else {
            match hostport.split_once(':') {
                Some((h, p)) => (h.to_string(), Some(p)),
                None => (hostport.to_string(), None),
            }
        };
        let port = match port {
            None | Some("") => 3306,
            Some(p) => p.parse::<u16>().map_err(|_| {
                bad(
                    &masked,
                    format!("port {p:?} is not a number from 1 to 65535"),
                )
            })?,
        };
        if database.is_empty() {
            return Err(bad(&masked, "no database name; end the URL with /cinder"));
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
            match k {
                "charset" => charset = Some(v),
                "unix_socket" => socket = Some(PathBuf::from(v)),
                "connect_timeout" => {
                    let secs: f64 = v.parse().ok().filter(|s: &f64| *s > 0.0).ok_or_else(|| {
                        bad(
                            &masked,
                            format!("connect_timeout={v:?} is not a positive number of seconds"),
                        )
                    })?;
                    connect_timeout = Some(Duration::from_secs_f64(secs));
                }
                "ssl_ca" => (tls.ca, wants_tls) = (Some(PathBuf::from(v)), true),
                "ssl_cert" => (tls.cert, wants_tls) = (Some(PathBuf::from(v)), true),
                "ssl_key" => (tls.key, wants_tls) = (Some(PathBuf::from(v)), true),
                "ssl_verify_cert" => {
                    tls.verify_cert = parse_bool(&masked, k, &v)?;
                    wants_tls = true;
                }
                "ssl_check_hostname" => {
                    tls.check_hostname = parse_bool(&masked, k, &v)?;
                    wants_tls = true;
                }
                // SQLAlchemy engine plugins (devstack adds plugin=dbcounter) only instrument
                // the Python engine; they say nothing about how to reach the database.
                "plugin" => tracing::debug!(plugin = %v, "ignoring SQLAlchemy plugin"),
                other => {
                    return Err(bad(
                        &masked,
                        format!(
                            "parameter {other:?} is not supported; svcctl honours charset, \
                             unix_socket, connect_timeout and ssl_ca/ssl_cert/ssl_key/\
                             ssl_verify_cert/ssl_check_hostname"
                        ),
                    ));
                }
            }
        }
        if tls.cert.is_some() != tls.key.is_some() {
            return Err(bad(
                &masked,
                "ssl_cert and ssl_key go together; give both or neither",
            ));
        }
        let endpoint = match socket {
            Some(path) => Endpoint::Socket(path),
            None if host.is_empty() => Endpoint::Tcp {
                host: "localhost".into(),
                port,
            },
            None => Endpoint::Tcp { host, port },
        };
        Ok(DbUrl::MySql {
            masked,
            user,
            password,
            endpoint,
            database,
            charset,
            connect_timeout,
            tls: wants_tls.then_some(tls),
        })
    }

    /// How the server is named in messages: `host:port`, a socket path, or the SQLite file.
    pub fn target(&self) -> String {
        match self {
            DbUrl::MySql { endpoint, .. } => endpoint.to_string(),
            DbUrl::Sqlite { path: Some(p), .. } => p.display().to_string(),
            DbUrl::Sqlite { path: None, .. } => "in-memory SQLite".into(),
        }
    }

    pub fn mysql_options(&self) -> Option<MySqlConnectOptions> {
        let DbUrl::MySql {
            user,
            password,
            endpoint,
            database,
            charset,
            tls,
            ..
        } = self
        else {
            return None;
        };
        let mut o = MySqlConnectOptions::new()
            .username(user)
            .database(database)
            // oslo.db sets sql_mode itself after connecting; sqlx must not append its own.
            .pipes_as_concat(false)
            .no_engine_substitution(false)
            .timezone(Some("+00:00".to_string()));
        if let Some(p) = password {
            o = o.password(p.expose());
        }
        o = match endpoint {
            Endpoint::Tcp { host, port } => o.host(host).port(*port),
            Endpoint::Socket(path) => o.socket(path),
        };
        if let Some(cs) = charset {
            // pymysql's "utf8" is MySQL's utf8mb3 alias; the server understands it as written.
            o = o.charset(cs);
        }
        o = match tls {
            None => o.ssl_mode(MySqlSslMode::Preferred),
            Some(t) => {
                let mode = match (t.verify_cert, t.check_hostname) {
                    (false, _) => MySqlSslMode::Required,
                    (true, false) => MySqlSslMode::VerifyCa,
                    (true, true) => MySqlSslMode::VerifyIdentity,
                };
                let mut o = o.ssl_mode(mode);
                if let Some(ca) = &t.ca {
                    o = o.ssl_ca(ca);
                }
                if let (Some(c), Some(k)) = (&t.cert, &t.key) {
                    o = o.ssl_client_cert(c).ssl_client_key(k);
                }
                o
            }
        };
        Some(o)
    }

    pub fn sqlite_options(&self) -> Option<SqliteConnectOptions> {
        let DbUrl::Sqlite { path, .. } = self else {
            return None;
        };
        let o = SqliteConnectOptions::new()
            // svcctl never creates a database it was pointed at.
            .create_if_missing(false)
            .busy_timeout(Duration::from_secs(30));
        Some(match path {
            Some(p) => o.filename(p),
            None => o.in_memory(true),
        })
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
        assert!(matches!(
            url.mysql_options().unwrap().get_ssl_mode(),
            MySqlSslMode::VerifyCa
        ));
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
    fn masking_hides_the_password_only() {
        assert_eq!(
            mask("mysql+pymysql://cinder:cinder_dbpass@192.168.41.10/cinder"),
            "mysql+pymysql://cinder:***@192.168.41.10/cinder"
        );
        assert_eq!(mask("mysql://u:p@ss:w@h/c?x=@"), "mysql://u:***@h/c?x=@");
        assert_eq!(mask("mysql://u@h/c"), "mysql://u@h/c");
        assert_eq!(mask("sqlite:////x"), "sqlite:////x");
        let url = DbUrl::parse("mysql://u:hunter2@h/c").unwrap();
        assert!(!format!("{url:?} {url}").contains("hunter2"));
        assert_eq!(url.to_string(), "mysql://u:***@h/c");
    }
}
