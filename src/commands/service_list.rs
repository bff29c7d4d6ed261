//! `svcctl service list`: the services table as `cinder service-list` shows it, or as
//! JSON/CSV/value for scripts, in the table's order.

use anyhow::Result;
use clap::ValueEnum;

use crate::Context;
use crate::check::survey::{self, Scope};
use crate::check::{self, Rules};
use crate::db::services::{self, ServiceFilter};
use crate::error::Failure;
use crate::hosts::Selection;
use crate::model::Service;
use crate::output::columns::{
    cinder_columns, csv_columns, find_column, json_columns, select_columns, sort_services,
};
use crate::output::list::{ServiceSink, Style, sort_as_table};
use crate::output::prometheus::{self, Started};
use crate::output::{Format, OutputArgs};
use crate::plan::plan_now;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum State {
    Up,
    Down,
}

/// List services as `cinder service-list` does, with filters
///
/// Only live rows (deleted = 0) unless --include-deleted. A service is up when its last
/// heartbeat (updated_at, else created_at) is within [DEFAULT] service_down_time seconds of now,
/// either way; Updated_at shows modified_at (stamped by service-disable and -enable) when that is
/// at least as close to now, as cinder service-list does.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Only this host, exact and case-sensitive; `*` and `?` make a glob (`node01@*`); repeatable
    #[arg(long, value_name = "HOST")]
    pub host: Vec<String>,
    /// Only this binary, e.g. cinder-volume
    #[arg(long, value_name = "BINARY", value_parser = crate::limits::name)]
    pub binary: Option<String>,
    /// Only services that are up, or down
    #[arg(long, value_enum)]
    pub state: Option<State>,
    /// Only this availability zone
    #[arg(long, value_name = "ZONE", value_parser = crate::limits::name)]
    pub zone: Option<String>,
    /// Only disabled services
    #[arg(long, conflicts_with = "enabled")]
    pub disabled: bool,
    /// Only enabled services
    #[arg(long)]
    pub enabled: bool,
    /// Add Replication Status, Active Backend ID and Frozen, as cinder service-list --withreplication
    #[arg(long)]
    pub withreplication: bool,
    /// Also show soft-deleted rows (adds Deleted_at; JSON adds deleted and deleted_at)
    #[arg(long)]
    pub include_deleted: bool,
    /// Only services down (no heartbeat) for at least this long, at least [DEFAULT] service_down_time: 7d, 12h, 90m, or seconds
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true)]
    pub down_for: Option<String>,
    /// Leave out this host (exact, or a glob); repeatable
    #[arg(long, value_name = "HOST")]
    pub exclude: Vec<String>,
    #[command(flatten)]
    pub output: OutputArgs,
}

impl Args {
    /// No filter, the default table: what `svcctl service list` alone shows.
    pub fn plain() -> Args {
        Args {
            host: vec![],
            binary: None,
            state: None,
            zone: None,
            disabled: false,
            enabled: false,
            withreplication: false,
            include_deleted: false,
            down_for: None,
            exclude: vec![],
            output: OutputArgs::table(),
        }
    }
}

pub(crate) async fn run(args: Args, ctx: &Context) -> Result<()> {
    let down_time = ctx.settings.service_down_time;
    let sel = Selection::parse(
        &args.host,
        &args.exclude,
        args.down_for.as_deref(),
        down_time,
    )?;
    let selected = !args.output.columns.is_empty();
    let cols = if selected {
        select_columns(&args.output.columns)?
    } else if matches!(args.output.format, Format::Json | Format::Yaml) {
        json_columns(args.include_deleted).to_vec()
    } else if args.output.format == Format::Csv {
        csv_columns(args.withreplication, args.include_deleted)
    } else {
        cinder_columns(args.withreplication, args.include_deleted)
    };
    let now = chrono::Utc::now().naive_utc();
    let filter = ServiceFilter {
        zone: args.zone.clone(),
        disabled: match (args.disabled, args.enabled) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        },
        include_deleted: args.include_deleted,
        ..ServiceFilter::selecting(&sel, args.binary.clone(), now)
    };
    if args.output.format == Format::Prometheus {
        return prometheus(&args, filter, ctx).await;
    }
    let mut db = ctx.connect().await?;
    // Buffered: stdout is line-buffered, and one write per row would cost a syscall per row.
    let out = std::io::BufWriter::with_capacity(64 * 1024, crate::term::stdout());
    // --sort-column: unknown names are ignored, as cliff ignores them.
    let sort_by: Vec<_> = args
        .output
        .sort_columns
        .iter()
        .filter_map(|n| find_column(n))
        .collect();
    let style = Style {
        fit_to: args.output.table.fit_to(),
        presorted: !sort_by.is_empty(),
        noindent: args.output.json.noindent,
        quote: args.output.quote,
    };
    // The table sorts its rows by their cells; JSON, CSV and value come in that same order,
    // so they are held and sorted as the table would be (the table keeps only its cells).
    // --sort-column holds every format, the table too, and sorts stably on top of that order.
    let table = args.output.format == Format::Table;
    let hold = !table || !sort_by.is_empty();
    let order = if selected {
        cols.clone()
    } else {
        cinder_columns(args.withreplication, args.include_deleted)
    };
    let mut sink = ServiceSink::new(out, args.output.format, cols, style)?;
    let mut held = Vec::new();
    services::for_each(&mut db, &filter, |row| {
        let service = Service::judge(row, now, down_time);
        let wanted = match args.state {
            None => true,
            Some(State::Up) => service.up,
            Some(State::Down) => !service.up,
        };
        match (wanted, !hold) {
            (false, _) => Ok(()),
            (true, true) => sink.push(&service),
            (true, false) => {
                held.push(service);
                Ok(())
            }
        }
    })
    .await?;
    if hold {
        sort_as_table(&mut held, &order);
        sort_services(&mut held, &sort_by, args.output.sort_descending);
        for service in &held {
            sink.push(service)?;
        }
    }
    sink.finish()
}

/// `-f prometheus`: the families `service check --textfile` writes (but its status), over the
/// rows this listing selects, stale judged by `service check`'s default rules.
async fn prometheus(args: &Args, filter: ServiceFilter, ctx: &Context) -> Result<()> {
    let refused = [
        (
            args.include_deleted,
            "--include-deleted (Cinder's API lists no deleted service)",
        ),
        (
            !args.output.columns.is_empty(),
            "-c (the families are fixed)",
        ),
        (
            !args.output.sort_columns.is_empty(),
            "--sort-column (the families are fixed)",
        ),
    ];
    if let Some((_, flag)) = refused.iter().find(|(given, _)| *given) {
        return Err(Failure::Usage(format!("-f prometheus takes no {flag}")).into());
    }
    let started = Started::now();
    let rules = Rules::default();
    let scope = Scope {
        filter,
        ..Scope::default()
    };
    let mut db = ctx.connect().await?;
    let state = args.state;
    let keep = |s: &Service| match state {
        None => true,
        Some(State::Up) => s.up,
        Some(State::Down) => !s.up,
    };
    let down_time = ctx.settings.service_down_time;
    let survey = survey::survey(&mut db, &scope, &rules, down_time, plan_now(), keep, true).await?;
    let verdict = check::judge(survey.services, survey.sweep, &rules);
    prometheus::print(&verdict, &started.scrape(None))
}
