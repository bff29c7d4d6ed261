//! The command line: global flags, the subcommand tree, and the order of config sources.

use std::path::PathBuf;

use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser};

use crate::commands::Command;
use crate::config::ConfigSource;

const EXIT_CODES: &str = "\
Exit codes:
  0    success (with --missing-ok, also: nothing left to do)
  1    runtime or database error (unreachable, access denied, a failed statement)
  2    usage or configuration error (bad flag, config file, option, URL; no terminal to ask at)
  3    refused by a safety check (a service is up or in use) or at the prompt; nothing changed
  4    nothing matched (no live service for the hosts or backend given; nothing to move)
  130  interrupted (Ctrl-C); nothing half-written

Ranges: --timeout more than 0 up to 31536000 seconds (a year); --max-retries -1 (forever) to
2147483647; [DEFAULT] service_down_time 1 to 315360000 seconds (10 years); [database]
retry_interval, db_retry_interval, db_max_retry_interval 0 to 31536000; max_retries,
db_max_retries -1 to 2147483647; mysql_wsrep_sync_wait 0 to 15; URL port 1 to 65535,
connect_timeout more than 0 up to 31536000.

Configuration is read as Cinder reads it: --config-file and --config-dir in the order given
(default /etc/cinder/cinder.conf), then OS_<GROUP>__<OPT> environment variables
(e.g. OS_DATABASE__CONNECTION), then flags.";

/// Clean up stale OpenStack Cinder services, safely: list them as `cinder service-list` does,
/// soft-delete a dead host's services the way Cinder does, and clean up after a removed backend;
/// disable a host and move its volumes and backups off it before deleting it.
#[derive(Debug, Parser)]
#[command(name = "svcctl", version, after_help = EXIT_CODES, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub(crate) global: GlobalArgs,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, clap::Args)]
pub(crate) struct GlobalArgs {
    /// cinder.conf to read; repeatable, later files win; before the subcommand [default: /etc/cinder/cinder.conf]
    #[arg(long = "config-file", value_name = "PATH")]
    pub(crate) config_file: Vec<PathBuf>,
    /// Directory whose *.conf files are read, sorted, after the files named before it; repeatable
    #[arg(long = "config-dir", value_name = "DIR")]
    pub(crate) config_dir: Vec<PathBuf>,
    /// Connection attempts at start, -1 (forever) to 2147483647; overrides [database] max_retries
    #[arg(long, value_name = "N", global = true, allow_negative_numbers = true,
          value_parser = clap::value_parser!(i64).range(-1..=crate::limits::MAX_RETRIES))]
    pub(crate) max_retries: Option<i64>,
    /// Give up after this many seconds in all (connecting, waiting, writing), up to 31536000 (a year); exit 1
    #[arg(long, value_name = "SECONDS", global = true, allow_negative_numbers = true,
          value_parser = crate::limits::timeout)]
    pub(crate) timeout: Option<f64>,
    /// Log config files read, connection attempts and each SQL statement to stderr
    #[arg(long, global = true)]
    pub(crate) debug: bool,
    /// The config files and directories in command-line order (filled in by `parse`).
    #[arg(skip)]
    pub(crate) config_sources: Vec<ConfigSource>,
}

/// Parses the process's arguments; on a usage error exits 2 with one `svcctl: ` line.
pub fn parse() -> Cli {
    parse_from(std::env::args_os())
}

pub(crate) fn parse_from<I, T>(args: I) -> Cli
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let matches = Cli::command()
        .try_get_matches_from(args)
        .unwrap_or_else(|e| crate::term::clap_exit(e));
    let mut cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| crate::term::clap_exit(e));
    cli.global.config_sources = ordered_sources(&matches);
    cli
}

/// oslo.config reads `--config-file` and `--config-dir` in the order they were given, so a
/// directory named after a file overrides it and vice versa. clap keeps each flag's values
/// apart; their indices restore the order.
///
/// These two flags are not global: clap keeps only the innermost level's values of a global
/// flag, which would lose files named on both sides of the subcommand.
fn ordered_sources(matches: &ArgMatches) -> Vec<ConfigSource> {
    let mut indexed: Vec<(usize, ConfigSource)> = Vec::new();
    for (id, make) in [
        (
            "config_file",
            ConfigSource::File as fn(PathBuf) -> ConfigSource,
        ),
        (
            "config_dir",
            ConfigSource::Dir as fn(PathBuf) -> ConfigSource,
        ),
    ] {
        if let (Some(values), Some(indices)) =
            (matches.get_many::<PathBuf>(id), matches.indices_of(id))
        {
            indexed.extend(indices.zip(values).map(|(i, v)| (i, make(v.clone()))));
        }
    }
    indexed.sort_by_key(|(i, _)| *i);
    indexed.into_iter().map(|(_, s)| s).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn config_sources_keep_command_line_order() {
        let cli = parse_from([
            "svcctl",
            "--config-dir",
            "d1",
            "--config-file",
            "f1",
            "--config-dir",
            "d2",
            "service",
            "list",
        ]);
        assert_eq!(
            cli.global.config_sources,
            vec![
                ConfigSource::Dir("d1".into()),
                ConfigSource::File("f1".into()),
                ConfigSource::Dir("d2".into())
            ]
        );
    }
}
