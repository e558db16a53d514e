//! Where the cache lives when `--db` and `$FIELDSYNC_DB` do not say: `fieldsync/fieldsync.db` in the
//! platform's data directory (`$XDG_DATA_HOME` or `~/.local/share` on Linux, `~/Library/Application
//! Support` on macOS, `%APPDATA%` on Windows), never the current directory.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::exit::{Kind, fail};

/// The folder under the data directory.
pub const APP_FOLDER: &str = "fieldsync";

/// The database's file name there.
pub const DATABASE_FILE: &str = "fieldsync.db";

/// The database to open: the one given, else the default, whose folder is created owner-only (0700).
pub fn database(given: Option<&Path>) -> Result<PathBuf> {
    if let Some(path) = given {
        return Ok(path.to_owned());
    }
    let Some(data) = dirs::data_dir() else {
        return Err(fail(
            Kind::Usage,
            "no_data_directory",
            "no data directory for the default database (is $HOME set?): pass --db PATH or set FIELDSYNC_DB",
        ));
    };
    let folder = data.join(APP_FOLDER);
    create_private_folder(&folder)?;
    Ok(folder.join(DATABASE_FILE))
}

/// Creates `folder` (0700) unless it exists; its parents are created with the usual permissions.
fn create_private_folder(folder: &Path) -> Result<()> {
    if folder.is_dir() {
        return Ok(());
    }
    if let Some(parent) = folder.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create the data directory {}", parent.display()))?;
    }
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    match builder.create(folder) {
        Ok(()) => Ok(()),
        // Another process made it meanwhile.
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists && folder.is_dir() => Ok(()),
        Err(err) => {
            Err(err).with_context(|| format!("cannot create the database folder {}", folder.display()))
        }
    }
}
