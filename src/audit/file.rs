//! The audit log as a file, which svcctl (root, on a controller) writes and later acts on, so
//! nobody else may choose where it goes or what it says:
//!
//! - Opened without following links: `O_NOFOLLOW` on the log and on its directory, which is
//!   opened first and checked by its descriptor (owned by root or the user running svcctl, not
//!   writable by group or others), the log then opened inside it (`openat`). For the default
//!   log every directory above it is checked too (no link, none writable by everyone but a
//!   sticky one of root's, as /tmp, above a directory of root's or svcctl's own). What is
//!   in the way is refused before anything is read or changed: exit 2, naming what to fix.
//! - A regular file only, with one link, owned by root (or the user), not writable by group or
//!   others; made 0640 by the first record, never before (its directory is checked, and tried
//!   with a probe file, when the log is opened; only the default log's directory is ever made). A FIFO, socket or device is refused without being opened (a FIFO
//!   would hang svcctl, `/dev/full` would feed it zeros forever); `/dev/null` is taken as
//!   `--no-audit`, said so by the caller.
//! - Never torn: each transaction's lines go in one `write(2)` under an exclusive `flock` and
//!   are synced before the transaction commits; a failed or short write (a full disk) is taken
//!   back (`ftruncate` to the length before), so the log is exactly as it was. A last line left
//!   without its newline (a crash mid-write) is ended before the next record.
//! - Read bounded: a line longer than `LINE_MAX_BYTES` is an error naming file and line; a last
//!   line without its newline, or a line cut short (a torn record, never committed: its
//!   transaction commits only after the record is synced), is skipped and reported (`Skipped`);
//!   anything else that is not a record is an error naming file and line (exit 1). A log that
//!   does not exist reads as empty and is never created by reading.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::{DirBuilderExt, FileExt, MetadataExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use anyhow::{Result, anyhow};
use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg, OFlag, openat};
use nix::sys::stat::{FileStat, Mode, SFlag, fstatat};

use super::record::Line;
use crate::error::Failure;
use crate::text;

/// Modes of what svcctl creates for the log: the records hold hostnames and command lines.
const DIR_MODE: u32 = 0o750;
const FILE_MODE: u32 = 0o640;
/// The longest line a reader accepts: a record is a few kilobytes; a line this long is not one.
pub(crate) const LINE_MAX_BYTES: usize = 1 << 20;
/// The one device a log may be: records written there are dropped, as with `--no-audit`.
pub(crate) const NULL_DEVICE: &str = "/dev/null";

/// How the log at a path is opened.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Open {
    /// It is svcctl's default log: every directory above it is checked too.
    pub default: bool,
    /// Do not create it (`service restore`, `--undo`: a log that does not exist holds nothing
    /// to undo, and reading one must not make one).
    pub must_exist: bool,
}

/// An open audit log, or the explicit decision (`--no-audit`, or a dry run) to go without.
pub(crate) struct AuditLog {
    /// The log's path, when there is one to write (also when `file` is missing: `must_exist`).
    path: Option<PathBuf>,
    file: Option<File>,
    /// A log that does not exist yet, checked and ready to be made by the first record: a run
    /// that writes nothing (nothing matched, refused, declined at the prompt) leaves nothing
    /// behind.
    pending: Option<Pending>,
    /// `/dev/null`: the command goes on without a record, as with `--no-audit`.
    null: bool,
    /// What the first record created (directories, the log), for the caller to say once.
    pub created: Vec<PathBuf>,
}

/// Where a log that does not exist yet will be made.
struct Pending {
    dir: PathBuf,
    /// The directory, opened and checked; None when it is to be made too (the default's only).
    dir_fd: Option<OwnedFd>,
    name: PathBuf,
}

impl AuditLog {
    /// No log: `--no-audit`, or a run that writes nothing.
    pub fn none() -> AuditLog {
        AuditLog {
            path: None,
            file: None,
            pending: None,
            null: false,
            created: Vec::new(),
        }
    }

    /// Opens `path` for appending (see the module documentation). A log that does not exist
    /// is checked now (its directory there, safe and writable) and made (0640) by the first
    /// record, unless `how.must_exist`; of a missing directory only the default log's is made
    /// (0750), and for any other path a missing directory is a usage error (exit 2), as `tee`
    /// refuses one: a typo must not grow a stray directory holding the only record. An unsafe
    /// path is refused (exit 2); one that cannot be written is an error naming the path (exit
    /// 1): nothing may be changed without a record.
    pub fn open(path: &Path, how: Open) -> Result<AuditLog> {
        if path == Path::new(NULL_DEVICE) {
            null_device()?;
            return Ok(AuditLog {
                null: true,
                ..AuditLog::none()
            });
        }
        let (dir, name) = split(path)?;
        if how.default {
            check_ancestors(&dir)?;
        }
        let missing = || AuditLog {
            path: Some(path.to_path_buf()),
            ..AuditLog::none()
        };
        let dir_fd = match open_dir(&dir) {
            Err(Opened::Missing) if how.must_exist => return Ok(missing()),
            Err(Opened::Missing) if how.default => {
                // Made by the first record; its parent must let it be made.
                let parent = dir.parent().unwrap_or(Path::new("/"));
                let parent_fd = nix::fcntl::open(
                    parent,
                    OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
                    Mode::empty(),
                )
                .and_then(|fd| probe(&fd))
                .map_err(|e| cannot_write(path, &e.into()));
                parent_fd?;
                return Ok(AuditLog {
                    pending: Some(Pending {
                        dir,
                        dir_fd: None,
                        name,
                    }),
                    ..missing()
                });
            }
            Err(Opened::Missing) => {
                return Err(Failure::Usage(format!(
                    "the audit log's directory {} does not exist; create it (mkdir -m 0750), or \
                     pass --audit-log PATH in an existing directory",
                    text::quote(&dir.display().to_string())
                ))
                .into());
            }
            Err(e) => return Err(e.into_error(&dir, path)),
            Ok(fd) => fd,
        };
        match fstatat(
            &dir_fd,
            name.as_path(),
            nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
        ) {
            Ok(st) => check_kind(&st, path)?,
            Err(Errno::ENOENT) if how.must_exist => return Ok(missing()),
            Err(Errno::ENOENT) => {
                probe(&dir_fd).map_err(|e| cannot_write(path, &e.into()))?;
                return Ok(AuditLog {
                    pending: Some(Pending {
                        dir,
                        dir_fd: Some(dir_fd),
                        name,
                    }),
                    ..missing()
                });
            }
            Err(e) => return Err(cannot_write(path, &e.into())),
        }
        let mut log = missing();
        let (file, _) = open_in(&dir_fd, &name, path, false)?;
        log.file = Some(file);
        Ok(log)
    }

    /// Makes the log that `open` found missing: its directory first when that is missing too
    /// (the default's), each exactly at its mode whatever the umask, by descriptor.
    fn create(&mut self) -> Result<()> {
        let (Some(pending), Some(path)) = (self.pending.take(), self.path.clone()) else {
            return Ok(());
        };
        let dir_fd = match pending.dir_fd {
            Some(fd) => fd,
            None => {
                let made = match std::fs::DirBuilder::new()
                    .mode(DIR_MODE)
                    .create(&pending.dir)
                {
                    Ok(()) => true,
                    // Another svcctl made it meanwhile: checked below like any other.
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => false,
                    Err(e) => return Err(cannot_write(&path, &e)),
                };
                let fd = open_dir(&pending.dir).map_err(|e| e.into_error(&pending.dir, &path))?;
                if made {
                    // Never through a name someone could have swapped for a link.
                    nix::sys::stat::fchmod(&fd, Mode::from_bits_truncate(DIR_MODE))
                        .map_err(|e| cannot_write(&path, &e.into()))?;
                    self.created.push(pending.dir.clone());
                }
                fd
            }
        };
        let (file, made) = open_in(&dir_fd, &pending.name, &path, true)?;
        if made {
            self.created.push(path.clone());
        }
        self.file = Some(file);
        Ok(())
    }

    /// The log that holds the record, if there is one.
    pub fn path(&self) -> Option<&Path> {
        self.file.as_ref().and(self.path.as_deref())
    }

    /// `/dev/null`: no record is kept (the caller warns as for `--no-audit`).
    pub fn is_null(&self) -> bool {
        self.null
    }

    /// Appends lines, all in one `write(2)` under an exclusive lock, and syncs them; a failed or
    /// short write is taken back. A failure is an error: the caller must not commit (or report)
    /// a change that is not on record.
    pub fn append(&mut self, lines: &[Line]) -> Result<()> {
        if self.null || lines.is_empty() {
            return Ok(());
        }
        if self.pending.is_some() {
            self.create()?;
        }
        let Some(path) = self.path.as_deref() else {
            return Ok(());
        };
        let Some(file) = self.file.as_ref() else {
            return Err(anyhow!(
                "the audit log {} does not exist; nothing was changed",
                path.display()
            ));
        };
        let mut buf = Vec::with_capacity(1024 * lines.len());
        for line in lines {
            serde_json::to_writer(&mut buf, line)?;
            buf.push(b'\n');
        }
        // One writer at a time, so that taking a failed write back never cuts another's.
        let dup = file.try_clone().map_err(|e| cannot_write(path, &e))?;
        let _lock = Flock::lock(dup, FlockArg::LockExclusive)
            .map_err(|(_, e)| cannot_write(path, &e.into()))?;
        append_locked(file, &buf).map_err(|e| {
            anyhow!(
                "cannot write the audit log {}: {}; nothing was changed",
                path.display(),
                e
            )
        })
    }
}

/// Whether the directory `dir_fd` takes a new file, as the first record will need: a file of
/// svcctl's own, made and removed at once (`access(2)` says yes to root even where nothing can
/// be made, as under /proc or on a read-only mount). Nothing is left behind; the name is this
/// process's, so no one else's file is ever touched.
fn probe(dir_fd: &OwnedFd) -> nix::Result<()> {
    let name = format!(".svcctl-probe-{}", std::process::id());
    let fd = openat(
        dir_fd,
        name.as_str(),
        OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::from_bits_truncate(0o600),
    )?;
    drop(fd);
    nix::unistd::unlinkat(
        dir_fd,
        name.as_str(),
        nix::unistd::UnlinkatFlags::NoRemoveDir,
    )
}

/// Opens the log `name` inside the checked directory `dir_fd` for appending, without following
/// a link; with `create`, makes it (0640) when it is not there. Whether it was made, with it.
fn open_in(dir_fd: &OwnedFd, name: &Path, path: &Path, create: bool) -> Result<(File, bool)> {
    let flags =
        OFlag::O_RDWR | OFlag::O_APPEND | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC;
    let open = |extra: OFlag| {
        openat(
            dir_fd,
            name,
            flags | extra,
            Mode::from_bits_truncate(FILE_MODE),
        )
    };
    // Another svcctl may make it between the look and the open: then it is opened as it is,
    // and checked below like any existing log.
    let (fd, made) = if create {
        match open(OFlag::O_CREAT | OFlag::O_EXCL) {
            Err(Errno::EEXIST) => (open(OFlag::empty()), false),
            other => (other, true),
        }
    } else {
        (open(OFlag::empty()), false)
    };
    let file = File::from(fd.map_err(|e| opened_error(e, path))?);
    if made {
        file.set_permissions(std::fs::Permissions::from_mode(FILE_MODE))
            .map_err(|e| cannot_write(path, &e))?;
    }
    check_file(&file, path)?;
    Ok((file, made))
}

/// Appends `buf` to the locked `file` in one write and syncs it; on failure the file is cut
/// back to its length before. A last line without its newline gets one first, in the same
/// write, so the record starts a line of its own.
fn append_locked(file: &File, buf: &[u8]) -> std::result::Result<(), String> {
    let reason = |e: &std::io::Error| crate::error::io_reason(e);
    let before = file.metadata().map_err(|e| reason(&e))?.len();
    let mut whole = Vec::new();
    let buf = if before > 0 {
        let mut last = [0u8; 1];
        file.read_exact_at(&mut last, before - 1)
            .map_err(|e| reason(&e))?;
        if last[0] == b'\n' {
            buf
        } else {
            whole.reserve(buf.len() + 1);
            whole.push(b'\n');
            whole.extend_from_slice(buf);
            &whole
        }
    } else {
        buf
    };
    let failed = match (&*file).write(buf) {
        Ok(n) if n == buf.len() => file.sync_data().err().map(|e| reason(&e)),
        Ok(n) => Some(format!(
            "only {n} of {} bytes could be written (no space left on device?)",
            buf.len()
        )),
        Err(e) => Some(reason(&e)),
    };
    let Some(why) = failed else {
        return Ok(());
    };
    // Take the partial record back: a torn line would stand in front of every later record.
    let undo = file.set_len(before).and_then(|()| file.sync_data());
    Err(match undo {
        Ok(()) => format!("{why}; the log was left as it was"),
        Err(e) => format!(
            "{why}; taking the partial record back failed too ({}): its line is incomplete and \
             is skipped when the log is read",
            reason(&e)
        ),
    })
}

/// A line of the log a reader skipped, and why: never an error, always reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Skipped {
    pub path: PathBuf,
    /// 1-based.
    pub line: usize,
    pub why: SkipWhy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SkipWhy {
    /// The last line, without its newline: a write that did not finish.
    Unterminated,
    /// A line cut short (a record torn by a crash, ended by a later writer).
    Torn,
}

/// The audit log as read back.
#[derive(Debug, Default)]
pub(crate) struct Log {
    /// Every whole record, in order, each with its line number (`Line::at`).
    pub lines: Vec<Line>,
    /// Lines skipped, for the caller to warn about.
    pub skipped: Vec<Skipped>,
    /// No log at that path (nothing was created).
    pub missing: bool,
}

/// Every record of the log at `path` (see the module documentation): the same checks as
/// `AuditLog::open` (exit 2 when the path is unsafe), nothing created.
pub(crate) fn read(path: &Path, default: bool) -> Result<Log> {
    if path == Path::new(NULL_DEVICE) {
        null_device()?;
        return Ok(Log::default());
    }
    let (dir, name) = split(path)?;
    if default {
        check_ancestors(&dir)?;
    }
    let missing = Log {
        missing: true,
        ..Log::default()
    };
    let dir_fd = match open_dir(&dir) {
        Ok(fd) => fd,
        Err(Opened::Missing) => return Ok(missing),
        Err(e) => return Err(e.into_error(&dir, path)),
    };
    match fstatat(
        &dir_fd,
        name.as_path(),
        nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
    ) {
        Ok(st) => check_kind(&st, path)?,
        Err(Errno::ENOENT) => return Ok(missing),
        Err(e) => return Err(cannot_read(path, &e.into())),
    }
    let fd = openat(
        &dir_fd,
        name.as_path(),
        OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| match e {
        Errno::ELOOP => unsafe_path(path, "is a symbolic link; svcctl never follows one"),
        e => cannot_read(path, &e.into()),
    })?;
    let file = File::from(fd);
    check_file(&file, path)?;
    read_lines(BufReader::new(file), path)
}

/// The records of a log, bounded; see `read`.
fn read_lines(mut reader: impl BufRead, path: &Path) -> Result<Log> {
    let mut log = Log::default();
    let mut buf = Vec::new();
    let mut n = 0;
    loop {
        buf.clear();
        let got = (&mut reader)
            .take(LINE_MAX_BYTES as u64 + 1)
            .read_until(b'\n', &mut buf)
            .map_err(|e| cannot_read(path, &e))?;
        if got == 0 {
            break;
        }
        n += 1;
        let at = || format!("the audit log {} line {n}", path.display());
        let Some(body) = buf.strip_suffix(b"\n") else {
            if buf.len() > LINE_MAX_BYTES {
                return Err(anyhow!(
                    "{} is longer than {} bytes: not an svcctl record; check that --audit-log \
                     names svcctl's audit log",
                    at(),
                    LINE_MAX_BYTES
                ));
            }
            // The end of the file, mid-line.
            log.skipped.push(Skipped {
                path: path.to_path_buf(),
                line: n,
                why: SkipWhy::Unterminated,
            });
            break;
        };
        let text = std::str::from_utf8(body)
            .map_err(|_| anyhow!("{} is not UTF-8: not an svcctl record; repair or remove that line (keep a copy) and run again", at()))?;
        if text.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Line>(text) {
            Ok(mut line) => {
                line.at = n;
                log.lines.push(line);
            }
            // Cut short: a torn record, whose transaction never committed.
            Err(e) if e.is_eof() => log.skipped.push(Skipped {
                path: path.to_path_buf(),
                line: n,
                why: SkipWhy::Torn,
            }),
            Err(e) => {
                return Err(anyhow!(
                    "{} is not a whole svcctl record ({e}); svcctl cannot tell what it \
                     recorded: repair or remove that line (keep a copy) and run again",
                    at()
                ));
            }
        }
    }
    Ok(log)
}

/// `/dev/null` must be the null device, not something put in its place.
fn null_device() -> Result<()> {
    let st = std::fs::symlink_metadata(NULL_DEVICE)
        .map_err(|e| cannot_write(Path::new(NULL_DEVICE), &e))?;
    use std::os::unix::fs::FileTypeExt;
    if st.file_type().is_char_device() && st.rdev() == nix::sys::stat::makedev(1, 3) {
        Ok(())
    } else {
        Err(unsafe_path(
            Path::new(NULL_DEVICE),
            "is not the null device",
        ))
    }
}

/// The log's directory (`.` for a bare name) and its file name.
fn split(path: &Path) -> Result<(PathBuf, PathBuf)> {
    let name = match path.components().next_back() {
        Some(Component::Normal(n)) => PathBuf::from(n),
        _ => return Err(unsafe_path(path, "does not name a file")),
    };
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    Ok((dir, name))
}

/// Why the directory could not be opened.
enum Opened {
    Missing,
    Link,
    NotDir,
    /// Owned by someone else, or writable by group or others: why.
    Unsafe(String),
    Other(std::io::Error),
}

impl Opened {
    fn into_error(self, dir: &Path, path: &Path) -> anyhow::Error {
        match self {
            Opened::Link => unsafe_dir(
                dir,
                "is a symbolic link; svcctl never follows one to its audit log: make it a real \
                 directory (root, mode 0750), or pass --audit-log PATH in one",
            ),
            Opened::NotDir => unsafe_dir(dir, "is not a directory"),
            Opened::Unsafe(why) => unsafe_dir(dir, &why),
            Opened::Missing => cannot_write(path, &Errno::ENOENT.into()),
            Opened::Other(e) => cannot_write(path, &e),
        }
    }
}

/// Opens `dir` itself (not a link to it) and checks it by its descriptor: owned by root or this
/// user, writable by no one else.
fn open_dir(dir: &Path) -> std::result::Result<OwnedFd, Opened> {
    let fd = nix::fcntl::open(
        dir,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| match e {
        Errno::ENOENT => Opened::Missing,
        Errno::ELOOP => Opened::Link,
        Errno::ENOTDIR => {
            // A link to something that is not a directory is still a link.
            if std::fs::symlink_metadata(dir).is_ok_and(|m| m.file_type().is_symlink()) {
                Opened::Link
            } else {
                Opened::NotDir
            }
        }
        e => Opened::Other(e.into()),
    })?;
    let st = nix::sys::stat::fstat(fd.as_fd()).map_err(|e| Opened::Other(e.into()))?;
    check_owner_and_mode(&st, "directory").map_err(Opened::Unsafe)?;
    Ok(fd)
}

/// Every directory above the default log's (`/`, `/var`, `/var/log`): none a symbolic link,
/// none writable by everyone, unless, like /tmp, it is root's with the sticky bit and the next
/// directory down is root's or svcctl's own (there no one else may rename or remove it).
/// (Group-writable is allowed there: Ubuntu's /var/log is 0775 root:syslog; the log's own
/// directory, checked by its descriptor, may not be.)
fn check_ancestors(dir: &Path) -> Result<()> {
    let mut at = PathBuf::new();
    let mut parts = dir.components().peekable();
    while let Some(c) = parts.next() {
        at.push(c);
        let last = parts.peek().is_none();
        let st = match std::fs::symlink_metadata(&at) {
            Ok(st) => st,
            // The log's own directory may be missing: it is created.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && last => return Ok(()),
            Err(e) => return Err(cannot_write(&at, &e)),
        };
        if st.file_type().is_symlink() {
            return Err(unsafe_dir(
                &at,
                "is a symbolic link; svcctl's default audit log must sit in real directories: \
                 replace the link, or pass --audit-log PATH",
            ));
        }
        let sticky_root = st.mode() & 0o1000 != 0 && st.uid() == 0;
        let mut next_kept = || {
            parts.peek().is_some_and(|next| {
                std::fs::symlink_metadata(at.join(next))
                    .is_ok_and(|m| m.uid() == 0 || m.uid() == nix::unistd::geteuid().as_raw())
            })
        };
        if st.mode() & 0o002 != 0 && !(sticky_root && !last && next_kept()) {
            return Err(unsafe_dir(
                &at,
                &format!(
                    "is writable by everyone (mode {:04o}); anyone could replace the audit log \
                     in it: chmod o-w it, or pass --audit-log PATH",
                    st.mode() & 0o7777
                ),
            ));
        }
    }
    Ok(())
}

/// Refuses what is at the log's path unless it is a regular file (checked before opening it: a
/// FIFO would block the open, a device has effects of its own).
fn check_kind(st: &FileStat, path: &Path) -> Result<()> {
    let kind = SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT;
    let what = match kind {
        SFlag::S_IFREG => return Ok(()),
        SFlag::S_IFLNK => {
            return Err(unsafe_path(
                path,
                "is a symbolic link; svcctl never follows one: remove it, or pass --audit-log \
                 PATH naming a regular file",
            ));
        }
        SFlag::S_IFIFO => "a FIFO",
        SFlag::S_IFCHR => "a character device",
        SFlag::S_IFBLK => "a block device",
        SFlag::S_IFSOCK => "a socket",
        SFlag::S_IFDIR => "a directory",
        _ => "not a regular file",
    };
    Err(unsafe_path(
        path,
        &format!(
            "is {what}; the audit log must be a regular file: pass --audit-log PATH naming one \
             (or /dev/null, which keeps no record, as --no-audit)"
        ),
    ))
}

/// The open log: a regular file with one link, owned by root or this user, writable by no one
/// else.
fn check_file(file: &File, path: &Path) -> Result<()> {
    let st = nix::sys::stat::fstat(file.as_fd()).map_err(|e| cannot_read(path, &e.into()))?;
    check_kind(&st, path)?;
    check_owner_and_mode(&st, "file").map_err(|why| unsafe_path(path, &why))?;
    if st.st_nlink > 1 {
        return Err(unsafe_path(
            path,
            &format!(
                "has {} hard links; another name for it could be any file: give the audit log \
                 a file of its own",
                st.st_nlink
            ),
        ));
    }
    Ok(())
}

/// Owned by root or by the user running svcctl, and not writable by group or others.
fn check_owner_and_mode(st: &FileStat, what: &str) -> std::result::Result<(), String> {
    let me = nix::unistd::Uid::effective().as_raw();
    if st.st_uid != 0 && st.st_uid != me {
        return Err(format!(
            "is owned by uid {}, not by root; whoever owns it could forge or remove records: \
             chown root it, or pass --audit-log PATH",
            st.st_uid
        ));
    }
    if st.st_mode & 0o022 != 0 {
        let mode = st.st_mode & 0o7777;
        return Err(format!(
            "is writable by {} (mode {mode:04o}); anyone who can write it could forge or replace \
             records: chmod go-w the {what} (svcctl makes them 0750 and 0640), or pass \
             --audit-log PATH",
            if st.st_mode & 0o002 != 0 {
                "everyone"
            } else {
                "its group"
            },
        ));
    }
    Ok(())
}

/// A log path svcctl refuses to use: exit 2, before anything is read or changed.
fn unsafe_path(path: &Path, why: &str) -> anyhow::Error {
    Failure::Usage(format!(
        "the audit log {} {why}; nothing was read or changed",
        text::quote(&path.display().to_string())
    ))
    .into()
}

fn unsafe_dir(dir: &Path, why: &str) -> anyhow::Error {
    Failure::Usage(format!(
        "the audit log's directory {} {why}; nothing was read or changed",
        text::quote(&dir.display().to_string())
    ))
    .into()
}

/// The error for a log that opening failed on, by what the failure means.
fn opened_error(e: Errno, path: &Path) -> anyhow::Error {
    match e {
        Errno::ELOOP => unsafe_path(path, "is a symbolic link; svcctl never follows one"),
        // A FIFO put there after the check, with no reader.
        Errno::ENXIO => unsafe_path(path, "is a FIFO; the audit log must be a regular file"),
        e => cannot_write(path, &e.into()),
    }
}

fn cannot_write(path: &Path, e: &std::io::Error) -> anyhow::Error {
    anyhow!(
        "cannot write the audit log {} ({}); nothing was changed; pass --audit-log PATH naming a \
         file you can write, or --no-audit to change the database without a record",
        path.display(),
        crate::error::io_reason(e)
    )
}

fn cannot_read(path: &Path, e: &std::io::Error) -> anyhow::Error {
    anyhow!(
        "cannot read the audit log {} ({}); pass --audit-log PATH naming the log the change was \
         recorded in",
        path.display(),
        crate::error::io_reason(e)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Result<Log> {
        read_lines(std::io::Cursor::new(text.as_bytes()), Path::new("/l"))
    }

    const REC: &str =
        r#"{"event":"service_soft_deleted","time":"t","txn":"x","user":"u","hostname":"h"}"#;

    #[test]
    fn torn_lines_are_skipped_and_named_damaged_ones_are_errors() {
        let log = lines(&format!("{REC}\n{REC}\n")).unwrap();
        assert_eq!(log.lines.iter().map(|l| l.at).collect::<Vec<_>>(), [1, 2]);
        assert!(log.skipped.is_empty());
        // A last line without its newline, and a torn record a later writer ended.
        let log = lines(&format!("{}\n{REC}\n{}", &REC[..20], &REC[..30])).unwrap();
        assert_eq!(log.lines.len(), 1);
        assert_eq!(log.lines[0].at, 2);
        assert_eq!(
            log.skipped
                .iter()
                .map(|s| (s.line, s.why))
                .collect::<Vec<_>>(),
            [(1, SkipWhy::Torn), (3, SkipWhy::Unterminated)]
        );
        let e = lines(&format!("{REC}\n{}\n", REC.replace("\"x\"", "3"))).unwrap_err();
        assert!(
            format!("{e:#}").contains("/l line 2 is not a whole svcctl record"),
            "{e:#}"
        );
        let e = lines("\u{0}\u{0}\u{0}\n").unwrap_err();
        assert!(format!("{e:#}").contains("line 1"), "{e:#}");
    }

    #[test]
    fn reading_is_bounded() {
        // An endless line (as /dev/full or /dev/zero would give) ends at the limit.
        let endless = std::io::repeat(0).take(LINE_MAX_BYTES as u64 * 4);
        let e = read_lines(BufReader::new(endless), Path::new("/dev/zero")).unwrap_err();
        assert!(format!("{e:#}").contains("line 1 is longer than"), "{e:#}");
    }
}
