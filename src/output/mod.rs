//! Every rendering svcctl does: `service list` (table, JSON, CSV, value, YAML), the plans, results
//! and process tables of the deleting commands, their JSON documents (typed `Serialize`
//! structs), and, in `messages`, every line on stderr. The layers below return data; only
//! this one writes to stdout or stderr.

pub(crate) mod check;
pub(crate) mod columns;
pub(crate) mod decom;
pub(crate) mod formatter;
pub(crate) mod list;
pub(crate) mod messages;
pub(crate) mod prometheus;
pub(crate) mod report;
pub(crate) mod table;
pub(crate) mod undo;

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

/// Writes text to stdout.
pub(crate) fn print(text: &str) -> Result<()> {
    let mut out = crate::term::stdout();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}
