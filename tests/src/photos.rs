//! The shared photo fixtures (`shared/fixtures/photos`, see its README), for the photo tests and benchmarks.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, ensure};

/// The fixtures folder: `$FIELDSYNC_PHOTO_FIXTURES`, else `fixtures/photos` in the workspace, else the
/// `shared` folder beside it.
pub fn photo_fixtures() -> Result<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    [
        std::env::var_os("FIELDSYNC_PHOTO_FIXTURES").map(PathBuf::from),
        Some(root.join("fixtures/photos")),
        Some(root.join("../shared/fixtures/photos")),
    ]
    .into_iter()
    .flatten()
    .find(|dir| dir.join("phone").is_dir())
    .context("photo fixtures not found: set FIELDSYNC_PHOTO_FIXTURES")
}

/// The phone JPEGs of the fixtures (`phone/*.jpg`), sorted by name.
pub fn phone_jpegs(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("phone"))?
        .map(|entry| entry.map(|entry| entry.path()))
        .collect::<Result<_, _>>()?;
    files.retain(|path| {
        path.extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("jpg") || ext.eq_ignore_ascii_case("jpeg"))
    });
    files.sort();
    ensure!(!files.is_empty(), "no JPEG in {}", dir.join("phone").display());
    Ok(files)
}
