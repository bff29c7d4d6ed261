//! `volume move-host` / `backup move-host` (and `--undo`)'s rendering: the words for busy rows
//! and rows that changed, the plan and result tables, the JSON document (the same keys on
//! every path), and the notes.

use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::Serialize;

use super::columns::{ServiceJson, format_time, json_columns};
use super::delete::report_table;
use super::formatter::ReportArgs;
use super::report::{self, Render, Verb, audit_note, plural};
use crate::apply::{End, Flags};
use crate::audit::Placement;
use crate::db::Db;
use crate::model::Service;
use crate::plan::move_host::{self as plan, Busy, Move, Plan, Request};
use crate::write::move_host::{Moved, NotMoved};

fn busy(b: &Busy) -> String {
    match b {
        Busy::Status(s) => format!("status {s}"),
        Busy::Migration(m) => format!("migration_status {m}"),
    }
}

fn not_moved(why: &NotMoved) -> String {
    match why {
        NotMoved::Gone => "deleted since the plan".into(),
        NotMoved::HostChanged(now) => format!("its host changed since the plan (now {now})"),
        NotMoved::Busy(b) => format!("{} since the plan", busy(b)),
        NotMoved::TargetGone => "the target service went down or away since the plan".into(),
    }
}

fn as_json(s: &Service) -> ServiceJson<'_> {
    ServiceJson {
        service: s,
        cols: json_columns(false),
    }
}

fn cell(v: Option<&str>) -> String {
    v.unwrap_or("-").to_string()
}

/// The plan of a host move: each row on FROM, where it goes, or why it stays.
fn plan_table(plan: &Plan, fit_to: Option<usize>) -> String {
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
            format!("refuse: {}", busy(&b.why)),
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
fn result_table(outcome: &Moved, fit_to: Option<usize>) -> String {
    let rolled_back = !outcome.not_moved.is_empty() || !outcome.appeared.is_empty();
    let mut rows: Vec<Vec<String>> = outcome
        .moved
        .iter()
        .filter(|_| !rolled_back)
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
            format!("not moved: {}", not_moved(why)),
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
struct MoveDoc<'a> {
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
    fn empty(dry_run: bool, from: &'a str, to: &'a str) -> MoveDoc<'a> {
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
    fn planned(plan: &'a Plan, dry_run: bool) -> MoveDoc<'a> {
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
                    reason: kept("busy", busy(&b.why)),
                })
                .collect(),
            not_moved: Vec::new(),
        }
    }

    fn done(plan: &'a Plan, outcome: &'a Moved, rolled_back: bool) -> MoveDoc<'a> {
        let mut not_moved: Vec<KeptEntry> = outcome
            .not_moved
            .iter()
            .map(|(m, why)| KeptEntry {
                table: m.table,
                id: &m.id,
                host: m.old.host.as_deref(),
                status: m.status.as_deref(),
                reason: kept("changed", not_moved(why)),
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
            moved: if rolled_back {
                Vec::new()
            } else {
                outcome.moved.iter().map(moved_entry).collect()
            },
            refused: Vec::new(),
            not_moved,
        }
    }
}

/// Plans `request` and runs it through the flow, shown as a host move: what both move commands
/// do.
pub(crate) async fn run(
    db: &mut Db,
    request: &Request,
    flags: &Flags,
    style: &ReportArgs,
    service_down_time: i64,
) -> Result<()> {
    let log = flags.audit.path();
    let plan = plan::plan(db, request, &log, service_down_time).await?;
    let report = MoveReport {
        plan: &plan,
        style,
        log: Some(log),
    };
    report::run(db, &plan, &report, style, flags).await
}

/// How a host move (or its undo) is shown.
struct MoveReport<'a> {
    pub plan: &'a Plan,
    pub style: &'a ReportArgs,
    /// The audit log an undo read its transaction from.
    pub log: Option<PathBuf>,
}

impl MoveReport<'_> {
    fn noun(&self) -> &'static str {
        self.plan.kind.noun()
    }
}

impl Render for MoveReport<'_> {
    type Outcome = Moved;

    fn verb(&self) -> Verb {
        Verb {
            base: "move",
            past: "moved",
        }
    }

    fn what(&self, _flags: &Flags) -> String {
        let n = self.plan.moves.len();
        format!(
            "{n} row{} from {} to {}",
            plural(n),
            self.plan.from,
            self.plan.to
        )
    }

    fn plan(&self, _flags: &Flags) -> String {
        if self.plan.target_missing.is_some() {
            // Nothing to show: the refusal says what is missing.
            return String::new();
        }
        plan_table(self.plan, self.style.table.fit_to())
    }

    fn notes(&self, flags: &Flags) -> Vec<String> {
        match &self.plan.target {
            Some(t) if flags.force && !t.service.up => vec![format!(
                "warning: --force: moving onto {} {}, which is down",
                t.service.row.binary(),
                t.service.row.host()
            )],
            _ => Vec::new(),
        }
    }

    fn document<'a>(&'a self, end: &'a End<Moved>, flags: &Flags) -> impl Serialize + 'a {
        let plan = self.plan;
        match end {
            End::NothingMatched => match plan.undo_of {
                Some(_) => MoveDoc::empty(flags.dry_run, "", ""),
                None => MoveDoc::empty(flags.dry_run, &plan.from, &plan.to),
            },
            End::Refused if plan.target_missing.is_some() => {
                MoveDoc::empty(flags.dry_run, &plan.from, &plan.to)
            }
            End::Done(done) => match done.first() {
                Some(outcome) => MoveDoc::done(plan, outcome, false),
                None => MoveDoc::planned(plan, false),
            },
            End::RolledBack(outcome) => MoveDoc::done(plan, outcome, true),
            _ => MoveDoc::planned(plan, flags.dry_run),
        }
    }

    fn result(&self, done: &[Moved]) -> Option<String> {
        done.first()
            .map(|o| result_table(o, self.style.table.fit_to()))
    }

    fn nothing(&self) -> String {
        match (&self.plan.undo_of, &self.log) {
            (Some(txn), log) => format!(
                "no {} moves of transaction {txn} that committed, in {}",
                self.noun(),
                log.as_deref()
                    .unwrap_or(Path::new("the audit log"))
                    .display()
            ),
            (None, _) => format!("no live {}s on host {}", self.noun(), self.plan.from),
        }
    }

    fn refused(&self, flags: &Flags) -> (Vec<String>, String) {
        let plan = self.plan;
        if let Some(host) = &plan.target_missing {
            let binary = plan.kind.binary();
            return (
                Vec::new(),
                format!(
                    "no live {binary} service on host {host}; nothing was changed; the target \
                     must be one (see svcctl service list --binary {binary})"
                ),
            );
        }
        let mut why = Vec::new();
        if let Some(t) = plan
            .target
            .as_ref()
            .filter(|_| plan.target_down() && !flags.force)
        {
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
                    .map(|b| format!("{} {} ({})", b.table, b.row.id, busy(&b.why)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        (
            Vec::new(),
            format!(
                "refused to move {}s off {}: {}; nothing was changed{}",
                self.noun(),
                plan.from,
                why.join("; "),
                if flags.dry_run { " (dry run)" } else { "" }
            ),
        )
    }

    fn done(&self, done: &[Moved], audit: Option<&Path>, flags: &Flags) -> Vec<String> {
        let Some(outcome) = done.first() else {
            return Vec::new();
        };
        vec![format!(
            "moved {} in transaction {}{}",
            self.what(flags),
            outcome.txn,
            audit.map_or(String::new(), |p| format!(
                "{}; undo with --undo {} --audit-log {}",
                audit_note(Some(p)),
                outcome.txn,
                p.display()
            ))
        )]
    }

    fn rolled_back(&self, outcome: &Moved) -> (Vec<String>, String) {
        let mut left: Vec<String> = outcome
            .not_moved
            .iter()
            .map(|(m, why)| format!("{} {} ({})", m.table, m.id, not_moved(why)))
            .collect();
        left.extend(
            outcome
                .appeared
                .iter()
                .map(|(t, r)| format!("{t} {} (appeared after the plan)", r.id)),
        );
        (
            Vec::new(),
            format!(
                "{} row{} on {} changed between plan and write: {}; nothing was changed: the \
                 whole move was rolled back; run the command again for a new plan",
                left.len(),
                plural(left.len()),
                self.plan.from,
                left.join(", ")
            ),
        )
    }
}
