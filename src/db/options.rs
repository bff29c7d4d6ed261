//! A parsed `[database] connection` (`url::DbUrl`) as sqlx's connect options: what pymysql's
//! URL asks of the MySQL session (user, TLS mode and files, charset, no sqlx SQL-mode
//! additions, UTC) and how an SQLite file is opened (never created).

use std::time::Duration;

use sqlx::mysql::{MySqlConnectOptions, MySqlSslMode};
use sqlx::sqlite::SqliteConnectOptions;

use super::url::{DbUrl, Endpoint, Tls};

/// How to open the database a `DbUrl` names, on either backend.
pub(super) enum SqlxOptions {
    MySql(MySqlConnectOptions),
    Sqlite(SqliteConnectOptions),
}

impl SqlxOptions {
    pub fn of(url: &DbUrl) -> SqlxOptions {
        match url {
            DbUrl::MySql {
                user,
                password,
                endpoint,
                database,
                charset,
                tls,
                ..
            } => {
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
                SqlxOptions::MySql(match tls {
                    None => o.ssl_mode(MySqlSslMode::Preferred),
                    Some(t) => with_tls(o, t),
                })
            }
            DbUrl::Sqlite { path, .. } => {
                let o = SqliteConnectOptions::new()
                    // svcctl never creates a database it was pointed at.
                    .create_if_missing(false)
                    .busy_timeout(Duration::from_secs(30));
                SqlxOptions::Sqlite(match path {
                    Some(p) => o.filename(p),
                    None => o.in_memory(true),
                })
            }
        }
    }
}

/// pymysql's `ssl_*` parameters as an SSL mode and files.
fn with_tls(o: MySqlConnectOptions, t: &Tls) -> MySqlConnectOptions {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ssl_mode(url: &str) -> MySqlSslMode {
        match SqlxOptions::of(&DbUrl::parse(url).unwrap()) {
            SqlxOptions::MySql(o) => o.get_ssl_mode(),
            SqlxOptions::Sqlite(_) => panic!("{url} is not MySQL"),
        }
    }

    #[test]
    fn tls_parameters_choose_the_ssl_mode() {
        assert!(matches!(
            ssl_mode("mysql+pymysql://u:p@h/c?ssl_ca=/ca.pem&ssl_check_hostname=false"),
            MySqlSslMode::VerifyCa
        ));
        assert!(matches!(
            ssl_mode("mysql+pymysql://u:p@h/c"),
            MySqlSslMode::Preferred
        ));
        assert!(matches!(
            ssl_mode("mysql+pymysql://u:p@h/c?ssl_verify_cert=false"),
            MySqlSslMode::Required
        ));
        assert!(matches!(
            ssl_mode("mysql+pymysql://u:p@h/c?ssl_ca=/ca.pem"),
            MySqlSslMode::VerifyIdentity
        ));
    }

    #[test]
    fn sqlite_opens_the_file_named() {
        let SqlxOptions::Sqlite(o) = SqlxOptions::of(&DbUrl::parse("sqlite:////x/y.db").unwrap())
        else {
            panic!("not SQLite")
        };
        assert_eq!(o.get_filename(), std::path::Path::new("/x/y.db"));
    }
}
