//! THE flow of every writing command, written once: nothing matched, refuse (exit 3 unless
//! `--force`; with `--skip-refused`, go on without the refused), nothing to change, `--dry-run`,
//! confirm (`--yes`, or the operator at a prompt), the audit log, the work that precedes the
//! write (`backend cleanup` stops processes), and the write through the `write` runner, each
//! transaction audited before it commits.
//!
//! A command supplies its plan as a `write::Operation` (what it decided, and the transactions
//! that carry it out) and its rendering as a [`Ui`]; [`run`] decides and sequences, and returns
//! an [`Applied`] for `output` to render. Nothing here prints: what must be shown on the way (the
//! plan, the question) goes through the `Ui`.

use std::path::PathBuf;

use anyhow::Result;

use crate::audit::{Actor, AuditArgs, AuditLog};
use crate::db::Db;
use crate::seams::{self, Seam};
use crate::write::{self, Operation, Written};

/// The flags every writing command takes.
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
    #[command(flatten)]
    pub audit: AuditArgs,
}

/// The flags every deleting command takes: those of every writing command, and the verdicts'.
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

/// How the flow runs, from a command's flags.
#[derive(Debug, Clone)]
pub(crate) struct Flags {
    pub dry_run: bool,
    pub yes: bool,
    pub missing_ok: bool,
    /// Override the refusals `--force` may override.
    pub force: bool,
    /// Go on without the refused rows.
    pub skip_refused: bool,
    pub audit: AuditArgs,
}

impl From<&WriteFlags> for Flags {
    fn from(w: &WriteFlags) -> Flags {
        Flags {
            dry_run: w.dry_run,
            yes: w.yes,
            missing_ok: w.missing_ok,
            force: false,
            skip_refused: false,
            audit: w.audit.clone(),
        }
    }
}

impl From<&DeleteFlags> for Flags {
    fn from(d: &DeleteFlags) -> Flags {
        Flags {
            force: d.force,
            skip_refused: d.skip_refused,
            ..Flags::from(&d.write)
        }
    }
}

impl Flags {
    /// With a command's own `--force` (a host move's: onto a target that is down).
    pub fn forced(mut self, force: bool) -> Flags {
        self.force = force;
        self
    }
}

/// What the flow shows on the way; `output` implements it.
pub(crate) trait Ui {
    /// The plan, and what `--force` overrides or `--skip-refused` leaves, before anything is
    /// asked or written.
    fn show_plan(&self, flags: &Flags) -> Result<()>;

    /// Says what opening the audit log means: that `--no-audit` (or `/dev/null`) keeps none.
    fn audit_opened(&self, log: &AuditLog, flags: &Flags);

    /// Says what the first record created (the log, the default's directory), once.
    fn audit_created(&self, created: &[PathBuf]);

    /// Asks the operator whether to go on: Ok(false) when they decline; an error when there
    /// is no one to ask.
    async fn confirm(&self, flags: &Flags) -> Result<bool>;
}

/// How a writing command ended.
#[derive(Debug)]
pub(crate) enum End<O> {
    /// The selection found nothing.
    NothingMatched,
    /// The plan refused (without `--force`): nothing was changed.
    Refused,
    /// With `--skip-refused`, nothing passed.
    AllRefused,
    /// Everything is already as asked.
    Unchanged,
    /// `--dry-run`: nothing was changed.
    DryRun,
    /// The operator said no at the prompt.
    Declined,
    /// Every transaction committed, each audited.
    Done(Vec<O>),
    /// All or nothing: a planned row changed between plan and write, and the transaction was
    /// rolled back (transactions before it, purge batches, which never roll back, stand).
    RolledBack(O),
}

/// What came of a writing command, for `output` to render.
#[derive(Debug)]
pub(crate) struct Applied<O> {
    pub end: End<O>,
    /// The audit log that holds the record (None without a write, or with `--no-audit`).
    pub audit: Option<PathBuf>,
}

impl<O> Applied<O> {
    fn ended(end: End<O>) -> Applied<O> {
        Applied { end, audit: None }
    }
}

/// Runs one writing command's flow; see the module documentation.
pub(crate) async fn run<Op: Operation>(
    db: &mut Db,
    op: &Op,
    ui: &impl Ui,
    flags: &Flags,
) -> Result<Applied<Op::Outcome>> {
    crate::interrupt::writing();
    // Before anything is decided: no change without a record, so a log that cannot be
    // written stops the command at once.
    let mut log = flags.audit.open(flags.dry_run)?;
    ui.audit_opened(&log, flags);
    let decision = op.decide(flags.force);
    if decision.matched == 0 {
        return Ok(Applied::ended(End::NothingMatched));
    }
    ui.show_plan(flags)?;
    if decision.refused > 0 && !flags.skip_refused {
        return Ok(Applied::ended(End::Refused));
    }
    if decision.to_change == 0 && decision.refused > 0 {
        return Ok(Applied::ended(End::AllRefused));
    }
    if flags.dry_run {
        return Ok(Applied::ended(End::DryRun));
    }
    if decision.to_change == 0 {
        return Ok(Applied::ended(End::Unchanged));
    }
    if !flags.yes && !ui.confirm(flags).await? {
        return Ok(Applied::ended(End::Declined));
    }
    // Every record names the database it was written on, so that no other can replay it;
    // read before the work that precedes the write (stopping processes), which it may stop.
    let identity = crate::db::identity::read(db).await?;
    op.before_write().await?;
    seams::pause(Seam::BeforeWrite).await;
    let actor = Actor::current(crate::audit::database_name(&db.url), Some(identity));
    let mut done = Vec::new();
    let mut end = None;
    for change in op.changes(db, flags.force) {
        let written = write::run(db, &change, &mut log, &actor).await;
        // Said even when the write failed: the log stays, with its record.
        if !log.created.is_empty() {
            ui.audit_created(&std::mem::take(&mut log.created));
        }
        match written? {
            Written::Committed(outcome) => done.push(outcome),
            Written::RolledBack(outcome) => {
                end = Some(End::RolledBack(outcome));
                break;
            }
        }
    }
    Ok(Applied {
        end: end.unwrap_or(End::Done(done)),
        audit: log.path().map(PathBuf::from),
    })
}
