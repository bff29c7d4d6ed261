//! The command line: global flags, the subcommand tree, and the order of config sources.

use std::path::PathBuf;

use clap::builder::StyledStr;
use clap::error::ErrorKind;
use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser};

use crate::commands::Command;
use crate::config::ConfigSource;
use crate::error::Failure;

/// The heading of the flags every command takes, in every `--help`.
const GLOBAL: &str = "Global options";
use crate::generate;

const EXIT_CODES: &str = "\
Exit codes:
  0    success (with --missing-ok, also: nothing left to do)
  1    runtime or database error (unreachable, access denied, a failed statement, an audit log
       that cannot be written); --timeout ran out (a stdout nobody reads included)
  2    usage or configuration error (bad flag, config file, option, URL; no terminal to ask at;
       an unsafe audit log: a link, FIFO or device, or writable by others; an audit record of
       another database)
  3    refused by a safety check (a service is up or in use; an audit record that is not its
       row's) or at the prompt; nothing changed
  4    nothing matched (no live service for the hosts or backend given; nothing left to restore,
       purge or move)
  5    outcome unknown: a COMMIT was sent and svcctl could not learn whether it landed; the
       audit log leaves it unconfirmed and the message says how to check it
  6    stopped (SIGINT, SIGTERM, --timeout) after a transaction had committed: it stands,
       confirmed in the audit log; the rest was not done
  130  interrupted by SIGINT (Ctrl-C); nothing was changed
  143  terminated by SIGTERM; nothing was changed

Durations (--timeout, --wait, --kill-timeout, --down-for) are seconds (90) or a number with a
unit s, m, h, d or w (90s, 15m, 12h, 7d, 1.5h).

Ranges: --timeout more than 0 up to 31536000 seconds (a year); --wait, --kill-timeout 0 to
31536000 seconds; --down-for at least [DEFAULT] service_down_time; --max-retries -1 (forever) to
2147483647; [DEFAULT] service_down_time 1 to 315360000 seconds (10 years); [database]
retry_interval, db_retry_interval, db_max_retry_interval 0 to 31536000; max_retries,
db_max_retries -1 to 2147483647; mysql_wsrep_sync_wait 0 to 15; URL port 1 to 65535,
connect_timeout more than 0 up to 31536000.

Configuration is read as Cinder reads it: --config-file and --config-dir in the order given
(default /etc/cinder/cinder.conf), then OS_<GROUP>__<OPT> environment variables
(e.g. OS_DATABASE__CONNECTION), then flags.";

/// Clean up stale OpenStack Cinder services, safely: list them as `cinder service-list` does,
/// soft-delete a dead host's services the way Cinder does (or sweep those down for days), undo
/// a deletion from the audit log, purge old deleted rows, remove clusters, and clean up after a
/// removed backend; disable a host and move its volumes and backups off it before deleting it.
#[derive(Debug, Parser)]
#[command(name = "svcctl", version, after_help = EXIT_CODES, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub(crate) global: GlobalArgs,
    #[command(subcommand)]
    pub(crate) command: Command,
    #[command(flatten)]
    pub(crate) generate: generate::Args,
}

#[derive(Debug, clap::Args)]
pub(crate) struct GlobalArgs {
    /// cinder.conf to read; repeatable, later files win [default: /etc/cinder/cinder.conf]
    #[arg(long = "config-file", value_name = "PATH", help_heading = GLOBAL)]
    pub(crate) config_file: Vec<PathBuf>,
    /// Directory whose *.conf files are read, sorted, after the files named before it; repeatable
    #[arg(long = "config-dir", value_name = "DIR", help_heading = GLOBAL)]
    pub(crate) config_dir: Vec<PathBuf>,
    /// Connection attempts at start, -1 (forever) to 2147483647; overrides [database] max_retries
    #[arg(long, value_name = "N", global = true, allow_negative_numbers = true, help_heading = GLOBAL,
          value_parser = crate::limits::max_retries)]
    pub(crate) max_retries: Option<i64>,
    /// Give up after this long in all (connecting, waiting, writing output): more than 0 up to 31536000 seconds (a year), e.g. 90, 2.5, 15m; exit 1 (6 once a change committed; a COMMIT in flight is still waited for, up to 5 s, then checked; service check: 3, UNKNOWN)
    #[arg(long, value_name = "DURATION", global = true, allow_negative_numbers = true,
          value_parser = crate::duration::timeout, help_heading = GLOBAL)]
    pub(crate) timeout: Option<std::time::Duration>,
    /// Log config files read, connection attempts and each SQL statement to stderr
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub(crate) debug: bool,
    /// The config files and directories in command-line order (filled in by `parse`).
    #[arg(skip)]
    pub(crate) config_sources: Vec<ConfigSource>,
}

/// What a command line asks for: a command to run, or something answered without one.
#[derive(Debug)]
pub enum Parsed {
    /// Boxed: a `Cli` is ten times the size of a `Special`.
    Run(Box<Cli>),
    Special(Special),
}

/// What is answered without reading cinder.conf or running a command (ripgrep's
/// `ParseResult::Special`): parsing only says what it is; `main` prints or writes it.
#[derive(Debug)]
pub enum Special {
    /// `--help`, `-h` or `help` on any level: the text as clap renders it, with its styles.
    Help(StyledStr),
    /// `--version` or `-V`: the line clap renders, newline included.
    Version(String),
    /// `--generate KIND [--out-dir DIR]`.
    Generate {
        kind: generate::Kind,
        out_dir: Option<PathBuf>,
    },
}

/// Parses the process's arguments. A usage error is a `Failure::Usage` of one line with a hint,
/// for main to print as every error is printed; nothing here prints or exits.
pub fn parse() -> anyhow::Result<Parsed> {
    parse_from(std::env::args_os())
}

pub(crate) fn parse_from<I, T>(args: I) -> anyhow::Result<Parsed>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let args: Vec<std::ffi::OsString> = args.into_iter().map(Into::into).collect();
    let cmd = generate::allow_alone(command(), &args);
    let matches = match cmd.clone().try_get_matches_from(&args) {
        Ok(m) => m,
        Err(e) if e.kind() == ErrorKind::DisplayHelp => {
            return Ok(Parsed::Special(Special::Help(e.render())));
        }
        Err(e) if e.kind() == ErrorKind::DisplayVersion => {
            return Ok(Parsed::Special(Special::Version(e.render().to_string())));
        }
        Err(e) => return Err(usage_error(&e, &cmd, &args).into()),
    };
    if let Some((kind, out_dir)) = generate::asked(&matches) {
        return Ok(Parsed::Special(Special::Generate { kind, out_dir }));
    }
    let mut cli = Cli::from_arg_matches(&matches).map_err(|e| usage_error(&e, &cmd, &args))?;
    cli.global.config_sources = ordered_sources(&matches);
    Ok(Parsed::Run(Box::new(cli)))
}

/// The command tree as parsed and as `--help` shows it: `--config-file` and `--config-dir` on
/// every level (see `ordered_sources`), and every subcommand's help ending with the exit codes.
pub(crate) fn command() -> clap::Command {
    let top = Cli::command();
    let shared: Vec<clap::Arg> = top
        .get_arguments()
        .filter(|a| ["config_file", "config_dir"].contains(&a.get_id().as_str()))
        .cloned()
        .collect();
    fn descend(cmd: clap::Command, shared: &[clap::Arg]) -> clap::Command {
        let names: Vec<String> = cmd
            .get_subcommands()
            .map(|s| s.get_name().to_string())
            .collect();
        names.iter().fold(cmd, |cmd, name| {
            cmd.mut_subcommand(name, |sub| {
                let sub = descend(sub.args(shared.iter().cloned()), shared);
                // One with exit codes of its own (`service check`, a monitoring plugin) keeps them.
                match sub.get_after_help() {
                    Some(_) => sub,
                    None => sub.after_help(EXIT_CODES),
                }
            })
        })
    }
    descend(top, &shared)
}

/// The deepest (sub)command the arguments name, e.g. `svcctl service list`, and its definition.
fn named_command<'a>(
    mut cmd: &'a clap::Command,
    args: &[std::ffi::OsString],
) -> (String, &'a clap::Command) {
    let mut path = vec![cmd.get_name().to_string()];
    for a in args.iter().skip(1) {
        if let Some(sub) = a.to_str().and_then(|a| cmd.find_subcommand(a)) {
            cmd = sub;
            path.push(sub.get_name().to_string());
        }
    }
    (path.join(" "), cmd)
}

/// clap's error as svcctl's one line: what is wrong, clap's tips that help, and where to look.
fn usage_error(e: &clap::Error, cmd: &clap::Command, args: &[std::ffi::OsString]) -> Failure {
    let (path, named) = named_command(cmd, args);
    if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        let subs: Vec<&str> = named.get_subcommands().map(|s| s.get_name()).collect();
        return Failure::Usage(format!(
            "'{path}' needs a subcommand: {}; see '{path} --help'",
            subs.join(", ")
        ));
    }
    if let Some(line) = from_environment(e, args) {
        return Failure::Usage(format!("{line}; see '{path} --help'"));
    }
    let text = e.render().to_string();
    let mut parts: Vec<String> = Vec::new();
    for l in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if l.starts_with("Usage: ") || l.starts_with("For more information") {
            break;
        }
        // clap's "to pass '--x' as a value, use '-- --x'" misleads more than it helps here.
        if l.contains("as a value, use '--") {
            continue;
        }
        let l = l.trim_start_matches("error: ").trim_start_matches("tip: ");
        match parts.last_mut() {
            // "the following required arguments were not provided:" + the argument
            Some(last) if last.ends_with(':') => {
                last.push(' ');
                last.push_str(l);
            }
            _ => parts.push(l.to_string()),
        }
    }
    if parts.is_empty() {
        parts.push("bad command line".into());
    }
    if e.kind() == ErrorKind::InvalidSubcommand
        && path == "svcctl service"
        && parts[0].contains("'remove'")
    {
        parts.push(
            "to delete services use 'svcctl service delete --host HOST' (cinder-manage service \
             remove, with safety checks)"
                .into(),
        );
    }
    let text = crate::secret::redact(&parts.join("; "));
    Failure::Usage(format!(
        "{}; see '{path} --help'",
        crate::text::one_line(&text, crate::text::LINE_MAX)
    ))
}

/// A bad value that came from an environment variable, not from the command line: clap names
/// the flag the variable stands in for, which the user never typed, so the line names the
/// variable instead. None when the flag was given (its value is the one clap refused).
fn from_environment(e: &clap::Error, args: &[std::ffi::OsString]) -> Option<String> {
    use clap::error::{ContextKind, ContextValue};
    // Every flag that takes a value from the environment, and its variable.
    const FROM_ENV: &[(&str, &str)] = &[("--max-width", "CLIFF_MAX_TERM_WIDTH")];
    if e.kind() != ErrorKind::ValueValidation {
        return None;
    }
    let Some(ContextValue::String(arg)) = e.get(ContextKind::InvalidArg) else {
        return None;
    };
    let (flag, var) = FROM_ENV
        .iter()
        .find(|(f, _)| arg.split(' ').next() == Some(*f))?;
    let typed = args.iter().any(|a| {
        a.to_str()
            .is_some_and(|a| a == *flag || a.starts_with(&format!("{flag}=")))
    });
    if typed {
        return None;
    }
    let value = std::env::var_os(var)?;
    let why = crate::limits::max_width(&value.to_string_lossy()).err()?;
    Some(format!(
        "the environment variable {var} (the default of {flag}) is refused: {why}; or unset it"
    ))
}

/// oslo.config reads `--config-file` and `--config-dir` in the order they were given, so a
/// directory named after a file overrides it and vice versa. clap keeps each flag's values
/// apart; their indices restore the order.
///
/// These two flags are not clap-global, because clap keeps only the innermost level's values of
/// a global flag and would lose files named on both sides of the subcommand. Instead `command`
/// gives every level its own copy, and this collects them all: a level's flags all come before
/// its subcommand's name, so the levels are in command-line order, and within a level clap's
/// indices give the order.
fn ordered_sources(matches: &ArgMatches) -> Vec<ConfigSource> {
    let mut sources = Vec::new();
    let mut level = Some(matches);
    while let Some(matches) = level {
        let mut indexed: Vec<(usize, ConfigSource)> = Vec::new();
        collect_sources(matches, &mut indexed);
        indexed.sort_by_key(|(i, _)| *i);
        sources.extend(indexed.into_iter().map(|(_, s)| s));
        level = matches.subcommand().map(|(_, sub)| sub);
    }
    sources
}

fn collect_sources(matches: &ArgMatches, indexed: &mut Vec<(usize, ConfigSource)>) {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_is_well_formed() {
        command().debug_assert();
    }

    fn special(args: &[&str]) -> Special {
        match parse_from(args) {
            Ok(Parsed::Special(special)) => special,
            other => panic!("{args:?}: {other:?}"),
        }
    }

    #[test]
    fn help_version_and_generate_come_back_as_values() {
        for args in [
            &["svcctl", "--help"][..],
            &["svcctl", "-h"],
            &["svcctl", "help"],
            &["svcctl", "help", "service", "delete"],
            &["svcctl", "service", "delete", "--help"],
            &["svcctl", "--help", "--generate", "man"],
        ] {
            let Special::Help(text) = special(args) else {
                panic!("{args:?} is not help")
            };
            let text = text.to_string();
            assert!(text.contains("Usage: svcctl"), "{args:?}: {text}");
            assert!(text.ends_with('\n'), "{args:?}: {text}");
        }
        let Special::Help(delete) = special(&["svcctl", "service", "delete", "--help"]) else {
            panic!()
        };
        assert!(delete.to_string().contains("Usage: svcctl service delete"));
        for args in [&["svcctl", "--version"][..], &["svcctl", "-V"]] {
            let Special::Version(text) = special(args) else {
                panic!("{args:?} is not the version")
            };
            assert_eq!(text, format!("svcctl {}\n", env!("CARGO_PKG_VERSION")));
        }
        let Special::Generate { kind, out_dir } =
            special(&["svcctl", "--generate", "man", "--out-dir", "/x"])
        else {
            panic!("not --generate")
        };
        assert_eq!(
            (kind, out_dir),
            (generate::Kind::Man, Some(PathBuf::from("/x")))
        );
        let Special::Generate { kind, out_dir } = special(&["svcctl", "--generate=complete-bash"])
        else {
            panic!("not --generate")
        };
        assert_eq!((kind, out_dir), (generate::Kind::CompleteBash, None));
        assert!(matches!(
            parse_from(["svcctl", "service", "list"]),
            Ok(Parsed::Run(_))
        ));
    }

    #[test]
    fn config_sources_keep_command_line_order() {
        let Ok(Parsed::Run(cli)) = parse_from([
            "svcctl",
            "--config-dir",
            "d1",
            "--config-file",
            "f1",
            "--config-dir",
            "d2",
            "service",
            "list",
            "--config-file",
            "f2",
            "--config-dir",
            "d3",
        ]) else {
            panic!("not a command to run")
        };
        assert_eq!(
            cli.global.config_sources,
            vec![
                ConfigSource::Dir("d1".into()),
                ConfigSource::File("f1".into()),
                ConfigSource::Dir("d2".into()),
                ConfigSource::File("f2".into()),
                ConfigSource::Dir("d3".into()),
            ]
        );
    }
}
