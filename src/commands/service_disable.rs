//! `svcctl service disable --host HOST --reason TEXT`: mark services disabled from the
//! database, as Cinder's `service_update` does for `cinder service-disable --reason` (which
//! needs a working Cinder API; svcctl leaves a service already disabled with the same reason
//! alone, where Cinder restamps it); `--cluster NAME` disables a cluster as `cinder
//! cluster-disable` does.

use anyhow::Result;

use crate::Context;
use crate::apply::{Flags, WriteFlags};
use crate::hosts::HostArgs;
use crate::output::cluster_toggle::ClusterToggleReport;
use crate::output::{ReportArgs, report, toggle};
use crate::plan::cluster_toggle;

/// Cinder's limit on `disabled_reason` (its column is VARCHAR(255); the API refuses longer).
const MAX_REASON: usize = 255;

/// `--reason`, held to what Cinder's API takes for `disabled_reason` (cinder/api/schemas/
/// services.py `disable_log_reason`: 1 to 255 characters, at least one that is not a blank,
/// cinder/api/validation/validators.py `_validate_disabled_reason`), and on one line: a
/// control character would break `cinder service-list`'s table. Stored as given, as Cinder
/// stores it.
fn reason(s: &str) -> Result<String, String> {
    if let Some(c) = s.chars().find(|c| c.is_control()) {
        return Err(format!(
            "it holds a control character ({}); give the reason on one line",
            c.escape_debug()
        ));
    }
    if s.trim().is_empty() {
        return Err(format!(
            "it is empty or only blanks; Cinder takes 1 to {MAX_REASON} characters: say why"
        ));
    }
    let n = s.chars().count();
    if n > MAX_REASON {
        return Err(format!(
            "it is {n} characters; Cinder keeps at most {MAX_REASON}; shorten it"
        ));
    }
    Ok(s.to_string())
}

/// Disable a host's services with a reason, as `cinder service-disable --reason` does
///
/// Sets disabled, disabled_reason and modified_at; updated_at (the heartbeat) is left alone,
/// so a down service stays down and an up one stays up. Works on down services. Hosts match as
/// in `service delete`. Services already disabled with the same reason are reported and left
/// as they are; a new reason replaces the old one. For a service in a cluster the scheduler
/// reads only the cluster's flag: disable the cluster with --cluster NAME --binary B, as
/// `cinder cluster-disable` does.
#[derive(Debug, clap::Args)]
// The usage line lists the required `--reason` before the required group of `--host` and
// `--cluster` (one of them).
#[command(
    mut_arg("host", |a| a
        .help("Host whose services to disable; `*` and `?` make a glob; repeatable")
        .required(false)),
    group(clap::ArgGroup::new("what").args(["host", "cluster"]).required(true))
)]
pub(crate) struct Args {
    #[command(flatten)]
    pub target: HostArgs,
    /// Disable this cluster (name as in cluster list; needs --binary) instead of services
    #[arg(long, value_name = "NAME", requires = "binary",
          value_parser = crate::limits::name)]
    pub cluster: Option<String>,
    /// Why (1 to 255 characters, on one line), shown by `cinder service-list` as Disabled Reason
    #[arg(long, value_name = "TEXT", required = true, value_parser = reason)]
    pub reason: String,
    #[command(flatten)]
    pub flags: WriteFlags,
    #[command(flatten)]
    pub output: ReportArgs,
}

pub(crate) async fn run(args: Args, ctx: &Context) -> Result<()> {
    // Checked before connecting: a bad host is a usage error whatever the database says.
    args.target.patterns()?;
    let mut db = ctx.connect().await?;
    let flags = Flags::from(&args.flags);
    if let (Some(name), Some(binary)) = (&args.cluster, &args.target.binary) {
        let plan = cluster_toggle::build(&mut db, name, binary, Some(&args.reason)).await?;
        let render = ClusterToggleReport(&plan);
        return report::run(&mut db, &plan, &render, &args.output, &flags).await;
    }
    let sdt = ctx.settings.service_down_time;
    let reason = Some(args.reason.clone());
    toggle::run(&mut db, &args.target, reason, &flags, &args.output, sdt).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any text: taken as given exactly when Cinder's API would take it and it is one
        /// printable line; otherwise one line that says why.
        #[test]
        fn a_reason_is_taken_as_given_or_refused_in_one_line(s in "\\PC{0,3}[ \t\n\x00-\x1f\u{85}]{0,2}\\PC{0,300}") {
            let fits = !s.chars().any(char::is_control)
                && !s.trim().is_empty()
                && s.chars().count() <= MAX_REASON;
            match reason(&s) {
                Ok(r) => prop_assert!(fits && r == s),
                Err(e) => prop_assert!(!fits && !e.contains('\n') && !e.is_empty()),
            }
        }
    }

    #[test]
    fn edges() {
        assert!(reason("").unwrap_err().contains("empty"));
        assert!(reason(" \u{3000} ").unwrap_err().contains("blanks"));
        assert!(
            reason("a\nb")
                .unwrap_err()
                .contains("control character (\\n)")
        );
        assert!(
            reason(&"x".repeat(256))
                .unwrap_err()
                .contains("at most 255")
        );
        assert_eq!(reason(&"é".repeat(255)).unwrap(), "é".repeat(255));
        assert_eq!(reason(" RMA 4711 ").unwrap(), " RMA 4711 ");
    }
}
