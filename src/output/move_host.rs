//! `volume move-host` / `backup move-host` (and `--undo`)'s rendering: the words for busy rows
//! and rows that changed, the plan and result tables, the JSON document (the same keys on
//! every path), and the notes.

use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::Serialize;

use super::columns::{ServiceJson, plan_time};
use super::delete::report_table;
use super::document;
use super::formatter::ReportArgs;
use super::report::{self, Render, Verb, audit_note, plural};
use super::table::{Give, PIPED_WIDTH, note_line};
use crate::apply::{End, Flags};
use crate::audit::Placement;
use crate::db::Db;
use crate::plan::move_host::{
    self as plan, Blocked, Busy, Flagged, Move, OffRecord, Plan, Request,
};
use crate::text::quote;
use crate::write::move_host::{Moved, NotMoved};

fn busy(b: &Busy) -> String {
    match b {
        Busy::Status(s) => format!("status {s}"),
        Busy::Migration(m) => format!("migration_status {m}"),
    }
}

/// Why an undo refuses a row: it is not what its record says.
fn off_record(what: &OffRecord) -> String {
    match what {
        OffRecord::Moved {
            column,
            recorded,
            actual,
        } => format!(
            "not as its record says: {column} is {}, the record of the move says {}",
            actual.as_deref().unwrap_or("NULL"),
            recorded.as_deref().unwrap_or("NULL")
        ),
        OffRecord::Unstorable { column, why } => {
            format!("its record would put back a {column} svcctl never stores: {why}")
        }
    }
}

fn not_moved(why: &NotMoved) -> String {
    match why {
        NotMoved::Gone => "deleted since the plan".into(),
        NotMoved::HostChanged(now) => format!("its host changed since the plan (now {now})"),
        NotMoved::Busy(b) => format!("{} since the plan", busy(b)),
        NotMoved::PlacementChanged => "its service uuid or cluster changed since the plan".into(),
        NotMoved::TargetGone => "the target service went down or away since the plan".into(),
    }
}

fn cell(v: Option<&str>) -> String {
    v.unwrap_or("-").to_string()
}

/// `, disabled (by cluster c1@lvm: "why")`, or nothing when not flagged.
fn flagged(what: &str, f: Option<&Flagged>) -> String {
    let (by, reason) = match f {
        None => return String::new(),
        Some(Flagged::Service { reason }) => (String::new(), reason),
        Some(Flagged::Cluster { name, reason }) => (format!(" by its cluster {name}"), reason),
    };
    let why = reason
        .as_deref()
        .map_or(String::new(), |r| format!(": {}", quote(r)));
    format!("{what}{by}{why}")
}

/// What to do about rows busy on a node whose service is down: they will never settle, so
/// each is reset by hand (cinderclient's `reset-state`), after checking it on the storage.
fn reset_hint(b: &Blocked) -> String {
    let id = &b.row.id;
    match (b.table, &b.why) {
        ("volumes", Busy::Migration(_)) => {
            format!("cinder reset-state --reset-migration-status {id}")
        }
        ("volumes", _) => format!("cinder reset-state --state STATE {id}"),
        ("backups", _) => format!("cinder backup-reset-state --state STATE {id}"),
        ("groups", _) => format!(
            "cinder --os-volume-api-version 3.20 reset-state --type group --state STATE {id}"
        ),
        (t, _) => format!("set {t} {id}'s status by hand"),
    }
}

/// How a host move's rows are placed in its tables. A volume move's rows all go from FROM to
/// TO (the lines above the table name both, the target's uuid and cluster too): what differs
/// row by row is the pool, so the table shows pools and stays within 80 columns for the
/// seed's 33-character pool hosts. An undo (each row back to its own record) and a backup move
/// (no pools) show the hosts.
fn placed_by_pool(plan: &Plan) -> bool {
    plan.kind.pools() && plan.undo_of.is_none()
}

/// The two placement headers of a move's tables.
fn placement_headers(by_pool: bool) -> [(&'static str, Give); 2] {
    if by_pool {
        [("Pool", Give::Cut), ("New Pool", Give::Cut)]
    } else {
        [("Host", Give::Cut), ("New Host", Give::Cut)]
    }
}

/// A placement cell: the host, or (by pool) its pool; `-` for none.
fn placed(host: Option<&str>, by_pool: bool) -> String {
    match host {
        Some(h) if by_pool => cell(plan::pool(h)),
        h => cell(h),
    }
}

/// A row that moves (or moved): table, id, from, to, and `verdict`.
fn move_row(m: &Move, by_pool: bool, verdict: &str) -> Vec<String> {
    vec![
        m.table.to_string(),
        m.id.clone(),
        placed(m.old.host.as_deref(), by_pool),
        placed(m.new.host.as_deref(), by_pool),
        verdict.into(),
    ]
}

/// The plan of a host move: each row on FROM, where it goes, or why it stays.
fn plan_table(plan: &Plan, fit_to: Option<usize>) -> String {
    let by_pool = placed_by_pool(plan);
    let mut rows: Vec<Vec<String>> = plan
        .moves
        .iter()
        .map(|m| move_row(m, by_pool, "move"))
        .collect();
    rows.extend(plan.blocked.iter().map(|b| {
        vec![
            b.table.to_string(),
            b.row.id.clone(),
            placed(Some(b.row.host()), by_pool),
            "-".into(),
            format!("refuse: {}", busy(&b.why)),
        ]
    }));
    rows.extend(plan.on_record.mismatched.iter().map(|m| {
        vec![
            m.table.to_string(),
            m.id.clone(),
            "-".into(),
            "-".into(),
            format!("refuse: {}", off_record(&m.what)),
        ]
    }));
    let width = fit_to.unwrap_or(PIPED_WIDTH);
    let mut out = String::new();
    if let Some(t) = &plan.target {
        let r = &t.service.row;
        out.push_str(&note_line(
            &format!(
                "Target: {} {} (id {}, uuid {}, zone {}{}, {}, {}{}{})",
                r.binary(),
                r.host(),
                r.id,
                cell(r.uuid.as_deref()),
                cell(r.availability_zone.as_deref()),
                r.cluster_name
                    .as_deref()
                    .map_or(String::new(), |c| format!(", cluster {c}")),
                t.service.state(),
                t.service.status(),
                flagged(", disabled", t.disabled.as_ref()),
                flagged(", frozen", t.frozen.as_ref()),
            ),
            width,
        ));
    }
    if let Some(txn) = &plan.undo_of {
        out.push_str(&format!("Undo of transaction {txn}\n"));
    } else if !plan.kind.pools() {
        out.push_str(&note_line(
            &format!("From: {}; to: {}", plan.from, plan.to),
            width,
        ));
    } else {
        out.push_str(&note_line(
            &format!(
                "From: {}{}; to: {}{}",
                plan.from,
                match plan::pool(&plan.from) {
                    Some(p) => format!(" (pool {p} only)"),
                    None => " (and each of its pools)".into(),
                },
                plan.to,
                match plan::pool(&plan.to) {
                    Some(p) => format!(" (every row gets pool {p})"),
                    None => " (each row keeps its pool)".into(),
                },
            ),
            width,
        ));
    }
    let [old, new] = placement_headers(by_pool);
    out.push_str(&report_table(
        &[
            ("Table", Give::Keep),
            ("ID", Give::Cut),
            old,
            new,
            ("Action", Give::Wrap),
        ],
        &rows,
        fit_to,
    ));
    out
}

/// What a host move did.
fn result_table(plan: &Plan, outcome: &Moved, fit_to: Option<usize>) -> String {
    let by_pool = placed_by_pool(plan);
    let rolled_back = !outcome.not_moved.is_empty() || !outcome.appeared.is_empty();
    let mut rows: Vec<Vec<String>> = outcome
        .moved
        .iter()
        .filter(|_| !rolled_back)
        .map(|m| move_row(m, by_pool, "moved"))
        .collect();
    rows.extend(outcome.not_moved.iter().map(|(m, why)| {
        vec![
            m.table.to_string(),
            m.id.clone(),
            placed(m.old.host.as_deref(), by_pool),
            "-".into(),
            format!("not moved: {}", not_moved(why)),
        ]
    }));
    rows.extend(outcome.appeared.iter().map(|(t, r)| {
        vec![
            t.to_string(),
            r.id.clone(),
            placed(Some(r.host()), by_pool),
            "-".into(),
            "not moved: appeared after the plan".into(),
        ]
    }));
    let [old, new] = placement_headers(by_pool);
    report_table(
        &[
            ("Table", Give::Keep),
            ("ID", Give::Cut),
            old,
            new,
            ("Result", Give::Wrap),
        ],
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

/// A row not moved, and why: `reasons` as every refused row of every document has them (a
/// kept row has one).
#[derive(Serialize)]
struct KeptEntry<'a> {
    table: &'a str,
    id: &'a str,
    host: Option<&'a str>,
    status: Option<&'a str>,
    reasons: [KeptReason; 1],
}

/// Why a row stays, for a script to branch on (`kind`) and a person to read (`text`).
#[derive(Serialize)]
struct KeptReason {
    /// `busy` (the plan refused it), `changed` (changed after the plan), `appeared` (on FROM
    /// after the plan).
    kind: &'static str,
    text: String,
}

fn kept(kind: &'static str, text: String) -> [KeptReason; 1] {
    [KeptReason { kind, text }]
}

/// The JSON document of `volume`/`backup move-host` (and `--undo`), with the same keys on every
/// path, by the one rule (`output::document`): `would_move` in a dry run, `moved` after the
/// write (the other `[]`); `refused` (the plan said no), `not_moved` (changed after the plan,
/// or appeared on FROM).
#[derive(Serialize)]
struct MoveDoc<'a> {
    dry_run: bool,
    /// The transaction to pass to `--undo` (null until something was written).
    txn: Option<&'a str>,
    undo_of: Option<&'a str>,
    from: &'a str,
    to: &'a str,
    target: Option<ServiceJson<'a>>,
    would_move: Vec<MovedEntry<'a>>,
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
            would_move: Vec::new(),
            moved: Vec::new(),
            refused: Vec::new(),
            not_moved: Vec::new(),
        }
    }

    /// Before any write: a refusal (nothing in `would_move`) or a dry run (`would_move` what
    /// would move).
    fn planned(plan: &'a Plan, dry_run: bool) -> MoveDoc<'a> {
        let ok = plan.blocked.is_empty() && plan.on_record.mismatched.is_empty() && dry_run;
        let off_record = plan.on_record.mismatched.iter().map(|m| KeptEntry {
            table: m.table,
            id: &m.id,
            host: None,
            status: None,
            reasons: kept("off_record", off_record(&m.what)),
        });
        MoveDoc {
            dry_run,
            txn: None,
            undo_of: plan.undo_of.as_deref(),
            from: &plan.from,
            to: &plan.to,
            target: plan.target.as_ref().map(|t| document::service(&t.service)),
            would_move: if ok {
                plan.moves.iter().map(moved_entry).collect()
            } else {
                Vec::new()
            },
            moved: Vec::new(),
            refused: plan
                .blocked
                .iter()
                .map(|b| KeptEntry {
                    table: b.table,
                    id: &b.row.id,
                    host: b.row.host.as_deref(),
                    status: b.row.status.as_deref(),
                    reasons: kept("busy", busy(&b.why)),
                })
                .chain(off_record)
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
                reasons: kept("changed", not_moved(why)),
            })
            .collect();
        not_moved.extend(outcome.appeared.iter().map(|(t, r)| KeptEntry {
            table: t,
            id: &r.id,
            host: r.host.as_deref(),
            status: r.status.as_deref(),
            reasons: kept("appeared", "appeared on the host after the plan".into()),
        }));
        MoveDoc {
            dry_run: false,
            txn: Some(&outcome.txn),
            undo_of: plan.undo_of.as_deref(),
            from: &plan.from,
            to: &plan.to,
            target: plan.target.as_ref().map(|t| document::service(&t.service)),
            would_move: Vec::new(),
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
    // An undo acts on what the log holds: a log that does not exist is not created.
    let mut flags = flags.clone();
    flags.audit.must_exist = plan.undo_of.is_some();
    report::run(db, &plan, &report, style, &flags).await
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
        if self.plan.target_missing.is_some() && self.plan.undo_of.is_none() {
            // Nothing to show: the refusal says what is missing.
            return String::new();
        }
        plan_table(self.plan, self.style.table.fit_to())
    }

    fn notes(&self, flags: &Flags) -> Vec<String> {
        let plan = self.plan;
        let mut out = super::messages::skipped_lines(&plan.on_record.skipped);
        let Some(t) = plan.target.as_ref().filter(|_| flags.force) else {
            return out;
        };
        let name = format!("{} {}", t.service.row.binary(), t.service.row.host());
        if plan.target_down() {
            out.push(format!(
                "warning: --force: moving onto {name}, which is down"
            ));
        }
        if plan.target_closed() {
            out.push(format!(
                "warning: --force: moving onto {name}, which is{}{}",
                flagged(" disabled", t.disabled.as_ref()),
                flagged(" frozen", t.frozen.as_ref())
            ));
        }
        let other = plan.other_zone();
        if !other.is_empty() {
            out.push(format!(
                "warning: --force: {} volume{} change{} zone to {} (recorded for --undo)",
                other.len(),
                plural(other.len()),
                if other.len() == 1 { "s" } else { "" },
                cell(t.service.row.availability_zone.as_deref())
            ));
        }
        out
    }

    fn document<'a>(&'a self, end: &'a End<Moved>, flags: &Flags) -> impl Serialize + 'a {
        let plan = self.plan;
        match end {
            End::NothingMatched => match plan.undo_of {
                Some(_) => MoveDoc {
                    undo_of: plan.undo_of.as_deref(),
                    ..MoveDoc::empty(flags.dry_run, "", "")
                },
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
            .map(|o| result_table(self.plan, o, self.style.table.fit_to()))
    }

    fn typed_a_name(&self) -> bool {
        // A move undone already: the transaction was found; nothing is left of it.
        self.plan.on_record.back == 0
    }

    fn nothing(&self) -> String {
        let back = self.plan.on_record.back;
        if let (Some(txn), true) = (&self.plan.undo_of, back > 0) {
            return format!(
                "move {txn} is undone already: {}; nothing left to undo",
                if back == 1 {
                    "its row is back where it was before it".to_string()
                } else {
                    format!("its {back} rows are back where they were before it")
                }
            );
        }
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
        let undo = plan.undo_of.is_some();
        let mut why = Vec::new();
        if let Some(host) = &plan.target_missing {
            let binary = plan.kind.binary();
            why.push(if undo {
                format!(
                    "no live {binary} service on host {host}, where they were: the rows would \
                     sit on a host nothing serves; move them with --from and --to instead"
                )
            } else {
                format!(
                    "no live {binary} service on host {host}; the target must be one (see \
                     svcctl service list --binary {binary})"
                )
            });
        }
        if !plan.uuids_gone.is_empty() {
            why.push(format!(
                "service uuid {} names no live service: the rows would point at a deleted \
                 service (cinder-manage db purge then fails on volumes.service_uuid); move \
                 them with --from and --to instead",
                plan.uuids_gone.join(", ")
            ));
        }
        // What --force overrides, unless given.
        if let Some(t) = plan.target.as_ref().filter(|_| !flags.force) {
            let name = format!(
                "the target {} {}",
                t.service.row.binary(),
                t.service.row.host()
            );
            if plan.target_down() {
                why.push(format!(
                    "{name} is down (last heartbeat {}); start it, or pass --force",
                    t.service.row.heartbeat().map_or("never".into(), plan_time)
                ));
            }
            if plan.target_closed() {
                why.push(format!(
                    "{name} is{}{}: Cinder places nothing there (cinder/volume/api.py \
                     migrate_volume needs it enabled); enable it, or pass --force",
                    flagged(" disabled", t.disabled.as_ref()),
                    flagged(" frozen", t.frozen.as_ref())
                ));
            }
            let other = plan.other_zone();
            if !other.is_empty() {
                why.push(format!(
                    "{name} is in zone {}, and {} volume{} in another ({}): Cinder's scheduler \
                     does not migrate across zones; --force moves them and sets their \
                     availability_zone, as Cinder's migration does (recorded for --undo)",
                    cell(t.service.row.availability_zone.as_deref()),
                    other.len(),
                    if other.len() == 1 { " is" } else { "s are" },
                    other
                        .iter()
                        .map(|m| format!(
                            "{} in {}",
                            m.id,
                            cell(m.old.availability_zone.as_deref())
                        ))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
        if !plan.on_record.mismatched.is_empty() {
            why.push(format!(
                "not as the record of transaction {} says, so the record cannot drive this \
                 write: {}",
                plan.undo_of.as_deref().unwrap_or(""),
                plan.on_record
                    .mismatched
                    .iter()
                    .map(|m| format!("{} {} ({})", m.table, m.id, off_record(&m.what)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if !plan.blocked.is_empty() {
            let rows = plan
                .blocked
                .iter()
                .map(|b| format!("{} {} ({})", b.table, b.row.id, busy(&b.why)))
                .collect::<Vec<_>>()
                .join(", ");
            why.push(if plan.source_down {
                format!(
                    "busy: {rows}; their host's service is down, so they will not settle: \
                     check each on the storage, reset it ({}), then run this again",
                    plan.blocked
                        .iter()
                        .map(reset_hint)
                        .collect::<Vec<_>>()
                        .join("; ")
                )
            } else {
                format!("busy, wait for them to settle: {rows}")
            });
        }
        (
            Vec::new(),
            format!(
                "refused to {} {}s {} {}: {}; nothing was changed{}",
                if undo { "move back" } else { "move" },
                self.noun(),
                if undo { "to" } else { "off" },
                if undo { &plan.to } else { &plan.from },
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
