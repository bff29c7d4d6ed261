//! `service list`'s rendering: the `cinder service-list` table (byte for byte as the seed's
//! prettytable shows it), JSON, CSV and `value`, streamed row by row where the format allows.

use std::io::Write;

use anyhow::Result;
use unicode_width::UnicodeWidthStr;

use super::Format;
use super::columns::{Column, ServiceJson};
use crate::model::Service;

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
/// Written line by line from the cells: for 100,000 services the rows are held once (as
/// cells), never again as a table object or one big string.
pub(crate) fn write_prettytable(
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
#[cfg(test)]
pub(crate) fn prettytable(headers: &[&str], mut rows: Vec<Vec<String>>) -> String {
    let mut out = Vec::new();
    write_prettytable(&mut out, headers, &mut rows).expect("writing to memory");
    String::from_utf8(out).expect("cells are UTF-8")
}

/// Sorts services into the order the table with columns `order` shows them: by those cells'
/// text (NULL as `-`), compared by code point as cinderclient's prettytable compares them,
/// first column first; then by id. So JSON, CSV and value list rows in the table's sequence,
/// never in the database's collation order (MySQL's ignores case).
pub(crate) fn sort_as_table(services: &mut [Service], order: &[Column]) {
    services.sort_by_cached_key(|s| {
        let cells: Vec<String> = order.iter().map(|c| c.value(s).table_text()).collect();
        (cells, s.row.id)
    });
}

/// Where service rows go, one at a time: JSON, CSV and value stream straight to stdout; the
/// table needs every row's width first, so it keeps only the cell strings.
pub(crate) enum ServiceSink<W: Write> {
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
                w.write_record(cols.iter().map(|c| c.header()))?;
                ServiceSink::Csv {
                    out: Box::new(w),
                    cols,
                }
            }
            Format::Value => ServiceSink::Value { out, cols },
        })
    }

    pub fn push(&mut self, s: &Service) -> Result<()> {
        match self {
            ServiceSink::Table { cols, rows, .. } => {
                rows.push(cols.iter().map(|c| c.value(s).table_text()).collect());
            }
            ServiceSink::Json { out, cols, first } => {
                out.write_all(if *first { b"\n  " } else { b",\n  " })?;
                *first = false;
                serde_json::to_writer(&mut *out, &ServiceJson { service: s, cols })?;
            }
            ServiceSink::Csv { out, cols } => {
                out.write_record(cols.iter().map(|c| c.value(s).csv_text()))?;
            }
            ServiceSink::Value { out, cols } => {
                let cells: Vec<String> = cols.iter().map(|c| c.value(s).table_text()).collect();
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
                let headers: Vec<&str> = cols.iter().map(|c| c.header()).collect();
                let mut rows = rows;
                write_prettytable(&mut out, &headers, &mut rows)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ServiceRow;
    use crate::output::columns::{cinder_columns, select_columns};
    use chrono::NaiveDateTime;

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
            sink.push(&Service::judge(row, now, 60)).unwrap();
        }
        let ServiceSink::Table { out, cols, rows } = sink else {
            panic!()
        };
        let headers: Vec<&str> = cols.iter().map(|c| c.header()).collect();
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
            vec![Column::UpdatedAt, Column::DisabledReason, Column::Host]
        );
    }
}
