//! The decommission commands' reports: the plans and results of `service disable`/`enable`
//! and of `volume`/`backup move-host`, their JSON documents (typed, with the same keys on
//! every path), and their notes on stderr.

use std::path::Path;

use serde::Serialize;

use super::columns::{ServiceJson, format_time, json_columns};
use super::messages::note;
use super::report::report_table;
use crate::audit::Placement;
use crate::model::Service;
use crate::relocate::{Move, MovePlan};
use crate::write::move_host::Moved;
use crate::write::set_disabled::Toggled;

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn already(disable: bool) -> &'static str {
    if disable {
        "already disabled"
    } else {
        "already enabled"
    }
}

fn is_target(s: &Service, disable: bool) -> bool {
    s.row.disabled.unwrap_or(false) == disable
}

/// The plan of `service disable`/`enable`: each matched service and what will happen to it.
pub(crate) fn toggle_plan_table(
    planned: &[Service],
    disable: bool,
    fit_to: Option<usize>,
) -> String {
    let rows: Vec<Vec<String>> = planned
        .iter()
        .map(|s| {
            let r = &s.row;
            vec![
                r.id.to_string(),
                r.binary().to_string(),
                r.host().to_string(),
                s.state().to_string(),
                s.status().to_string(),
                r.heartbeat().map_or("-".into(), format_time),
                r.disabled_reason.clone().unwrap_or_else(|| "-".into()),
                if is_target(s, disable) {
                    already(disable).into()
                } else if disable {
                    "disable".into()
                } else {
                    "enable".into()
                },
            ]
        })
        .collect();
    report_table(
        &[
            "ID",
            "Binary",
            "Host",
            "State",
            "Status",
            "Last Heartbeat",
            "Disabled Reason",
            "Action",
        ],
        &rows,
        fit_to,
    )
}

/// What `service disable`/`enable` did.
pub(crate) fn toggle_result_table(
    changed: &[Service],
    unchanged: &[Service],
    disable: bool,
    fit_to: Option<usize>,
) -> String {
    let row = |s: &Service, result: &str| {
        vec![
            s.row.id.to_string(),
            s.row.binary().to_string(),
            s.row.host().to_string(),
            result.to_string(),
        ]
    };
    let done = if disable { "disabled" } else { "enabled" };
    let mut rows: Vec<Vec<String>> = changed.iter().map(|s| row(s, done)).collect();
    rows.extend(unchanged.iter().map(|s| row(s, already(disable))));
    report_table(&["ID", "Binary", "Host", "Result"], &rows, fit_to)
}

/// The JSON document of `service disable`/`enable`, on every path: `changed` holds the
/// services as they were before (in a dry run: those that would change), `unchanged` those
/// already in the wanted state.
#[derive(Serialize)]
pub(crate) struct ToggleDoc<'a> {
    dry_run: bool,
    action: &'static str,
    changed: Vec<ServiceJson<'a>>,
    unchanged: Vec<ServiceJson<'a>>,
    already_deleted: Vec<i64>,
}

fn as_json(s: &Service) -> ServiceJson<'_> {
    ServiceJson {
        service: s,
        cols: json_columns(false),
    }
}

fn action(disable: bool) -> &'static str {
    if disable { "disable" } else { "enable" }
}

impl<'a> ToggleDoc<'a> {
    /// Before any write: nothing matched, a dry run, or nothing to change.
    pub fn planned(dry_run: bool, planned: &'a [Service], disable: bool) -> ToggleDoc<'a> {
        ToggleDoc {
            dry_run,
            action: action(disable),
            changed: if dry_run {
                planned
                    .iter()
                    .filter(|s| !is_target(s, disable))
                    .map(as_json)
                    .collect()
            } else {
                Vec::new()
            },
            unchanged: planned
                .iter()
                .filter(|s| is_target(s, disable))
                .map(as_json)
                .collect(),
            already_deleted: Vec::new(),
        }
    }

    pub fn done(
        changed: &'a [Service],
        unchanged: &'a [Service],
        gone: &[i64],
        disable: bool,
    ) -> ToggleDoc<'a> {
        ToggleDoc {
            dry_run: false,
            action: action(disable),
            changed: changed.iter().map(as_json).collect(),
            unchanged: unchanged.iter().map(as_json).collect(),
            already_deleted: gone.to_vec(),
        }
    }
}

/// A dry run, or nothing to change.
pub(crate) fn toggle_planned_note(
    to_change: usize,
    unchanged: usize,
    disable: bool,
    dry_run: bool,
) {
    if dry_run {
        note(format_args!(
            "dry run: would {} {to_change} service{} ({unchanged} {}); nothing was changed",
            action(disable),
            plural(to_change),
            already(disable)
        ));
    } else {
        note(format_args!(
            "all {unchanged} matching service{} {}; nothing to do",
            plural(unchanged),
            if unchanged == 1 {
                format!("is {}", already(disable))
            } else {
                format!("are {}", already(disable))
            }
        ));
    }
}

pub(crate) fn toggle_done_note(outcome: &Toggled, disable: bool, audit: Option<&Path>) {
    let n = outcome.changed.len();
    note(format_args!(
        "{} {n} service{}{}{}",
        if disable { "disabled" } else { "enabled" },
        plural(n),
        match outcome.unchanged.len() {
            0 => String::new(),
            u => format!(" ({u} {})", already(disable)),
        },
        audit.map_or(String::new(), |p| format!(
            "; audit record in {}",
            p.display()
        ))
    ));
}

fn cell(v: Option<&str>) -> String {
    v.unwrap_or("-").to_string()
}

/// The plan of a host move: each row on FROM, where it goes, or why it stays.
pub(crate) fn move_plan_table(plan: &MovePlan, fit_to: Option<usize>) -> String {
    let mut rows: Vec<Vec<String>> = plan
        .moves
        .iter()
        .map(|m| {
            vec![
                m.table.to_string(),
                m.id.clone(),
                cell(m.status.as_deref()),
                cell(m.old.host.as_deref()),
                cell(m.new.host.as_deref()),
                cell(m.new.service_uuid.as_deref()),
                cell(m.new.cluster_name.as_deref()),
                "move".into(),
            ]
        })
        .collect();
    rows.extend(plan.blocked.iter().map(|b| {
        vec![
            b.table.to_string(),
            b.row.id.clone(),
            cell(b.row.status.as_deref()),
            b.row.host().to_string(),
            "-".into(),
            "-".into(),
            "-".into(),
            format!("refuse: {}", b.why),
        ]
    }));
    let mut out = String::new();
    if let Some(t) = &plan.target {
        out.push_str(&format!(
            "Target: {} {} (id {}, uuid {}, {}, {})\n",
            t.service.row.binary(),
            t.service.row.host(),
            t.service.row.id,
            cell(t.service.row.uuid.as_deref()),
            t.service.state(),
            t.service.status(),
        ));
    }
    if let Some(txn) = &plan.undo_of {
        out.push_str(&format!("Undo of transaction {txn}\n"));
    }
    out.push_str(&report_table(
        &[
            "Table",
            "ID",
            "Status",
            "Host",
            "New Host",
            "New Service UUID",
            "New Cluster",
            "Action",
        ],
        &rows,
        fit_to,
    ));
    out
}

/// What a host move did.
pub(crate) fn move_result_table(outcome: &Moved, fit_to: Option<usize>) -> String {
    let mut rows: Vec<Vec<String>> = outcome
        .moved
        .iter()
        .map(|m| {
            vec![
                m.table.to_string(),
                m.id.clone(),
                cell(m.old.host.as_deref()),
                cell(m.new.host.as_deref()),
                "moved".into(),
            ]
        })
        .collect();
    rows.extend(outcome.not_moved.iter().map(|(m, why)| {
        vec![
            m.table.to_string(),
            m.id.clone(),
            cell(m.old.host.as_deref()),
            "-".into(),
            format!("not moved: {why}"),
        ]
    }));
    rows.extend(outcome.appeared.iter().map(|(t, r)| {
        vec![
            t.to_string(),
            r.id.clone(),
            r.host().to_string(),
            "-".into(),
            "not moved: appeared after the plan".into(),
        ]
    }));
    report_table(
        &["Table", "ID", "Host", "New Host", "Result"],
        &rows,
        fit_to,
    )
}

/// A row moved (or, in a dry run, to be moved): where it was and where it goes.
#[derive(Serialize)]
struct MovedEntry<'a> {
    table: &'a str,
    id: &'a str,
    status: Option<&'a str>,
    old: &'a Placement,
    new: &'a Placement,
}

/// A row not moved, and why.
#[derive(Serialize)]
struct KeptEntry<'a> {
    table: &'a str,
    id: &'a str,
    host: Option<&'a str>,
    status: Option<&'a str>,
    reason: KeptReason,
}

/// Why a row stays, for a script to branch on (`kind`) and a person to read (`text`).
#[derive(Serialize)]
struct KeptReason {
    /// `busy` (the plan refused it), `changed` (changed after the plan), `appeared` (on FROM
    /// after the plan).
    kind: &'static str,
    text: String,
}

fn kept(kind: &'static str, text: String) -> KeptReason {
    KeptReason { kind, text }
}

/// The JSON document of `volume`/`backup move-host`, with the same keys on every path:
/// `refused` (the plan said no), `not_moved` (changed after the plan, or appeared on FROM).
#[derive(Serialize)]
pub(crate) struct MoveDoc<'a> {
    dry_run: bool,
    /// The transaction to pass to `--undo` (null until something was written).
    txn: Option<&'a str>,
    undo_of: Option<&'a str>,
    from: &'a str,
    to: &'a str,
    target: Option<ServiceJson<'a>>,
    moved: Vec<MovedEntry<'a>>,
    refused: Vec<KeptEntry<'a>>,
    not_moved: Vec<KeptEntry<'a>>,
}

fn moved_entry(m: &Move) -> MovedEntry<'_> {
    MovedEntry {
        table: m.table,
        id: &m.id,
        status: m.status.as_deref(),
        old: &m.old,
        new: &m.new,
    }
}

impl<'a> MoveDoc<'a> {
    /// Nothing planned: nothing on FROM, no target, or no such transaction to undo.
    pub fn empty(dry_run: bool, from: &'a str, to: &'a str) -> MoveDoc<'a> {
        MoveDoc {
            dry_run,
            txn: None,
            undo_of: None,
            from,
            to,
            target: None,
            moved: Vec::new(),
            refused: Vec::new(),
            not_moved: Vec::new(),
        }
    }

    /// Before any write: a refusal (`moved` empty) or a dry run (`moved` what would move).
    pub fn planned(plan: &'a MovePlan, dry_run: bool) -> MoveDoc<'a> {
        let ok = plan.blocked.is_empty() && dry_run;
        MoveDoc {
            dry_run,
            txn: None,
            undo_of: plan.undo_of.as_deref(),
            from: &plan.from,
            to: &plan.to,
            target: plan.target.as_ref().map(|t| as_json(&t.service)),
            moved: if ok {
                plan.moves.iter().map(moved_entry).collect()
            } else {
                Vec::new()
            },
            refused: plan
                .blocked
                .iter()
                .map(|b| KeptEntry {
                    table: b.table,
                    id: &b.row.id,
                    host: b.row.host.as_deref(),
                    status: b.row.status.as_deref(),
                    reason: kept("busy", b.why.clone()),
                })
                .collect(),
            not_moved: Vec::new(),
        }
    }

    pub fn done(plan: &'a MovePlan, outcome: &'a Moved) -> MoveDoc<'a> {
        let mut not_moved: Vec<KeptEntry> = outcome
            .not_moved
            .iter()
            .map(|(m, why)| KeptEntry {
                table: m.table,
                id: &m.id,
                host: m.old.host.as_deref(),
                status: m.status.as_deref(),
                reason: kept("changed", why.clone()),
            })
            .collect();
        not_moved.extend(outcome.appeared.iter().map(|(t, r)| KeptEntry {
            table: t,
            id: &r.id,
            host: r.host.as_deref(),
            status: r.status.as_deref(),
            reason: kept("appeared", "appeared on the host after the plan".into()),
        }));
        MoveDoc {
            dry_run: false,
            txn: Some(&outcome.txn),
            undo_of: plan.undo_of.as_deref(),
            from: &plan.from,
            to: &plan.to,
            target: plan.target.as_ref().map(|t| as_json(&t.service)),
            moved: outcome.moved.iter().map(moved_entry).collect(),
            refused: Vec::new(),
            not_moved,
        }
    }
}

/// The one-line error of a refused move, naming every row (or the target) that refused it.
pub(crate) fn move_refusal(plan: &MovePlan, target_down: bool, dry_run: bool) -> String {
    let mut why = Vec::new();
    if target_down && let Some(t) = &plan.target {
        why.push(format!(
            "the target {} {} is down (last heartbeat {}); start it, or pass --force",
            t.service.row.binary(),
            t.service.row.host(),
            t.service
                .row
                .heartbeat()
                .map_or("never".into(), format_time)
        ));
    }
    if !plan.blocked.is_empty() {
        why.push(format!(
            "busy, wait for them to settle: {}",
            plan.blocked
                .iter()
                .map(|b| format!("{} {} ({})", b.table, b.row.id, b.why))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    format!(
        "refused to move {} off {}: {}; nothing was changed{}",
        plan.kind.noun().to_string() + "s",
        plan.from,
        why.join("; "),
        if dry_run { " (dry run)" } else { "" }
    )
}

pub(crate) fn move_question(plan: &MovePlan) -> String {
    let n = plan.moves.len();
    format!(
        "Move {n} row{} from {} to {}?",
        plural(n),
        plan.from,
        plan.to
    )
}

pub(crate) fn move_forced_note(plan: &MovePlan) {
    if let Some(t) = &plan.target {
        note(format_args!(
            "warning: --force: moving onto {} {}, which is down",
            t.service.row.binary(),
            t.service.row.host()
        ));
    }
}

pub(crate) fn move_dry_run_note(plan: &MovePlan) {
    let n = plan.moves.len();
    note(format_args!(
        "dry run: would move {n} row{} from {} to {}; nothing was changed",
        plural(n),
        plan.from,
        plan.to
    ));
}

pub(crate) fn move_done_note(plan: &MovePlan, outcome: &Moved, audit: Option<&Path>) {
    let n = outcome.moved.len();
    note(format_args!(
        "moved {n} row{} from {} to {} in transaction {}{}",
        plural(n),
        plan.from,
        plan.to,
        outcome.txn,
        audit.map_or(String::new(), |p| format!(
            "; audit record in {}; undo with --undo {} --audit-log {}",
            p.display(),
            outcome.txn,
            p.display()
        ))
    ));
}

/// The one-line error when rows on FROM changed after the plan, so the whole move was rolled
/// back.
pub(crate) fn move_leftovers(plan: &MovePlan, outcome: &Moved) -> String {
    let mut left: Vec<String> = outcome
        .not_moved
        .iter()
        .map(|(m, why)| format!("{} {} ({why})", m.table, m.id))
        .collect();
    left.extend(
        outcome
            .appeared
            .iter()
            .map(|(t, r)| format!("{t} {} (appeared after the plan)", r.id)),
    );
    format!(
        "{} row{} on {} changed between plan and write: {}; nothing was changed: the whole move \
         was rolled back; run the command again for a new plan",
        left.len(),
        plural(left.len()),
        plan.from,
        left.join(", ")
    )
}

/// The one-line error when a planned service was deleted between plan and write, so the
/// whole disable or enable was rolled back.
pub(crate) fn toggle_refusal(outcome: &Toggled, disable: bool) -> String {
    let n = outcome.already_gone.len();
    format!(
        "{n} planned service{} deleted between plan and write (id {}); nothing was {}: the \
         whole write was rolled back; run the command again for a new plan",
        plural(n),
        crate::write::id_list(&outcome.already_gone),
        if disable { "disabled" } else { "enabled" }
    )
}
