//! `svcctl service disable --host HOST --reason TEXT`: mark services disabled from the
//! database, exactly as Cinder's `service_update` does for `cinder service-disable --reason`
//! (which needs a working Cinder API); `toggle` is also `service enable`'s flow.

use anyhow::Result;

use crate::Context;
use crate::apply::{self, WriteFlags};
use crate::audit::{self, Actor};
use crate::db::services::{self, ServiceFilter};
use crate::error::Failure;
use crate::hosts::HostPattern;
use crate::model::Service;
use crate::output::{self, decom};
use crate::plan::plan_now;
use crate::write::{self, Written, set_disabled::SetDisabled};

/// Cinder's limit on `disabled_reason` (its column is VARCHAR(255); the API refuses longer).
const MAX_REASON: usize = 255;

/// Disable a host's services with a reason, as `cinder service-disable --reason` does
///
/// Sets disabled, disabled_reason and modified_at; updated_at (the heartbeat) is left alone,
/// so a down service stays down and an up one stays up. Works on down services. Hosts match as
/// in `service delete`. Services already disabled are reported and left as they are.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Host whose services to disable; `*` and `?` make a glob; repeatable
    #[arg(long, value_name = "HOST", required = true)]
    pub host: Vec<String>,
    /// Only this binary, e.g. cinder-volume
    #[arg(long, value_name = "BINARY")]
    pub binary: Option<String>,
    /// Why (at most 255 characters), shown by `cinder service-list` as Disabled Reason
    #[arg(long, value_name = "TEXT", required = true)]
    pub reason: String,
    #[command(flatten)]
    pub flags: WriteFlags,
}

pub(crate) async fn run(args: Args, ctx: &Context) -> Result<()> {
    let n = args.reason.chars().count();
    if n > MAX_REASON {
        return Err(Failure::Usage(format!(
            "--reason is {n} characters; Cinder keeps at most {MAX_REASON}; shorten it"
        ))
        .into());
    }
    toggle(
        &args.host,
        args.binary.as_deref(),
        Some(&args.reason),
        &args.flags,
        ctx,
    )
    .await
}

/// Disable (`reason` given) or enable (None) the matching services: plan, confirm, write,
/// report; exit 4 when nothing matches.
pub(crate) async fn toggle(
    hosts: &[String],
    binary: Option<&str>,
    reason: Option<&str>,
    flags: &WriteFlags,
    ctx: &Context,
) -> Result<()> {
    let disable = reason.is_some();
    let patterns = HostPattern::parse_all(hosts)?;
    let mut db = ctx.connect().await?;
    let filter = ServiceFilter {
        hosts: patterns,
        binary: binary.map(String::from),
        ..ServiceFilter::default()
    };
    let now = plan_now();
    let sdt = ctx.settings.service_down_time;
    let planned: Vec<Service> = services::fetch_all(&mut db, &filter)
        .await?
        .into_iter()
        .map(|r| Service::judge(r, now, sdt))
        .collect();
    if planned.is_empty() {
        if flags.document() {
            flags.print(&decom::ToggleDoc::planned(flags.dry_run, &[], disable))?;
        }
        return apply::missing(
            flags.missing_ok,
            format!(
                "no live service{} on host {}",
                binary.map_or(String::new(), |b| format!(" {b}")),
                hosts.join(", ")
            ),
        );
    }
    if !flags.document() {
        output::print(&decom::toggle_plan_table(&planned, disable, flags.fit_to()))?;
    }
    let to_change = planned
        .iter()
        .filter(|s| s.row.disabled.unwrap_or(false) != disable)
        .count();
    if flags.dry_run || to_change == 0 {
        if flags.document() {
            flags.print(&decom::ToggleDoc::planned(flags.dry_run, &planned, disable))?;
        }
        decom::toggle_planned_note(to_change, planned.len() - to_change, disable, flags.dry_run);
        return Ok(());
    }
    apply::confirm(
        &format!(
            "{} {to_change} service{}?",
            if disable { "Disable" } else { "Enable" },
            if to_change == 1 { "" } else { "s" }
        ),
        flags,
    )
    .await?;
    let mut audit = flags.open_audit()?;
    let actor = Actor::current(audit::database_name(&db.url));
    crate::seams::pause(crate::seams::Seam::BeforeWrite).await;
    let ids: Vec<i64> = planned.iter().map(|s| s.row.id).collect();
    let change = SetDisabled::new(ids, disable, reason, &db.schema, sdt);
    // Rows already in the wanted state are no refusal; only a row deleted meanwhile is.
    let outcome = match write::run(&mut db, &change, &mut audit, &actor).await? {
        Written::Committed(o) => o,
        Written::RolledBack(o) => {
            if flags.document() {
                flags.print(&decom::ToggleDoc::done(&[], &[], &o.already_gone, disable))?;
            }
            return Err(Failure::Refused(decom::toggle_refusal(&o, disable)).into());
        }
    };
    let judged = |rows: &[crate::model::ServiceRow]| -> Vec<Service> {
        rows.iter()
            .map(|r| Service::judge(r.clone(), now, sdt))
            .collect()
    };
    let (changed, unchanged) = (judged(&outcome.changed), judged(&outcome.unchanged));
    if flags.document() {
        flags.print(&decom::ToggleDoc::done(
            &changed,
            &unchanged,
            &outcome.already_gone,
            disable,
        ))?;
    } else {
        output::print(&decom::toggle_result_table(
            &changed,
            &unchanged,
            disable,
            flags.fit_to(),
        ))?;
    }
    decom::toggle_done_note(&outcome, disable, audit.path());
    Ok(())
}
