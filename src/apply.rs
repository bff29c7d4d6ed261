//! The shared flow of every writing command: open the audit log before anything changes
//! (`--audit-log`, `--no-audit`), refuse (exit 3) unless `--force` (or, with `--skip-refused`,
//! go on without the refused), confirm (prompt, `--yes`, or exit 2 with no terminal), honour
//! `--dry-run`, write through the `write` runner, and report (exit 3 if a service changed
//! meanwhile). It decides and sequences; `output` renders.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

use anyhow::Result;
use serde::Serialize;

use crate::audit::{self, Actor, AuditLog};
use crate::db::Db;
use crate::error::Failure;
use crate::output::formatter::ReportFormat;
use crate::output::report::{self, ResultDoc};
use crate::output::{self, ReportArgs, messages};
use crate::plan::{Item, Plan};
use crate::processes::ProcessReport;
use crate::seams::{self, Seam};
use crate::write::{
    self, Written,
    soft_delete::{Outcome, SoftDelete},
};

/// The flags every writing command shares.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct WriteFlags {
    /// Show the plan and change nothing; exits with the code the real run would have
    #[arg(long)]
    pub dry_run: bool,
    /// Do not ask for confirmation (needed when there is no terminal)
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Exit 0 instead of 4 when nothing matches, so scripts can re-run
    #[arg(long)]
    pub missing_ok: bool,
    /// The audit log: one JSON line per changed row, written before the change commits; it must be writable [default: /var/log/svcctl/audit.jsonl]
    #[arg(long, value_name = "PATH", value_parser = crate::limits::audit_log)]
    pub audit_log: Option<PathBuf>,
    /// Change the database without an audit record (and so without service restore)
    #[arg(long, conflicts_with = "audit_log")]
    pub no_audit: bool,
    #[command(flatten)]
    pub output: ReportArgs,
}

impl WriteFlags {
    /// One JSON or YAML document at the end instead of tables on the way.
    pub fn document(&self) -> bool {
        self.output.document()
    }

    /// Prints a result document as `-f` asks.
    pub fn print(&self, doc: &impl Serialize) -> Result<()> {
        output::print_doc(
            doc,
            self.output.format == ReportFormat::Yaml,
            self.output.json.noindent,
        )
    }

    /// The width svcctl's own tables (plan, result, processes) must fit, if any (cliff's rule).
    pub fn fit_to(&self) -> Option<usize> {
        self.output.table.fit_to()
    }

    /// The audit log's path: `--audit-log`, else the default.
    pub fn audit_path(&self) -> PathBuf {
        self.audit_log
            .clone()
            .unwrap_or_else(|| PathBuf::from(audit::DEFAULT_AUDIT_LOG))
    }

    /// Opens the audit log, before anything changes: a log that cannot be appended to stops
    /// the command (exit 1, naming the path and `--audit-log`). None is needed for a dry run;
    /// `--no-audit` goes without, saying so.
    pub fn open_audit(&self) -> Result<AuditLog> {
        if self.dry_run {
            return Ok(AuditLog::none());
        }
        if self.no_audit {
            messages::no_audit();
            return Ok(AuditLog::none());
        }
        let log = AuditLog::open(&self.audit_path())?;
        if !log.created.is_empty() {
            messages::audit_created(&log.created);
        }
        Ok(log)
    }
}

/// The flags every deleting command shares: those of every writing command, and the verdicts'.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct DeleteFlags {
    #[command(flatten)]
    pub write: WriteFlags,
    /// Delete even services that are up or still in use, and say what was overridden
    #[arg(long)]
    pub force: bool,
    /// Delete what passes every check and only list the refused (exit 0; 4 if none passed)
    #[arg(long, conflicts_with = "force")]
    pub skip_refused: bool,
}

impl std::ops::Deref for DeleteFlags {
    type Target = WriteFlags;

    fn deref(&self) -> &WriteFlags {
        &self.write
    }
}

/// Nothing matched: exit 4, or 0 with `--missing-ok` (saying so on stderr either way), after
/// the command's JSON document `doc`.
pub(crate) fn nothing(flags: &WriteFlags, what: String, doc: &impl Serialize) -> Result<()> {
    if flags.document() {
        flags.print(doc)?;
    }
    missing(flags.missing_ok, what)
}

/// Nothing matched `what`: exit 4, or 0 with `missing_ok`; said on stderr either way.
pub(crate) fn missing(missing_ok: bool, what: String) -> Result<()> {
    if missing_ok {
        messages::nothing_to_do(&what);
        Ok(())
    } else {
        Err(Failure::NothingMatched(format!(
            "{what}; nothing to do (check the spelling; --missing-ok makes this exit 0)"
        ))
        .into())
    }
}

/// Nothing matched a deleting command.
pub(crate) fn nothing_matched(
    flags: &DeleteFlags,
    what: String,
    processes: Option<ProcessReport<'_>>,
) -> Result<()> {
    nothing(
        flags,
        what,
        &ResultDoc::unchanged(flags.dry_run, std::iter::empty(), processes),
    )
}

/// Prints the plan (tables only; JSON prints one document at the end) and refuses, exit 3,
/// when a service must not go and `--force` was not given.
pub(crate) fn check(
    plan: &Plan,
    flags: &DeleteFlags,
    processes: Option<ProcessReport<'_>>,
) -> Result<()> {
    if !flags.document() {
        output::print(&report::plan_table(plan, flags.force, flags.fit_to()))?;
    }
    if plan.has_refusals() && flags.skip_refused {
        messages::items("refused", plan.refused());
        if plan.to_write(false).next().is_none() {
            if flags.document() {
                flags.print(&ResultDoc::unchanged(
                    flags.dry_run,
                    plan.refused(),
                    processes,
                ))?;
            }
            let n = plan.refused().count();
            return Err(Failure::NothingMatched(format!(
                "all {n} service{} refused (listed above); nothing was changed",
                if n == 1 { "" } else { "s" }
            ))
            .into());
        }
        return Ok(());
    }
    if plan.has_refusals() && !flags.force {
        if flags.document() {
            flags.print(&ResultDoc::unchanged(
                flags.dry_run,
                plan.refused(),
                processes,
            ))?;
        }
        messages::items("refusing", plan.refused());
        let n = plan.refused().count();
        return Err(Failure::Refused(format!(
            "refused {n} service{}; nothing was changed{} (--force deletes anyway; \
             --skip-refused deletes the others)",
            if n == 1 { "" } else { "s" },
            if flags.dry_run { " (dry run)" } else { "" }
        ))
        .into());
    }
    if flags.force {
        messages::items("WARNING: --force: deleting", plan.refused());
    }
    Ok(())
}

/// Asks `question` at a terminal unless `--yes`; with no terminal and no `--yes`, exit 2.
pub(crate) async fn confirm(question: &str, flags: &WriteFlags) -> Result<()> {
    if flags.yes || flags.dry_run {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(Failure::Usage(format!(
            "no terminal to confirm at; nothing was changed; add --yes to {}, or --dry-run to \
             see the plan",
            question.trim_end_matches('?').to_lowercase()
        ))
        .into());
    }
    messages::prompt(question)?;
    // Read on a blocking thread: the runtime's own thread must stay free to see Ctrl-C, which
    // tokio has taken over, or svcctl would sit at the prompt until Enter.
    let answer = tokio::task::spawn_blocking(|| {
        let mut answer = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut answer)
            .map(|_| answer)
    })
    .await??;
    if matches!(answer.trim().to_lowercase().as_str(), "y" | "yes") {
        Ok(())
    } else {
        Err(Failure::Refused("not confirmed; nothing was changed".into()).into())
    }
}

/// Writes the plan (unless `--dry-run`), recording it in `audit` (opened by the command before
/// anything changed), and reports; exit 3 if a service changed meanwhile.
pub(crate) async fn write_and_report(
    db: &mut Db,
    plan: &Plan,
    flags: &DeleteFlags,
    processes: Option<ProcessReport<'_>>,
    audit: &mut AuditLog,
) -> Result<()> {
    if flags.dry_run {
        let would: Vec<&Item> = plan.to_write(flags.force).collect();
        if flags.document() {
            flags.print(&ResultDoc::dry_run(&would, processes))?;
        }
        messages::dry_run(would.len());
        return Ok(());
    }
    seams::pause(Seam::BeforeWrite).await;
    let actor = Actor::current(audit::database_name(&db.url));
    let change = SoftDelete::new(plan, flags.force, &db.schema, db.dialect);
    let written = if change.is_empty() {
        Written::Committed(Outcome::default())
    } else {
        write::run(db, &change, audit, &actor).await?
    };
    match written {
        Written::Committed(outcome) => report(&outcome, plan, flags, processes, audit),
        Written::RolledBack(outcome) => refused_at_write(outcome, flags, processes),
    }
}

/// All or nothing: a planned service changed between plan and write, so the whole write was
/// rolled back. Reports the changed ones; exit 3.
fn refused_at_write(
    mut outcome: Outcome,
    flags: &DeleteFlags,
    processes: Option<ProcessReport<'_>>,
) -> Result<()> {
    outcome.deleted.clear();
    outcome.clusters_deleted.clear();
    if flags.document() {
        flags.print(&ResultDoc::done(&outcome, std::iter::empty(), processes))?;
    } else {
        output::print(&report::result_table(&outcome, flags.fit_to()))?;
    }
    messages::items("not deleted", outcome.not_deleted.iter());
    let n = outcome.not_deleted.len();
    let ids: Vec<String> = outcome
        .not_deleted
        .iter()
        .map(|i| i.row().id.to_string())
        .collect();
    Err(Failure::Refused(format!(
        "{n} planned service{} changed between plan and write (id {}); nothing was changed: \
         the whole write was rolled back; run the command again for a new plan",
        if n == 1 { "" } else { "s" },
        ids.join(", ")
    ))
    .into())
}

fn report(
    outcome: &Outcome,
    plan: &Plan,
    flags: &DeleteFlags,
    processes: Option<ProcessReport<'_>>,
    audit: &AuditLog,
) -> Result<()> {
    // With --skip-refused the plan's refusals are part of the result.
    let skipped: Vec<&Item> = if flags.skip_refused {
        plan.refused().collect()
    } else {
        Vec::new()
    };
    if flags.document() {
        flags.print(&ResultDoc::done(
            outcome,
            skipped.iter().copied(),
            processes,
        ))?;
    } else {
        output::print(&report::result_table(outcome, flags.fit_to()))?;
    }
    messages::deleted(outcome, audit.path());
    if !outcome.not_deleted.is_empty() {
        messages::items("not deleted", outcome.not_deleted.iter());
        let n = outcome.not_deleted.len();
        return Err(Failure::Refused(format!(
            "{n} service{} changed between plan and write and {} kept",
            if n == 1 { "" } else { "s" },
            if n == 1 { "was" } else { "were" }
        ))
        .into());
    }
    if flags.skip_refused || plan.sweep.is_some() {
        messages::sweep_summary(
            outcome.deleted.len(),
            skipped.len(),
            plan.sweep.as_deref().unwrap_or("skip-refused"),
        );
    }
    Ok(())
}
