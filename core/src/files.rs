//! Local files the way field data needs them: created owner-only, and read only when they are regular
//! files of bounded size.
//!
//! The cache holds addresses, lockbox codes and GPS tracks, so everything fieldsync creates is `0600`
//! (files) or `0700` (directories), whatever the process's umask, and files found with wider permissions
//! are narrowed. Input named by the user or the host (a photo, a response, a work type, a GPS track) is
//! opened only if it is a regular file: a device such as `/dev/zero` reports a length of 0 and never ends,
//! and a FIFO blocks the open until a writer comes. Every read is bounded whatever the metadata says.

use std::fs::{DirBuilder, File, OpenOptions};
use std::io::Read;
use std::path::Path;

use crate::model::InvalidInput;
use crate::{Error, Result};

/// Permissions of the files fieldsync creates (owner read and write).
pub const PRIVATE_FILE_MODE: u32 = 0o600;
/// Permissions of the directories fieldsync creates (owner only).
pub const PRIVATE_DIR_MODE: u32 = 0o700;

/// Creates `directory` (and missing parents) owner-only, and narrows it to owner-only if it already
/// existed with wider permissions.
pub fn create_private_dir(directory: &Path) -> Result<()> {
    let mut builder = DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, PRIVATE_DIR_MODE);
    builder
        .create(directory)
        .map_err(|err| Error::io(directory, err))?;
    restrict(directory, PRIVATE_DIR_MODE)
}

/// Options that create a new file owner-only (the mode applies only when the file is created).
pub fn private_file_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, PRIVATE_FILE_MODE);
    options
}

/// Creates `path` owner-only if it is missing, or narrows an existing file to owner-only. Used before
/// SQLite opens the database: SQLite gives the `-wal` and `-shm` files the database file's permissions.
pub fn ensure_private_file(path: &Path) -> Result<()> {
    match private_file_options().write(true).create_new(true).open(path) {
        Ok(_) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => restrict(path, PRIVATE_FILE_MODE),
        Err(err) => Err(Error::io(path, err)),
    }
}

/// Narrows `path` to `mode` when it grants anything to the group or others (a missing path is fine).
pub fn restrict(path: &Path, mode: u32) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let metadata = match std::fs::metadata(path) {
            Ok(metadata) => metadata,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(err) => return Err(Error::io(path, err)),
        };
        if metadata.permissions().mode() & 0o077 != 0 {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
                .map_err(|err| Error::io(path, err))?;
        }
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

/// Opens `path` for reading if it is a regular file of at most `max_bytes`, returning it with its size.
///
/// The type is checked before opening (so that a FIFO is normally never opened) and again on the opened
/// file, opened without blocking (so that a path swapped for a device or a FIFO meanwhile is still refused
/// at once). Refusals
/// are [`Error::InvalidInput`] on `field`: "not a regular file", "larger than N bytes", or unreadable.
/// Callers still bound their reads (see [`read_regular_file`]): a file may grow after the check.
pub fn open_regular_file(path: &Path, max_bytes: u64, field: &str) -> Result<(File, u64)> {
    let refused = |reason: String| -> Error { InvalidInput::new(field, reason).into() };
    let before = std::fs::metadata(path).map_err(|err| unreadable(path, field, err))?;
    if !before.is_file() {
        return Err(refused(format!("{} is not a regular file", path.display())));
    }
    open_checked(path, max_bytes, field)
}

/// Opens `path` without blocking and accepts it only if the opened file is a regular file of at most
/// `max_bytes`.
fn open_checked(path: &Path, max_bytes: u64, field: &str) -> Result<(File, u64)> {
    let refused = |reason: String| -> Error { InvalidInput::new(field, reason).into() };
    let mut options = OpenOptions::new();
    options.read(true);
    // A path swapped for a FIFO after the check above must not block the open: O_NONBLOCK makes such an
    // open return at once (the type check below then refuses it); on a regular file it changes nothing.
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
    let file = options.open(path).map_err(|err| unreadable(path, field, err))?;
    let metadata = file.metadata().map_err(|err| Error::io(path, err))?;
    if !metadata.is_file() {
        return Err(refused(format!("{} is not a regular file", path.display())));
    }
    if metadata.len() > max_bytes {
        return Err(refused(too_large(path, max_bytes)));
    }
    Ok((file, metadata.len()))
}

/// Reads a whole regular file of at most `max_bytes` (see [`open_regular_file`]). The read itself stops
/// after `max_bytes + 1` bytes, so a file that grows meanwhile is refused too, with memory bounded.
pub fn read_regular_file(path: &Path, max_bytes: u64, field: &str) -> Result<Vec<u8>> {
    let (file, size) = open_regular_file(path, max_bytes, field)?;
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|err| Error::io(path, err))?;
    if bytes.len() as u64 > max_bytes {
        return Err(InvalidInput::new(field, too_large(path, max_bytes)).into());
    }
    Ok(bytes)
}

/// [`read_regular_file`] for text.
pub fn read_regular_text(path: &Path, max_bytes: u64, field: &str) -> Result<String> {
    String::from_utf8(read_regular_file(path, max_bytes, field)?)
        .map_err(|_| InvalidInput::new(field, format!("{} is not UTF-8 text", path.display())).into())
}

fn too_large(path: &Path, max_bytes: u64) -> String {
    format!("{} is larger than {max_bytes} bytes", path.display())
}

/// A file the user named that is missing or unreadable is wrong input, not a storage failure of the
/// device. Other I/O failures stay I/O errors.
fn unreadable(path: &Path, field: &str, err: std::io::Error) -> Error {
    use std::io::ErrorKind::{IsADirectory, NotFound, PermissionDenied};
    match err.kind() {
        NotFound | PermissionDenied | IsADirectory => {
            InvalidInput::new(field, format!("cannot read {}: {err}", path.display())).into()
        }
        _ => Error::io(path, err),
    }
}

#[cfg(all(test, unix))]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn created_and_existing_paths_end_up_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("cache.db");
        ensure_private_file(&file).unwrap();
        assert_eq!(mode(&file), 0o600);
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        ensure_private_file(&file).unwrap();
        assert_eq!(mode(&file), 0o600);
        let folder = dir.path().join("a/b");
        create_private_dir(&folder).unwrap();
        assert_eq!(mode(&folder), 0o700);
    }

    #[test]
    fn a_fifo_that_slipped_past_the_first_check_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("swapped");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(made.success());
        // The second half of `open_regular_file`, as if the path became a FIFO after the first check:
        // without O_NONBLOCK this open would wait for a writer forever.
        // Run in a thread so that a regression fails the test instead of hanging it.
        let (done, outcome) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = done.send(open_checked(&fifo, 1024, "file").map(|_| ()));
        });
        let err = outcome
            .recv_timeout(std::time::Duration::from_secs(5))
            .expect("the open blocked on a FIFO")
            .unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
    }

    #[test]
    fn devices_and_oversized_files_are_refused() {
        let err = read_regular_file(Path::new("/dev/zero"), 1024, "file").unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big");
        std::fs::write(&big, [0u8; 2048]).unwrap();
        let err = read_regular_file(&big, 1024, "file").unwrap_err();
        assert!(err.to_string().contains("larger than 1024"), "{err}");
        assert_eq!(read_regular_file(&big, 4096, "file").unwrap().len(), 2048);
    }
}
