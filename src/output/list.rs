//! `service list`'s rendering: the `cinder service-list` table (byte for byte as the seed's
//! prettytable shows it), JSON, CSV and `value`, streamed row by row where the format allows.

use std::io::Write;

use anyhow::Result;

use super::Format;
use super::columns::{Cell, Column, ServiceJson};
use super::formatter::{Field, Quote, write_csv_row};
use super::table::{Align, write_table};
use crate::model::Service;

/// How a listing is drawn, from cliff's formatter flags.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Style {
    /// Fit the table into this many columns (see `TableArgs::fit_to`).
    pub fit_to: Option<usize>,
    /// The rows come sorted (`--sort-column`): the table keeps their order instead of sorting
    /// by its cells as cinderclient does.
    pub presorted: bool,
    pub noindent: bool,
    pub quote: Quote,
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

/// Where service rows go, one at a time: JSON, YAML, CSV and value are written as each row
/// comes; the table needs every row's width first, so it keeps only the cell strings.
pub(crate) struct ServiceSink<W: Write> {
    out: W,
    format: Format,
    cols: Vec<Column>,
    style: Style,
    rows: Vec<Vec<String>>,
    first: bool,
}

impl<W: Write> ServiceSink<W> {
    pub fn new(mut out: W, format: Format, cols: Vec<Column>, style: Style) -> Result<Self> {
        match format {
            Format::Json => out.write_all(b"[")?,
            Format::Csv => write_csv_row(
                &mut out,
                cols.iter().map(|c| Field {
                    text: c.header(),
                    numeric: false,
                }),
                style.quote,
            )?,
            // `service list -f prometheus` renders through `output::prometheus`, never a sink.
            Format::Table | Format::Value | Format::Yaml | Format::Prometheus => {}
        }
        Ok(ServiceSink {
            out,
            format,
            cols,
            style,
            rows: Vec::new(),
            first: true,
        })
    }

    pub fn push(&mut self, s: &Service) -> Result<()> {
        let first = std::mem::replace(&mut self.first, false);
        let (out, cols) = (&mut self.out, self.cols.as_slice());
        match self.format {
            Format::Table => {
                self.rows
                    .push(cols.iter().map(|c| c.value(s).table_text()).collect());
            }
            Format::Json if self.style.noindent => {
                if !first {
                    out.write_all(b",")?;
                }
                serde_json::to_writer(&mut *out, &ServiceJson { service: s, cols })?;
            }
            Format::Json => {
                // Indented two spaces inside the array, as Python's json.dump(indent=2).
                let mut row = Vec::with_capacity(64 * cols.len());
                serde_json::to_writer_pretty(&mut row, &ServiceJson { service: s, cols })?;
                out.write_all(if first { b"\n  " } else { b",\n  " })?;
                for (i, line) in row.split(|&b| b == b'\n').enumerate() {
                    if i > 0 {
                        out.write_all(b"\n  ")?;
                    }
                    out.write_all(line)?;
                }
            }
            Format::Yaml => {
                // A one-item sequence per row: `- id: 13` and its keys, indented under it.
                serde_saphyr::to_io_writer(&mut *out, &[ServiceJson { service: s, cols }])?;
            }
            Format::Csv => {
                let cells: Vec<Cell> = cols.iter().map(|c| c.value(s)).collect();
                let texts: Vec<String> = cells.iter().map(Cell::csv_text).collect();
                write_csv_row(
                    out,
                    cells.iter().zip(&texts).map(|(c, text)| Field {
                        text,
                        numeric: matches!(c, Cell::Int(_) | Cell::Bool(_)),
                    }),
                    self.style.quote,
                )?;
            }
            Format::Value => {
                let cells: Vec<String> = cols.iter().map(|c| c.value(s).table_text()).collect();
                writeln!(out, "{}", cells.join(" "))?;
            }
            Format::Prometheus => {}
        }
        Ok(())
    }

    pub fn finish(mut self) -> Result<()> {
        let out = &mut self.out;
        match self.format {
            Format::Table => {
                if !self.style.presorted {
                    // cinderclient's order: by the cells as strings, first column first.
                    self.rows.sort_unstable();
                }
                let headers: Vec<&str> = self.cols.iter().map(|c| c.header()).collect();
                write_table(out, &headers, &self.rows, Align::Center, self.style.fit_to)?;
            }
            Format::Json if self.style.noindent => out.write_all(b"]\n")?,
            Format::Json => out.write_all(if self.first { b"]\n" } else { b"\n]\n" })?,
            Format::Yaml if self.first => out.write_all(b"[]\n")?,
            Format::Yaml | Format::Csv | Format::Value | Format::Prometheus => {}
        }
        out.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ServiceRow;
    use crate::output::columns::{cinder_columns, select_columns};
    use chrono::NaiveDateTime;

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
        let mut out = Vec::new();
        let mut sink = ServiceSink::new(&mut out, Format::Table, cols, Style::default()).unwrap();
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
        sink.finish().unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), seed);
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
