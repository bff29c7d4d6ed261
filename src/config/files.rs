//! Which config files are read, and reading one: `--config-file` and `--config-dir` in
//! command-line order (a directory's `*.conf`, sorted) or the default cinder.conf, each read
//! as UTF-8 and parsed once in oslo's dialect, with errors that name the file and line.

use std::path::{Path, PathBuf};

use anyhow::Result;

use super::oslo::OsloFile;
use crate::error::{Failure, io_reason};
use crate::text;

/// Where cinder.conf is looked for when no `--config-file`/`--config-dir` is given.
pub const DEFAULT_CONFIG_FILE: &str = "/etc/cinder/cinder.conf";

/// One `--config-file` or `--config-dir`, in the order given on the command line: oslo parses
/// them in that order, so a later one overrides an earlier one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    File(PathBuf),
    Dir(PathBuf),
}

/// Reads and parses one config file. None when it is absent and only the default (`default`
/// true): oslo reads the default file only if it is there, while a file named must exist.
pub(super) fn read(path: &Path, default: bool) -> Result<Option<OsloFile>> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if default && e.kind() == std::io::ErrorKind::NotFound => {
            tracing::debug!(file = %path.display(), "default config file absent; using defaults and environment");
            return Ok(None);
        }
        Err(e) => {
            return Err(Failure::Config(format!(
                "cannot read config file {}: {}; pass an existing, readable --config-file",
                shown(path),
                io_reason(&e)
            ))
            .into());
        }
    };
    tracing::debug!(file = %path.display(), "reading config file");
    let name = path.display().to_string();
    let text = String::from_utf8(bytes).map_err(|e| {
        let bytes = e.as_bytes();
        let upto = e.utf8_error().valid_up_to();
        let line = 1 + bytes[..upto].iter().filter(|&&b| b == b'\n').count();
        Failure::Config(format!(
            "{}:{line}: not valid UTF-8; save the file as UTF-8",
            shown(path)
        ))
    })?;
    // Parsed once, here, so a malformed line is reported as `file:line: ...`, not in the
    // config crate's own wording; the crate merges the parsed result.
    let file = OsloFile::parse(&name, &text)
        .map_err(|e| Failure::Config(format!("{e}; fix the line or pass another --config-file")))?;
    Ok(Some(file))
}

/// A path as a message shows it: one line, cut short.
pub(super) fn shown(path: &Path) -> String {
    text::one_line(&path.display().to_string(), 200)
}

/// The files to read, in order: the explicit ones (a directory contributes its `*.conf`,
/// sorted), or the default cinder.conf.
pub(super) fn resolve(sources: &[ConfigSource]) -> Result<Vec<PathBuf>> {
    if sources.is_empty() {
        return Ok(vec![PathBuf::from(DEFAULT_CONFIG_FILE)]);
    }
    let mut files = Vec::new();
    for source in sources {
        match source {
            ConfigSource::File(path) => files.push(path.clone()),
            ConfigSource::Dir(dir) => {
                let entries = std::fs::read_dir(dir).map_err(|e| {
                    Failure::Config(format!(
                        "cannot read config directory {}: {}; pass an existing --config-dir",
                        shown(dir),
                        io_reason(&e)
                    ))
                })?;
                let mut confs: Vec<PathBuf> = entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "conf") && p.is_file())
                    .collect();
                confs.sort();
                files.extend(confs);
            }
        }
    }
    Ok(files)
}
