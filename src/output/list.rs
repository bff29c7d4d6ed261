//! `service list`'s rendering: the `cinder service-list` table (byte for byte as the seed's
//! prettytable shows it), JSON, CSV and `value`, streamed row by row where the format allows.

use std::io::Write;

use anyhow::Result;

use serde::Serialize;

use super::Format;
use super::columns::{Cell, Column, ServiceJson, cmp_table_text, sort_rows};
use super::formatter::{Field, Quote, write_csv_field, write_csv_row};
use super::table::{Align, Cells};
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
/// never in the database's collation order (MySQL's ignores case). The cells are compared as
/// they come (`cmp_table_text`), not built as strings per row: that was a second copy of
/// every row, and the largest part of the memory of a 100,000-row JSON listing.
pub(crate) fn sort_as_table(services: &mut [Service], order: &[Column]) {
    sort_rows(services, |a, b| {
        order
            .iter()
            .map(|c| cmp_table_text(&c.value(a), &c.value(b)))
            .find(|o| o.is_ne())
            .unwrap_or_else(|| a.row.id.cmp(&b.row.id))
    });
}

/// Where service rows go, one at a time: JSON, YAML, CSV and value are written as each row
/// comes; the table needs every row's width first, so it keeps only its cells' text.
pub(crate) struct ServiceSink<W: Write> {
    out: W,
    format: Format,
    cols: Vec<Column>,
    style: Style,
    cells: Cells,
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
            cells: Cells::new(cols.len()),
            cols,
            style,
            first: true,
        })
    }

    pub fn push(&mut self, s: &Service) -> Result<()> {
        let first = std::mem::replace(&mut self.first, false);
        let (out, cols) = (&mut self.out, self.cols.as_slice());
        match self.format {
            Format::Table => {
                for c in cols {
                    self.cells
                        .push_with(|text| c.value(s).push_table_text(text));
                }
            }
            Format::Json if self.style.noindent => {
                if !first {
                    out.write_all(b",")?;
                }
                serde_json::to_writer(&mut *out, &ServiceJson { service: s, cols })?;
            }
            Format::Json => {
                // Indented two spaces inside the array, as Python's json.dump(indent=2), written
                // straight to the output.
                out.write_all(if first { b"\n  " } else { b",\n  " })?;
                let mut ser = serde_json::Serializer::with_formatter(&mut *out, Nested::new());
                ServiceJson { service: s, cols }.serialize(&mut ser)?;
            }
            Format::Yaml => {
                // A one-item sequence per row: `- id: 13` and its keys, indented under it.
                serde_saphyr::to_io_writer(&mut *out, &[ServiceJson { service: s, cols }])?;
            }
            Format::Csv => {
                for (i, c) in cols.iter().enumerate() {
                    let cell = c.value(s);
                    let numeric = matches!(cell, Cell::Int(_) | Cell::Bool(_));
                    cell.with_csv_text(|text| {
                        write_csv_field(&mut *out, i == 0, text, numeric, self.style.quote)
                    })?;
                }
                out.write_all(b"\n")?;
            }
            Format::Value => {
                for (i, c) in cols.iter().enumerate() {
                    if i > 0 {
                        out.write_all(b" ")?;
                    }
                    c.value(s)
                        .with_value_text(|text| out.write_all(text.as_bytes()))?;
                }
                out.write_all(b"\n")?;
            }
            Format::Prometheus => {}
        }
        Ok(())
    }

    pub fn finish(mut self) -> Result<()> {
        let out = &mut self.out;
        match self.format {
            Format::Table => {
                // cinderclient's order: by the cells as strings, first column first; the rows
                // keep theirs with --sort-column.
                let order = (!self.style.presorted).then(|| self.cells.sorted());
                let headers: Vec<&str> = self.cols.iter().map(|c| c.header()).collect();
                self.cells.write(
                    out,
                    &headers,
                    order.as_deref(),
                    Align::Center,
                    self.style.fit_to,
                )?;
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

/// serde_json's pretty layout (two spaces a level, `"key": value`), one level in: an object
/// of the listing's array, written as it comes with no buffer per row.
struct Nested {
    indent: usize,
    has_value: bool,
}

impl Nested {
    fn new() -> Nested {
        Nested {
            indent: 1,
            has_value: false,
        }
    }

    /// A line break and the indent, in one write while the depth allows.
    fn newline<W: ?Sized + Write>(&self, w: &mut W) -> std::io::Result<()> {
        const LINE: &[u8] = b"\n                ";
        match LINE.get(..1 + 2 * self.indent) {
            Some(line) => w.write_all(line),
            None => {
                w.write_all(b"\n")?;
                (0..self.indent).try_for_each(|_| w.write_all(b"  "))
            }
        }
    }
}

impl Nested {
    /// `[` or `{`: one level deeper, nothing in it yet.
    fn open<W: ?Sized + Write>(&mut self, w: &mut W, mark: &[u8]) -> std::io::Result<()> {
        self.indent += 1;
        self.has_value = false;
        w.write_all(mark)
    }

    /// `]` or `}`, on a line of its own unless the array or object is empty.
    fn close<W: ?Sized + Write>(&mut self, w: &mut W, mark: &[u8]) -> std::io::Result<()> {
        self.indent -= 1;
        if self.has_value {
            self.newline(w)?;
        }
        w.write_all(mark)
    }

    /// Before an element or a key: a comma after the first, then a new line.
    fn next<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> std::io::Result<()> {
        if !first {
            w.write_all(b",")?;
        }
        self.newline(w)
    }
}

impl serde_json::ser::Formatter for Nested {
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.open(w, b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.close(w, b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.next(w, first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.open(w, b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.close(w, b"}")
    }

    fn begin_object_key<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.next(w, first)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> std::io::Result<()> {
        self.has_value = true;
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

    /// Two services as the sink writes them in `format`.
    fn written(format: Format, style: Style, cols: &[Column]) -> (String, Vec<Service>) {
        let now =
            NaiveDateTime::parse_from_str("2021-01-12 09:28:20", "%Y-%m-%d %H:%M:%S").unwrap();
        let services: Vec<Service> = [
            (1, "node01@lvm", "cinder-volume"),
            (2, "node \"2\"", "cinder-backup"),
        ]
        .into_iter()
        .map(|(id, host, binary)| {
            let row = ServiceRow {
                disabled_reason: Some("a, b\nc".into()),
                ..ServiceRow::example(id, host, binary, Some(now))
            };
            Service::judge(row, now, 60)
        })
        .collect();
        let mut out = Vec::new();
        let mut sink = ServiceSink::new(&mut out, format, cols.to_vec(), style).unwrap();
        for s in &services {
            sink.push(s).unwrap();
        }
        sink.finish().unwrap();
        (String::from_utf8(out).unwrap(), services)
    }

    fn docs<'a>(services: &'a [Service], cols: &'a [Column]) -> Vec<ServiceJson<'a>> {
        services
            .iter()
            .map(|s| ServiceJson { service: s, cols })
            .collect()
    }

    /// Rows written one at a time make the document serde_json makes of them all: indented
    /// two spaces as Python's json.dump(indent=2), or on one line with --noindent.
    #[test]
    fn streamed_json_is_the_whole_document() {
        let cols = Column::ALL;
        let (pretty, services) = written(Format::Json, Style::default(), cols);
        assert_eq!(
            pretty,
            serde_json::to_string_pretty(&docs(&services, cols)).unwrap() + "\n"
        );
        let noindent = Style {
            noindent: true,
            ..Style::default()
        };
        let (line, services) = written(Format::Json, noindent, cols);
        assert_eq!(
            line,
            serde_json::to_string(&docs(&services, cols)).unwrap() + "\n"
        );
        let mut none = Vec::new();
        ServiceSink::new(&mut none, Format::Json, cols.to_vec(), Style::default())
            .unwrap()
            .finish()
            .unwrap();
        assert_eq!(none, b"[]\n");
    }

    #[test]
    fn csv_and_value_rows() {
        let cols = [
            Column::Id,
            Column::Host,
            Column::Frozen,
            Column::DisabledReason,
            Column::UpdatedAt,
        ];
        let (csv, _) = written(Format::Csv, Style::default(), &cols);
        assert_eq!(
            csv,
            "\"ID\",\"Host\",\"Frozen\",\"Disabled Reason\",\"Updated_at\"\n\
             1,\"node01@lvm\",\"\",\"a, b\\nc\",\"2021-01-12T09:28:20.000000\"\n\
             2,\"node \"\"2\"\"\",\"\",\"a, b\\nc\",\"2021-01-12T09:28:20.000000\"\n"
        );
        let (value, _) = written(Format::Value, Style::default(), &cols);
        assert_eq!(
            value,
            "1 node01@lvm None a, b\\nc 2021-01-12T09:28:20.000000\n\
             2 node \"2\" None a, b\\nc 2021-01-12T09:28:20.000000\n"
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
