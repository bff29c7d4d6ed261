//! The housekeeping commands' rendering: `service restore` and `service purge` plans, results
//! and JSON documents, and `cluster list` (table, JSON, CSV, value) and `cluster remove`.

use chrono::NaiveDateTime;
use serde::{Serialize, Serializer};

use super::Format;
use super::columns::{Cell, ServiceJson, format_time, json_columns, resolve_columns};
use super::report::report_table;
use super::table::{Align, write_table};
use crate::audit::{ClusterRecord, ServiceRecord};
use crate::db::clusters::ClusterRow;
use crate::db::foreign_keys::FkCounts;
use crate::error::Failure;
use crate::model::Service;
use crate::undo::{Item, RestorePlan};

fn time(t: Option<NaiveDateTime>) -> String {
    t.map_or("-".into(), format_time)
}

fn service_cells(r: &ServiceRecord) -> [String; 3] {
    [
        r.id.to_string(),
        r.binary.clone().unwrap_or_default(),
        r.host.clone().unwrap_or_default(),
    ]
}

/// The restore plan: each row on record and what will happen to it.
pub(crate) fn restore_plan_table(plan: &RestorePlan) -> String {
    let verdict = |refusal: &Option<crate::undo::Refusal>| match refusal {
        None => "restore".to_string(),
        Some(r) => format!("refuse: {}", r.describe()),
    };
    let mut rows: Vec<Vec<String>> = plan
        .services
        .iter()
        .map(|i| {
            let [id, binary, host] = service_cells(&i.deleted.record);
            vec![
                id,
                binary,
                host,
                format_time(i.deleted.deleted_at),
                verdict(&i.refusal),
            ]
        })
        .collect();
    rows.extend(plan.clusters.iter().map(|i| {
        let c = &i.deleted.record;
        vec![
            c.id.to_string(),
            format!("cluster of {}", c.binary),
            c.name.clone(),
            format_time(i.deleted.deleted_at),
            verdict(&i.refusal),
        ]
    }));
    report_table(
        &["ID", "Binary", "Host", "Deleted At", "Verdict"],
        &rows,
        None,
    )
}

/// What the restore did.
pub(crate) fn restore_result_table(plan: &RestorePlan) -> String {
    let mut rows: Vec<Vec<String>> = plan
        .services
        .iter()
        .map(|i| {
            let [id, binary, host] = service_cells(&i.deleted.record);
            vec![id, binary, host, "restored".into()]
        })
        .collect();
    rows.extend(plan.clusters.iter().map(|i| {
        let c = &i.deleted.record;
        vec![
            c.id.to_string(),
            format!("cluster of {}", c.binary),
            c.name.clone(),
            "restored".into(),
        ]
    }));
    report_table(&["ID", "Binary", "Host", "Result"], &rows, None)
}

/// A row on record with why it is refused.
#[derive(Serialize)]
struct RefusedRecord<'a, R: Serialize> {
    #[serde(flatten)]
    row: &'a R,
    reasons: Vec<String>,
}

/// `service restore -f json`: the same keys on every path. Service rows carry the keys of
/// `service list -f json`, as the deletion recorded them.
#[derive(Serialize, Default)]
pub(crate) struct RestoreDoc<'a> {
    dry_run: bool,
    txn: Option<&'a str>,
    restored: Vec<&'a ServiceRecord>,
    refused: Vec<RefusedRecord<'a, ServiceRecord>>,
    clusters_restored: Vec<&'a ClusterRecord>,
    clusters_refused: Vec<RefusedRecord<'a, ClusterRecord>>,
}

impl<'a> RestoreDoc<'a> {
    pub fn nothing(dry_run: bool) -> RestoreDoc<'a> {
        RestoreDoc {
            dry_run,
            ..RestoreDoc::default()
        }
    }

    /// Refused: nothing restored; every refusal with its reason.
    pub fn refused(plan: &'a RestorePlan, dry_run: bool) -> RestoreDoc<'a> {
        RestoreDoc {
            dry_run,
            txn: Some(&plan.txn),
            refused: refusals(&plan.services, |d| &d.record),
            clusters_refused: refusals(&plan.clusters, |d| &d.record),
            ..RestoreDoc::default()
        }
    }

    /// Restored (or, with `dry_run`, to be restored): every row of the plan.
    pub fn planned(plan: &'a RestorePlan, dry_run: bool) -> RestoreDoc<'a> {
        RestoreDoc {
            dry_run,
            txn: Some(&plan.txn),
            restored: plan.services.iter().map(|i| &i.deleted.record).collect(),
            clusters_restored: plan.clusters.iter().map(|i| &i.deleted.record).collect(),
            ..RestoreDoc::default()
        }
    }
}

/// The refused items of a restore plan, each with its reason.
fn refusals<'a, T, R: Serialize>(
    items: &'a [Item<T>],
    record: impl Fn(&'a T) -> &'a R,
) -> Vec<RefusedRecord<'a, R>> {
    items
        .iter()
        .filter_map(|i| {
            i.refusal.as_ref().map(|r| RefusedRecord {
                row: record(&i.deleted),
                reasons: vec![r.describe()],
            })
        })
        .collect()
}

/// Why a purge skips a service: the foreign keys naming it.
pub(crate) fn fk_reasons(c: &FkCounts) -> Vec<String> {
    let mut out = Vec::new();
    for (n, what, hint) in [
        (
            c.volumes,
            "volumes.service_uuid",
            "cinder-manage volume update_service",
        ),
        (
            c.workers,
            "workers.service_id",
            "Cinder removes a worker when its cleanup is done",
        ),
    ] {
        if n > 0 {
            out.push(format!(
                "named by {n} row{} of {what} (a foreign key; even deleted rows count); \
                 re-point or remove them first ({hint})",
                if n == 1 { "" } else { "s" }
            ));
        }
    }
    out
}

fn cluster_cells(c: &ClusterRow) -> Vec<String> {
    vec![
        c.id.to_string(),
        format!("cluster of {}", c.binary),
        c.name.clone(),
        time(c.deleted_at),
    ]
}

/// The purge plan: what goes and what is skipped, and why.
pub(crate) fn purge_plan_table(
    purgeable: &[Service],
    skipped: &[(Service, FkCounts)],
    clusters: &[ClusterRow],
) -> String {
    let row = |s: &Service, verdict: String| {
        vec![
            s.row.id.to_string(),
            s.row.binary().to_string(),
            s.row.host().to_string(),
            time(s.row.deleted_at),
            verdict,
        ]
    };
    let mut rows: Vec<Vec<String>> = purgeable.iter().map(|s| row(s, "purge".into())).collect();
    rows.extend(skipped.iter().map(|(s, c)| {
        let named: Vec<&str> = [(c.volumes, "volumes"), (c.workers, "workers")]
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(_, t)| *t)
            .collect();
        row(s, format!("skip: named by {}", named.join(", ")))
    }));
    rows.extend(clusters.iter().map(|c| {
        let mut r = cluster_cells(c);
        r.push("purge".into());
        r
    }));
    report_table(
        &["ID", "Binary", "Host", "Deleted At", "Verdict"],
        &rows,
        None,
    )
}

/// What the purge did.
pub(crate) fn purge_result_table(purged: &[Service], clusters: &[ClusterRow]) -> String {
    let mut rows: Vec<Vec<String>> = purged
        .iter()
        .map(|s| {
            vec![
                s.row.id.to_string(),
                s.row.binary().to_string(),
                s.row.host().to_string(),
                time(s.row.deleted_at),
                "purged".into(),
            ]
        })
        .collect();
    rows.extend(clusters.iter().map(|c| {
        let mut r = cluster_cells(c);
        r.push("purged".into());
        r
    }));
    report_table(
        &["ID", "Binary", "Host", "Deleted At", "Result"],
        &rows,
        None,
    )
}

/// `service purge -f json`: the same keys on every path.
pub(crate) struct PurgeDoc<'a> {
    pub dry_run: bool,
    pub purged: &'a [Service],
    pub skipped: &'a [(Service, FkCounts)],
    pub clusters_purged: &'a [ClusterRow],
    pub batches: usize,
}

#[derive(Serialize)]
struct SkippedEntry<'a> {
    #[serde(flatten)]
    service: ServiceJson<'a>,
    reasons: Vec<String>,
}

/// A cluster in a result: its id, name and binary (and when it was deleted).
#[derive(Serialize)]
struct ClusterEntry<'a> {
    id: i64,
    name: &'a str,
    binary: &'a str,
    deleted_at: Option<String>,
}

fn cluster_entry(c: &ClusterRow) -> ClusterEntry<'_> {
    ClusterEntry {
        id: c.id,
        name: &c.name,
        binary: &c.binary,
        deleted_at: c.deleted_at.map(format_time),
    }
}

impl Serialize for PurgeDoc<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Doc<'a> {
            dry_run: bool,
            purged: Vec<ServiceJson<'a>>,
            skipped: Vec<SkippedEntry<'a>>,
            clusters_purged: Vec<ClusterEntry<'a>>,
            batches: usize,
        }
        let cols = json_columns(true);
        Doc {
            dry_run: self.dry_run,
            purged: self
                .purged
                .iter()
                .map(|service| ServiceJson { service, cols })
                .collect(),
            skipped: self
                .skipped
                .iter()
                .map(|(service, c)| SkippedEntry {
                    service: ServiceJson { service, cols },
                    reasons: fk_reasons(c),
                })
                .collect(),
            clusters_purged: self.clusters_purged.iter().map(cluster_entry).collect(),
            batches: self.batches,
        }
        .serialize(s)
    }
}

/// `cluster remove -f json` of an empty cluster: the keys of every deleting command's result.
#[derive(Serialize)]
pub(crate) struct ClusterGoneDoc<'a> {
    dry_run: bool,
    deleted: [(); 0],
    refused: [(); 0],
    clusters_deleted: [ClusterEntry<'a>; 1],
    already_deleted: [(); 0],
}

impl<'a> ClusterGoneDoc<'a> {
    pub fn new(c: &'a ClusterRow, dry_run: bool) -> ClusterGoneDoc<'a> {
        ClusterGoneDoc {
            dry_run,
            deleted: [],
            refused: [],
            clusters_deleted: [cluster_entry(c)],
            already_deleted: [],
        }
    }
}

/// `cluster remove`'s plan for an empty cluster.
pub(crate) fn cluster_plan_table(c: &ClusterRow) -> String {
    report_table(
        &["ID", "Name", "Binary", "Hosts", "Verdict"],
        &[vec![
            c.id.to_string(),
            c.name.clone(),
            c.binary.clone(),
            "0".into(),
            "remove (no live service names it)".into(),
        ]],
        None,
    )
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

/// Prints the clusters in `format`, with the columns `cols`.
pub(crate) fn print_clusters(
    views: &[ClusterView<'_>],
    format: Format,
    cols: &[ClusterColumn],
) -> anyhow::Result<()> {
    use std::io::Write;
    let cells = |v: &ClusterView<'_>, csv: bool| -> Vec<String> {
        cols.iter()
            .map(|c| {
                let cell = c.value(v);
                if csv {
                    cell.csv_text()
                } else {
                    cell.table_text()
                }
            })
            .collect()
    };
    let mut out = crate::term::stdout();
    match format {
        Format::Table => {
            let headers: Vec<&str> = cols.iter().map(|c| c.header()).collect();
            let mut rows: Vec<Vec<String>> = views.iter().map(|v| cells(v, false)).collect();
            // cinderclient's order: by the cells as strings, first column first.
            rows.sort_unstable();
            write_table(&mut out, &headers, &rows, Align::Center, None)?;
        }
        Format::Json | Format::Yaml => {
            let docs: Vec<ClusterJson<'_>> = views
                .iter()
                .map(|view| ClusterJson { view, cols })
                .collect();
            super::print_doc(&docs, format == Format::Yaml, false)?;
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(&mut out);
            w.write_record(cols.iter().map(|c| c.header()))?;
            for v in views {
                w.write_record(cells(v, true))?;
            }
            w.flush()?;
        }
        Format::Value => {
            for v in views {
                writeln!(out, "{}", cells(v, false).join(" "))?;
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
