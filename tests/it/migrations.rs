//! svcctl's migrations build the same columns, with the same types, as Cinder 29's own schema.

use crate::harness::{Backend, Schema, TestDb};

fn columns(db: &TestDb, tables: &[&str]) -> Vec<Vec<Option<String>>> {
    let list = tables
        .iter()
        .map(|t| format!("'{t}'"))
        .collect::<Vec<_>>()
        .join(", ");
    match db.backend {
        Backend::MySql => db.rows(&format!(
            "SELECT CAST(TABLE_NAME AS CHAR), CAST(COLUMN_NAME AS CHAR), CAST(COLUMN_TYPE AS CHAR), \
             CAST(IS_NULLABLE AS CHAR), CAST(COLUMN_DEFAULT AS CHAR) FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN ({list}) ORDER BY TABLE_NAME, ORDINAL_POSITION"
        )),
        Backend::Sqlite => db.rows(&format!(
            "SELECT m.name, p.name, p.type, CAST(p.\"notnull\" AS TEXT), p.dflt_value FROM sqlite_master m \
             JOIN pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name IN ({list}) ORDER BY m.name, p.cid"
        )),
    }
}

const TABLES: &[&str] = &[
    "services",
    "clusters",
    "volumes",
    "snapshots",
    "backups",
    "groups",
    "consistencygroups",
    "workers",
    "image_volume_cache_entries",
];

fn compare(backend: Backend) {
    let Some(ours) = TestDb::new(backend, Schema::Migrations) else {
        return;
    };
    let cinder = TestDb::new(backend, Schema::Cinder).unwrap();
    let a = columns(&ours, TABLES);
    let b = columns(&cinder, TABLES);
    assert!(a.len() > 150, "too few columns read: {}", a.len());
    assert_eq!(a, b, "svcctl's migrations differ from Cinder 29's schema");
}

#[test]
fn sqlite_migrations_match_cinder_29() {
    compare(Backend::Sqlite);
}

#[test]
fn mysql_migrations_match_cinder_29() {
    compare(Backend::MySql);
}
