//! A provider that answers badly: invalid JSON, wrong types, an HTML page, an error with HTTP 200, a huge
//! body. Each is a clear error, never a panic and never a partial import.
//!
//! The emulator answers correctly by design, so these answers come from a small canned HTTP server on
//! 127.0.0.1 (a real socket and a real HTTP exchange, not a mocked client).

#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::Arc;

use fieldsync_core::model::{ImportKind, IntegrationStatus, NewIntegration, ProjectQuery};
use fieldsync_core::secrets::{MemorySecretStore, password_sha1};
use fieldsync_core::sync::SyncEngine;
use fieldsync_core::{SecretKind, SecretStore, Store};

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

fn engine_for(base_url: &str) -> (tempfile::TempDir, Arc<Store>, SyncEngine) {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path().join("cache.db")).unwrap());
    store
        .create_integration(NewIntegration::new("BAD", base_url, "vendor1"))
        .unwrap();
    let secrets = Arc::new(MemorySecretStore::default());
    secrets
        .set("BAD", SecretKind::PasswordSha1, &password_sha1("pw"))
        .unwrap();
    let engine = SyncEngine::new(store.clone(), secrets, dir.path());
    (dir, store, engine)
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
