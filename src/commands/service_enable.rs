//! `svcctl service enable --host HOST`: clear `disabled` and `disabled_reason` from the
//! database, exactly as Cinder's `service_update` does for `cinder service-enable`.

use anyhow::Result;

use crate::Context;
use crate::apply::WriteFlags;

/// Enable a host's services again, as `cinder service-enable` does
///
/// Clears disabled and disabled_reason and sets modified_at; updated_at (the heartbeat) is
/// left alone. Hosts match as in `service delete`. Services already enabled are reported and
/// left as they are.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Host whose services to enable; `*` and `?` make a glob; repeatable
    #[arg(long, value_name = "HOST", required = true)]
    pub host: Vec<String>,
    /// Only this binary, e.g. cinder-volume
    #[arg(long, value_name = "BINARY")]
    pub binary: Option<String>,
    #[command(flatten)]
    pub flags: WriteFlags,
}

pub(crate) async fn run(args: Args, ctx: &Context) -> Result<()> {
    super::service_disable::toggle(&args.host, args.binary.as_deref(), None, &args.flags, ctx).await
}
