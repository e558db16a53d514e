//! Trust under hostile conditions, through the real `fieldsync` binary: what it creates is owner-only, a
//! forced delete keeps the pending photos' files, special files are refused at once, and parallel
//! processes adding photos to one database process each photo once.

#![allow(clippy::unwrap_used)]

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use support::{query, repository};

/// `fieldsync --db DB ARGS` under `umask 022` (the usual default), with a clean environment.
fn command(db: &Path, args: &[&str]) -> Command {
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg("umask 022 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_fieldsync"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("FIELDSYNC_DB")
        .env_remove("FIELDSYNC_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Runs a command, killing it after `limit`: a command that hangs fails the test instead of hanging it.
fn run_within(db: &Path, args: &[&str], limit: Duration) -> Output {
    let mut child = command(db, args).spawn().unwrap();
    let deadline = Instant::now() + limit;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("fieldsync {args:?} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn ok(db: &Path, args: &[&str]) -> String {
    let output = run_within(db, args, Duration::from_secs(60));
    assert!(
        output.status.success(),
        "fieldsync {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// A cache in a fresh folder with `ACME` (password from stdin) and the projects of `sample_full.json`.
fn cache() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cache.db");
    let mut child = command(
        &db,
        &[
            "integration",
            "add",
            "ACME",
            "--url",
            "http://127.0.0.1:9/api",
            "--username",
            "u",
            "--password-stdin",
        ],
    )
    .stdin(Stdio::piped())
    .spawn()
    .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), b"pw\n").unwrap();
    assert!(child.wait_with_output().unwrap().status.success());
    let sample = repository("fixtures/responses/sample_full.json");
    ok(
        &db,
        &["import", "ACME", "--file", sample.to_str().unwrap(), "--full"],
    );
    (dir, db)
}

fn add_photo(db: &Path, photo: &Path) -> Output {
    command(
        db,
        &[
            "--json",
            "photo",
            "add",
            "ACME::1001",
            "--task",
            "Lawn Cut",
            "--evidence",
            "before",
            "--file",
            photo.to_str().unwrap(),
        ],
    )
    .output()
    .unwrap()
}

/// Every file and folder under `root` (not `root` itself), with its permission bits.
fn modes(root: &Path) -> Vec<(PathBuf, bool, u32)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(root).unwrap().flatten() {
        let path = entry.path();
        let metadata = std::fs::symlink_metadata(&path).unwrap();
        found.push((
            path.clone(),
            metadata.is_dir(),
            metadata.permissions().mode() & 0o777,
        ));
        if metadata.is_dir() {
            found.extend(modes(&path));
        }
    }
    found
}

fn assert_owner_only(root: &Path) {
    let wide: Vec<_> = modes(root)
        .into_iter()
        .filter(|(_, is_dir, mode)| *mode != if *is_dir { 0o700 } else { 0o600 })
        .map(|(path, _, mode)| format!("{} {mode:o}", path.display()))
        .collect();
    assert!(wide.is_empty(), "not owner-only: {wide:#?}");
}

/// Log lines without their colours.
fn strip_ansi(text: &str) -> String {
    let mut plain = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // An SGR sequence: ESC [ ... m
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    plain
}

fn sha256sum(path: &Path) -> String {
    let output = Command::new("sha256sum").arg(path).output().unwrap();
    String::from_utf8(output.stdout).unwrap()[..64].to_owned()
}

#[test]
fn item_7_the_database_wal_shm_and_photo_store_are_owner_only() {
    let (dir, db) = cache();
    ok(
        &db,
        &[
            "photo",
            "add",
            "ACME::1001",
            "--task",
            "Lawn Cut",
            "--evidence",
            "before",
            "--file",
            repository("fixtures/photos/phone/jolla.jpg").to_str().unwrap(),
        ],
    );
    let photos = dir.path().join("cache.db-photos");
    for folder in ["originals", "renditions", "thumbnails"] {
        assert_eq!(
            std::fs::read_dir(photos.join(folder)).unwrap().count(),
            1,
            "{folder}"
        );
    }
    // The -wal and -shm files exist while a process has the database open: look at them then.
    let mut watcher: Child = command(&db, &["watch", "--interval", "3600"]).spawn().unwrap();
    let wal = dir.path().join("cache.db-wal");
    let shm = dir.path().join("cache.db-shm");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !(wal.exists() && shm.exists()) {
        assert!(
            Instant::now() < deadline,
            "no -wal/-shm while the database is open"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_owner_only(dir.path());
    watcher.kill().unwrap();
    watcher.wait().unwrap();
    assert!(dir.path().join("cache.db-runs").is_dir());
    assert_owner_only(dir.path());

    // A database and photo store left world-readable by an older build are narrowed at the next start.
    for path in [db.clone(), photos.join("originals")] {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    ok(&db, &["integration", "list"]);
    assert_owner_only(dir.path());
}

#[test]
fn item_8_a_forced_delete_exports_the_pending_photos_files_and_the_sweep_leaves_them() {
    let (dir, db) = cache();
    let jolla = repository("fixtures/photos/phone/jolla.jpg");
    let added = add_photo(&db, &jolla);
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let photo: serde_json::Value = serde_json::from_slice(&added.stdout).unwrap();
    let uuid = photo["uuid"].as_str().unwrap().to_owned();
    assert_eq!(photo["state"], "pending_qa", "{photo}");

    let deleted = run_within(
        &db,
        &["integration", "delete", "ACME", "--force"],
        Duration::from_secs(60),
    );
    assert!(
        deleted.status.success(),
        "{}",
        String::from_utf8_lossy(&deleted.stderr)
    );
    let exports: Vec<PathBuf> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| {
            path.file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| name.starts_with("cache.db.ACME-pending-"))
        })
        .collect();
    assert_eq!(exports.len(), 1, "{exports:?}");
    let export = &exports[0];
    assert!(export.is_dir(), "the export is a folder: {}", export.display());

    let check = |export: &Path| {
        let manifest: serde_json::Value =
            serde_json::from_slice(&std::fs::read(export.join("pending.json")).unwrap()).unwrap();
        let photos = manifest["photos"].as_array().unwrap();
        assert_eq!(photos.len(), 1, "{manifest}");
        assert_eq!(photos[0]["uuid"], uuid.as_str());
        let original = export.join(photos[0]["original"]["file"].as_str().unwrap());
        assert_eq!(std::fs::read(&original).unwrap(), std::fs::read(&jolla).unwrap());
        assert_eq!(
            sha256sum(&original),
            photos[0]["original"]["sha256"].as_str().unwrap()
        );
        assert_eq!(sha256sum(&original), sha256sum(&jolla));
        let rendition = export.join(photos[0]["rendition"]["file"].as_str().unwrap());
        assert_eq!(
            sha256sum(&rendition),
            photos[0]["rendition"]["sha256"].as_str().unwrap()
        );
        assert!(
            manifest["entries"]
                .as_array()
                .unwrap()
                .iter()
                .any(|entry| entry["id"] == uuid.as_str()),
            "{manifest}"
        );
    };
    check(export);
    assert_owner_only(dir.path());

    // The next command sweeps the photo store (the rows are gone): the export stays whole.
    ok(&db, &["integration", "list"]);
    assert_eq!(
        std::fs::read_dir(dir.path().join("cache.db-photos/originals"))
            .unwrap()
            .count(),
        0,
        "the sweep ran"
    );
    check(export);
}

#[test]
fn item_11_devices_and_fifos_are_refused_at_once_with_nothing_written() {
    let (dir, db) = cache();
    let fifo = dir.path().join("fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let before = |db: &Path| {
        (
            query(db, "SELECT id FROM photos"),
            query(db, "SELECT id FROM outbox"),
            query(db, "SELECT name FROM work_types"),
            query(db, "SELECT status FROM integrations"),
            ok(db, &["--json", "projects", "--limit", "1000"]),
        )
    };
    let snapshot = before(&db);
    for special in [Path::new("/dev/zero"), fifo.as_path()] {
        let path = special.to_str().unwrap();
        let commands: [&[&str]; 4] = [
            &[
                "photo",
                "add",
                "ACME::1001",
                "--task",
                "Lawn Cut",
                "--evidence",
                "before",
                "--file",
                path,
            ],
            &["import", "ACME", "--file", path, "--full"],
            &["work-type", "add", "Winterize", "--file", path],
            &["checkin", "ACME::1001", "--track", path],
        ];
        for args in commands {
            let started = Instant::now();
            let output = run_within(&db, args, Duration::from_secs(10));
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(!output.status.success(), "fieldsync {args:?} succeeded");
            assert!(
                stderr.contains("not a regular file"),
                "fieldsync {args:?}: {stderr}"
            );
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "fieldsync {args:?} took {:?}",
                started.elapsed()
            );
            assert_eq!(before(&db), snapshot, "fieldsync {args:?} wrote something");
        }
    }
}

#[test]
fn item_15_parallel_photo_adds_process_each_photo_once() {
    let (_dir, db) = cache();
    let photos: Vec<PathBuf> = [
        "DSCN0010", "DSCN0012", "DSCN0021", "DSCN0025", "DSCN0027", "DSCN0029",
    ]
    .iter()
    .map(|name| repository(&format!("fixtures/photos/gps/{name}.jpg")))
    .collect();
    for _round in 0..2 {
        let children: Vec<Child> = photos
            .iter()
            .map(|photo| {
                let mut command = command(
                    &db,
                    &[
                        "--json",
                        "photo",
                        "add",
                        "ACME::1001",
                        "--task",
                        "Lawn Cut",
                        "--evidence",
                        "before",
                        "--file",
                        photo.to_str().unwrap(),
                    ],
                );
                command.env("FIELDSYNC_LOG", "info");
                command.spawn().unwrap()
            })
            .collect();
        let mut processed = Vec::new();
        for child in children {
            let output = child.wait_with_output().unwrap();
            let stderr = strip_ansi(&String::from_utf8_lossy(&output.stderr));
            assert!(output.status.success(), "a parallel add failed: {stderr}");
            let noise: Vec<&str> = stderr
                .lines()
                .filter(|line| !line.contains(" INFO photo processed "))
                .collect();
            assert!(noise.is_empty(), "error output: {stderr}");
            processed.extend(
                stderr
                    .lines()
                    .filter(|line| line.contains("photo processed"))
                    .map(|line| {
                        line.split("photo=")
                            .nth(1)
                            .unwrap()
                            .split(' ')
                            .next()
                            .unwrap()
                            .to_owned()
                    }),
            );
            let photo: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
            assert!(photo["uuid"].is_string(), "{photo}");
        }
        let mut rows = query(&db, "SELECT id FROM photos ORDER BY id");
        rows.sort();
        processed.sort();
        if processed.is_empty() {
            // The second round adds the same bytes again: duplicates, nothing to process.
            continue;
        }
        assert_eq!(processed, rows, "each photo processed exactly once");
    }
    assert_eq!(
        query(&db, "SELECT DISTINCT state FROM photos"),
        ["pending_qa"],
        "every photo processed"
    );
    assert_eq!(query(&db, "SELECT id FROM photos").len(), photos.len());
}
