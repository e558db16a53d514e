//! Where the unit tests find the photo fixtures (compiled for tests only).

/// The photo fixtures for the unit tests: `FIELDSYNC_PHOTO_FIXTURES` when set, else the repository's
/// `fixtures/photos`.
pub(crate) fn dir() -> std::path::PathBuf {
    let dir = match std::env::var_os("FIELDSYNC_PHOTO_FIXTURES") {
        Some(dir) => std::path::PathBuf::from(dir),
        None => std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/photos"),
    };
    assert!(
        dir.join("orientation").is_dir(),
        "photo fixtures not found in {} (see fixtures/photos/README.md)",
        dir.display()
    );
    dir
}
