//! Timestamps as text, written by hand: the one form svcctl's listings, JSON documents and audit
//! records share (`2021-01-12T09:28:10.000000`). A leaf: `output` and `audit` both use it.

use chrono::NaiveDateTime;

/// A time's text, `2021-01-12T09:28:10.000000` (as cinderclient shows it), on the stack, written
/// by hand: chrono's `format` parses its pattern again for every value, which for a listing's
/// 10,000 timestamps (or a cleanup's 2,000 audit lines, three times each) cost more than anything
/// else in writing them. Years outside 0 to 9999 and leap seconds, which the fixed
/// layout cannot hold, go through chrono as before.
pub(crate) struct TimeText {
    buf: [u8; 40],
    len: usize,
}

impl TimeText {
    pub fn new(t: NaiveDateTime) -> TimeText {
        use chrono::{Datelike, Timelike};
        let mut text = TimeText {
            buf: [0; 40],
            len: 26,
        };
        if !TimeText::fits(t) {
            use std::fmt::Write;
            text.len = 0;
            write!(text, "{}", t.format("%Y-%m-%dT%H:%M:%S%.6f"))
                .expect("a timestamp is under 40 bytes");
            return text;
        }
        let b = &mut text.buf;
        let mut put = |at: usize, digits: usize, mut v: u32| {
            for i in (at..at + digits).rev() {
                b[i] = b'0' + (v % 10) as u8;
                v /= 10;
            }
        };
        put(0, 4, t.year().unsigned_abs());
        put(5, 2, t.month());
        put(8, 2, t.day());
        put(11, 2, t.hour());
        put(14, 2, t.minute());
        put(17, 2, t.second());
        put(20, 6, t.nanosecond() / 1000);
        for (at, c) in [
            (4, b'-'),
            (7, b'-'),
            (10, b'T'),
            (13, b':'),
            (16, b':'),
            (19, b'.'),
        ] {
            b[at] = c;
        }
        text
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.len]).expect("digits and punctuation")
    }
}

impl std::fmt::Write for TimeText {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        self.buf
            .get_mut(self.len..end)
            .ok_or(std::fmt::Error)?
            .copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

impl TimeText {
    /// Whether the fixed layout holds `t` (see `TimeText::new`).
    fn fits(t: NaiveDateTime) -> bool {
        use chrono::{Datelike, Timelike};
        (0..=9999).contains(&t.year()) && t.nanosecond() < 1_000_000_000
    }
}

/// `t` as cinderclient shows it, `2021-01-12T09:28:10.000000`, owned.
pub(crate) fn text(t: NaiveDateTime) -> String {
    TimeText::new(t).as_str().to_string()
}

/// `t` (UTC) as RFC 3339 to the microsecond with a `Z`, as chrono's
/// `to_rfc3339_opts(Micros, true)` writes it: the audit log's `time`.
pub(crate) fn rfc3339_micros_utc(t: NaiveDateTime) -> String {
    if !TimeText::fits(t) {
        return t
            .and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    }
    let mut s = String::with_capacity(27);
    s.push_str(TimeText::new(t).as_str());
    s.push('Z');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use proptest::prelude::*;

    proptest! {
        /// The hand-written forms are chrono's, byte for byte: in the fixed layout's range and
        /// outside it (years past 9999 or before 0, leap seconds).
        #[test]
        fn same_text_as_chrono(
            y in prop_oneof![0i32..=9999, -262_000i32..262_000],
            mo in 1u32..=12, d in 1u32..=31, h in 0u32..24, mi in 0u32..60, s in 0u32..60,
            nano in prop_oneof![0u32..1_000_000_000, 1_000_000_000u32..2_000_000_000, Just(0)],
        ) {
            let t = NaiveDate::from_ymd_opt(y, mo, d).and_then(|d| d.and_hms_nano_opt(h, mi, s, nano));
            let Some(t) = t else {
                return Ok(());
            };
            prop_assert_eq!(text(t), t.format("%Y-%m-%dT%H:%M:%S%.6f").to_string());
            prop_assert_eq!(
                rfc3339_micros_utc(t),
                t.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
            );
        }
    }

    #[test]
    fn microseconds_are_six_digits() {
        let t = NaiveDate::from_ymd_opt(2021, 1, 12)
            .and_then(|d| d.and_hms_nano_opt(9, 28, 10, 5_000))
            .unwrap();
        assert_eq!(text(t), "2021-01-12T09:28:10.000005");
    }
}
