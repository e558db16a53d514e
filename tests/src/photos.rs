//! The repository's photo fixtures (`fixtures/photos`, see its README), for the photo tests and benchmarks.

use std::path::{Path, PathBuf};

use anyhow::{Result, ensure};

/// The fixtures folder: `$FIELDSYNC_PHOTO_FIXTURES` when set, else the repository's `fixtures/photos`.
pub fn photo_fixtures() -> Result<PathBuf> {
    let dir = match std::env::var_os("FIELDSYNC_PHOTO_FIXTURES") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/photos"),
    };
    ensure!(
        dir.join("phone").is_dir() && dir.join("gps").is_dir(),
        "photo fixtures not found in {} (expected phone/ and gps/; see fixtures/photos/README.md)",
        dir.display()
    );
    Ok(dir)
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
