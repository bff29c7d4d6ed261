//! svcctl: `run` takes a parsed command line, reads cinder.conf, and runs one subcommand under
//! the global bounds (Ctrl-C, `--timeout`).

// First, so that its `eprintln!`/`eprint!` (fallible, redacting) replace std's in every module.
#[macro_use]
pub mod term;

mod apply;
mod audit;
mod check;
pub mod cli;
mod commands;
mod config;
mod db;
mod duration;
pub mod error;
mod generate;
mod hosts;
mod limits;
mod model;
mod output;
mod plan;
pub mod plugin;
mod processes;
mod relocate;
mod seams;
mod sys;
mod text;
mod undo;
mod write;

use std::time::Duration;

use anyhow::Result;

use crate::cli::Cli;
use crate::config::{Overrides, Settings};
use crate::error::Failure;

/// What every subcommand gets: the settings.
pub(crate) struct Context {
    pub settings: Settings,
}

impl Context {
    /// Connects with the `[database]` retry policy; waits are told on stderr.
    pub async fn connect(&self) -> Result<db::Db> {
        let s = &self.settings.database;
        let options = db::Options {
            connection: s.connection.clone(),
            connection_origin: s.connection_origin.clone(),
            connection_unset: s.connection_unset.clone(),
            max_retries: s.max_retries,
            retry_interval: s.retry_interval,
            use_db_reconnect: s.use_db_reconnect,
            db_retry_interval: s.db_retry_interval,
            db_inc_retry_interval: s.db_inc_retry_interval,
            db_max_retry_interval: s.db_max_retry_interval,
            db_max_retries: s.db_max_retries,
            mysql_sql_mode: s.mysql_sql_mode.clone(),
            mysql_wsrep_sync_wait: s.mysql_wsrep_sync_wait,
        };
        db::Db::connect(&options, output::messages::db_notice).await
    }
}

pub fn run(cli: Cli) -> Result<()> {
    init_tracing(cli.global.debug);
    let settings = config::load(
        &cli.global.config_sources,
        std::env::vars(),
        &Overrides {
            max_retries: cli.global.max_retries,
        },
    )?;
    tracing::debug!(
        files = ?settings.files_read,
        connection = %db::url::mask(&settings.database.connection),
        service_down_time = settings.service_down_time,
        host = %settings.host,
        "configuration read"
    );
    let ctx = Context { settings };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let timeout = cli.global.timeout;
    let result = runtime.block_on(async move {
        let work = commands::run(cli.command, &ctx);
        let bounded = async {
            match timeout {
                None => work.await,
                Some(secs) => tokio::time::timeout(Duration::from_secs_f64(secs), work)
                    .await
                    .unwrap_or_else(|_| {
                        Err(anyhow::anyhow!(
                            "gave up after {secs}s (--timeout); the step in progress was \
                             abandoned and rolled back"
                        ))
                    }),
            }
        };
        // Ctrl-C drops the work where it stands: an open transaction dies with its connection
        // and the server rolls it back, so nothing is half-written.
        tokio::select! {
            result = bounded => result,
            _ = tokio::signal::ctrl_c() => Err(Failure::Interrupted.into()),
        }
    });
    // Don't wait for blocking tasks: a prompt abandoned by Ctrl-C is still reading stdin.
    runtime.shutdown_background();
    result
}

fn init_tracing(debug: bool) {
    let filter = if debug {
        "svcctl=debug,sqlx::query=debug"
    } else {
        "off"
    };
    let _ = tracing_subscriber::fmt()
        .with_writer(term::stderr)
        .with_ansi(term::Stream::Stderr.colour())
        .with_target(false)
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .try_init();
}
