//! What a failed connection means, in one line that names what to fix: the user and password
//! (MySQL 1045), the user's rights on the database (1044), the database's name (1049),
//! `mysql_sql_mode` or `mysql_wsrep_sync_wait` (the server rejected the session setup), the
//! TLS files, or else the connection itself. The driver's own text is said once, on one line.

use sqlx::mysql::MySqlDatabaseError;

use super::url::DbUrl;
use crate::config::DatabaseSettings;
use crate::text;

/// The most characters of a server's or driver's message quoted.
const DRIVER_TEXT_MAX: usize = 300;

/// The error for a connection attempt that failed for any reason but an unreachable server.
pub fn connect_failure(
    err: &sqlx::Error,
    url: &DbUrl,
    settings: &DatabaseSettings,
) -> anyhow::Error {
    anyhow::anyhow!(describe(err, url, settings))
}

fn describe(err: &sqlx::Error, url: &DbUrl, settings: &DatabaseSettings) -> String {
    let target = url.target();
    let origin = settings
        .connection_origin
        .as_deref()
        .map_or(String::new(), |o| format!(" (from {o})"));
    let (user, database) = match url {
        DbUrl::MySql { user, database, .. } => (text::quote(user), text::quote(database)),
        DbUrl::Sqlite { .. } => (String::new(), String::new()),
    };
    let mysql = match err {
        sqlx::Error::Database(db) => db.try_downcast_ref::<MySqlDatabaseError>(),
        _ => None,
    };
    if let Some(my) = mysql {
        let said = text::one_line(my.message(), DRIVER_TEXT_MAX);
        match my.number() {
            1045 | 1698 => {
                return format!(
                    "the database at {target} refused user {user} (access denied): wrong user \
                     or password; check them in [database] connection{origin}"
                );
            }
            1044 => {
                return format!(
                    "user {user} has no rights on database {database} at {target} (MySQL error \
                     1044: {said}); grant them, or check the database name in [database] \
                     connection{origin}"
                );
            }
            1049 => {
                return format!(
                    "database {database} does not exist at {target}; check its name in \
                     [database] connection{origin}"
                );
            }
            // Wrong value, wrong type or unknown variable: only the session setup sets any.
            1231 | 1232 | 1193 if my.message().contains("sql_mode") => {
                return format!(
                    "the database at {target} rejected [database] mysql_sql_mode = {} ({said}); \
                     fix mysql_sql_mode (oslo.db's default is TRADITIONAL)",
                    text::quote(&settings.mysql_sql_mode)
                );
            }
            1231 | 1232 | 1193 if my.message().contains("wsrep_sync_wait") => {
                return format!(
                    "the database at {target} rejected [database] mysql_wsrep_sync_wait = {} \
                     ({said}); remove the option unless the server is a Galera cluster",
                    settings
                        .mysql_wsrep_sync_wait
                        .map_or(String::new(), |w| w.to_string())
                );
            }
            _ => {}
        }
    }
    let said = match err {
        sqlx::Error::Database(db) => text::one_line(db.message(), DRIVER_TEXT_MAX),
        other => text::one_line(&other.to_string(), DRIVER_TEXT_MAX),
    };
    if matches!(err, sqlx::Error::Tls(_)) {
        return format!(
            "TLS with the database at {target} failed ({said}); check ssl_ca/ssl_cert/ssl_key \
             in [database] connection{origin}"
        );
    }
    format!(
        "cannot connect to the database at {target} ({said}); check [database] connection{origin}"
    )
}
