//! The shared flow of every writing command: refuse (exit 3) unless `--force`, confirm (prompt,
//! `--yes`, or exit 2 with no terminal), honour `--dry-run`, write through the `write` runner,
//! and report (exit 3 if a service changed meanwhile). It decides and sequences; `output`
//! renders.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

use anyhow::Result;

use crate::audit::{Actor, AuditLog};
use crate::db::Db;
use crate::error::Failure;
use crate::output::report::{self, ResultDoc};
use crate::output::{self, messages};
use crate::plan::{Item, Plan};
use crate::processes::ProcessReport;
use crate::seams::{self, Seam};
use crate::write::{
    self,
    soft_delete::{Outcome, SoftDelete},
};

/// The flags every deleting command shares.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct DeleteFlags {
    /// Show the plan and change nothing; exits with the code the real run would have
    #[arg(long)]
    pub dry_run: bool,
    /// Do not ask for confirmation (needed when there is no terminal)
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Delete even services that are up or still in use, and say what was overridden
    #[arg(long)]
    pub force: bool,
    /// Exit 0 instead of 4 when nothing matches, so scripts can re-run
    #[arg(long)]
    pub missing_ok: bool,
    /// Append one JSON line per deleted service here [default: /var/log/svcctl/audit.jsonl when writable]
    #[arg(long, value_name = "PATH", value_parser = crate::limits::audit_log)]
    pub audit_log: Option<PathBuf>,
    /// Output format
    #[arg(short = 'f', long = "format", value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
}

/// A plan and its result are a document with verdicts, not rows: table or JSON only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ReportFormat {
    /// The plan and the result as tables; notes on stderr
    Table,
    /// One JSON document: dry_run, deleted, refused, clusters_deleted (and processes)
    Json,
}

impl DeleteFlags {
    pub fn json(&self) -> bool {
        self.format == ReportFormat::Json
    }
}

/// Nothing matched: exit 4, or 0 with `--missing-ok` (saying so on stderr either way).
pub(crate) fn nothing_matched(
    flags: &DeleteFlags,
    what: String,
    processes: Option<ProcessReport<'_>>,
) -> Result<()> {
    if flags.json() {
        output::print_json(&ResultDoc::unchanged(
            flags.dry_run,
            std::iter::empty(),
            processes,
        ))?;
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

/// Prints the plan (tables only; JSON prints one document at the end) and refuses, exit 3,
/// when a service must not go and `--force` was not given.
pub(crate) fn check(
    plan: &Plan,
    flags: &DeleteFlags,
    processes: Option<ProcessReport<'_>>,
) -> Result<()> {
    if !flags.json() {
        output::print(&report::plan_table(plan, flags.force))?;
    }
    if plan.has_refusals() && !flags.force {
        if flags.json() {
            output::print_json(&ResultDoc::unchanged(
                flags.dry_run,
                plan.refused(),
                processes,
            ))?;
        }
        messages::items("refusing", plan.refused());
        let n = plan.refused().count();
        return Err(Failure::Refused(format!(
            "refused {n} service{}; nothing was changed{} (--force deletes anyway)",
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
pub(crate) async fn confirm(question: &str, flags: &DeleteFlags) -> Result<()> {
    ask(question, flags.yes, flags.dry_run).await
}

/// `confirm` for any writing command's flags: asks unless `yes` or `dry_run`.
pub(crate) async fn ask(question: &str, yes: bool, dry_run: bool) -> Result<()> {
    if yes || dry_run {
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

/// Writes the plan (unless `--dry-run`) and reports; exit 3 if a service changed meanwhile.
pub(crate) async fn write_and_report(
    db: &mut Db,
    plan: &Plan,
    flags: &DeleteFlags,
    processes: Option<ProcessReport<'_>>,
) -> Result<()> {
    if flags.dry_run {
        let would: Vec<&Item> = plan.to_write(flags.force).collect();
        if flags.json() {
            output::print_json(&ResultDoc::dry_run(&would, processes))?;
        }
        messages::dry_run(would.len());
        return Ok(());
    }
    let mut audit = AuditLog::open(flags.audit_log.as_deref())?;
    if let Some((path, err)) = &audit.unavailable {
        messages::audit_unavailable(path, err);
    }
    seams::pause(Seam::BeforeWrite).await;
    let actor = Actor::current(db.url.to_string());
    let change = SoftDelete::new(plan, flags.force, &db.schema, db.dialect, &actor);
    let outcome = if change.is_empty() {
        Outcome::default()
    } else {
        write::run(db, &change, &mut audit, &actor).await?
    };
    report(&outcome, flags, processes, &audit)
}

fn report(
    outcome: &Outcome,
    flags: &DeleteFlags,
    processes: Option<ProcessReport<'_>>,
    audit: &AuditLog,
) -> Result<()> {
    if flags.json() {
        output::print_json(&ResultDoc::done(outcome, processes))?;
    } else {
        output::print(&report::result_table(outcome))?;
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
    Ok(())
}
