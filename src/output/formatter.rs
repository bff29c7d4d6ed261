//! cliff's formatter options, as `openstack ... list` takes them: `-f`, `-c`, `--sort-column`
//! with `--sort-ascending|--sort-descending`, `--max-width`/`--fit-width` (and
//! `CLIFF_MAX_TERM_WIDTH`, `CLIFF_FIT_WIDTH`), `--noindent`, `--quote`; and the two pieces of
//! cliff's behaviour that are not rendering proper: the width a table must fit, CSV quoting.

use std::io::{self, IsTerminal, Write};

use clap::ValueEnum;

const HEADING: &str = "Output formatters";

/// `-f/--format`, as cliff names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub(crate) enum Format {
    /// A boxed table, as the cinder client draws one
    #[default]
    Table,
    /// JSON with stable snake_case keys
    Json,
    /// CSV with a header line; NULL is an empty field
    Csv,
    /// Values only, separated by spaces, one row per line
    Value,
    /// YAML: the JSON document, as YAML
    Yaml,
    /// Prometheus text exposition: openstack-exporter's openstack_cinder_agent_state and
    /// svcctl's own families (service list only)
    Prometheus,
}

/// `--quote`: Python's csv quoting modes, as cliff offers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub(crate) enum Quote {
    /// Every field
    All,
    /// Only fields with a comma, a quote or a line break
    Minimal,
    /// No field; commas, quotes and line breaks are escaped with a backslash
    None,
    /// Every field but numbers and booleans (cliff's default)
    #[default]
    Nonnumeric,
}

/// How a table meets the terminal (cliff's table formatter options).
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct TableArgs {
    /// Maximum display width, <1 to disable; beats the CLIFF_MAX_TERM_WIDTH environment variable
    #[arg(long, value_name = "INTEGER", env = "CLIFF_MAX_TERM_WIDTH", default_value_t = 0,
          allow_negative_numbers = true, value_parser = crate::limits::max_width,
          help_heading = HEADING)]
    pub max_width: i64,
    /// Fit the table to the terminal width even when stdout is not one (COLUMNS gives the width);
    /// implied by --max-width > 0; CLIFF_FIT_WIDTH=1 always enables
    #[arg(long, env = "CLIFF_FIT_WIDTH", value_parser = clap::builder::FalseyValueParser::new(),
          help_heading = HEADING)]
    pub fit_width: bool,
}

impl TableArgs {
    /// The width a table must fit, by cliff's rule: `--max-width` when positive; else, at a
    /// terminal or with `--fit-width`, the terminal's width (`COLUMNS` first, as Python's
    /// `shutil` reads it); else none, and the table is drawn as it is.
    pub fn fit_to(&self) -> Option<usize> {
        if self.max_width > 0 {
            return usize::try_from(self.max_width).ok();
        }
        if !(self.fit_width || io::stdout().is_terminal()) {
            return None;
        }
        std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.trim().parse::<usize>().ok())
            .filter(|&c| c > 0)
            .or_else(|| {
                terminal_size::terminal_size_of(io::stdout()).map(|(w, _)| usize::from(w.0))
            })
    }
}

/// `--noindent` (cliff's JSON formatter option).
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct JsonArgs {
    /// JSON on one line instead of indented
    #[arg(long, help_heading = HEADING)]
    pub noindent: bool,
}

/// The flags every listing takes.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct OutputArgs {
    /// The output format
    #[arg(short = 'f', long = "format", value_enum, default_value_t = Format::Table,
          help_heading = HEADING)]
    pub format: Format,
    /// Show only this column (repeatable), by header (`Host`, `Updated_at`) or JSON key (`updated_at`)
    #[arg(short = 'c', long = "column", value_name = "COLUMN", help_heading = HEADING)]
    pub columns: Vec<String>,
    /// Sort by this column (repeatable; the first given has priority; unknown ones are ignored)
    #[arg(long = "sort-column", value_name = "SORT_COLUMN", help_heading = HEADING)]
    pub sort_columns: Vec<String>,
    /// Sort the column(s) in ascending order (the default)
    #[arg(long, help_heading = HEADING)]
    pub sort_ascending: bool,
    /// Sort the column(s) in descending order
    #[arg(long, conflicts_with = "sort_ascending", help_heading = HEADING)]
    pub sort_descending: bool,
    #[command(flatten)]
    pub table: TableArgs,
    #[command(flatten)]
    pub json: JsonArgs,
    /// When to quote CSV fields
    #[arg(long, value_enum, default_value_t = Quote::Nonnumeric, help_heading = HEADING)]
    pub quote: Quote,
}

impl OutputArgs {
    /// The defaults, as if no formatter flag was given.
    pub fn table() -> OutputArgs {
        OutputArgs {
            format: Format::Table,
            columns: Vec::new(),
            sort_columns: Vec::new(),
            sort_ascending: false,
            sort_descending: false,
            table: TableArgs {
                max_width: 0,
                fit_width: false,
            },
            json: JsonArgs { noindent: false },
            quote: Quote::Nonnumeric,
        }
    }
}

/// A plan and its result are one document with verdicts, not rows: a table, JSON or YAML.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ReportFormat {
    /// The plan and the result as tables; notes on stderr
    Table,
    /// One JSON document, with the keys named above (the README's "JSON contract")
    Json,
    /// The same document as YAML
    Yaml,
}

/// What `-f` says of a writing command's document: its keys (`keys`) and the one rule. Each
/// writing command words its `-f` with it (`#[command(mut_arg("format", ...))]`).
pub(crate) fn document_help(keys: &str) -> String {
    format!(
        "The output format; -f json (or yaml) prints one document, every key on every path: \
         {keys}. A dry run lists the rows it would change in would_* and leaves what changed []; \
         a real run the reverse"
    )
}

/// The output flags every writing command takes.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ReportArgs {
    /// The output format (each writing command names its own document here)
    #[arg(short = 'f', long = "format", value_enum, default_value_t = ReportFormat::Table,
          help_heading = HEADING)]
    pub format: ReportFormat,
    #[command(flatten)]
    pub table: TableArgs,
    #[command(flatten)]
    pub json: JsonArgs,
}

impl ReportArgs {
    /// A document (JSON or YAML) rather than tables.
    pub fn document(&self) -> bool {
        self.format != ReportFormat::Table
    }
}

/// One CSV field: its text, and whether it is a number (or boolean), which `nonnumeric`
/// leaves unquoted.
pub(crate) struct Field<'a> {
    pub text: &'a str,
    pub numeric: bool,
}

/// Writes one CSV row as Python's csv module does for cliff: `,` between fields, `"` quoting
/// with `""` inside, `\\` as the escape character, `\n` at the end.
pub(crate) fn write_csv_row<'a>(
    out: &mut impl Write,
    fields: impl IntoIterator<Item = Field<'a>>,
    quote: Quote,
) -> io::Result<()> {
    for (i, f) in fields.into_iter().enumerate() {
        write_csv_field(out, i == 0, f.text, f.numeric, quote)?;
    }
    out.write_all(b"\n")
}

/// One field of a CSV row (see `write_csv_row`), with the `,` before it unless it is the
/// `first`; a number (or boolean) is `numeric`. Written straight to `out`.
pub(crate) fn write_csv_field(
    out: &mut (impl Write + ?Sized),
    first: bool,
    text: &str,
    numeric: bool,
    quote: Quote,
) -> io::Result<()> {
    let special = |c: char| matches!(c, ',' | '"' | '\\' | '\n' | '\r');
    if !first {
        out.write_all(b",")?;
    }
    let quoted = match quote {
        Quote::All => true,
        Quote::Nonnumeric => !numeric,
        Quote::Minimal => text.contains(special),
        Quote::None => false,
    };
    if quoted {
        out.write_all(b"\"")?;
        for (i, part) in text.split('"').enumerate() {
            if i > 0 {
                out.write_all(b"\"\"")?;
            }
            out.write_all(part.as_bytes())?;
        }
        out.write_all(b"\"")
    } else if quote == Quote::None && text.contains(special) {
        let mut escaped = String::with_capacity(text.len() + 4);
        for c in text.chars() {
            if special(c) {
                escaped.push('\\');
            }
            escaped.push(c);
        }
        out.write_all(escaped.as_bytes())
    } else {
        out.write_all(text.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(fields: &[(&str, bool)], quote: Quote) -> String {
        let mut out = Vec::new();
        write_csv_row(
            &mut out,
            fields
                .iter()
                .map(|&(text, numeric)| Field { text, numeric }),
            quote,
        )
        .unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn csv_quotes_as_pythons_csv_module() {
        let f = [("13", true), ("a, \"b\"", false), ("", false), ("x", false)];
        assert_eq!(
            row(&f, Quote::Nonnumeric),
            "13,\"a, \"\"b\"\"\",\"\",\"x\"\n"
        );
        assert_eq!(row(&f, Quote::All), "\"13\",\"a, \"\"b\"\"\",\"\",\"x\"\n");
        assert_eq!(row(&f, Quote::Minimal), "13,\"a, \"\"b\"\"\",,x\n");
        assert_eq!(row(&f, Quote::None), "13,a\\, \\\"b\\\",,x\n");
        assert_eq!(row(&[("a\nb", false)], Quote::Minimal), "\"a\nb\"\n");
    }
}
