//! svcctl: `run` takes a parsed command line, reads cinder.conf, and runs one subcommand under
//! the global bounds (SIGINT, SIGTERM, `--timeout`: see `interrupt`); `special` answers help,
//! version and `--generate`.

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
mod interrupt;
mod limits;
mod model;
mod output;
mod plan;
pub mod plugin;
mod processes;
mod seams;
mod secret;
mod sys;
pub mod term;
mod text;
mod timefmt;
mod write;

use std::io::Write;
use std::time::Instant;

use anyhow::Result;

use crate::cli::{Cli, Special};
use crate::config::{Overrides, Settings};
use crate::interrupt::{Cause, Stopped};

/// What every subcommand gets: the settings.
pub(crate) struct Context {
    pub settings: Settings,
    /// When `--timeout` ends the command, if it was given: waits show the time left by it.
    pub deadline: Option<std::time::Instant>,
}

impl Context {
    /// Connects with the `[database]` retry policy; waits are told on stderr.
    pub async fn connect(&self) -> Result<db::Db> {
        db::Db::connect(&self.settings.database, output::messages::db_notice).await
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
        connection = %settings.database.connection.masked(),
        service_down_time = settings.service_down_time,
        host = %settings.host,
        "configuration read"
    );
    let timeout = cli.global.timeout;
    let ctx = Context {
        settings,
        deadline: timeout.map(|limit| Instant::now() + limit),
    };
    // Before the runtime starts any thread: every thread then leaves the signals to one.
    interrupt::install(output::messages::interrupt_note)?;
    if let Some(limit) = timeout {
        term::set_deadline(Instant::now() + limit, limit.as_secs_f64());
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(async move {
        let work = commands::run(cli.command, &ctx);
        let expiry = async {
            if let Some(limit) = timeout {
                tokio::time::sleep(limit).await;
                interrupt::raise(Cause::Timeout(limit.as_secs_f64()));
            }
            std::future::pending::<()>().await
        };
        // A signal or the timeout drops the work where it stands, but never inside a
        // transaction's critical section (`interrupt::stop` waits for it to end): an open
        // transaction dies with its connection and the server rolls it back.
        tokio::select! {
            biased;
            result = work => result,
            cause = interrupt::stop() => Err(Stopped(cause).into()),
            () = expiry => unreachable!("the expiry never ends"),
        }
    });
    // Don't wait for blocking tasks: a prompt abandoned by Ctrl-C is still reading stdin.
    runtime.shutdown_background();
    interrupt::conclude(result)
}

/// Answers what the command line asked instead of a command: help and the version on stdout,
/// `--generate`'s page or script on stdout or into its directory. No cinder.conf is read. A
/// failure to write is an error like any other (exit 1, one line); a closed pipe is not.
pub fn special(special: Special) -> Result<()> {
    let text = match special {
        Special::Help(styled) => term::styled_for_stdout(&styled),
        Special::Version(text) => text,
        Special::Generate { kind, out_dir } => {
            return generate::write(kind, cli::command(), out_dir.as_deref());
        }
    };
    let mut out = term::stdout();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
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
