//! The CLI under hostile conditions: parallel processes on one secrets file, a `watch` interval that
//! overflows every clock, and provider or argument text full of terminal control characters.

// Helpers outside `#[test]` functions panic on purpose too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;

/// `fieldsync --db DB ARGS` with the `FIELDSYNC_*` environment cleared, fed `stdin`, not waited for.
fn spawn(db: &Path, args: &[&str], stdin: Option<&str>) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fieldsync"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("FIELDSYNC_DB")
        .env_remove("FIELDSYNC_PASSWORD")
        .env_remove("FIELDSYNC_TOKEN")
        .env_remove("FIELDSYNC_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    child
}

fn run(db: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    spawn(db, args, stdin).wait_with_output().unwrap()
}

fn add(db: &Path, code: &str, url: &str, extra: &[&str]) -> Child {
    let mut args = vec![
        "integration",
        "add",
        code,
        "--url",
        url,
        "--username",
        "vendor1",
        "--password-stdin",
    ];
    args.extend_from_slice(extra);
    spawn(db, &args, Some("secret1\n"))
}

#[test]
fn item13_parallel_integration_adds_all_keep_their_password() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cache.db");
    // Create the database first: this test is about the secrets file, not about racing migrations.
    assert!(run(&db, &["integration", "list"], None).status.success());
    let mut added = 0;
    for round in 0..10 {
        let children: Vec<(String, Child)> = (0..3)
            .map(|i| {
                let code = format!("C{round}X{i}");
                let child = add(&db, &code, "http://127.0.0.1:9/api/v2", &[]);
                (code, child)
            })
            .collect();
        for (code, child) in children {
            let output = child.wait_with_output().unwrap();
            if output.status.success() {
                added += 1;
            } else {
                eprintln!("{code}: {}", String::from_utf8_lossy(&output.stderr));
            }
        }
    }
    assert!(added > 20, "most adds succeed: {added}");
    let list = run(&db, &["--json", "integration", "list"], None);
    let integrations: Value = serde_json::from_slice(&list.stdout).unwrap();
    let integrations = integrations.as_array().unwrap();
    assert_eq!(integrations.len(), added);
    let mut secrets_path = db.as_os_str().to_owned();
    secrets_path.push(".secrets");
    let secrets: Value = serde_json::from_slice(&std::fs::read(&secrets_path).unwrap()).unwrap();
    let missing: Vec<&str> = integrations
        .iter()
        .map(|integration| integration["code"].as_str().unwrap())
        .filter(|code| secrets[code]["password_sha1"].as_str().is_none())
        .collect();
    assert!(missing.is_empty(), "no saved password for {missing:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&secrets_path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// A provider that answers every request with 406 (a permanent failure: the next attempt is one whole
/// interval later). Returns its base URL.
fn refusing_provider() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}/api/v2", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            drop(reader.read_exact(&mut body));
            let body = br#"{"error":"refused"}"#;
            let mut stream = stream;
            drop(stream.write_all(
                format!(
                    "HTTP/1.1 406 Not Acceptable\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                )
                .as_bytes(),
            ));
            drop(stream.write_all(body));
        }
    });
    base
}

#[test]
fn item9_watch_with_an_interval_of_u64_max_does_not_panic() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cache.db");
    let url = refusing_provider();
    let added = add(&db, "ACME", &url, &["--auto-import", "on"])
        .wait_with_output()
        .unwrap();
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let mut watch = spawn(&db, &["watch", "--interval", "18446744073709551615"], None);
    std::thread::sleep(Duration::from_millis(1500));
    let still_running = watch.try_wait().unwrap().is_none();
    watch.kill().ok();
    let output = watch.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(still_running, "watch keeps watching: {stderr}");
    assert!(
        stderr.contains("ACME:"),
        "the failed attempt was reported: {stderr}"
    );
}

#[test]
fn control_characters_from_the_provider_and_arguments_are_escaped_in_human_output() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cache.db");
    let name = "Acme\u{1b}[2J\u{1b}[31mRED\u{7}\r\u{202e}";
    let added = add(&db, "ACME", "http://127.0.0.1:9/api/v2", &["--name", name])
        .wait_with_output()
        .unwrap();
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let response = dir.path().join("response.json");
    std::fs::write(
        &response,
        serde_json::json!({"error": "", "serverTime": 1_700_000_000, "workOrders": [{
            "workOrderNumber": "WO-1", "address1": "1 Elm St\u{1b}]0;pwned\u{7}", "city": "Tampa\u{8}\u{8}",
            "state": "FL", "zip": "33606", "clientStatus": "Open\u{1b}[0m",
            "services": [{"serviceName": "Lawn\u{0}Cut", "instructions": "gate\u{1b}[8mhidden"}]}]})
        .to_string(),
    )
    .unwrap();
    let import = run(
        &db,
        &["import", "ACME", "--file", response.to_str().unwrap(), "--full"],
        None,
    );
    assert!(
        import.status.success(),
        "{}",
        String::from_utf8_lossy(&import.stderr)
    );
    for args in [
        &["integration", "list"][..],
        &["integration", "show", "ACME"],
        &["projects"],
        &["project", "show", "ACME::WO-1"],
    ] {
        let output = run(&db, args, None);
        assert!(output.status.success(), "{args:?}");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            !stdout.contains(['\u{1b}', '\u{0}', '\u{7}', '\u{8}', '\r', '\u{202e}']),
            "{args:?} printed a raw control character: {stdout:?}"
        );
        assert!(stdout.contains("\\u{1b}"), "{args:?} shows it escaped: {stdout}");
    }
    // An unknown project named with control characters: the error on stderr is escaped too.
    let output = run(&db, &["project", "show", "ACME::\u{1b}[2J"], None);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains('\u{1b}'), "{stderr:?}");
}
