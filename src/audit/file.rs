//! The audit log as a file: opened for appending before anything changes (created with
//! restrictive modes), each record appended and synced before its transaction commits, and
//! read back whole, typed, for `service restore` and `move-host --undo`.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::record::Line;

/// Modes of what svcctl creates for the log: the records hold hostnames and command lines.
const DIR_MODE: u32 = 0o750;
const FILE_MODE: u32 = 0o640;

/// An open audit log, or the explicit decision (`--no-audit`, or a dry run) to go without.
pub(crate) struct AuditLog {
    file: Option<(PathBuf, File)>,
    /// What `open` created (directories, the log), for the caller to say once.
    pub created: Vec<PathBuf>,
}

impl AuditLog {
    /// No log: `--no-audit`, or a run that writes nothing.
    pub fn none() -> AuditLog {
        AuditLog {
            file: None,
            created: Vec::new(),
        }
    }

    /// Opens `path` for appending, creating what is missing: directories mode 0750, the log
    /// 0640 (`created` lists them). Anything in the way is an error naming the path: nothing
    /// may be changed without a record.
    pub fn open(path: &Path) -> Result<AuditLog> {
        let mut created = Vec::new();
        let opened = (|| -> std::io::Result<File> {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                let missing: Vec<&Path> = dir.ancestors().take_while(|a| !a.exists()).collect();
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(DIR_MODE)
                    .create(dir)?;
                for d in missing.into_iter().rev() {
                    // Exactly 0750, whatever the umask.
                    std::fs::set_permissions(d, std::fs::Permissions::from_mode(DIR_MODE))?;
                    created.push(d.to_path_buf());
                }
            }
            let new = !path.exists();
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .mode(FILE_MODE)
                .open(path)?;
            if new {
                file.set_permissions(std::fs::Permissions::from_mode(FILE_MODE))?;
                created.push(path.to_path_buf());
            }
            Ok(file)
        })();
        let file = opened.map_err(|e| {
            anyhow::anyhow!(
                "cannot write the audit log {} ({e}); nothing was changed; pass --audit-log PATH \
                 naming a file you can write, or --no-audit to change the database without a \
                 record",
                path.display()
            )
        })?;
        Ok(AuditLog {
            file: Some((path.to_path_buf(), file)),
            created,
        })
    }

    pub fn path(&self) -> Option<&Path> {
        self.file.as_ref().map(|(p, _)| p.as_path())
    }

    /// Appends lines and syncs them to disk. A failure is an error: the caller must not
    /// report (or commit) a change that is not on record.
    pub fn append(&mut self, lines: &[Line]) -> Result<()> {
        let Some((path, file)) = self.file.as_mut() else {
            return Ok(());
        };
        let mut buf = Vec::new();
        for line in lines {
            serde_json::to_writer(&mut buf, line)?;
            buf.push(b'\n');
        }
        file.write_all(&buf)
            .and_then(|_| file.sync_data())
            .with_context(|| format!("writing the audit log {}", path.display()))
    }
}

/// Every line of the log at `path`, in order (none when it does not exist). A line that is not
/// a whole record (truncated, hand-edited) is an error naming the file and line: svcctl cannot
/// know what it recorded, so it acts on none of it.
pub(crate) fn read(path: &Path) -> Result<Vec<Line>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(anyhow::anyhow!(
                "cannot read the audit log {} ({e}); pass --audit-log PATH naming the log the \
                 deletion was recorded in",
                path.display()
            ));
        }
    };
    let mut lines = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        if raw.trim().is_empty() {
            continue;
        }
        let line: Line = serde_json::from_str(raw).map_err(|e| {
            anyhow::anyhow!(
                "the audit log {} line {} is not a whole svcctl record ({e}); svcctl cannot tell \
                 what it recorded: repair or remove that line (keep a copy) and run again",
                path.display(),
                i + 1
            )
        })?;
        lines.push(line);
    }
    Ok(lines)
}
