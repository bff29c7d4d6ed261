//! How every writing command is shown, written once: the plan before anything is asked, the
//! question at the prompt, and each way the flow can end (`apply::End`), with one rule for
//! all of them: `-f json|yaml` prints one document at the end instead of tables; notes,
//! refusals and warnings go to stderr; a refusal is exit 3, nothing matched exit 4 (0 with
//! `--missing-ok`). Each operation's module (`delete`, `restore`, `purge`, `toggle`,
//! `move_host`, `cluster`) supplies its own parts as a [`Render`].

use std::io::{BufRead, IsTerminal};
use std::path::Path;

use anyhow::Result;
use serde::Serialize;

use super::formatter::{ReportArgs, ReportFormat};
use super::messages;
use crate::apply::{self, Applied, End, Flags, Ui};
use crate::audit::AuditLog;
use crate::db::Db;
use crate::error::Failure;
pub(crate) use crate::text::plural;
use crate::write::Operation;

/// Runs a writing command's flow (`apply::run`) with `render` on the terminal, and shows how
/// it ended.
pub(crate) async fn run<Op: Operation, R: Render<Outcome = Op::Outcome>>(
    db: &mut Db,
    op: &Op,
    render: &R,
    style: &ReportArgs,
    flags: &Flags,
) -> Result<()> {
    let applied = apply::run(db, op, &Screen { render, style }, flags).await?;
    finish(render, style, flags, applied)
}

/// An operation's verb, as its messages say it: "remove", "removed".
#[derive(Debug, Clone, Copy)]
pub(crate) struct Verb {
    pub base: &'static str,
    pub past: &'static str,
}

/// One writing command's own rendering: its plan, document, result and words. The words have
/// defaults made of `verb` and `what`: `Remove cluster c1?`, `dry run: would remove cluster
/// c1; nothing was changed`, `removed cluster c1; audit record in PATH`.
pub(crate) trait Render {
    /// What one transaction did (the `write::Operation`'s outcome).
    type Outcome;

    fn verb(&self) -> Verb;

    /// What the write acts on, counted or named: `3 services`, `cluster c1`.
    fn what(&self, flags: &Flags) -> String;

    /// The plan as tables, printed before anything is asked (not with `-f json|yaml`).
    fn plan(&self, flags: &Flags) -> String;

    /// The one document `-f json|yaml` prints, for how the command ended.
    fn document<'a>(&'a self, end: &'a End<Self::Outcome>, flags: &Flags) -> impl Serialize + 'a;

    /// What the selection found nothing of: `no live service on host node09`.
    fn nothing(&self) -> String;

    /// Whether "nothing matched" is about a name the operator typed (a host, a backend, a
    /// cluster, a transaction), so that a misspelling is worth suggesting. Not for a sweep, a
    /// purge or a restore with nothing left to do: nothing to do is their normal quiet night.
    fn typed_a_name(&self) -> bool {
        true
    }

    /// All or nothing: the rows that changed since the plan (stderr lines) and the error.
    fn rolled_back(&self, outcome: &Self::Outcome) -> (Vec<String>, String);

    /// What the plan says on stderr besides its tables, before anything is asked (or with
    /// "nothing to do"): what `--force` overrides, what `--skip-refused` leaves, what a purge
    /// skips.
    fn notes(&self, _flags: &Flags) -> Vec<String> {
        Vec::new()
    }

    /// The question at the prompt: `Delete 3 services?`.
    fn question(&self, flags: &Flags) -> String {
        let verb = self.verb().base;
        let mut first = verb.chars();
        let capital: String = first
            .next()
            .into_iter()
            .flat_map(char::to_uppercase)
            .collect();
        format!("{capital}{} {}?", first.as_str(), self.what(flags))
    }

    /// `--dry-run`: the note.
    fn dry_run(&self, flags: &Flags) -> String {
        format!(
            "dry run: would {} {}; nothing was changed",
            self.verb().base,
            self.what(flags)
        )
    }

    /// After the write committed: the notes (what was done, where the record is).
    fn done(&self, _done: &[Self::Outcome], audit: Option<&Path>, flags: &Flags) -> Vec<String> {
        vec![format!(
            "{} {}{}",
            self.verb().past,
            self.what(flags),
            audit_note(audit)
        )]
    }

    /// The result as tables, after a write: committed (`done`) or rolled back.
    fn result(&self, _done: &[Self::Outcome]) -> Option<String> {
        None
    }

    /// The plan refused: one stderr line per refused row, and the error.
    fn refused(&self, _flags: &Flags) -> (Vec<String>, String) {
        (Vec::new(), String::new())
    }

    /// With `--skip-refused`, nothing passed: the error.
    fn all_refused(&self) -> String {
        String::new()
    }

    /// Everything is already as asked: the note.
    fn unchanged(&self) -> String {
        String::new()
    }
}

/// A `Render` on the terminal, as the flow's `Ui`.
pub(crate) struct Screen<'a, R> {
    pub render: &'a R,
    pub style: &'a ReportArgs,
}

impl<R: Render> Ui for Screen<'_, R> {
    fn show_plan(&self, flags: &Flags) -> Result<()> {
        if !self.style.document() {
            super::print(&self.render.plan(flags))?;
        }
        for line in self.render.notes(flags) {
            messages::note(line);
        }
        Ok(())
    }

    fn audit_opened(&self, log: &AuditLog, flags: &Flags) {
        if flags.audit.no_audit && !flags.dry_run {
            messages::no_audit();
        }
        if log.is_null() {
            messages::null_audit();
        }
    }

    fn audit_created(&self, created: &[std::path::PathBuf]) {
        messages::audit_created(created);
    }

    async fn confirm(&self, flags: &Flags) -> Result<bool> {
        ask(&self.render.question(flags)).await
    }
}

/// Asks `question` at a terminal: Ok(true) for y/yes. With no terminal, exit 2.
pub(crate) async fn ask(question: &str) -> Result<bool> {
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
    // The answer's Enter ended the prompt's line.
    crate::term::line_ended();
    Ok(matches!(answer.trim().to_lowercase().as_str(), "y" | "yes"))
}

/// Nothing matched `what`: exit 4, or 0 with `missing_ok`; said on stderr either way, with
/// a word on spelling when `typed` (a name the operator gave matched nothing).
fn nothing(missing_ok: bool, what: String, typed: bool) -> Result<()> {
    if missing_ok {
        messages::nothing_to_do(&what);
        Ok(())
    } else {
        Err(Failure::NothingMatched(format!(
            "{what}; nothing to do ({}--missing-ok makes this exit 0)",
            if typed { "check the spelling; " } else { "" }
        ))
        .into())
    }
}

/// Prints a document as `-f` asks.
fn print_document(style: &ReportArgs, doc: &impl Serialize) -> Result<()> {
    super::print_doc(doc, style.format == ReportFormat::Yaml, style.json.noindent)
}

/// Shows how a writing command ended, and turns it into the exit status.
pub(crate) fn finish<R: Render>(
    render: &R,
    style: &ReportArgs,
    flags: &Flags,
    applied: Applied<R::Outcome>,
) -> Result<()> {
    let end = &applied.end;
    let document = style.document();
    if document && !matches!(end, End::Declined) {
        print_document(style, &render.document(end, flags))?;
    }
    match end {
        End::NothingMatched => {
            for line in render.notes(flags) {
                messages::note(line);
            }
            nothing(flags.missing_ok, render.nothing(), render.typed_a_name())
        }
        End::Refused => {
            let (lines, error) = render.refused(flags);
            for line in lines {
                messages::note(line);
            }
            Err(Failure::Refused(error).into())
        }
        End::AllRefused => Err(Failure::NothingMatched(render.all_refused()).into()),
        End::Unchanged => {
            messages::note(render.unchanged());
            Ok(())
        }
        End::DryRun => {
            messages::note(render.dry_run(flags));
            Ok(())
        }
        End::Declined => Err(Failure::Refused("not confirmed; nothing was changed".into()).into()),
        End::Done(done) => {
            if !document && let Some(tables) = render.result(done) {
                super::print(&tables)?;
            }
            for line in render.done(done, applied.audit.as_deref(), flags) {
                messages::note(line);
            }
            Ok(())
        }
        End::RolledBack(outcome) => {
            if !document && let Some(tables) = render.result(std::slice::from_ref(outcome)) {
                super::print(&tables)?;
            }
            let (lines, error) = render.rolled_back(outcome);
            for line in lines {
                messages::note(line);
            }
            Err(Failure::Refused(error).into())
        }
    }
}

/// `2 services and 1 cluster`.
pub(crate) fn counts(services: usize, clusters: usize) -> String {
    let mut parts = Vec::new();
    if services > 0 || clusters == 0 {
        parts.push(format!("{services} service{}", plural(services)));
    }
    if clusters > 0 {
        parts.push(format!("{clusters} cluster{}", plural(clusters)));
    }
    parts.join(" and ")
}

/// `; audit record in PATH`, or nothing without a record.
pub(crate) fn audit_note(audit: Option<&Path>) -> String {
    audit.map_or(String::new(), |p| {
        format!("; audit record in {}", p.display())
    })
}
