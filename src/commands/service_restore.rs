//! `svcctl service restore`: undo a deletion svcctl made, from its audit log, after a plan
//! that refuses any row no longer as svcctl left it.

use anyhow::Result;

use crate::Context;
use crate::apply::{Flags, WriteFlags};
use crate::audit;
use crate::hosts::HostPattern;
use crate::output::ReportArgs;
use crate::output::report;
use crate::output::restore::RestoreReport;
use crate::plan::restore::{self as plan, Selector};

/// Put back the services (and clusters) a deletion soft-deleted, from the audit log
///
/// --txn ID restores one deletion (the "txn" of its lines in the audit log); --host HOST (and
/// --binary) the newest deletion of that host. Exactly the rows that deletion soft-deleted come
/// back: deleted = 0, deleted_at = NULL, updated_at as the audit line recorded it. A row that
/// is no longer as svcctl left it (purged, changed since) or whose service made a new live row
/// since is refused: exit 3, nothing changed. A deletion already restored exits 4. The restore
/// is audited too (action "restore"); undo it with service delete.
#[derive(Debug, clap::Args)]
#[command(
    mut_arg("format", |a| a.help(crate::output::formatter::document_help(
        "dry_run, txn, would_restore, restored, refused (each with reasons), would_restore_clusters, restored_clusters, refused_clusters"))),
    group = clap::ArgGroup::new("which").required(true).args(["txn", "host"]),
)]
pub(crate) struct Args {
    /// The deletion to undo: its txn in the audit log
    #[arg(long, value_name = "ID", conflicts_with_all = ["host", "binary"])]
    pub txn: Option<String>,
    /// Undo the newest deletion of this host (exact; `*` and `?` make a glob)
    #[arg(long, value_name = "HOST")]
    pub host: Option<String>,
    /// With --host: only this binary's rows
    #[arg(long, value_name = "BINARY", requires = "host")]
    pub binary: Option<String>,
    #[command(flatten)]
    pub flags: WriteFlags,
    #[command(flatten)]
    pub output: ReportArgs,
}

pub(crate) async fn run(args: Args, ctx: &Context) -> Result<()> {
    let sel = match (&args.txn, &args.host) {
        (Some(t), _) => Selector::Txn(t.clone()),
        (_, host) => Selector::Host {
            host: HostPattern::parse(host.as_deref().unwrap_or_default())?,
            binary: args.binary.clone(),
        },
    };
    let mut flags = Flags::from(&args.flags);
    // The log is what a restore acts on: one that does not exist is not created.
    flags.audit.must_exist = true;
    let path = flags.audit.path();
    let mut db = ctx.connect().await?;
    let log = flags.audit.read()?;
    let database = audit::database_name(&db.url);
    let identity = crate::db::identity::read(&mut db).await?;
    let plan = plan::build(&mut db, &log, &path, &database, &identity, &sel).await?;
    let report = RestoreReport {
        plan: &plan,
        style: &args.output,
    };
    report::run(&mut db, &plan, &report, &args.output, &flags).await
}
