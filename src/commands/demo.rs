//! `svcctl demo`: builds the embedded demo database (SQLite, svcctl's own migrations) with the
//! seed's cluster, node01 up (for `service_down_time` after the demo, nothing heartbeats) and
//! node02 down for days (the dispatcher then lists it). It only ever writes a database it
//! created itself.

use anyhow::{Context as _, Result};
use chrono::Duration;
use sqlx::ConnectOptions;
use sqlx::sqlite::SqliteConnectOptions;

use crate::Context;
use crate::db::url::DbUrl;
use crate::db::{Bind, Conn, Stmt};
use crate::error::Failure;

/// Create the embedded demo database (SQLite) with the seed's services, and list them
///
/// The database is the SQLite file named by [database] connection (cinder.conf.example names
/// ./svcctl-demo.sqlite). It is rebuilt on every run so node01's heartbeat is fresh; a file
/// that svcctl did not create is never touched.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

/// The seed's services: (id, host, binary, uuid, heartbeating?, deleted?). Ids and uuids follow
/// the fixture rows Cinder wrote, and node02@normal is soft-deleted as there; but
/// node02@backend-2813902f-2c94 stays live (down), as the service still owning its volume, so
/// the README's decommission example has something to move and delete.
/// node01 heartbeats, but for backend deffaf27: it was removed from node01's enabled_backends
/// and cinder-volume restarted, so its service there went down, ready for `backend cleanup`.
/// Times (see `run`): node01's heartbeat is the demo's own instant, so node01 stays up for
/// `service_down_time` (an hour with cinder.conf.example); node02 stopped NODE02_DOWN_DAYS ago, so
/// the README's week-long sweep takes it; deffaf27's node01 service stopped an hour more than
/// `service_down_time` ago, so it stays down as long as node01 stays up.
const SERVICES: &[(i64, &str, &str, &str, bool, bool)] = &[
    (
        13,
        "node01",
        "cinder-backup",
        "d8e2897e-a413-4592-be0d-db175a039c85",
        true,
        false,
    ),
    (
        14,
        "node01",
        "cinder-scheduler",
        "d85d8f2d-e619-4a30-826a-31134eeb4891",
        true,
        false,
    ),
    (
        15,
        "node01@backend-2813902f-2c94",
        "cinder-volume",
        "10cd3de7-5087-4839-bfdd-730d10c92b18",
        true,
        false,
    ),
    (
        16,
        "node01@backend-deffaf27-95b1",
        "cinder-volume",
        "3aa91e27-106f-4355-9624-7c52535dc243",
        false,
        false,
    ),
    (
        17,
        "node01@backend-ffdc2630-def2",
        "cinder-volume",
        "79d36d86-3d79-4e20-ab0e-65c0af8b70eb",
        true,
        false,
    ),
    (
        18,
        "node01@normal",
        "cinder-volume",
        "ed3b3e78-2a9f-41a2-9a94-1acd3dc88342",
        true,
        false,
    ),
    (
        19,
        "node02",
        "cinder-backup",
        "9e56b7d4-8d7b-458e-b24f-cb2a91b88e76",
        false,
        false,
    ),
    (
        20,
        "node02",
        "cinder-scheduler",
        "7ea35704-576a-4af0-8387-569a37589a28",
        false,
        false,
    ),
    (
        21,
        "node02@backend-2813902f-2c94",
        "cinder-volume",
        "810eb516-10cc-45e7-9268-b66235be9543",
        false,
        false,
    ),
    (
        22,
        "node02@backend-deffaf27-95b1",
        "cinder-volume",
        "59af8d32-047b-4e9f-9146-fe681e8038a6",
        false,
        false,
    ),
    (
        23,
        "node02@backend-ffdc2630-def2",
        "cinder-volume",
        "76d9e1a3-0564-48c7-a6c1-62881f36ffa3",
        false,
        false,
    ),
    (
        24,
        "node02@normal",
        "cinder-volume",
        "8c8c69a1-7511-440d-859a-46379ccfc4cf",
        false,
        true,
    ),
];

/// How long ago node02 died: longer than the README's `--down-for 7d`.
const NODE02_DOWN_DAYS: i64 = 10;
/// How long ago the seed's services were created, before anything else happened.
const CREATED_DAYS: i64 = 30;

/// Volumes: one on node01's normal backend, one on backend 2813902f's nvme pool of node02.
const VOLUMES: &[(&str, &str)] = &[
    (
        "0f9c8bf5-a115-47a3-9181-a93a13d0f8d2",
        "node01@normal#normal",
    ),
    (
        "5e61041f-413e-4421-9ebb-a3e33bbdbaf1",
        "node02@backend-2813902f-2c94#nvme",
    ),
];

pub(crate) async fn run(_args: Args, ctx: &Context) -> Result<()> {
    let url = DbUrl::parse(ctx.settings.database.connection.expose())?;
    let DbUrl::Sqlite {
        path: Some(path), ..
    } = &url
    else {
        return Err(Failure::Usage(format!(
            "svcctl demo builds an SQLite file, but [database] connection is {url}; use \
             --config-file cinder.conf.example or a sqlite:///FILE connection"
        ))
        .into());
    };
    if path.exists() {
        let mut probe = ctx.connect().await.ok();
        let ours = probe.as_mut().is_some_and(|db| db.schema.is_svcctl_built());
        drop(probe);
        if !ours {
            return Err(Failure::Usage(format!(
                "{} exists and is not a svcctl demo database; refusing to touch it; point \
                 [database] connection at a new file",
                path.display()
            ))
            .into());
        }
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut p = path.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
    }
    // No config file read: the connection is oslo's default under /var/lib/cinder, which a
    // newcomer running `svcctl demo` did not choose; say how to run it.
    let hint = if ctx.settings.files_read.is_empty() {
        "; no config file was read: run `svcctl --config-file cinder.conf.example demo` in the \
         repository, or give --config-file a cinder.conf whose [database] connection is \
         sqlite:///FILE"
    } else {
        "; point [database] connection at a file in a writable directory"
    };
    let mut conn = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .connect()
        .await
        .map_err(|e| anyhow::anyhow!("creating the demo database {}: {e}{hint}", path.display()))?;
    sqlx::migrate!("migrations/sqlite")
        .run(&mut conn)
        .await
        .context("building the demo schema")?;
    let mut conn = Conn::Sqlite(conn);
    let now = chrono::Utc::now().naive_utc();
    // service_down_time is at most ten years (checked when read): the sums stay in range.
    let down_time = Duration::seconds(ctx.settings.service_down_time);
    for &(id, host, binary, uuid, heartbeating, deleted) in SERVICES {
        let created = now - Duration::days(CREATED_DAYS);
        let updated = if heartbeating {
            now
        } else if host.starts_with("node01@") {
            now - down_time - Duration::hours(1)
        } else {
            now - Duration::days(NODE02_DOWN_DAYS)
        };
        let mut insert = Stmt::new(
            "INSERT INTO services (created_at, updated_at, deleted_at, deleted, id, host, \
             `binary`, topic, report_count, disabled, availability_zone, replication_status, \
             frozen, uuid) VALUES (",
        );
        insert
            .push_bind(created)
            .push(", ")
            .push_bind(updated)
            .push(", ");
        if deleted {
            insert.push_bind(updated).push(", 1, ");
        } else {
            insert.push("NULL, 0, ");
        }
        insert
            .push_list([Bind::from(id), host.into(), binary.into(), binary.into()])
            .push(", 1, 0, 'zettakit', 'not-capable', 0, ")
            .push_bind(uuid)
            .push(")");
        conn.execute(&insert).await?;
    }
    for &(id, host) in VOLUMES {
        let mut insert = Stmt::new(
            "INSERT INTO volumes (created_at, deleted, id, user_id, project_id, host, size, \
             status, volume_type_id, use_quota) VALUES (",
        );
        insert
            .push_bind(now - Duration::days(CREATED_DAYS - 1))
            .push(", 0, ")
            .push_bind(id)
            .push(", 'u', 'p', ")
            .push_bind(host)
            .push(", 1, 'available', '0f50af6c-2985-4b90-8898-e58263e65db4', 1)");
        conn.execute(&insert).await?;
    }
    drop(conn);
    crate::output::messages::demo_ready(path, NODE02_DOWN_DAYS, now + down_time, down_time);
    Ok(())
}
