//! The subcommands: one module each, with its `Args` (whose doc comments are the `--help`) and
//! `run`; the command tree beside the dispatcher that runs it.

pub(crate) mod backend_cleanup;
pub(crate) mod backup_move_host;
pub(crate) mod cluster_list;
pub(crate) mod cluster_remove;
pub(crate) mod demo;
pub(crate) mod service_check;
pub(crate) mod service_delete;
pub(crate) mod service_disable;
pub(crate) mod service_enable;
pub(crate) mod service_list;
pub(crate) mod service_purge;
pub(crate) mod service_restore;
pub(crate) mod volume_move_host;

use anyhow::Result;
use clap::Subcommand;

use crate::Context;

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Cinder services: list, check, delete, restore, purge, disable, enable
    #[command(subcommand)]
    Service(ServiceCommand),
    /// Cinder clusters: list, remove
    #[command(subcommand)]
    Cluster(ClusterCommand),
    /// Storage backends: clean up after a removed backend
    #[command(subcommand)]
    Backend(BackendCommand),
    /// Volumes: move them off a dead host safely
    #[command(subcommand)]
    Volume(VolumeCommand),
    /// Backups: move them off a dead backup host safely
    #[command(subcommand)]
    Backup(BackupCommand),
    /// Create the embedded demo database (SQLite) with the seed's services and list them
    Demo(demo::Args),
}

#[derive(Debug, Subcommand)]
pub(crate) enum ServiceCommand {
    List(service_list::Args),
    Check(service_check::Args),
    Delete(service_delete::Args),
    Restore(service_restore::Args),
    Purge(service_purge::Args),
    Disable(service_disable::Args),
    Enable(service_enable::Args),
}

#[derive(Debug, Subcommand)]
pub(crate) enum ClusterCommand {
    List(cluster_list::Args),
    Remove(cluster_remove::Args),
}

#[derive(Debug, Subcommand)]
pub(crate) enum VolumeCommand {
    MoveHost(volume_move_host::Args),
}

#[derive(Debug, Subcommand)]
pub(crate) enum BackupCommand {
    MoveHost(backup_move_host::Args),
}

#[derive(Debug, Subcommand)]
pub(crate) enum BackendCommand {
    Cleanup(backend_cleanup::Args),
}

pub(crate) async fn run(command: Command, ctx: &Context) -> Result<()> {
    match command {
        Command::Service(ServiceCommand::List(args)) => service_list::run(args, ctx).await,
        Command::Service(ServiceCommand::Check(args)) => service_check::run(args, ctx).await,
        Command::Service(ServiceCommand::Delete(args)) => service_delete::run(args, ctx).await,
        Command::Service(ServiceCommand::Restore(args)) => service_restore::run(args, ctx).await,
        Command::Service(ServiceCommand::Purge(args)) => service_purge::run(args, ctx).await,
        Command::Cluster(ClusterCommand::List(args)) => cluster_list::run(args, ctx).await,
        Command::Cluster(ClusterCommand::Remove(args)) => cluster_remove::run(args, ctx).await,
        Command::Backend(BackendCommand::Cleanup(args)) => backend_cleanup::run(args, ctx).await,
        Command::Service(ServiceCommand::Disable(args)) => service_disable::run(args, ctx).await,
        Command::Service(ServiceCommand::Enable(args)) => service_enable::run(args, ctx).await,
        Command::Volume(VolumeCommand::MoveHost(args)) => volume_move_host::run(args, ctx).await,
        Command::Backup(BackupCommand::MoveHost(args)) => backup_move_host::run(args, ctx).await,
        // The demo database, then the listing `service list` shows of it.
        Command::Demo(args) => {
            demo::run(args, ctx).await?;
            service_list::run(service_list::Args::plain(), ctx).await
        }
    }
}
