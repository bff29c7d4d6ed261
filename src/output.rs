//! Every rendering of data svcctl prints on stdout: the `cinder service-list` table (byte for
//! byte as the seed's prettytable shows it), JSON, CSV and `value` for scripts, and the plan
//! tables of delete and cleanup. Nothing else writes to stdout.

use std::io::Write;

use anyhow::Result;
use chrono::NaiveDateTime;
use clap::ValueEnum;
use serde::Serialize;
use serde_json::{Map, Value};
use tabled::builder::Builder;
use tabled::settings::{Style, style::HorizontalLine};
use unicode_width::UnicodeWidthStr;

use crate::db::services::{ServiceRow, is_up};

/// `-f/--format`, as openstackclient names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
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
pub struct OutputArgs {
    /// Output format
    #[arg(short = 'f', long = "format", value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Show only this column (repeatable), by header (`Host`, `Updated_at`) or JSON key (`updated_at`)
    #[arg(short = 'c', long = "column", value_name = "COLUMN")]
    pub columns: Vec<String>,
}

/// A column of the services listing: its table header and its JSON key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub header: &'static str,
    pub key: &'static str,
}

const fn col(header: &'static str, key: &'static str) -> Column {
    Column { header, key }
}

pub const ID: Column = col("ID", "id");
pub const UUID: Column = col("UUID", "uuid");
pub const BINARY: Column = col("Binary", "binary");
pub const HOST: Column = col("Host", "host");
pub const ZONE: Column = col("Zone", "zone");
pub const STATUS: Column = col("Status", "status");
pub const STATE: Column = col("State", "state");
pub const UPDATED_AT: Column = col("Updated_at", "updated_at");
pub const CREATED_AT: Column = col("Created_at", "created_at");
pub const DISABLED_REASON: Column = col("Disabled Reason", "disabled_reason");
pub const CLUSTER: Column = col("Cluster", "cluster_name");
pub const REPLICATION_STATUS: Column = col("Replication Status", "replication_status");
pub const ACTIVE_BACKEND_ID: Column = col("Active Backend ID", "active_backend_id");
pub const FROZEN: Column = col("Frozen", "frozen");
pub const DELETED: Column = col("Deleted", "deleted");
pub const DELETED_AT: Column = col("Deleted_at", "deleted_at");

/// Every column, in JSON key order. The keys are a stable interface: scripts depend on them.
pub const ALL_COLUMNS: &[Column] = &[
    ID,
    UUID,
    BINARY,
    HOST,
    ZONE,
    STATUS,
    STATE,
    UPDATED_AT,
    CREATED_AT,
    DISABLED_REASON,
    CLUSTER,
    REPLICATION_STATUS,
    ACTIVE_BACKEND_ID,
    FROZEN,
    DELETED,
    DELETED_AT,
];

/// The columns `cinder service-list` shows, in its order.
pub fn cinder_columns(with_replication: bool, include_deleted: bool) -> Vec<Column> {
    let mut cols = vec![BINARY, HOST, ZONE, STATUS, STATE, UPDATED_AT];
    if with_replication {
        cols.extend([REPLICATION_STATUS, ACTIVE_BACKEND_ID, FROZEN]);
    }
    cols.push(DISABLED_REASON);
    if include_deleted {
        cols.push(DELETED_AT);
    }
    cols
}

/// The JSON keys shown by default.
pub fn json_columns(include_deleted: bool) -> Vec<Column> {
    ALL_COLUMNS
        .iter()
        .copied()
        .filter(|c| include_deleted || (*c != DELETED && *c != DELETED_AT))
        .collect()
}

/// Resolves `-c` names; an unknown one is a usage error listing the valid names.
pub fn select_columns(names: &[String]) -> Result<Vec<Column>, crate::error::Failure> {
    let norm = |s: &str| s.to_lowercase().replace([' ', '-'], "_");
    names
        .iter()
        .map(|n| {
            ALL_COLUMNS
                .iter()
                .find(|c| norm(c.header) == norm(n) || c.key == norm(n))
                .copied()
                .ok_or_else(|| {
                    crate::error::Failure::Usage(format!(
                        "unknown column {} for -c; choose from {}",
                        crate::text::quote(n),
                        ALL_COLUMNS
                            .iter()
                            .map(|c| c.key)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })
        })
        .collect()
}

/// Times as cinderclient shows them: `2021-01-12T09:28:10.000000`.
pub fn format_time(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

/// A service as shown: raw row plus the derived status and state.
#[derive(Debug, Clone)]
pub struct ServiceView {
    pub row: ServiceRow,
    pub up: bool,
}

impl ServiceView {
    pub fn new(row: ServiceRow, now: NaiveDateTime, service_down_time: i64) -> ServiceView {
        let up = is_up(&row, now, service_down_time);
        ServiceView { row, up }
    }

    pub fn state(&self) -> &'static str {
        if self.up { "up" } else { "down" }
    }

    /// The JSON value of a column; NULL stays null.
    pub fn json(&self, c: Column) -> Value {
        let r = &self.row;
        let s = |v: &Option<String>| v.clone().map_or(Value::Null, Value::String);
        let t =
            |v: &Option<NaiveDateTime>| v.map_or(Value::Null, |t| Value::String(format_time(t)));
        match c.key {
            "id" => r.id.into(),
            "uuid" => s(&r.uuid),
            "binary" => s(&r.binary),
            "host" => s(&r.host),
            "zone" => s(&r.availability_zone),
            "status" => status(r.disabled).into(),
            "state" => self.state().into(),
            "updated_at" => t(&r.updated_at),
            "created_at" => t(&r.created_at),
            "disabled_reason" => s(&r.disabled_reason),
            "cluster_name" => s(&r.cluster_name),
            "replication_status" => s(&r.replication_status),
            "active_backend_id" => s(&r.active_backend_id),
            "frozen" => r.frozen.map_or(Value::Null, Value::Bool),
            "deleted" => Value::Bool(r.deleted.unwrap_or(false)),
            "deleted_at" => t(&r.deleted_at),
            other => unreachable!("unknown column key {other}"),
        }
    }

    /// The text of a column in a table, NULL as `-` (cinderclient's way).
    pub fn cell(&self, c: Column) -> String {
        match self.json(c) {
            Value::Null => "-".into(),
            Value::String(s) => s,
            // cinderclient prints Python's booleans.
            Value::Bool(b) => if b { "True" } else { "False" }.into(),
            other => other.to_string(),
        }
    }

    pub fn json_object(&self, cols: &[Column]) -> Map<String, Value> {
        cols.iter()
            .map(|c| (c.key.to_string(), self.json(*c)))
            .collect()
    }
}

/// A row serialized straight to the writer: no map is built per row while streaming.
struct JsonRow<'a> {
    view: &'a ServiceView,
    cols: &'a [Column],
}

impl Serialize for JsonRow<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.cols.len()))?;
        for c in self.cols {
            map.serialize_entry(c.key, &self.view.json(*c))?;
        }
        map.end()
    }
}

fn status(disabled: Option<bool>) -> &'static str {
    if disabled.unwrap_or(false) {
        "disabled"
    } else {
        "enabled"
    }
}

/// prettytable's centring: the odd leftover space goes right for odd-length text and left
/// for even-length text.
fn center(text: &str, width: usize) -> String {
    let len = text.width();
    let excess = width.saturating_sub(len);
    let (left, right) = if excess.is_multiple_of(2) {
        (excess / 2, excess / 2)
    } else if len % 2 == 1 {
        (excess / 2, excess / 2 + 1)
    } else {
        (excess / 2 + 1, excess / 2)
    };
    format!("{}{text}{}", " ".repeat(left), " ".repeat(right))
}

/// The seed's `cinder service-list` table: prettytable's default look (centred cells, a rule
/// above and below the header and at the bottom), rows sorted by their cells as strings,
/// first column first. An empty table still prints its header box.
///
/// Written line by line from the cells: for 100,000 services the rows are held once, never
/// again as a table object or one big string.
pub fn write_prettytable(
    out: &mut impl Write,
    headers: &[&str],
    rows: &mut [Vec<String>],
) -> std::io::Result<()> {
    rows.sort_unstable();
    let widths: Vec<usize> = (0..headers.len())
        .map(|i| {
            rows.iter()
                .map(|r| r[i].width())
                .chain([headers[i].width()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let rule: String = widths
        .iter()
        .fold(String::from("+"), |acc, w| acc + &"-".repeat(w + 2) + "+");
    let line =
        |out: &mut dyn Write, cells: &mut dyn Iterator<Item = &str>| -> std::io::Result<()> {
            out.write_all(b"|")?;
            for (c, w) in cells.zip(&widths) {
                write!(out, " {} |", center(c, *w))?;
            }
            out.write_all(b"\n")
        };
    writeln!(out, "{rule}")?;
    line(out, &mut headers.iter().copied())?;
    writeln!(out, "{rule}")?;
    for r in rows.iter() {
        line(out, &mut r.iter().map(String::as_str))?;
    }
    writeln!(out, "{rule}")
}

/// `write_prettytable` into a string.
pub fn prettytable(headers: &[&str], mut rows: Vec<Vec<String>>) -> String {
    let mut out = Vec::new();
    write_prettytable(&mut out, headers, &mut rows).expect("writing to memory");
    String::from_utf8(out).expect("cells are UTF-8")
}

/// A plain boxed table for svcctl's own reports (plans, processes): left-aligned cells.
pub fn report_table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut builder = Builder::default();
    builder.push_record(headers.iter().map(|h| h.to_string()));
    for r in rows {
        builder.push_record(r.clone());
    }
    let rule = HorizontalLine::inherit(Style::ascii());
    let mut table = builder.build();
    table.with(Style::ascii().remove_horizontal().horizontals([(1, rule)]));
    let mut out = table.to_string();
    if rows.is_empty() {
        let bottom = out.lines().last().unwrap_or("").to_string();
        out.push('\n');
        out.push_str(&bottom);
    }
    out.push('\n');
    out
}

/// Where service rows go, one at a time: JSON, CSV and value stream straight to stdout; the
/// table needs every row's width first, so it keeps only the cell strings.
pub enum ServiceSink<W: Write> {
    Table {
        out: W,
        cols: Vec<Column>,
        rows: Vec<Vec<String>>,
    },
    Json {
        out: W,
        cols: Vec<Column>,
        first: bool,
    },
    Csv {
        // Boxed: the CSV writer carries its own buffer, much larger than the other variants.
        out: Box<csv::Writer<W>>,
        cols: Vec<Column>,
    },
    Value {
        out: W,
        cols: Vec<Column>,
    },
}

impl<W: Write> ServiceSink<W> {
    pub fn new(mut out: W, format: Format, cols: Vec<Column>) -> Result<Self> {
        Ok(match format {
            Format::Table => ServiceSink::Table {
                out,
                cols,
                rows: Vec::new(),
            },
            Format::Json => {
                out.write_all(b"[")?;
                ServiceSink::Json {
                    out,
                    cols,
                    first: true,
                }
            }
            Format::Csv => {
                let mut w = csv::Writer::from_writer(out);
                w.write_record(cols.iter().map(|c| c.header))?;
                ServiceSink::Csv {
                    out: Box::new(w),
                    cols,
                }
            }
            Format::Value => ServiceSink::Value { out, cols },
        })
    }

    pub fn push(&mut self, s: &ServiceView) -> Result<()> {
        match self {
            ServiceSink::Table { cols, rows, .. } => {
                rows.push(cols.iter().map(|c| s.cell(*c)).collect());
            }
            ServiceSink::Json { out, cols, first } => {
                out.write_all(if *first { b"\n  " } else { b",\n  " })?;
                *first = false;
                serde_json::to_writer(&mut *out, &JsonRow { view: s, cols })?;
            }
            ServiceSink::Csv { out, cols } => {
                out.write_record(cols.iter().map(|c| match s.json(*c) {
                    Value::Null => String::new(),
                    Value::String(v) => v,
                    other => other.to_string(),
                }))?;
            }
            ServiceSink::Value { out, cols } => {
                let cells: Vec<String> = cols.iter().map(|c| s.cell(*c)).collect();
                writeln!(out, "{}", cells.join(" "))?;
            }
        }
        Ok(())
    }

    pub fn finish(self) -> Result<()> {
        match self {
            ServiceSink::Table {
                mut out,
                cols,
                rows,
            } => {
                let headers: Vec<&str> = cols.iter().map(|c| c.header).collect();
                out.write_all(prettytable(&headers, rows).as_bytes())?;
                out.flush()?;
            }
            ServiceSink::Json { mut out, first, .. } => {
                out.write_all(if first { b"]\n" } else { b"\n]\n" })?;
                out.flush()?;
            }
            ServiceSink::Csv { mut out, .. } => out.flush()?,
            ServiceSink::Value { mut out, .. } => out.flush()?,
        }
        Ok(())
    }
}

/// Writes a JSON document to stdout.
pub fn print_json<T: Serialize>(value: &T) -> Result<()> {
    let mut out = crate::term::stdout();
    serde_json::to_writer_pretty(&mut out, value)?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(())
}

/// Writes text to stdout.
pub fn print(text: &str) -> Result<()> {
    let mut out = crate::term::stdout();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn centring_follows_prettytable() {
        assert_eq!(format!(" {} ", center("up", 5)), "   up  ");
        assert_eq!(center("Status", 7), " Status");
        assert_eq!(center("cinder-backup", 16), " cinder-backup  ");
        assert_eq!(center("n", 6), "  n   ");
    }

    /// The seed's `cinder service-list`, rendered from its 12 rows, byte for byte.
    #[test]
    fn seed_table_byte_for_byte() {
        let seed = "\
+------------------+------------------------------+----------+---------+-------+----------------------------+-----------------+
|      Binary      |             Host             |   Zone   |  Status | State |         Updated_at         | Disabled Reason |
+------------------+------------------------------+----------+---------+-------+----------------------------+-----------------+
|  cinder-backup   |            node01            | zettakit | enabled |   up  | 2021-01-12T09:28:10.000000 |        -        |
|  cinder-backup   |            node02            | zettakit | enabled |   up  | 2021-01-12T09:28:11.000000 |        -        |
| cinder-scheduler |            node01            | zettakit | enabled |   up  | 2021-01-12T09:28:18.000000 |        -        |
| cinder-scheduler |            node02            | zettakit | enabled |   up  | 2021-01-12T09:28:14.000000 |        -        |
|  cinder-volume   | node01@backend-2813902f-2c94 | zettakit | enabled |   up  | 2021-01-12T09:28:13.000000 |        -        |
|  cinder-volume   | node01@backend-deffaf27-95b1 | zettakit | enabled |   up  | 2021-01-12T09:28:13.000000 |        -        |
|  cinder-volume   | node01@backend-ffdc2630-def2 | zettakit | enabled |   up  | 2021-01-12T09:28:13.000000 |        -        |
|  cinder-volume   |        node01@normal         | zettakit | enabled |   up  | 2021-01-12T09:28:12.000000 |        -        |
|  cinder-volume   | node02@backend-2813902f-2c94 | zettakit | enabled |   up  | 2021-01-12T09:28:14.000000 |        -        |
|  cinder-volume   | node02@backend-deffaf27-95b1 | zettakit | enabled |   up  | 2021-01-12T09:28:13.000000 |        -        |
|  cinder-volume   | node02@backend-ffdc2630-def2 | zettakit | enabled |   up  | 2021-01-12T09:28:14.000000 |        -        |
|  cinder-volume   |        node02@normal         | zettakit | enabled |   up  | 2021-01-12T09:28:12.000000 |        -        |
+------------------+------------------------------+----------+---------+-------+----------------------------+-----------------+
";
        let data = [
            ("cinder-volume", "node02@normal", "12"),
            ("cinder-backup", "node02", "11"),
            ("cinder-scheduler", "node01", "18"),
            ("cinder-volume", "node01@backend-2813902f-2c94", "13"),
            ("cinder-volume", "node01@backend-deffaf27-95b1", "13"),
            ("cinder-volume", "node01@backend-ffdc2630-def2", "13"),
            ("cinder-backup", "node01", "10"),
            ("cinder-volume", "node01@normal", "12"),
            ("cinder-scheduler", "node02", "14"),
            ("cinder-volume", "node02@backend-2813902f-2c94", "14"),
            ("cinder-volume", "node02@backend-deffaf27-95b1", "13"),
            ("cinder-volume", "node02@backend-ffdc2630-def2", "14"),
        ];
        let now =
            NaiveDateTime::parse_from_str("2021-01-12 09:28:20", "%Y-%m-%d %H:%M:%S").unwrap();
        let cols = cinder_columns(false, false);
        let mut sink = ServiceSink::new(Vec::new(), Format::Table, cols).unwrap();
        for (i, (binary, host, sec)) in data.iter().enumerate() {
            let t = NaiveDateTime::parse_from_str(
                &format!("2021-01-12 09:28:{sec}"),
                "%Y-%m-%d %H:%M:%S",
            )
            .unwrap();
            let row = ServiceRow {
                availability_zone: Some("zettakit".into()),
                ..ServiceRow::example(i as i64, host, binary, Some(t))
            };
            sink.push(&ServiceView::new(row, now, 60)).unwrap();
        }
        let ServiceSink::Table { out, cols, rows } = sink else {
            panic!()
        };
        let headers: Vec<&str> = cols.iter().map(|c| c.header).collect();
        let _ = out;
        assert_eq!(prettytable(&headers, rows), seed);
    }

    #[test]
    fn empty_table_keeps_its_header_box() {
        assert_eq!(
            prettytable(&["Binary", "Host"], vec![]),
            "+--------+------+\n| Binary | Host |\n+--------+------+\n+--------+------+\n"
        );
    }

    #[test]
    fn unknown_column_is_usage_error() {
        assert!(select_columns(&["nope".into()]).is_err());
        assert_eq!(
            select_columns(&["Updated_at".into(), "disabled reason".into(), "host".into()])
                .unwrap(),
            vec![UPDATED_AT, DISABLED_REASON, HOST]
        );
    }
}
