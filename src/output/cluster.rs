//! The clusters' rendering: `cluster list` (table, JSON, CSV, value, YAML) as `cinder-manage
//! cluster list` shows it, and `cluster remove` of an empty cluster (plan, document, words).

use chrono::NaiveDateTime;
use serde::{Serialize, Serializer};

use super::columns::{Cell, cmp_table_text, resolve_columns};
use super::delete::{ResultDoc, describe_counts, report_table};
use super::document::ClusterRowJson;
use super::formatter::{Field, ReportArgs, write_csv_row};
use super::report::{Render, Verb, plural};
use super::table::Give;
use super::table::{Align, write_table};
use super::{Format, OutputArgs};
use crate::apply::{End, Flags};
use crate::db::clusters::ClusterRow;
use crate::error::Failure;
use crate::plan::cluster::Plan;
use crate::write::cluster::Removed;

/// `cluster remove`'s plan for an empty cluster.
fn plan_table(c: &ClusterRow, fit_to: Option<usize>) -> String {
    report_table(
        &[
            ("ID", Give::Keep),
            ("Name", Give::Cut),
            ("Binary", Give::Keep),
            ("Hosts", Give::Keep),
            ("Verdict", Give::Wrap),
        ],
        &[vec![
            c.id.to_string(),
            c.name.clone(),
            c.binary.clone(),
            "0".into(),
            "remove (no live service or row names it)".into(),
        ]],
        fit_to,
    )
}

/// How the removal of an empty cluster is shown.
pub(crate) struct ClusterReport<'a> {
    pub plan: &'a Plan,
    pub style: &'a ReportArgs,
}

impl Render for ClusterReport<'_> {
    type Outcome = Removed;

    fn verb(&self) -> Verb {
        Verb {
            base: "remove",
            past: "removed",
        }
    }

    fn what(&self, _flags: &Flags) -> String {
        format!("cluster {}", self.plan.name)
    }

    fn plan(&self, _flags: &Flags) -> String {
        let fit_to = self.style.table.fit_to();
        self.plan
            .cluster
            .as_ref()
            .map(|c| plan_table(c, fit_to))
            .unwrap_or_default()
    }

    /// The delete's result document (`cluster remove --recursive` prints it too), the cluster
    /// in `would_delete_clusters` or `deleted_clusters`.
    fn document<'a>(&'a self, end: &'a End<Removed>, flags: &Flags) -> impl Serialize + 'a {
        let mut doc = ResultDoc::empty(flags.dry_run);
        match end {
            End::DryRun => {
                doc.would_delete_clusters =
                    self.plan.cluster.iter().map(ClusterRowJson::row).collect();
            }
            End::Done(done) => {
                doc.deleted_clusters = done
                    .iter()
                    .filter_map(|r| r.cluster.as_ref().map(|(c, _)| ClusterRowJson::row(c)))
                    .collect();
            }
            _ => {}
        }
        doc
    }

    fn nothing(&self) -> String {
        format!(
            "no live cluster {} with binary {}",
            self.plan.name, self.plan.binary
        )
    }

    fn refused(&self, flags: &Flags) -> (Vec<String>, String) {
        let (plan, name) = (self.plan, &self.plan.name);
        let mut why = Vec::new();
        let members = &plan.members;
        if !members.is_empty() {
            let hosts: Vec<String> = members
                .iter()
                .map(|m| {
                    format!(
                        "{} {}",
                        m.binary.as_deref().unwrap_or(""),
                        m.host.as_deref().unwrap_or("")
                    )
                })
                .collect();
            why.push(format!(
                "it still has {} live service{} ({}): {}",
                members.len(),
                plural(members.len()),
                hosts.join(", "),
                if plan.other_members().next().is_none() {
                    "delete them first (svcctl service delete), or pass --recursive".to_string()
                } else {
                    format!(
                        "--recursive removes only {} services; delete the others first",
                        plan.binary
                    )
                }
            ));
        }
        if plan.named_by.total() > 0 && !flags.force {
            why.push(format!(
                "live rows name it: {} (their cluster_name is {name} or {name}#POOL); move them \
                 to another service first (svcctl volume move-host --from HOST --to NEWHOST), \
                 or pass --force",
                describe_counts(&plan.named_by),
            ));
        }
        (
            Vec::new(),
            format!(
                "refused to remove cluster {name}: {}; nothing was changed",
                why.join("; ")
            ),
        )
    }

    fn rolled_back(&self, _outcome: &Removed) -> (Vec<String>, String) {
        let id = self.plan.cluster.as_ref().map_or(0, |c| c.id);
        (
            Vec::new(),
            format!(
                "cluster {} (id {id}) gained a live service or a row naming it, or was removed, \
                 between plan and write; nothing was changed; run svcctl cluster remove again",
                self.plan.name
            ),
        )
    }
}

/// A cluster as `cluster list` shows it.
pub(crate) struct ClusterView<'a> {
    pub row: &'a ClusterRow,
    pub up: bool,
    pub heartbeat: Option<NaiveDateTime>,
    pub hosts: usize,
    pub down_hosts: usize,
}

/// A column of `cluster list`: `cinder-manage cluster list`'s headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClusterColumn {
    Name,
    Binary,
    Status,
    State,
    Heartbeat,
    Hosts,
    DownHosts,
    UpdatedAt,
}

impl ClusterColumn {
    const ALL: &[ClusterColumn] = &[
        ClusterColumn::Name,
        ClusterColumn::Binary,
        ClusterColumn::Status,
        ClusterColumn::State,
        ClusterColumn::Heartbeat,
        ClusterColumn::Hosts,
        ClusterColumn::DownHosts,
        ClusterColumn::UpdatedAt,
    ];

    fn header(self) -> &'static str {
        match self {
            ClusterColumn::Name => "Name",
            ClusterColumn::Binary => "Binary",
            ClusterColumn::Status => "Status",
            ClusterColumn::State => "State",
            ClusterColumn::Heartbeat => "Heartbeat",
            ClusterColumn::Hosts => "Hosts",
            ClusterColumn::DownHosts => "Down Hosts",
            ClusterColumn::UpdatedAt => "Updated At",
        }
    }

    fn key(self) -> &'static str {
        match self {
            ClusterColumn::Name => "name",
            ClusterColumn::Binary => "binary",
            ClusterColumn::Status => "status",
            ClusterColumn::State => "state",
            ClusterColumn::Heartbeat => "heartbeat",
            ClusterColumn::Hosts => "hosts",
            ClusterColumn::DownHosts => "down_hosts",
            ClusterColumn::UpdatedAt => "updated_at",
        }
    }

    fn value<'a>(self, v: &ClusterView<'a>) -> Cell<'a> {
        let t = |t: Option<NaiveDateTime>| t.map_or(Cell::Null, Cell::Time);
        match self {
            ClusterColumn::Name => Cell::Text(&v.row.name),
            ClusterColumn::Binary => Cell::Text(&v.row.binary),
            ClusterColumn::Status => Cell::Text(if v.row.disabled.unwrap_or(false) {
                "disabled"
            } else {
                "enabled"
            }),
            ClusterColumn::State => Cell::Text(if v.up { "up" } else { "down" }),
            ClusterColumn::Heartbeat => t(v.heartbeat),
            ClusterColumn::Hosts => Cell::Int(v.hosts as i64),
            ClusterColumn::DownHosts => Cell::Int(v.down_hosts as i64),
            ClusterColumn::UpdatedAt => t(v.row.updated_at),
        }
    }
}

/// `-c` names for `cluster list` (header or key); none means every column.
pub(crate) fn cluster_columns(names: &[String]) -> Result<Vec<ClusterColumn>, Failure> {
    if names.is_empty() {
        return Ok(ClusterColumn::ALL.to_vec());
    }
    resolve_columns(
        names,
        ClusterColumn::ALL,
        ClusterColumn::header,
        ClusterColumn::key,
    )
}

/// A cluster as a JSON object of the given columns.
struct ClusterJson<'a> {
    view: &'a ClusterView<'a>,
    cols: &'a [ClusterColumn],
}

impl Serialize for ClusterJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.cols.len()))?;
        for c in self.cols {
            map.serialize_entry(c.key(), &c.value(self.view))?;
        }
        map.end()
    }
}

/// Prints the clusters as `args` asks (format, columns, `--sort-column`, the table's width,
/// `--noindent`, `--quote`), with the columns `cols`, as `service list` treats the same flags.
pub(crate) fn print_clusters(
    views: &[ClusterView<'_>],
    args: &OutputArgs,
    cols: &[ClusterColumn],
) -> anyhow::Result<()> {
    use std::io::Write;
    // cinderclient's order: by the cells as the table shows them, first column first; then
    // --sort-column on top, stably (unknown names are ignored, as cliff ignores them).
    let mut order: Vec<&ClusterView<'_>> = views.iter().collect();
    let by_cells = |a: &ClusterView<'_>, b: &ClusterView<'_>, by: &[ClusterColumn]| {
        by.iter()
            .map(|c| cmp_table_text(&c.value(a), &c.value(b)))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    };
    order.sort_by(|a, b| by_cells(a, b, cols));
    let sort_by: Vec<ClusterColumn> = args
        .sort_columns
        .iter()
        .filter_map(|n| cluster_columns(std::slice::from_ref(n)).ok())
        .flatten()
        .collect();
    if !sort_by.is_empty() {
        order.sort_by(|a, b| {
            let o = by_cells(a, b, &sort_by);
            if args.sort_descending { o.reverse() } else { o }
        });
    }
    let mut out = std::io::BufWriter::new(crate::term::stdout());
    match args.format {
        Format::Table => {
            let headers: Vec<&str> = cols.iter().map(|c| c.header()).collect();
            let rows: Vec<Vec<String>> = order
                .iter()
                .map(|v| cols.iter().map(|c| c.value(v).table_text()).collect())
                .collect();
            write_table(
                &mut out,
                &headers,
                &rows,
                Align::Center,
                args.table.fit_to(),
            )?;
        }
        Format::Json | Format::Yaml => {
            let docs: Vec<ClusterJson<'_>> = order
                .iter()
                .map(|view| ClusterJson { view, cols })
                .collect();
            super::print_doc(&docs, args.format == Format::Yaml, args.json.noindent)?;
        }
        Format::Csv => {
            let headers = cols.iter().map(|c| Field {
                text: c.header(),
                numeric: false,
            });
            write_csv_row(&mut out, headers, args.quote)?;
            for v in &order {
                let texts: Vec<(String, bool)> = cols
                    .iter()
                    .map(|c| {
                        let cell = c.value(v);
                        (
                            cell.csv_text(),
                            matches!(cell, Cell::Int(_) | Cell::Bool(_)),
                        )
                    })
                    .collect();
                let fields = texts.iter().map(|(text, numeric)| Field {
                    text,
                    numeric: *numeric,
                });
                write_csv_row(&mut out, fields, args.quote)?;
            }
        }
        Format::Value => {
            for v in &order {
                for (i, c) in cols.iter().enumerate() {
                    if i > 0 {
                        out.write_all(b" ")?;
                    }
                    c.value(v)
                        .with_value_text(|text| out.write_all(text.as_bytes()))?;
                }
                out.write_all(b"\n")?;
            }
        }
        Format::Prometheus => {
            return Err(crate::error::Failure::Usage(
                "-f prometheus is for services (svcctl service list -f prometheus); choose \
                 table, json, csv, value or yaml for clusters"
                    .into(),
            )
            .into());
        }
    }
    out.flush()?;
    Ok(())
}
