//! `svcctl service check`: a monitoring plugin (Nagios, Icinga, Sensu, ...) over the services
//! table: one status line and its exit code, the same verdict as JSON, and with `--textfile`
//! the Prometheus metrics for node_exporter. Reads only: no audit log, no lock.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::Context;
use crate::check::survey::{self, Scope};
use crate::check::{self, Rules, StaleIs, Status};
use crate::config::files::DEFAULT_CONFIG_FILE;
use crate::db::services::ServiceFilter;
use crate::duration::parse_for;
use crate::hosts::HostPattern;
use crate::output::check::CheckFormat;
use crate::output::prometheus::{self, Started};
use crate::plan::plan_now;
use crate::plugin::Exit;

/// This command's exit codes, in place of svcctl's (the man page's EXIT STATUS too).
const EXIT_CODES: &str = "\
Exit codes (a monitoring plugin's, unlike svcctl's other commands):
  0    OK
  1    WARNING: enabled services down (--warning-down), or stale services (--stale-is warning)
  2    CRITICAL: an outage (--critical-outage), every enabled service of a binary down, or
       every service of a binary disabled
  3    UNKNOWN: no live service matched, or the check failed (database unreachable, schema
       unreadable, bad configuration or flag, --timeout, Ctrl-C); one status line, no password

Configuration is read as for every svcctl command (--config-file, --config-dir, OS_<GROUP>__<OPT>).";

/// Check the Cinder services as a monitoring plugin (Nagios, Icinga): status line, exit code
///
/// Prints one line, `CINDER SERVICES OK|WARNING|CRITICAL|UNKNOWN - ...`, the problems first,
/// then `|` and performance data (`up=6;;;0;10 down=4;;;0;10 disabled=0;;;0;10 stale=0;;;0;10
/// zones=1;;;0`), and exits 0, 1, 2 or 3 as the Monitoring Plugins guidelines say, unlike
/// svcctl's other commands. Up and down are Cinder's rule (service_down_time), as in service
/// list. Stale services, down longer than --stale-after and used by nothing service delete
/// checks (live volumes, backups, groups, workers, image cache entries, cluster-only
/// references), are no outage: they are counted apart, with the exact `svcctl service delete
/// --down-for ...` that removes them. Every other service counts. CRITICAL: at least
/// --critical-outage percent of a zone's enabled hosts of one binary (of one backend,
/// host@backend, for cinder-volume) down; every enabled service of a binary down; every
/// service of a binary disabled. WARNING: at least --warning-down enabled services down; stale
/// services (--stale-is warning). No live service in scope is UNKNOWN. Reads only: no audit
/// log, no lock; references are counted only for services down longer than --stale-after.
#[derive(Debug, clap::Args)]
#[command(after_help = EXIT_CODES)]
pub(crate) struct Args {
    /// Only this host, exact and case-sensitive; `*` and `?` make a glob (`node01@*`); repeatable
    #[arg(long, value_name = "HOST")]
    pub host: Vec<String>,
    /// Leave out this host (exact, or a glob); repeatable
    #[arg(long, value_name = "HOST")]
    pub exclude: Vec<String>,
    /// Only this binary, e.g. cinder-volume
    #[arg(long, value_name = "BINARY", value_parser = crate::limits::name)]
    pub binary: Option<String>,
    /// Only this availability zone
    #[arg(long, value_name = "ZONE", value_parser = crate::limits::name)]
    pub zone: Option<String>,
    /// WARNING when at least COUNT enabled services are down, stale ones aside (0: never)
    #[arg(long, value_name = "COUNT", default_value_t = 1)]
    pub warning_down: u64,
    /// CRITICAL when at least PCT percent (1 to 100) of a zone's enabled hosts of one binary
    /// (cinder-volume: of one backend) are down
    #[arg(long, value_name = "PCT", default_value = "50", value_parser = crate::limits::percent)]
    pub critical_outage: u8,
    /// Stale: down longer than this (7d, 12h, 90m: --down-for's syntax) and unused
    #[arg(long, value_name = "DURATION", default_value = check::DEFAULT_STALE_AFTER,
          allow_hyphen_values = true)]
    pub stale_after: String,
    /// What stale services make the status
    #[arg(long, value_enum, value_name = "STATUS", default_value_t = StaleIs::Warning)]
    pub stale_is: StaleIs,
    /// After the status line, one line per group and per service behind it
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// The output: the status line, or the same verdict as one JSON document
    #[arg(short = 'f', long = "format", value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,
    /// Also write the Prometheus metrics to this node_exporter textfile (a *.prom file),
    /// atomically, mode 0644
    #[arg(long, value_name = "PATH", value_parser = textfile)]
    pub textfile: Option<PathBuf>,
}

/// `--textfile`: a `.prom` file (node_exporter's textfile collector reads no other) in a
/// directory that exists.
fn textfile(s: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(s);
    if path.extension().and_then(|e| e.to_str()) != Some("prom") {
        return Err(format!(
            "{} does not end in .prom, and node_exporter's textfile collector reads only *.prom \
             files",
            crate::text::quote(s)
        ));
    }
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !dir.is_dir() {
        return Err(format!(
            "directory {} does not exist; give node_exporter's \
             --collector.textfile.directory",
            crate::text::quote(&dir.display().to_string())
        ));
    }
    Ok(path)
}

/// The config files the sweep command must name for it to read what the check read: the
/// files read, absolute, unless that was only the default.
fn sweep_config_files(read: &[PathBuf]) -> Vec<PathBuf> {
    if read.len() == 1 && read[0] == Path::new(DEFAULT_CONFIG_FILE) {
        return Vec::new();
    }
    read.iter()
        .map(|p| std::path::absolute(p).unwrap_or_else(|_| p.clone()))
        .collect()
}

pub(crate) async fn run(args: Args, ctx: &Context) -> Result<()> {
    let started = Started::now();
    let down_time = ctx.settings.service_down_time;
    let rules = Rules {
        warning_down: args.warning_down,
        critical_outage: args.critical_outage,
        stale_after: parse_for("--stale-after", &args.stale_after, down_time)?,
        stale_after_text: args.stale_after.clone(),
        stale_is: args.stale_is,
    };
    let scope = Scope {
        filter: ServiceFilter {
            hosts: HostPattern::parse_all(&args.host)?,
            exclude: HostPattern::parse_all(&args.exclude)?,
            binary: args.binary.clone(),
            ..ServiceFilter::default()
        },
        zone: args.zone.clone(),
        host_args: args.host.clone(),
        exclude_args: args.exclude.clone(),
        config_files: sweep_config_files(&ctx.settings.files_read),
    };
    // Whole seconds, as the delete's plan: the sweep must draw the line where the check did.
    let now = plan_now();
    let metrics = args.textfile.is_some();
    let read = async {
        let mut db = ctx.connect().await?;
        survey::survey(&mut db, &scope, &rules, down_time, now, |_| true, metrics).await
    }
    .await;
    let survey = match read {
        Ok(s) => s,
        Err(e) => {
            if let Some(path) = &args.textfile {
                let scrape = started.scrape(Some(Status::Unknown));
                // The failure is the news; a textfile that cannot be written either adds none.
                let _ =
                    prometheus::write_textfile(path, |w| prometheus::render_failure(&scrape, w));
            }
            return Err(e);
        }
    };
    let verdict = check::judge(survey.services, survey.sweep, &rules);
    if let Some(path) = &args.textfile {
        let scrape = started.scrape(Some(verdict.status));
        prometheus::write_textfile(path, |w| prometheus::render(&verdict, &scrape, w))?;
    }
    crate::output::check::print(&verdict, args.format, args.verbose > 0)?;
    match verdict.status {
        Status::Ok => Ok(()),
        status => Err(Exit(status.code()).into()),
    }
}
