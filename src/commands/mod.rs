//! One module per subcommand, each with its `Args` (whose doc comments are the `--help`) and `run`.

pub mod backend_cleanup;
pub mod demo;
pub mod service_delete;
pub mod service_list;

use anyhow::Result;

use crate::Context;
use crate::cli::{BackendCommand, Command, ServiceCommand};

pub async fn run(command: Command, ctx: &Context) -> Result<()> {
    match command {
        Command::Service(ServiceCommand::List(args)) => service_list::run(args, ctx).await,
        Command::Service(ServiceCommand::Delete(args)) => service_delete::run(args, ctx).await,
        Command::Backend(BackendCommand::Cleanup(args)) => backend_cleanup::run(args, ctx).await,
        Command::Demo(args) => demo::run(args, ctx).await,
    }
}
