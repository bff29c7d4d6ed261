//! One snapshot macro for every snapshot test, `svcctl_snapshot!`: insta's `assert_snapshot!`
//! with filters (insta's "filters" feature) that replace what differs from run to run, the
//! timestamps and the audit transaction ids, by placeholders, as uv's `uv_snapshot!` does.

/// A timestamp as svcctl prints it (`2026-11-25T03:48:55.000000`, the audit log's `...Z`) or
/// a database stores it (`2026-11-25 03:48:55`).
const TIMESTAMP: &str =
    r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?";

/// An audit transaction id: the writing process's pid and 16 hex digits.
const TXN: &str = r"\b\d+-[0-9a-f]{16}\b";

/// What every snapshot masks unless it says otherwise.
pub const FILTERS: &[(&str, &str)] = &[(TIMESTAMP, "[TIMESTAMP]"), (TXN, "[TXN]")];

/// For output whose timestamps are fixed rows (the fixture's, written by Cinder's own code):
/// they are part of what is asserted, so only transaction ids are masked.
pub const FIXED_TIMES: &[(&str, &str)] = &[(TXN, "[TXN]")];

/// A plan table's time (`2026-11-25 03:48:55`, `output::columns::plan_time`).
const PLAN_TIME: &str = r"\b\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\b";

/// For plan and result tables, whose widths are asserted: a plan table's time is masked by
/// a mask as wide as itself, so the snapshot shows every column where it really is (a
/// transaction id is never in a table).
pub const SAME_WIDTH: &[(&str, &str)] = &[(PLAN_TIME, "YYYY-MM-DD hh:mm:ss"), (TXN, "[TXN]")];

/// `svcctl_snapshot!(name, value)`: the named snapshot of `value`, with `FILTERS` applied.
/// `svcctl_snapshot!(filters, name, value)`: with these filters instead (e.g. `FIXED_TIMES`).
/// `svcctl_snapshot!(value, @"...")`: an inline snapshot, with `FILTERS`.
#[macro_export]
macro_rules! svcctl_snapshot {
    ($value:expr, @$snapshot:literal) => {{
        let mut settings = insta::Settings::clone_current();
        for (matcher, replacement) in $crate::harness::snapshot::FILTERS {
            settings.add_filter(matcher, *replacement);
        }
        settings.bind(|| insta::assert_snapshot!($value, @$snapshot));
    }};
    ($name:expr, $value:expr) => {
        $crate::svcctl_snapshot!($crate::harness::snapshot::FILTERS, $name, $value)
    };
    ($filters:expr, $name:expr, $value:expr) => {{
        let mut settings = insta::Settings::clone_current();
        for (matcher, replacement) in $filters {
            settings.add_filter(matcher, *replacement);
        }
        settings.bind(|| insta::assert_snapshot!($name, $value));
    }};
}

/// The filters mask what they are for and nothing else: svcctl's and the database's timestamp
/// forms and a transaction id, but not the dates, backend keys and UUIDs around them.
#[test]
fn filters_mask_timestamps_and_txn_ids_only() {
    crate::svcctl_snapshot!(
        "updated 2026-11-25T03:48:55.000000, deleted 2026-11-25 03:48:55, logged \
         2026-01-01T00:00:00.000000Z in txn 4242-0123456789abcdef; kept: 2026-11-25, \
         backend-2813902f-2c94, deffaf27-95b1-41ca-862f-43075258a8e5, 13-0d0d0d0d",
        @"updated [TIMESTAMP], deleted [TIMESTAMP], logged [TIMESTAMP] in txn [TXN]; kept: 2026-11-25, backend-2813902f-2c94, deffaf27-95b1-41ca-862f-43075258a8e5, 13-0d0d0d0d"
    );
}
