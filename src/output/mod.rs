//! Every rendering svcctl does: `service list` (table, JSON, CSV, value), the plans, results
//! and process tables of the deleting commands, their JSON documents (typed `Serialize`
//! structs), and, in `messages`, every line on stderr. The layers below return data; only
//! this one writes to stdout or stderr.

pub(crate) mod columns;
pub(crate) mod decom;
pub(crate) mod list;
pub(crate) mod messages;
pub(crate) mod report;

use std::io::Write;

use anyhow::Result;
use clap::ValueEnum;
use serde::Serialize;

/// `-f/--format`, as openstackclient names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub(crate) enum Format {
    /// The boxed table `cinder service-list` prints.
    #[default]
    Table,
    /// JSON with stable snake_case keys.
    Json,
    /// CSV with a header line; NULL is an empty field.
    Csv,
    /// Values only, separated by spaces, one row per line.
    Value,
}

/// The output flags every data-printing command takes.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct OutputArgs {
    /// Output format
    #[arg(short = 'f', long = "format", value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Show only this column (repeatable), by header (`Host`, `Updated_at`) or JSON key (`updated_at`)
    #[arg(short = 'c', long = "column", value_name = "COLUMN")]
    pub columns: Vec<String>,
}

/// Writes a JSON document to stdout.
pub(crate) fn print_json<T: Serialize>(value: &T) -> Result<()> {
    let mut out = crate::term::stdout();
    serde_json::to_writer_pretty(&mut out, value)?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(())
}

/// Writes text to stdout.
pub(crate) fn print(text: &str) -> Result<()> {
    let mut out = crate::term::stdout();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}
