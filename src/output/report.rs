//! The deleting commands' reports: the plan and result tables, the process tables of `backend
//! cleanup`, and the one JSON result document every path of every deleting command prints.

use serde::Serialize;
use tabled::builder::Builder;
use tabled::settings::{Style, style::HorizontalLine};

use super::columns::{ServiceJson, format_time, json_columns};
use crate::model::Service;
use crate::plan::{Item, Plan, Reason, describe_counts};
use crate::processes::{ProcessReport, Stopped};
use crate::write::soft_delete::{ClusterGone, Outcome};

/// A plain boxed table for svcctl's own reports (plans, processes): left-aligned cells.
pub(crate) fn report_table(headers: &[&str], rows: &[Vec<String>]) -> String {
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

/// A reason in a table cell: the short form.
pub(crate) fn short(reason: &Reason) -> String {
    match reason {
        Reason::Up { seconds_ago } => format!("up ({seconds_ago}s ago)"),
        Reason::UpElsewhere { node, .. } => format!("up on {node}"),
        Reason::FutureHeartbeat { seconds } => format!("heartbeat {seconds} s in the future"),
        Reason::UpHereUnnamed { seconds_ago, .. } => {
            format!("up ({seconds_ago}s ago; no process here names it)")
        }
        Reason::StillEnabled { .. } => "still in enabled_backends".into(),
        Reason::InUse(c) => format!("in use: {}", describe_counts(c)),
        Reason::BackendInUse { counts, .. } => {
            format!("backend in use: {}", describe_counts(counts))
        }
        Reason::ClusterOnly { cluster, counts } => {
            format!("cluster {cluster}: {}", describe_counts(counts))
        }
        Reason::CameUp => "came up".into(),
        Reason::GainedReferences => "gained references".into(),
    }
}

fn shorts(reasons: &[Reason]) -> String {
    reasons.iter().map(short).collect::<Vec<_>>().join("; ")
}

/// The plan as a table: what will happen to each service.
pub(crate) fn plan_table(plan: &Plan, force: bool) -> String {
    let rows: Vec<Vec<String>> = plan
        .items
        .iter()
        .map(|i| {
            let r = i.row();
            let verdict = match (i.reasons.is_empty(), force) {
                (true, _) if i.heartbeat_exempt => format!("delete ({})", plan.exempt_note),
                (true, _) => "delete".to_string(),
                (false, true) => format!("delete (--force over: {})", shorts(&i.reasons)),
                (false, false) => format!("refuse: {}", shorts(&i.reasons)),
            };
            vec![
                r.id.to_string(),
                r.binary().to_string(),
                r.host().to_string(),
                i.service.state().to_string(),
                r.heartbeat().map_or("-".into(), format_time),
                verdict,
            ]
        })
        .collect();
    report_table(
        &["ID", "Binary", "Host", "State", "Last Heartbeat", "Verdict"],
        &rows,
    )
}

/// What the write did, as a table: each deleted service, and each one kept after all.
pub(crate) fn result_table(outcome: &Outcome) -> String {
    let row = |s: &Service, result: String| {
        vec![
            s.row.id.to_string(),
            s.row.binary().to_string(),
            s.row.host().to_string(),
            result,
        ]
    };
    let mut rows: Vec<Vec<String>> = outcome
        .deleted
        .iter()
        .map(|d| {
            let result = if d.overridden.is_empty() {
                "deleted"
            } else {
                "deleted (forced)"
            };
            row(&d.service, result.into())
        })
        .collect();
    rows.extend(
        outcome
            .not_deleted
            .iter()
            .map(|i| row(&i.service, format!("not deleted: {}", shorts(&i.reasons)))),
    );
    report_table(&["ID", "Binary", "Host", "Result"], &rows)
}

/// The processes `backend cleanup` is about to stop.
pub(crate) fn planned_processes_table(procs: &[Stopped], kill_timeout: u64) -> String {
    report_table(
        &["PID", "Command Line", "Action"],
        &procs
            .iter()
            .map(|p| {
                vec![
                    p.pid.to_string(),
                    p.cmdline.clone(),
                    format!("SIGTERM, SIGKILL after {kill_timeout}s"),
                ]
            })
            .collect::<Vec<_>>(),
    )
}

/// The processes `backend cleanup` stopped.
pub(crate) fn stopped_processes_table(stopped: &[Stopped]) -> String {
    report_table(
        &["PID", "Command Line", "Signal", "Stopped"],
        &stopped
            .iter()
            .map(|s| {
                vec![
                    s.pid.to_string(),
                    s.cmdline.clone(),
                    s.signal.clone().unwrap_or_else(|| "-".into()),
                    if s.stopped { "yes" } else { "NO" }.into(),
                ]
            })
            .collect::<Vec<_>>(),
    )
}

/// A deleted (or, in a dry run, to-be-deleted) service: the keys of `service list`, plus what
/// `--force` overrode.
#[derive(Serialize)]
struct DeletedEntry<'a> {
    #[serde(flatten)]
    service: ServiceJson<'a>,
    overridden: Vec<String>,
}

/// A refused (or kept) service: the keys of `service list`, plus why.
#[derive(Serialize)]
struct RefusedEntry<'a> {
    #[serde(flatten)]
    service: ServiceJson<'a>,
    reasons: Vec<String>,
}

/// The JSON result document of every deleting command, with the same keys on every path
/// (nothing matched, refused, dry run, done); the processes only from `backend cleanup`.
#[derive(Serialize)]
pub(crate) struct ResultDoc<'a> {
    dry_run: bool,
    deleted: Vec<DeletedEntry<'a>>,
    refused: Vec<RefusedEntry<'a>>,
    clusters_deleted: &'a [ClusterGone],
    already_deleted: &'a [i64],
    /// `processes` and `shared_processes`, from `backend cleanup` only.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    processes: Option<ProcessReport<'a>>,
}

impl<'a> ResultDoc<'a> {
    /// Nothing written: nothing matched, or everything refused (`refused`).
    pub fn unchanged(
        dry_run: bool,
        refused: impl Iterator<Item = &'a Item>,
        processes: Option<ProcessReport<'a>>,
    ) -> ResultDoc<'a> {
        ResultDoc {
            dry_run,
            deleted: Vec::new(),
            refused: refused.map(refused_entry).collect(),
            clusters_deleted: &[],
            already_deleted: &[],
            processes,
        }
    }

    /// A dry run: what would be deleted.
    pub fn dry_run(would: &[&'a Item], processes: Option<ProcessReport<'a>>) -> ResultDoc<'a> {
        ResultDoc {
            dry_run: true,
            deleted: would
                .iter()
                .map(|i| DeletedEntry {
                    service: ServiceJson {
                        service: &i.service,
                        cols: json_columns(false),
                    },
                    overridden: i.reason_texts(),
                })
                .collect(),
            refused: Vec::new(),
            clusters_deleted: &[],
            already_deleted: &[],
            processes,
        }
    }

    /// What the write did.
    pub fn done(outcome: &'a Outcome, processes: Option<ProcessReport<'a>>) -> ResultDoc<'a> {
        ResultDoc {
            dry_run: false,
            deleted: outcome
                .deleted
                .iter()
                .map(|d| DeletedEntry {
                    service: ServiceJson {
                        service: &d.service,
                        cols: json_columns(false),
                    },
                    overridden: d.overridden.clone(),
                })
                .collect(),
            refused: outcome.not_deleted.iter().map(refused_entry).collect(),
            clusters_deleted: &outcome.clusters_deleted,
            already_deleted: &outcome.already_gone,
            processes,
        }
    }
}

fn refused_entry(item: &Item) -> RefusedEntry<'_> {
    RefusedEntry {
        service: ServiceJson {
            service: &item.service,
            cols: json_columns(false),
        },
        reasons: item.reason_texts(),
    }
}
