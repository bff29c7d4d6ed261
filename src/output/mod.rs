//! Every rendering svcctl does, and every word it says: `service list` (table, JSON, CSV,
//! value, YAML; `list`, `columns`), `cluster list`, and each writing command's plan, result,
//! JSON document and notes, one module per operation (`delete`, `restore`, `purge`, `toggle`,
//! `move_host`, `cluster`), all shown through `report`'s one flow; tables in `table`, cliff's
//! formatter flags in `formatter`, stderr lines in `messages`. The layers below return data;
//! only this one writes to stdout or stderr.

pub(crate) mod check;
pub(crate) mod cluster;
pub(crate) mod cluster_toggle;
pub(crate) mod columns;
pub(crate) mod delete;
pub(crate) mod document;
#[cfg(test)]
mod escape_tests;
pub(crate) mod formatter;
pub(crate) mod list;
pub(crate) mod messages;
pub(crate) mod move_host;
pub(crate) mod prometheus;
pub(crate) mod purge;
pub(crate) mod report;
pub(crate) mod restore;
pub(crate) mod table;
pub(crate) mod toggle;

use std::io::Write;

use anyhow::Result;
use serde::Serialize;

pub(crate) use formatter::{Format, OutputArgs, ReportArgs};

/// Writes a document to stdout as JSON (indented two spaces, as cliff does, or on one line
/// with `--noindent`) or as YAML.
pub(crate) fn print_doc<T: Serialize>(value: &T, yaml: bool, noindent: bool) -> Result<()> {
    // Buffered: stdout is line-buffered, and pretty JSON is a write(2) per line otherwise
    // (34,000 of them for a 2,000-service result).
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, crate::term::stdout());
    if yaml {
        serde_saphyr::to_io_writer(&mut out, value)?;
    } else {
        if noindent {
            serde_json::to_writer(&mut out, value)?;
        } else {
            serde_json::to_writer_pretty(&mut out, value)?;
        }
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

/// Writes text (tables, a plan's lines) to stdout, each line through `text::human`: the cells
/// of report tables are escaped already, and this catches any value put into a plan's own lines.
pub(crate) fn print(text: &str) -> Result<()> {
    let mut out = crate::term::stdout();
    for line in text.split_inclusive('\n') {
        let (body, end) = line.strip_suffix('\n').map_or((line, ""), |b| (b, "\n"));
        out.write_all(crate::text::human(body).as_bytes())?;
        out.write_all(end.as_bytes())?;
    }
    out.flush()?;
    Ok(())
}
