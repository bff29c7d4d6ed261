//! The deleting commands' reports: the plan and result tables, the process tables of `backend
//! cleanup`, and the one JSON result document every path of every deleting command prints.

use serde::Serialize;

use super::table::{Align, cut, table};

use super::columns::{ServiceJson, json_columns};
use crate::db::references::RefCounts;
use crate::model::Service;
use crate::plan::{Item, Plan, Reason, describe_counts, shown_hosts};
use crate::processes::{ProcessReport, Stopped};
use crate::write::soft_delete::{ClusterGone, Outcome};

/// A plain boxed table for svcctl's own reports (plans, results, processes): left-aligned
/// cells, fitted to `fit_to` columns when given.
pub(crate) fn report_table(
    headers: &[&str],
    rows: &[Vec<String>],
    fit_to: Option<usize>,
) -> String {
    table(headers, rows, Align::Left, fit_to)
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
pub(crate) fn plan_table(plan: &Plan, force: bool, fit_to: Option<usize>) -> String {
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
                // To the second: what MySQL stores, and narrow enough for an 80-column plan.
                r.heartbeat()
                    .map_or("-".into(), |t| t.format("%Y-%m-%d %H:%M:%S").to_string()),
                verdict,
            ]
        })
        .collect();
    report_table(
        &["ID", "Binary", "Host", "State", "Last Heartbeat", "Verdict"],
        &rows,
        fit_to,
    )
}

/// What the write did, as a table: each deleted service, and each one kept after all.
pub(crate) fn result_table(outcome: &Outcome, fit_to: Option<usize>) -> String {
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
    report_table(&["ID", "Binary", "Host", "Result"], &rows, fit_to)
}

/// A command line in a process table: cut with `…` so the table fits 80 columns (JSON has it
/// whole).
const CMDLINE_WIDTH: usize = 40;

/// The processes `backend cleanup` is about to stop.
pub(crate) fn planned_processes_table(
    procs: &[Stopped],
    kill_timeout: u64,
    fit_to: Option<usize>,
) -> String {
    report_table(
        &["PID", "Command Line", "Action"],
        &procs
            .iter()
            .map(|p| {
                vec![
                    p.pid.to_string(),
                    cut(&p.cmdline, CMDLINE_WIDTH),
                    format!("SIGTERM, SIGKILL after {kill_timeout}s"),
                ]
            })
            .collect::<Vec<_>>(),
        fit_to,
    )
}

/// The processes `backend cleanup` stopped.
pub(crate) fn stopped_processes_table(stopped: &[Stopped], fit_to: Option<usize>) -> String {
    report_table(
        &["PID", "Command Line", "Signal", "Stopped"],
        &stopped
            .iter()
            .map(|s| {
                vec![
                    s.pid.to_string(),
                    cut(&s.cmdline, CMDLINE_WIDTH),
                    s.signal.clone().unwrap_or_else(|| "-".into()),
                    if s.stopped { "yes" } else { "NO" }.into(),
                ]
            })
            .collect::<Vec<_>>(),
        fit_to,
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
    reasons: Vec<ReasonJson<'a>>,
}

/// Why, for a script to branch on: `kind` names the rule, the other keys are its evidence
/// (null where the rule has none), `text` says it for a person.
#[derive(Serialize)]
struct ReasonJson<'a> {
    kind: &'static str,
    seconds_ago: Option<i64>,
    counts: Option<&'a RefCounts>,
    /// The first few hosts of the volumes in `counts`; `text` says how many more.
    hosts: Option<&'a [String]>,
    text: String,
}

fn reason_json<'a>(reason: &'a Reason, item: &Item) -> ReasonJson<'a> {
    let (kind, seconds_ago, counts) = match reason {
        Reason::Up { seconds_ago } => ("up", Some(*seconds_ago), None),
        Reason::UpElsewhere { seconds_ago, .. } => ("up_elsewhere", Some(*seconds_ago), None),
        Reason::UpHereUnnamed { seconds_ago, .. } => ("up_here_unnamed", Some(*seconds_ago), None),
        Reason::FutureHeartbeat { seconds } => ("future_heartbeat", Some(-*seconds), None),
        Reason::StillEnabled { .. } => ("still_enabled", None, None),
        Reason::ClusterOnly { counts, .. } => ("cluster_in_use", None, Some(counts)),
        Reason::InUse(c) => ("in_use", None, Some(c)),
        Reason::BackendInUse { counts, .. } => ("backend_in_use", None, Some(counts)),
        Reason::CameUp => ("came_up", None, None),
        Reason::GainedReferences => ("gained_references", None, None),
    };
    ReasonJson {
        kind,
        seconds_ago,
        counts,
        hosts: counts.map(|c| shown_hosts(&c.volume_hosts)),
        text: reason.describe(item.row()),
    }
}

/// The JSON result document of every deleting command, with the same keys on every path
/// (nothing matched, refused, dry run, done); the processes only from `backend cleanup`.
#[derive(Serialize)]
pub(crate) struct ResultDoc<'a> {
    dry_run: bool,
    /// A dry run's services that the real run would delete; empty otherwise.
    would_delete: Vec<DeletedEntry<'a>>,
    /// What was deleted; always empty in a dry run.
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
            would_delete: Vec::new(),
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
            deleted: Vec::new(),
            would_delete: would
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
    /// What the write did; `skipped` are the plan's refusals a `--skip-refused` run left.
    pub fn done(
        outcome: &'a Outcome,
        skipped: impl Iterator<Item = &'a Item>,
        processes: Option<ProcessReport<'a>>,
    ) -> ResultDoc<'a> {
        ResultDoc {
            dry_run: false,
            would_delete: Vec::new(),
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
            refused: skipped
                .chain(outcome.not_deleted.iter())
                .map(refused_entry)
                .collect(),
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
        reasons: item.reasons.iter().map(|r| reason_json(r, item)).collect(),
    }
}
