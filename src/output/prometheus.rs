//! The verdict as Prometheus metrics, in the text exposition format (version 0.0.4), for
//! `service list -f prometheus` and node_exporter's textfile collector (`service check
//! --textfile`, written atomically here): openstack-exporter's
//! `openstack_cinder_agent_state`, with its label names and values so that existing alert rules
//! and dashboards keep working, and svcctl's own families, in base units, with no per-scrape
//! label.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::Path;

use anyhow::Result;

use crate::check::{Checked, Status, Verdict};

/// When and how long the reading took, and (for `service check`) the status it came to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scrape {
    /// Seconds since the Unix epoch.
    pub timestamp: f64,
    pub duration: f64,
    /// The check's status; None for `service list`, which applies no rules.
    pub status: Option<Status>,
}

/// The start of a reading, for its scrape timestamp and duration.
pub(crate) struct Started {
    at: std::time::Instant,
    timestamp: f64,
}

impl Started {
    pub fn now() -> Started {
        let since_epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Started {
            at: std::time::Instant::now(),
            // Milliseconds: the precision Prometheus keeps.
            timestamp: since_epoch.as_millis() as f64 / 1000.0,
        }
    }

    /// The reading, done now, with the check's status (None for `service list`).
    pub fn scrape(&self, status: Option<Status>) -> Scrape {
        Scrape {
            timestamp: self.timestamp,
            duration: self.at.elapsed().as_secs_f64(),
            status,
        }
    }
}

/// A label value as the exposition format quotes it: `\`, `"` and line feed escaped.
pub(crate) fn escape_label(s: &str) -> Cow<'_, str> {
    if !s.contains(['\\', '"', '\n']) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\\' => out.push_str(r"\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str(r"\n"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Where the exposition goes, one family after another: each family's HELP and TYPE once,
/// then its samples, written straight through (a textfile for 10,000 services is megabytes).
struct Exposition<W: Write> {
    out: W,
}

impl<W: Write> Exposition<W> {
    /// A gauge's HELP and TYPE. HELP text escapes `\` and line feed; these are svcctl's own
    /// words, without either.
    fn gauge(&mut self, name: &str, help: &str) -> io::Result<()> {
        writeln!(self.out, "# HELP {name} {help}\n# TYPE {name} gauge")
    }

    /// `name{a="x",b="y"} value`.
    fn sample(
        &mut self,
        name: &str,
        labels: &[(&str, &str)],
        value: impl std::fmt::Display,
    ) -> io::Result<()> {
        self.out.write_all(name.as_bytes())?;
        for (i, (k, v)) in labels.iter().enumerate() {
            self.out.write_all(if i == 0 { b"{" } else { b"," })?;
            self.out.write_all(k.as_bytes())?;
            self.out.write_all(b"=\"")?;
            self.out.write_all(escape_label(v).as_bytes())?;
            self.out.write_all(b"\"")?;
        }
        if !labels.is_empty() {
            self.out.write_all(b"}")?;
        }
        writeln!(self.out, " {value}")
    }
}

/// The labels of a service's own samples: openstack-exporter's names (`hostname`, `service`,
/// `uuid`, `zone`), so the families join on them; NULL as "".
fn service_labels(c: &Checked) -> [(&'static str, &str); 4] {
    let r = &c.service.row;
    [
        ("hostname", r.host()),
        ("service", r.binary()),
        ("uuid", r.uuid.as_deref().unwrap_or("")),
        ("zone", r.availability_zone.as_deref().unwrap_or("")),
    ]
}

const AGENT_STATE: &str = "openstack_cinder_agent_state";
const HEARTBEAT_AGE: &str = "svcctl_cinder_service_heartbeat_age_seconds";
const STALE: &str = "svcctl_cinder_service_stale";
const REFERENCES: &str = "svcctl_cinder_service_references";
const SERVICES: &str = "svcctl_cinder_services";
const DISABLED: &str = "svcctl_cinder_services_disabled";
const DOWN_RATIO: &str = "svcctl_cinder_enabled_hosts_down_ratio";
const STALE_AFTER: &str = "svcctl_cinder_stale_after_seconds";
const CHECK_STATUS: &str = "svcctl_cinder_check_status";
const SUCCESS: &str = "svcctl_cinder_scrape_success";
const TIMESTAMP: &str = "svcctl_cinder_scrape_timestamp_seconds";
const DURATION: &str = "svcctl_cinder_scrape_duration_seconds";

/// Writes the whole exposition of a verdict to `out`.
pub(crate) fn render(v: &Verdict, scrape: &Scrape, out: impl Write) -> io::Result<()> {
    let mut x = Exposition { out };
    x.gauge(
        AGENT_STATE,
        "Whether the Cinder service is up (1) or down (0) by Cinder's service_down_time rule, \
         as openstack-exporter labels it (uuid: the service's own)",
    )?;
    for c in &v.services {
        let r = &c.service.row;
        // openstack-exporter's label names, camelCase and all: alert rules match on them.
        let labels = [
            ("adminState", c.service.status()),
            ("disabledReason", r.disabled_reason.as_deref().unwrap_or("")),
            ("hostname", r.host()),
            ("service", r.binary()),
            ("uuid", r.uuid.as_deref().unwrap_or("")),
            ("zone", r.availability_zone.as_deref().unwrap_or("")),
        ];
        x.sample(AGENT_STATE, &labels, u8::from(c.service.up))?;
    }
    x.gauge(
        HEARTBEAT_AGE,
        "Seconds since the service's last heartbeat (updated_at, else created_at); negative \
         when it is in the future; absent when it never had one",
    )?;
    for c in &v.services {
        if let Some(age) = c.heartbeat_age {
            x.sample(HEARTBEAT_AGE, &service_labels(c), age)?;
        }
    }
    x.gauge(
        STALE,
        "Whether the service is stale (1): down longer than svcctl_cinder_stale_after_seconds \
         and nothing svcctl service delete checks still uses it",
    )?;
    for c in &v.services {
        x.sample(STALE, &service_labels(c), u8::from(c.stale()))?;
    }
    let counted: Vec<&Checked> = v
        .services
        .iter()
        .filter(|c| !c.service.up && c.refs.is_some())
        .collect();
    if !counted.is_empty() {
        x.gauge(
            REFERENCES,
            "Live rows that still point at a down service, by table (what service delete \
             refuses it for)",
        )?;
        for c in counted {
            let Some(refs) = &c.refs else { continue };
            let [h, s, u, z] = service_labels(c);
            for (table, n) in [
                ("volumes", refs.volumes),
                ("backups", refs.backups),
                ("groups", refs.groups),
                ("consistencygroups", refs.consistencygroups),
                ("workers", refs.workers),
                (
                    "image_volume_cache_entries",
                    refs.image_volume_cache_entries,
                ),
            ] {
                x.sample(REFERENCES, &[h, s, ("table", table), u, z], n)?;
            }
        }
    }
    // Per binary and zone: up, down (not stale) and stale partition the live services.
    let mut by: BTreeMap<(&str, &str), [usize; 4]> = BTreeMap::new();
    for c in &v.services {
        let r = &c.service.row;
        let e = by
            .entry((r.binary(), r.availability_zone.as_deref().unwrap_or("")))
            .or_default();
        let state = if c.stale() {
            2
        } else if c.down() {
            1
        } else {
            0
        };
        e[state] += 1;
        if !c.enabled() {
            e[3] += 1;
        }
    }
    if !by.is_empty() {
        x.gauge(
            SERVICES,
            "Live Cinder services by binary, zone and state: up, down (not stale) or stale",
        )?;
        for ((binary, zone), n) in &by {
            for (i, state) in ["up", "down", "stale"].iter().enumerate() {
                let labels = [("service", *binary), ("state", state), ("zone", *zone)];
                x.sample(SERVICES, &labels, n[i])?;
            }
        }
        x.gauge(
            DISABLED,
            "Live Cinder services that are disabled, by binary and zone",
        )?;
        for ((binary, zone), n) in &by {
            x.sample(DISABLED, &[("service", *binary), ("zone", *zone)], n[3])?;
        }
    }
    let ratios: Vec<_> = v
        .groups
        .iter()
        .filter_map(|g| g.down_ratio().map(|r| (g, r)))
        .collect();
    if !ratios.is_empty() {
        x.gauge(
            DOWN_RATIO,
            "Share of a zone's enabled hosts of one binary (of one backend, for cinder-volume) \
             that are down, stale services aside: StackLight's CinderServiceOutage at 0.5",
        )?;
        for (g, ratio) in ratios {
            let labels = [
                ("backend", g.backend.as_deref().unwrap_or("")),
                ("service", g.binary.as_str()),
                ("zone", g.zone.as_deref().unwrap_or("")),
            ];
            x.sample(DOWN_RATIO, &labels, ratio)?;
        }
    }
    x.gauge(
        STALE_AFTER,
        "How long a service must be down, unused, to count as stale (--stale-after)",
    )?;
    x.sample(STALE_AFTER, &[], v.rules.stale_after.num_seconds())?;
    scrape_families(&mut x, scrape, true)?;
    x.out.flush()
}

/// What a failed reading leaves for node_exporter: success 0 and the UNKNOWN status, so the
/// failure alerts instead of old numbers passing for new ones.
pub(crate) fn render_failure(scrape: &Scrape, out: impl Write) -> io::Result<()> {
    let mut x = Exposition { out };
    scrape_families(&mut x, scrape, false)?;
    x.out.flush()
}

fn scrape_families<W: Write>(
    x: &mut Exposition<W>,
    scrape: &Scrape,
    success: bool,
) -> io::Result<()> {
    if let Some(status) = scrape.status {
        x.gauge(
            CHECK_STATUS,
            "svcctl service check's status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN",
        )?;
        x.sample(CHECK_STATUS, &[], status.code())?;
    }
    x.gauge(
        SUCCESS,
        "Whether svcctl could read the Cinder database (1) or not (0)",
    )?;
    x.sample(SUCCESS, &[], u8::from(success))?;
    x.gauge(
        TIMESTAMP,
        "When svcctl read the Cinder database, in seconds since the Unix epoch",
    )?;
    x.sample(TIMESTAMP, &[], scrape.timestamp)?;
    x.gauge(
        DURATION,
        "How long svcctl took to read and judge the services, in seconds",
    )?;
    x.sample(DURATION, &[], scrape.duration)
}

/// Prints the exposition to stdout (`service list -f prometheus`), buffered.
pub(crate) fn print(v: &Verdict, scrape: &Scrape) -> Result<()> {
    let out = io::BufWriter::with_capacity(64 * 1024, crate::term::stdout());
    Ok(render(v, scrape, out)?)
}

/// Replaces `path` with what `write_to` writes, atomically, as node_exporter's textfile collector needs: a
/// temporary file in the same directory (a name the collector ignores: it reads `*.prom`),
/// written, synced, mode 0644, then renamed over `path`, and the directory synced. A reader
/// sees the old file or the new one, never a part.
pub(crate) fn write_textfile(
    path: &Path,
    write_to: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    replace(path, dir, &tmp, write_to).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        anyhow::anyhow!(
            "cannot write the textfile {} (--textfile): {}; check that its directory exists \
             and is writable",
            crate::text::quote(&path.display().to_string()),
            crate::error::io_reason(&e)
        )
    })
}

/// `write_textfile`'s steps: `tmp` written, synced, renamed over `path`, `dir` synced.
fn replace(
    path: &Path,
    dir: &Path,
    tmp: &Path,
    write_to: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    // A leftover of a run killed with this same pid.
    let _ = std::fs::remove_file(tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .open(tmp)?;
    // The umask may have taken bits away; node_exporter often runs as another user.
    f.set_permissions(std::fs::Permissions::from_mode(0o644))?;
    let mut buffered = io::BufWriter::with_capacity(64 * 1024, &mut f);
    write_to(&mut buffered)?;
    buffered.flush()?;
    drop(buffered);
    f.sync_all()?;
    drop(f);
    std::fs::rename(tmp, path)?;
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The exposition format's reading of a quoted label value (what Prometheus's parser does).
    fn unescape(s: &str) -> Option<String> {
        let mut out = String::new();
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next()? {
                    '\\' => out.push('\\'),
                    '"' => out.push('"'),
                    'n' => out.push('\n'),
                    _ => return None,
                },
                '"' | '\n' => return None,
                c => out.push(c),
            }
        }
        Some(out)
    }

    #[test]
    fn label_escaping_examples() {
        assert_eq!(escape_label(r#"a"b\c"#), r#"a\"b\\c"#);
        assert_eq!(escape_label("a\nb"), r"a\nb");
        let mut out = Vec::new();
        Exposition { out: &mut out }
            .sample("m", &[("hostname", "n\"1"), ("zone", "")], 1)
            .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "m{hostname=\"n\\\"1\",zone=\"\"} 1\n"
        );
    }

    proptest! {
        /// Any label value: the escaped form holds no raw quote or line feed, so the sample
        /// stays on its line and its value ends where it should, and it reads back as given.
        #[test]
        fn escaped_labels_read_back(s in any::<String>()) {
            let e = escape_label(&s);
            prop_assert!(!e.contains('\n'));
            prop_assert_eq!(unescape(&e), Some(s.clone()));
        }

        #[test]
        fn escaping_is_the_identity_on_plain_text(s in "[a-zA-Z0-9@#._ -]{0,40}") {
            prop_assert_eq!(escape_label(&s), s.as_str());
        }
    }

    #[test]
    fn textfile_is_replaced_with_mode_0644() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cinder.prom");
        write_textfile(&path, |w| w.write_all(b"a 1\n")).unwrap();
        write_textfile(&path, |w| w.write_all(b"a 2\n")).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "a 2\n");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644);
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "no temporary file is left");
        let err = write_textfile(&dir.path().join("no/such/dir.prom"), |w| w.write_all(b"x"))
            .unwrap_err();
        assert!(
            format!("{err:#}").contains("cannot write the textfile"),
            "{err:#}"
        );
    }
}
