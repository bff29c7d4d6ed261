//! Carrying out a plan, the same way for `service delete` and `backend cleanup`: refuse
//! (exit 3) unless `--force`, confirm (prompt, `--yes`, or exit 2 with no terminal), honour
//! `--dry-run`, write through `delete::soft_delete`, and report (table or JSON, exit code).

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use anyhow::Result;
use serde_json::{Value, json};

use crate::audit::{Actor, AuditLog};
use crate::db::Db;
use crate::delete::{self, Outcome};
use crate::error::Failure;
use crate::output;
use crate::plan::{self, Plan};

/// The flags every deleting command shares.
#[derive(Debug, Clone, clap::Args)]
pub struct DeleteFlags {
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
pub enum ReportFormat {
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

/// The JSON result document every deleting command prints: the same keys on every path.
fn result_doc(
    dry_run: bool,
    deleted: Vec<Value>,
    refused: Vec<Value>,
    clusters: Value,
    extra: &[(&str, Value)],
) -> Value {
    let mut doc = json!({
        "dry_run": dry_run,
        "deleted": deleted,
        "refused": refused,
        "clusters_deleted": clusters,
    });
    for (k, v) in extra {
        doc[*k] = v.clone();
    }
    doc
}

/// `svcctl: <what> <binary> <host> (id N): <reasons>` for each item, on stderr.
fn tell<'a>(what: &str, items: impl Iterator<Item = &'a crate::plan::Item>) {
    for item in items {
        eprintln!(
            "svcctl: {what} {} {} (id {}): {}",
            item.row().binary(),
            item.row().host(),
            item.row().id,
            item.reason_texts().join("; ")
        );
    }
}

/// Nothing matched: exit 4, or 0 with `--missing-ok` (saying so on stderr either way).
pub fn nothing_matched(flags: &DeleteFlags, what: String, extra: Vec<(&str, Value)>) -> Result<()> {
    if flags.json() {
        output::print_json(&result_doc(
            flags.dry_run,
            vec![],
            vec![],
            json!([]),
            &extra,
        ))?;
    }
    if flags.missing_ok {
        eprintln!("svcctl: {what}; nothing to do (--missing-ok)");
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
pub fn check(plan: &Plan, flags: &DeleteFlags, extra: &[(&str, Value)]) -> Result<()> {
    if !flags.json() {
        output::print(&plan.table(flags.force))?;
    }
    if plan.has_refusals() && !flags.force {
        if flags.json() {
            let refused = plan.refused().map(plan::refused_json).collect();
            output::print_json(&result_doc(
                flags.dry_run,
                vec![],
                refused,
                json!([]),
                extra,
            ))?;
        }
        tell("refusing", plan.refused());
        let n = plan.refused().count();
        return Err(Failure::Refused(format!(
            "refused {n} service{}; nothing was changed{} (--force deletes anyway)",
            if n == 1 { "" } else { "s" },
            if flags.dry_run { " (dry run)" } else { "" }
        ))
        .into());
    }
    if flags.force {
        tell("WARNING: --force: deleting", plan.refused());
    }
    Ok(())
}

/// Asks `question` at a terminal unless `--yes`; with no terminal and no `--yes`, exit 2.
pub async fn confirm(question: &str, flags: &DeleteFlags) -> Result<()> {
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
    let mut err = crate::term::stderr();
    write!(err, "{question} [y/N] ")?;
    err.flush()?;
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
pub async fn write_and_report(
    db: &mut Db,
    plan: &Plan,
    flags: &DeleteFlags,
    extra: Vec<(&str, Value)>,
) -> Result<()> {
    if flags.dry_run {
        let would: Vec<Value> = plan
            .items
            .iter()
            .filter(|i| flags.force || i.reasons.is_empty())
            .map(|i| plan::service_json(&i.view, &[("overridden", json!(i.reason_texts()))]))
            .collect();
        if flags.json() {
            output::print_json(&result_doc(true, would.clone(), vec![], json!([]), &extra))?;
        }
        eprintln!(
            "svcctl: dry run: would delete {} service{}; nothing was changed",
            would.len(),
            if would.len() == 1 { "" } else { "s" }
        );
        return Ok(());
    }
    let audit = AuditLog::open(flags.audit_log.as_deref())?;
    delete::pause_for_tests("SVCCTL_TEST_PAUSE_FILE").await;
    let actor = Actor::current(db.url.to_string());
    let (outcome, audit) = delete::soft_delete(db, plan, flags.force, audit, &actor).await?;
    report(
        &outcome,
        flags,
        extra,
        audit.path().map(|p| p.display().to_string()),
    )
}

fn report(
    outcome: &Outcome,
    flags: &DeleteFlags,
    extra: Vec<(&str, Value)>,
    audit_path: Option<String>,
) -> Result<()> {
    if flags.json() {
        let mut doc = result_doc(
            false,
            outcome
                .deleted
                .iter()
                .map(|d| plan::service_json(&d.view, &[("overridden", json!(d.overridden))]))
                .collect(),
            outcome.not_deleted.iter().map(plan::refused_json).collect(),
            json!(outcome.clusters_deleted),
            &extra,
        );
        doc["already_deleted"] = json!(outcome.already_gone);
        output::print_json(&doc)?;
    } else {
        let mut rows: Vec<Vec<String>> = outcome
            .deleted
            .iter()
            .map(|d| {
                let r = &d.view.row;
                vec![
                    r.id.to_string(),
                    r.binary().to_string(),
                    r.host().to_string(),
                    if d.overridden.is_empty() {
                        "deleted".into()
                    } else {
                        "deleted (forced)".into()
                    },
                ]
            })
            .collect();
        rows.extend(outcome.not_deleted.iter().map(|i| {
            vec![
                i.row().id.to_string(),
                i.row().binary().to_string(),
                i.row().host().to_string(),
                format!(
                    "not deleted: {}",
                    i.reasons
                        .iter()
                        .map(|r| r.short())
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
            ]
        }));
        output::print(&output::report_table(
            &["ID", "Binary", "Host", "Result"],
            &rows,
        ))?;
    }
    let n = outcome.deleted.len();
    eprintln!(
        "svcctl: soft-deleted {n} service{}{}{}",
        if n == 1 { "" } else { "s" },
        match outcome.clusters_deleted.len() {
            0 => String::new(),
            c => format!(
                " and {c} emptied cluster{} ({})",
                if c == 1 { "" } else { "s" },
                outcome
                    .clusters_deleted
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
        audit_path.map_or(String::new(), |p| format!("; audit record in {p}"))
    );
    if !outcome.already_gone.is_empty() {
        eprintln!(
            "svcctl: {} service{} had already been deleted by someone else: ids {:?}",
            outcome.already_gone.len(),
            if outcome.already_gone.len() == 1 {
                ""
            } else {
                "s"
            },
            outcome.already_gone
        );
    }
    if !outcome.not_deleted.is_empty() {
        tell("not deleted", outcome.not_deleted.iter());
        return Err(Failure::Refused(format!(
            "{} service{} changed between plan and write and {} kept",
            outcome.not_deleted.len(),
            if outcome.not_deleted.len() == 1 {
                ""
            } else {
                "s"
            },
            if outcome.not_deleted.len() == 1 {
                "was"
            } else {
                "were"
            }
        ))
        .into());
    }
    Ok(())
}
