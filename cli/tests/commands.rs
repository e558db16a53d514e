//! The `fieldsync` commands as scripts use them: the `--json` shapes of import reports, integrations and
//! projects, where the database lives (`--db`, `$FIELDSYNC_DB`), and what happens to the password (only its
//! SHA-1 is kept, in a 0600 file beside the database; it never reaches the database or any output).

// Helpers outside `#[test]` functions panic on purpose too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn response_fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/responses")
        .join(name)
        .to_str()
        .unwrap()
        .to_owned()
}

/// `fieldsync ARGS` with the `FIELDSYNC_*` environment cleared, run in `dir`, fed `stdin` when given.
fn fieldsync(dir: &Path, args: &[&str], stdin: Option<&str>, env: &[(&str, &Path)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_fieldsync"));
    command
        .args(args)
        .current_dir(dir)
        .env_remove("FIELDSYNC_DB")
        .env_remove("FIELDSYNC_PASSWORD")
        .env_remove("FIELDSYNC_TOKEN")
        .env_remove("FIELDSYNC_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().unwrap();
    if let Some(text) = stdin {
        child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    }
    child.wait_with_output().unwrap()
}

/// A cache in a temporary directory; keeps every output it saw for the secrecy test.
struct Cache {
    dir: tempfile::TempDir,
    db: PathBuf,
    outputs: std::cell::RefCell<Vec<u8>>,
}

impl Cache {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("cache.db");
        Self {
            dir,
            db,
            outputs: Default::default(),
        }
    }

    /// Runs `fieldsync --db DB ARGS`, which must succeed; returns stdout.
    fn ok_with_stdin(&self, args: &[&str], stdin: Option<&str>) -> String {
        let mut full = vec!["--db", self.db.to_str().unwrap()];
        full.extend_from_slice(args);
        let output = fieldsync(self.dir.path(), &full, stdin, &[]);
        self.outputs.borrow_mut().extend_from_slice(&output.stdout);
        self.outputs.borrow_mut().extend_from_slice(&output.stderr);
        assert!(
            output.status.success(),
            "fieldsync {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        self.ok_with_stdin(args, None)
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut full = vec!["--json"];
        full.extend_from_slice(args);
        let stdout = self.ok(&full);
        serde_json::from_str(&stdout).unwrap_or_else(|err| panic!("{args:?}: not JSON ({err}): {stdout}"))
    }

    fn add_acme(&self, password: &str) -> Value {
        let stdout = self.ok_with_stdin(
            &[
                "--json",
                "integration",
                "add",
                "ACME",
                "--url",
                "http://127.0.0.1:9/api",
                "--username",
                "u",
                "--password-stdin",
            ],
            Some(&format!("{password}\n")),
        );
        serde_json::from_str(&stdout).unwrap()
    }

    fn secrets_path(&self) -> PathBuf {
        let mut path = self.db.as_os_str().to_owned();
        path.push(".secrets");
        path.into()
    }
}

fn assert_keys(value: &Value, keys: &[&str], what: &str) {
    let object = value
        .as_object()
        .unwrap_or_else(|| panic!("{what} is not an object: {value}"));
    for key in keys {
        assert!(object.contains_key(*key), "{what} has no `{key}`: {value}");
    }
}

const REPORT_KEYS: &[&str] = &[
    "created",
    "updated",
    "unchanged",
    "cancelled",
    "deleted",
    "removed",
    "kept",
    "rejected",
];

#[test]
fn import_reports_have_the_documented_json_shape() {
    let cache = Cache::new();
    cache.add_acme("pw");
    let full = cache.json(&[
        "import",
        "ACME",
        "--file",
        &response_fixture("sample_full.json"),
        "--full",
    ]);
    assert_keys(&full, REPORT_KEYS, "the Full Import report");
    for key in REPORT_KEYS.iter().filter(|key| **key != "rejected") {
        assert!(full[key].is_u64(), "`{key}` is not a count: {full}");
    }
    // 1004 has no ZIP code and 1005 a latitude that is not a number: rejected, each with its reason.
    assert_eq!(full["created"], 3, "{full}");
    let rejected = full["rejected"].as_array().unwrap();
    let numbers: Vec<&str> = rejected
        .iter()
        .map(|rejection| {
            assert_keys(rejection, &["work_order_number", "reason"], "a rejection");
            assert!(!rejection["reason"].as_str().unwrap().is_empty(), "{rejection}");
            rejection["work_order_number"].as_str().unwrap()
        })
        .collect();
    assert_eq!(numbers, ["1004", "1005"], "{full}");
    assert!(rejected[0]["reason"].as_str().unwrap().contains("zip"), "{full}");

    let refresh = cache.json(&[
        "import",
        "ACME",
        "--file",
        &response_fixture("sample_refresh.json"),
    ]);
    assert_keys(&refresh, REPORT_KEYS, "the Refresh report");
    assert_eq!(refresh["updated"], 1, "{refresh}");
    assert_eq!(refresh["cancelled"], 1, "{refresh}");
    assert_eq!(refresh["deleted"], 1, "{refresh}");
    assert_eq!(refresh["created"], 0, "{refresh}");
    assert_eq!(refresh["removed"], 0, "{refresh}");
    assert_eq!(refresh["rejected"], serde_json::json!([]), "{refresh}");
    let cancelled = cache.json(&["projects", "--client-status", "cancelled"]);
    assert_eq!(cancelled[0]["id"], "ACME::1002", "{cancelled}");
    let deleted = cache.json(&["projects", "--client-status", "Deleted"]);
    assert_eq!(deleted[0]["id"], "ACME::1003", "{deleted}");

    // Without --json: one line a person can read.
    let text = cache.ok(&[
        "import",
        "ACME",
        "--file",
        &response_fixture("sample_refresh.json"),
    ]);
    assert!(text.starts_with("Refresh of ACME: "), "{text}");
}

#[test]
fn integration_list_has_the_documented_json_shape() {
    let cache = Cache::new();
    cache.add_acme("pw");
    let list = cache.json(&["integration", "list"]);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1);
    let acme = &list[0];
    assert_keys(
        acme,
        &[
            "code",
            "name",
            "type",
            "mode",
            "status",
            "last_refreshed",
            "last_error",
            "publish_to",
            "auto_admin",
            "default_work_type",
            "default_assign_to",
            "auto_relay",
        ],
        "an integration",
    );
    assert_eq!(acme["code"], "ACME");
    assert_eq!(acme["type"], "pruvan_share");
    assert_eq!(acme["mode"], "external");
    assert_eq!(acme["status"], "idle");
    assert_eq!(acme["last_refreshed"], Value::Null);
    assert_eq!(acme["auto_admin"], true);
    assert_eq!(acme["auto_relay"], false);
    for secret in ["password", "password_sha1", "token"] {
        assert!(
            acme.get(secret).is_none(),
            "the integration JSON shows `{secret}`"
        );
    }
    cache.ok(&["import", "ACME", "--file", &response_fixture("sample_full.json")]);
    let refreshed = &cache.json(&["integration", "list"])[0];
    let when = refreshed["last_refreshed"].as_str().unwrap();
    assert!(
        when.len() == 20 && when.ends_with('Z'),
        "not RFC 3339 UTC: {when}"
    );
}

#[test]
fn project_show_has_the_documented_json_shape() {
    let cache = Cache::new();
    cache.add_acme("pw");
    cache.ok(&[
        "import",
        "ACME",
        "--file",
        &response_fixture("sample_full.json"),
        "--full",
    ]);
    let project = cache.json(&["project", "show", "ACME::1001"]);
    assert_keys(
        &project,
        &[
            "id",
            "integration",
            "work_order_number",
            "work_order_info",
            "address1",
            "address2",
            "city",
            "state",
            "zip",
            "country",
            "assigned_to",
            "status",
            "due_date",
            "instructions",
            "client_status",
            "client_due_date",
            "client_instructions",
            "description",
            "reference",
            "latitude",
            "longitude",
            "options",
            "tasks",
            "closed",
        ],
        "a project",
    );
    assert_eq!(project["id"], "ACME::1001");
    assert_eq!(project["integration"], "ACME");
    assert_eq!(project["work_order_number"], "1001");
    assert_eq!(project["city"], "Springfield");
    assert_eq!(project["latitude"], 39.7817);
    assert_eq!(project["options"]["check_in_required"], true);
    assert_eq!(project["closed"], false);
    let tasks = project["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 2);
    for task in tasks {
        assert_keys(task, &["name", "instructions"], "a task");
    }
    assert_eq!(tasks[0]["name"], "Lawn Cut");
    assert_eq!(tasks[1]["instructions"], "Trim below window sills.");
}

/// Every file of the cache database (main file, WAL and shared memory).
fn database_bytes(db: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut path = db.as_os_str().to_owned();
        path.push(suffix);
        if let Ok(content) = std::fs::read(PathBuf::from(path)) {
            bytes.extend(content);
        }
    }
    bytes
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

#[test]
fn the_password_is_kept_only_as_its_sha1_in_a_private_file() {
    // SHA-1 of the password below, computed independently (`printf %s 'Tr1cky-Pa55word' | sha1sum`).
    const PASSWORD: &str = "Tr1cky-Pa55word";
    const SHA1: &str = "88352b93a796ada3360ee588b326ec59bed7d9eb";
    let cache = Cache::new();
    cache.add_acme(PASSWORD);
    cache.ok(&[
        "import",
        "ACME",
        "--file",
        &response_fixture("sample_full.json"),
        "--full",
    ]);
    cache.ok(&["integration", "list"]);
    cache.ok(&["--json", "integration", "show", "ACME"]);
    cache.ok(&["integration", "show", "ACME"]);
    cache.ok(&["projects"]);
    cache.ok(&["project", "show", "ACME::1001"]);
    cache.ok(&["-vv", "project", "edit", "ACME::1001", "--status", "Started"]);
    cache.ok_with_stdin(
        &[
            "-vv",
            "integration",
            "edit",
            "ACME",
            "--username",
            "u2",
            "--password-stdin",
        ],
        Some(&format!("{PASSWORD}\n")),
    );

    let outputs = cache.outputs.borrow();
    assert!(!outputs.is_empty());
    assert!(
        !contains(&outputs, PASSWORD),
        "the password appeared in the output"
    );
    assert!(
        !contains(&outputs, SHA1),
        "the password's SHA-1 appeared in the output"
    );
    let database = database_bytes(&cache.db);
    assert!(!contains(&database, PASSWORD), "the password is in the database");
    assert!(
        !contains(&database, SHA1),
        "the password's SHA-1 is in the database"
    );

    let secrets_path = cache.secrets_path();
    let secrets = std::fs::read_to_string(&secrets_path).unwrap();
    assert!(!secrets.contains(PASSWORD), "the password is in the secrets file");
    let secrets: Value = serde_json::from_str(&secrets).unwrap();
    assert_eq!(secrets["ACME"]["password_sha1"], SHA1, "{secrets}");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&secrets_path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "secrets file mode {:o}", mode & 0o777);
}

#[test]
fn the_database_defaults_to_the_platform_data_directory() {
    let work = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let data_home = elsewhere.path().join("data");
    let from_env = elsewhere.path().join("from-env.db");
    let env = [
        ("FIELDSYNC_DB", from_env.as_path()),
        ("XDG_DATA_HOME", data_home.as_path()),
    ];
    let add = [
        "integration",
        "add",
        "ENV",
        "--url",
        "https://p.example.com/api",
        "--username",
        "u",
        "--password-stdin",
    ];
    let output = fieldsync(work.path(), &add, Some("pw\n"), &env);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(from_env.is_file(), "$FIELDSYNC_DB was not used");
    assert!(
        !work.path().join("fieldsync.db").exists() && !data_home.exists(),
        "a default database was created despite $FIELDSYNC_DB"
    );
    let listed = fieldsync(work.path(), &["--json", "integration", "list"], None, &env);
    let listed: Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(listed[0]["code"], "ENV");

    // --db wins over the environment.
    let explicit = work.path().join("explicit.db");
    let listed = fieldsync(
        work.path(),
        &[
            "--db",
            explicit.to_str().unwrap(),
            "--json",
            "integration",
            "list",
        ],
        None,
        &env,
    );
    assert_eq!(
        serde_json::from_slice::<Value>(&listed.stdout).unwrap(),
        serde_json::json!([])
    );

    // Without either: $XDG_DATA_HOME/fieldsync/fieldsync.db, its folder owner-only; never the working
    // directory.
    let output = fieldsync(
        work.path(),
        &["--json", "integration", "list"],
        None,
        &[("XDG_DATA_HOME", data_home.as_path())],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let folder = data_home.join("fieldsync");
    assert!(folder.join("fieldsync.db").is_file());
    assert!(!work.path().join("fieldsync.db").exists());
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&folder).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700, "database folder mode {:o}", mode & 0o777);

    // The same database next time (and the credentials file beside it).
    let add = fieldsync(
        work.path(),
        &add,
        Some("pw\n"),
        &[("XDG_DATA_HOME", data_home.as_path())],
    );
    assert!(add.status.success(), "{}", String::from_utf8_lossy(&add.stderr));
    assert!(folder.join("fieldsync.db.secrets").is_file());
    let listed = fieldsync(
        work.path(),
        &["--json", "integration", "list"],
        None,
        &[("XDG_DATA_HOME", data_home.as_path())],
    );
    let listed: Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(listed[0]["code"], "ENV");
}
