//! A provider that answers badly: invalid JSON, wrong types, an HTML page, an error with HTTP 200, a huge
//! body. Each is a clear error, never a panic and never a partial import.
//!
//! The emulator answers correctly by design, so these answers come from a small canned HTTP server on
//! 127.0.0.1 (a real socket and a real HTTP exchange, not a mocked client).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::Arc;

use fieldsync_core::Store;
use fieldsync_core::model::{ImportKind, IntegrationStatus, NewIntegration, ProjectQuery};
use fieldsync_core::secrets::password_sha1;
use fieldsync_core::sync::SyncEngine;
use fieldsync_tests::world::Device;

/// Serves `responses` in turn (one per connection), then stops. Returns the base URL.
fn canned_server(responses: Vec<Vec<u8>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}/api", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for response in responses {
            let Ok((stream, _)) = listener.accept() else {
                return;
            };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0usize;
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
            let _ = reader.read_exact(&mut body);
            let mut stream = stream;
            let _ = stream.write_all(&response);
        }
    });
    base
}

fn http(status: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut response = format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    response.extend_from_slice(body);
    response
}

/// `http` with an HTTP `Date` header at `unix` seconds.
fn http_dated(unix: i64, body: &[u8]) -> Vec<u8> {
    let date = time::OffsetDateTime::from_unix_timestamp(unix)
        .unwrap()
        .format(&time::format_description::well_known::Rfc2822)
        .unwrap();
    let mut response = format!(
        "HTTP/1.1 200 OK\r\ndate: {date}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    response.extend_from_slice(body);
    response
}

/// A device whose integration `BAD` (vendor1, password `pw`) is at `base_url`: its directory, cache and engine.
fn engine_for(base_url: &str) -> (tempfile::TempDir, Arc<Store>, Arc<SyncEngine>) {
    let device = Device::open(NewIntegration::new("BAD", base_url, "vendor1"), "pw");
    let (store, engine) = (device.store.clone(), device.engine.clone());
    (device.close().0, store, engine)
}

const GOOD: &str = r#"{"workOrders": [{"workOrderNumber": "1", "address1": "1 Elm", "city": "A", "state": "IL",
    "zip": "1", "services": [{"serviceName": "Lawn"}]}], "error": ""}"#;

fn project_count(store: &Store) -> usize {
    store
        .list_projects(&ProjectQuery {
            limit: 1000,
            ..Default::default()
        })
        .unwrap()
        .len()
}

fn assert_refused(body: Vec<u8>, expect: &str) {
    // First a good import, then the bad answer: the cache must keep the first state.
    let base = canned_server(vec![http("200 OK", "application/json", GOOD.as_bytes()), body]);
    let (_dir, store, engine) = engine_for(&base);
    engine.refresh("BAD", ImportKind::FullImport).unwrap();
    let before = store
        .project(&fieldsync_core::model::ProjectId::parse("BAD::1").unwrap())
        .unwrap();
    let err = engine.refresh("BAD", ImportKind::FullImport).unwrap_err();
    let message = err.to_string();
    assert!(
        message.to_lowercase().contains(expect),
        "expected `{expect}` in: {message}"
    );
    assert_eq!(project_count(&store), 1, "no partial import");
    assert_eq!(store.project(&before.id).unwrap(), before);
    let integration = store.integration("BAD").unwrap();
    assert_eq!(integration.status, IntegrationStatus::Error);
    assert_eq!(integration.last_error.as_deref(), Some(message.as_str()));
    assert!(
        !message.contains(&password_sha1("pw")),
        "no secret in the message"
    );
}

#[test]
fn invalid_json_is_refused() {
    assert_refused(
        http(
            "200 OK",
            "application/json",
            br#"{"workOrders": [{"workOrderNumber": "2""#,
        ),
        "not valid",
    );
}

#[test]
fn a_json_value_of_the_wrong_shape_is_refused() {
    assert_refused(
        http("200 OK", "application/json", br#"{"workOrders": {"a": 1}}"#),
        "not valid",
    );
    assert_refused(http("200 OK", "application/json", b"[1, 2, 3]"), "not valid");
}

#[test]
fn orders_with_wrong_types_are_rejected_alone() {
    let body = br#"{"workOrders": [{"workOrderNumber": "2", "address1": ["x"], "city": "A", "state": "IL",
        "zip": "1", "services": [{"serviceName": "Lawn"}]}, 7], "error": ""}"#;
    let base = canned_server(vec![http("200 OK", "application/json", body)]);
    let (_dir, store, engine) = engine_for(&base);
    let report = engine.refresh("BAD", ImportKind::Refresh).unwrap();
    assert_eq!(report.rejected.len(), 2, "{report:?}");
    assert!(report.rejected[0].reason.contains("address1"));
    assert_eq!(project_count(&store), 0);
}

#[test]
fn an_html_error_page_is_refused() {
    assert_refused(
        http(
            "200 OK",
            "text/html; charset=utf-8",
            b"<html><body>Sign in to Wi-Fi</body></html>",
        ),
        "html",
    );
    assert_refused(
        http("502 Bad Gateway", "text/html", b"<html>bad gateway</html>"),
        "502",
    );
}

#[test]
fn an_error_with_http_200_is_refused() {
    assert_refused(
        http(
            "200 OK",
            "application/json",
            br#"{"workOrders": [], "error": "Token expired"}"#,
        ),
        "token expired",
    );
}

#[test]
fn a_100_mb_body_is_refused_without_holding_it() {
    // 100 MB of whitespace inside a valid-looking document: over the limit? No: the limit is 128 MiB, so a
    // 100 MB body is read (streamed to disk, never held in memory) and rejected as malformed.
    let mut body = b"{\"workOrders\": [".to_vec();
    body.resize(100 * 1024 * 1024, b' ');
    body.extend_from_slice(b"7");
    assert_refused(http("200 OK", "application/json", &body), "not valid");
}

#[test]
fn a_body_over_the_limit_is_refused_from_its_declared_length() {
    let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 200000000\r\n\r\n{}";
    assert_refused(head.as_bytes().to_vec(), "limit");
}

/// Item: an ambiguous error body counted as success (the last `error` key won), so a Full Import went on
/// to remove every project.
#[test]
fn an_ambiguous_error_body_is_a_failure_and_removes_nothing() {
    assert_refused(
        http(
            "200 OK",
            "application/json",
            br#"{"error": "Token expired", "workOrders": [], "error": ""}"#,
        ),
        "token expired",
    );
    assert_refused(
        http(
            "200 OK",
            "application/json",
            br#"{"error": "", "workOrders": [], "error": "maintenance", "error": null}"#,
        ),
        "maintenance",
    );
}

fn good_at(server_time: &str) -> Vec<u8> {
    GOOD.replacen(
        "\"error\": \"\"",
        &format!("\"error\": \"\", \"serverTime\": {server_time}"),
        1,
    )
    .into_bytes()
}

/// Item: a bogus `serverTime` became the cursor, and `cursor - 60` wrapped on the next Refresh.
#[test]
fn a_bogus_server_time_is_refused_and_reported() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let min = i64::MIN.to_string();
    let base = canned_server(vec![
        // With a Date header: the header becomes the cursor.
        http_dated(now, &good_at(&min)),
        // Without one: the cursor stays.
        http("200 OK", "application/json", &good_at(&(now * 1000).to_string())),
        http("200 OK", "application/json", &good_at(&min)),
        // A sane time moves it again.
        http("200 OK", "application/json", &good_at(&(now + 5).to_string())),
    ]);
    let (_dir, store, engine) = engine_for(&base);
    let report = engine.refresh("BAD", ImportKind::Refresh).unwrap();
    let note = report.cursor_note.expect("the report says why");
    assert!(note.contains(&min) && note.contains("Date header"), "{note}");
    assert_eq!(store.integration("BAD").unwrap().sync_cursor, Some(now));

    for _ in 0..2 {
        let report = engine.refresh("BAD", ImportKind::Refresh).unwrap();
        assert!(report.cursor_note.unwrap().contains("stays"));
        assert_eq!(store.integration("BAD").unwrap().sync_cursor, Some(now));
        assert_eq!(store.integration("BAD").unwrap().status, IntegrationStatus::Idle);
    }
    let report = engine.refresh("BAD", ImportKind::Refresh).unwrap();
    assert_eq!(report.cursor_note, None);
    assert_eq!(store.integration("BAD").unwrap().sync_cursor, Some(now + 5));
}

/// A cursor stored by an earlier version as `i64::MIN` must not overflow when the Refresh subtracts its
/// overlap.
#[test]
fn a_stored_i64_min_cursor_does_not_wrap() {
    let base = canned_server(vec![http("200 OK", "application/json", GOOD.as_bytes())]);
    let (dir, store, engine) = engine_for(&base);
    rusqlite::Connection::open(dir.path().join("device.db"))
        .unwrap()
        .execute("UPDATE integrations SET sync_cursor = ?1", [i64::MIN])
        .unwrap();
    let report = engine.refresh("BAD", ImportKind::Refresh).unwrap();
    assert_eq!(report.created, 1);
    assert_eq!(store.integration("BAD").unwrap().status, IntegrationStatus::Idle);
}
