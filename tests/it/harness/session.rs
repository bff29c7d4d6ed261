//! A root MySQL session kept open across calls, on a thread of its own, so a test can hold row
//! locks (or read the server's lock waits) while svcctl runs beside it.

use std::path::Path;
use std::sync::mpsc;

use sqlx::ConnectOptions;
use sqlx::mysql::MySqlConnectOptions;

use super::database::{TestDb, text_rows};
use super::server::mariadb;

enum Ask {
    Exec(String),
    Rows(String),
}

/// Rows of a query, every column read as text (NULL as None).
pub type Rows = Vec<Vec<Option<String>>>;

/// A question to the session's thread, and where its answer goes.
type Asked = (Ask, mpsc::Sender<Result<Rows, String>>);

/// A MySQL session kept open across calls (on a thread with its own runtime).
pub struct Session {
    tx: Option<mpsc::Sender<Asked>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Session {
    pub fn open(opts: MySqlConnectOptions) -> Session {
        let (tx, rx) = mpsc::channel::<Asked>();
        let (ready_tx, ready_rx) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            super::block_on(async move {
                let mut c = match opts.log_statements(log::LevelFilter::Off).connect().await {
                    Ok(c) => {
                        ready_tx.send(Ok(())).unwrap();
                        c
                    }
                    Err(e) => {
                        ready_tx.send(Err(e.to_string())).unwrap();
                        return;
                    }
                };
                while let Ok((ask, reply)) = rx.recv() {
                    let answer = match ask {
                        Ask::Exec(sql) => sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                            .execute(&mut c)
                            .await
                            .map(|_| Vec::new()),
                        Ask::Rows(sql) => sqlx::query(sqlx::AssertSqlSafe(sql))
                            .fetch_all(&mut c)
                            .await
                            .map(|rows| text_rows(&rows)),
                    };
                    let _ = reply.send(answer.map_err(|e| e.to_string()));
                }
            })
        });
        ready_rx.recv().unwrap().expect("root session");
        Session {
            tx: Some(tx),
            thread: Some(thread),
        }
    }

    fn ask(&self, ask: Ask) -> Result<Rows, String> {
        let (reply, answer) = mpsc::channel();
        self.tx.as_ref().unwrap().send((ask, reply)).unwrap();
        answer.recv().unwrap_or_else(|_| Err("session gone".into()))
    }

    pub fn exec(&self, sql: &str) {
        self.ask(Ask::Exec(sql.into()))
            .unwrap_or_else(|e| panic!("{e}: {sql}"));
    }

    pub fn rows(&self, sql: &str) -> Rows {
        self.ask(Ask::Rows(sql.into()))
            .unwrap_or_else(|e| panic!("{e}: {sql}"))
    }

    pub fn int(&self, sql: &str) -> i64 {
        self.rows(sql)[0][0].as_ref().unwrap().parse().unwrap()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
impl Session {
    /// A root session on the private MariaDB, in `db`'s database.
    pub fn root(db: &TestDb) -> Session {
        Session::open(root_at(&mariadb().unwrap().socket, &db.name))
    }

    /// How many transactions on `database` wait for a lock.
    pub fn lock_waits(&self, database: &str) -> i64 {
        self.int(&format!(
            "SELECT CAST(COUNT(*) AS CHAR) FROM information_schema.INNODB_TRX t \
             JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id \
             WHERE t.trx_state = 'LOCK WAIT' AND p.DB = '{database}'"
        ))
    }
}

pub fn root_at(socket: &Path, database: &str) -> MySqlConnectOptions {
    MySqlConnectOptions::new()
        .socket(socket)
        .username("root")
        .database(database)
}
