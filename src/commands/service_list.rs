//! `svcctl service list`: the services table as `cinder service-list` shows it, or as
//! JSON/CSV/value for scripts, streamed row by row.

use anyhow::Result;
use clap::ValueEnum;

use crate::Context;
use crate::db::services::{self, ServiceFilter};
use crate::hosts::HostPattern;
use crate::model::Service;
use crate::output::columns::{
    cinder_columns, find_column, json_columns, select_columns, sort_services,
};
use crate::output::list::{ServiceSink, Style};
use crate::output::{Format, OutputArgs};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum State {
    Up,
    Down,
}

/// List services as `cinder service-list` does, with filters
///
/// Only live rows (deleted = 0) unless --include-deleted. A service is up when its last
/// heartbeat (updated_at, else created_at) is within [DEFAULT] service_down_time seconds of now.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Only this host, exact and case-sensitive; `*` and `?` make a glob (`node01@*`); repeatable
    #[arg(long, value_name = "HOST")]
    pub host: Vec<String>,
    /// Only this binary, e.g. cinder-volume
    #[arg(long, value_name = "BINARY")]
    pub binary: Option<String>,
    /// Only services that are up, or down
    #[arg(long, value_enum)]
    pub state: Option<State>,
    /// Only this availability zone
    #[arg(long, value_name = "ZONE")]
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
    #[command(flatten)]
    pub output: OutputArgs,
}

pub(crate) async fn run(args: Args, ctx: &Context) -> Result<()> {
    let hosts = HostPattern::parse_all(&args.host)?;
    let cols = if !args.output.columns.is_empty() {
        select_columns(&args.output.columns)?
    } else if matches!(args.output.format, Format::Json | Format::Yaml) {
        json_columns(args.include_deleted).to_vec()
    } else {
        cinder_columns(args.withreplication, args.include_deleted)
    };
    let filter = ServiceFilter {
        hosts,
        binary: args.binary.clone(),
        zone: args.zone.clone(),
        disabled: match (args.disabled, args.enabled) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        },
        include_deleted: args.include_deleted,
    };
    let mut db = ctx.connect().await?;
    let now = chrono::Utc::now().naive_utc();
    let down_time = ctx.settings.service_down_time;
    // Buffered: stdout is line-buffered, and one write per row would cost a syscall per row.
    let out = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
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
    let table = args.output.format == Format::Table;
    let mut sink = ServiceSink::new(out, args.output.format, cols.clone(), style)?;
    // Sorting needs every row; without it, rows stream straight through.
    let mut held: Vec<Service> = Vec::new();
    services::for_each(&mut db, &filter, |row| {
        let service = Service::judge(row, now, down_time);
        let wanted = match args.state {
            None => true,
            Some(State::Up) => service.up,
            Some(State::Down) => !service.up,
        };
        match (wanted, sort_by.is_empty()) {
            (false, _) => Ok(()),
            (true, true) => sink.push(&service),
            (true, false) => {
                held.push(service);
                Ok(())
            }
        }
    })
    .await?;
    if !sort_by.is_empty() {
        if table {
            // Ties keep the table's own order (by its cells), as they would in cinderclient.
            held.sort_by_cached_key(|s| {
                cols.iter()
                    .map(|c| c.value(s).table_text())
                    .collect::<Vec<_>>()
            });
        }
        sort_services(&mut held, &sort_by, args.output.sort_descending);
        for s in &held {
            sink.push(s)?;
        }
    }
    sink.finish()
}
