//! Where the unit tests find the photo fixtures (compiled for tests only).

/// The shared photo fixtures for the unit tests: `FIELDSYNC_PHOTO_FIXTURES`, else the project's
/// `fixtures/photos`, else `../shared/fixtures/photos` next to the clone.
pub(crate) fn dir() -> std::path::PathBuf {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    [
        std::env::var_os("FIELDSYNC_PHOTO_FIXTURES").map(std::path::PathBuf::from),
        Some(root.join("fixtures/photos")),
        Some(root.join("../shared/fixtures/photos")),
    ]
    .into_iter()
    .flatten()
    .find(|dir| dir.join("orientation").is_dir())
    .expect("photo fixtures not found: set FIELDSYNC_PHOTO_FIXTURES or copy shared/fixtures/photos to fixtures/photos")
}
