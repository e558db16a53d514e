//! The hostile-provider faults (redirect, trickle, exactBody, serverTime, retryAfter), seen from a real
//! client over 127.0.0.1: the exact status, headers, bytes and timing it gets.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use fieldsync_provider::{Endpoint, Fault, FaultKind};
use reqwest::StatusCode;
use reqwest::blocking::Client;
use serde_json::{Value, json};

use crate::common::*;

/// A client that never follows redirects (to see the redirect itself).
fn no_redirect_client() -> Client {
    let _ = client(); // installs the TLS provider reqwest needs to build any client
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// A raw HTTP/1.1 exchange whose answer is read as it arrives.
struct RawExchange {
    stream: TcpStream,
    /// The status line and headers, without the blank line.
    head: String,
    /// Body bytes received so far.
    body: Vec<u8>,
}

impl RawExchange {
    /// Sends a form POST and reads until the end of the response headers.
    fn post(addr: SocketAddr, path: &str, payload: &Value) -> Self {
        let form = format!("payload={}", form_encode(&payload.to_string()));
        let mut stream = TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(
            stream,
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Content-Length: {}\r\n\r\n{form}",
            form.len()
        )
        .unwrap();
        let mut received = Vec::new();
        let mut buf = [0u8; 4096];
        let end = loop {
            if let Some(end) = received.windows(4).position(|w| w == b"\r\n\r\n") {
                break end;
            }
            let n = stream.read(&mut buf).unwrap();
            assert!(n > 0, "connection closed before the headers ended");
            received.extend_from_slice(&buf[..n]);
        };
        Self {
            head: String::from_utf8(received[..end].to_vec()).unwrap(),
            body: received[end + 4..].to_vec(),
            stream,
        }
    }

    fn status_line(&self) -> &str {
        self.head.lines().next().unwrap()
    }

    /// Every value of a header, in order (names compared case-insensitively).
    fn headers(&self, name: &str) -> Vec<&str> {
        self.head
            .lines()
            .skip(1)
            .filter_map(|line| line.split_once(':'))
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
            .collect()
    }

    fn content_length(&self) -> usize {
        self.headers("content-length")[0].parse().unwrap()
    }

    /// Reads whatever arrives until `deadline`; returns false if the server closed the connection.
    fn read_until(&mut self, deadline: Instant) -> bool {
        let mut buf = [0u8; 4096];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return true;
            }
            self.stream.set_read_timeout(Some(left)).unwrap();
            match self.stream.read(&mut buf) {
                Ok(0) => return false,
                Ok(n) => self.body.extend_from_slice(&buf[..n]),
                Err(err) if matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => return true,
                Err(_) => return false,
            }
        }
    }
}

/// Polls `done` every 20 ms for up to `limit`; returns whether it became true.
fn eventually(limit: Duration, done: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    done()
}

#[test]
fn a_redirect_is_answered_with_its_location_and_nothing_processed() {
    let first = env();
    let second = env();
    let target = format!("{}/validate", second.provider.base_url());
    let no_follow = no_redirect_client();
    let validate = || {
        no_follow
            .post(first.url("validate"))
            .form(&[("payload", with_auth(json!({"pushkey": "pk-r"})).to_string())])
            .send()
            .unwrap()
    };

    for status in [301, 302, 303, 307, 308] {
        first
            .provider
            .admin()
            .set_fault(Fault::new(Endpoint::Validate, FaultKind::redirect(status, &target)).times(1))
            .unwrap();
        let response = validate();
        assert_eq!(response.status().as_u16(), status);
        assert_eq!(response.headers()["location"], target.as_str());
        assert_eq!(response.json::<Value>().unwrap()["validated"], json!(false));
    }
    // Neither emulator processed anything: the first answered the redirect, the second was never asked.
    for env in [&first, &second] {
        assert_eq!(env.provider.admin().user(USER).unwrap().unwrap().push_key, None);
    }

    // The Location is a working URL: a client that does follow a 307 re-posts to the second emulator.
    first
        .provider
        .admin()
        .set_fault(Fault::new(Endpoint::Validate, FaultKind::redirect(307, &target)).times(1))
        .unwrap();
    let (status, body) = first.call("validate", &with_auth(json!({"pushkey": "pk-r"})));
    assert_eq!((status, body["validated"].clone()), (StatusCode::OK, json!(true)));
    let pushed = |env: &Env| env.provider.admin().user(USER).unwrap().unwrap().push_key;
    assert_eq!(pushed(&first), None);
    assert_eq!(pushed(&second).as_deref(), Some("pk-r"));

    // Only redirect statuses are accepted.
    let err = first
        .provider
        .admin()
        .set_fault(Fault::new(Endpoint::Validate, FaultKind::redirect(200, &target)))
        .unwrap_err();
    assert!(err.to_string().contains("301, 302, 303, 307 or 308"), "{err}");
}

#[test]
fn a_trickle_sends_the_real_answer_slowly_and_stops_when_the_client_leaves() {
    let env = env();
    let admin = env.provider.admin();
    admin.seed_demo().unwrap();
    admin.set_time(Some(1_700_000_000)); // the same serverTime in every answer
    let full_text = || {
        env.post("getWorkOrders", &with_auth(json!({"timestamp": null})))
            .unwrap()
            .text()
            .unwrap()
    };
    let full = full_text();
    admin
        .set_fault(Fault::new(Endpoint::GetWorkOrders, FaultKind::trickle(1, 100)).times(1))
        .unwrap();

    let started = Instant::now();
    let mut exchange = RawExchange::post(
        env.provider.addr(),
        "/api/v2/getWorkOrders",
        &with_auth(json!({"timestamp": null})),
    );
    // The headers come at once, announcing the whole real answer.
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(exchange.status_line(), "HTTP/1.1 200 OK");
    assert_eq!(exchange.content_length(), full.len());
    assert!(full.len() > 1000);

    // 1 byte every 100 ms: about 6 bytes in 650 ms, certainly fewer than 10, and some progress.
    let headers_at = Instant::now();
    assert!(
        exchange.read_until(headers_at + Duration::from_millis(650)),
        "still open"
    );
    let received = exchange.body.len();
    println!("trickle: {received} bytes in 650 ms");
    assert!((1..10).contains(&received), "{received} bytes");
    assert_eq!(
        exchange.body,
        full.as_bytes()[..received],
        "the real answer's first bytes"
    );
    assert_eq!(admin.active_trickles(), 1);

    // The client leaves: the server must stop feeding the body.
    exchange.stream.shutdown(Shutdown::Both).unwrap();
    drop(exchange);
    let left = Instant::now();
    assert!(
        eventually(Duration::from_secs(5), || admin.active_trickles() == 0),
        "the trickle outlived its client"
    );
    println!("trickle stopped {:?} after the client left", left.elapsed());

    // One-shot rule: the next answer is whole and immediate.
    let started = Instant::now();
    assert!(full_text() == full, "the same whole answer");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn a_trickle_of_a_given_body_delivers_every_byte_at_the_given_pace() {
    let env = env();
    let admin = env.provider.admin();
    let body = r#"{"error":"","serverTime":1,"workOrders":[]}"#;
    admin
        .set_fault(Fault::new(
            Endpoint::Validate,
            FaultKind::Trickle {
                bytes: 10,
                every_ms: 60,
                body: Some(body.into()),
            },
        ))
        .unwrap();
    let started = Instant::now();
    let response = env
        .post("validate", &with_auth(json!({"pushkey": "pk-t"})))
        .unwrap();
    let headers_after = started.elapsed();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(
        response.headers()["content-length"],
        body.len().to_string().as_str()
    );
    let bytes = response.bytes().unwrap();
    let total = started.elapsed();
    println!("given-body trickle: headers after {headers_after:?}, whole body after {total:?}");
    assert_eq!(bytes.as_ref(), body.as_bytes());
    // 43 bytes in pieces of 10 = 5 pieces, each after 60 ms; at least 4 of them after the headers even
    // if hyper held the headers back until the first piece.
    assert!(total >= Duration::from_millis(300), "{total:?}");
    assert!(
        total.saturating_sub(headers_after) >= Duration::from_millis(240),
        "{headers_after:?}"
    );
    assert_eq!(
        admin.user(USER).unwrap().unwrap().push_key,
        None,
        "with a given body the request is not processed"
    );
    assert!(eventually(Duration::from_secs(2), || admin.active_trickles() == 0));
}

#[test]
fn stopping_the_server_ends_a_trickle_at_once() {
    let env = env();
    let admin = env.provider.admin().clone();
    admin.seed_demo().unwrap();
    admin
        .set_fault(Fault::new(Endpoint::GetWorkOrders, FaultKind::trickle(1, 1_000)))
        .unwrap();
    let mut exchange = RawExchange::post(
        env.provider.addr(),
        "/api/v2/getWorkOrders",
        &with_auth(json!({"timestamp": null})),
    );
    assert_eq!(exchange.status_line(), "HTTP/1.1 200 OK");
    assert_eq!(admin.active_trickles(), 1);

    // The trickle would take hours; stopping must not wait for it (nor for the 5 s drain timeout).
    let started = Instant::now();
    env.provider.stop().unwrap();
    let stopped_in = started.elapsed();
    println!("stopped in {stopped_in:?} during a trickle");
    assert!(stopped_in < Duration::from_secs(3), "{stopped_in:?}");
    assert!(
        !exchange.read_until(Instant::now() + Duration::from_secs(3)),
        "the connection is closed"
    );
    assert!(exchange.body.len() < exchange.content_length());
    assert_eq!(admin.active_trickles(), 0);
}

#[test]
fn an_exact_body_is_sent_byte_for_byte_with_the_given_headers() {
    let env = env();
    let admin = env.provider.admin();
    admin.create_work_order(order("WO-1", Some(USER))).unwrap();
    let body = r#"{"error":"","error":"boom","serverTime":1,"workOrders":[]}"#;
    let date = "Tue, 01 Jan 2030 00:00:00 GMT";
    admin
        .set_fault(
            Fault::new(
                Endpoint::GetWorkOrders,
                FaultKind::exact_body(
                    200,
                    &[
                        ("Content-Type", "application/json"),
                        ("Date", date),
                        ("X-Dup", "a"),
                        ("X-Dup", "b"),
                    ],
                    body,
                ),
            )
            .times(1),
        )
        .unwrap();
    let mut exchange = RawExchange::post(
        env.provider.addr(),
        "/api/v2/getWorkOrders",
        &with_auth(json!({"timestamp": null})),
    );
    exchange.read_until(Instant::now() + Duration::from_millis(300));
    println!("exact body head:\n{}", exchange.head);
    assert_eq!(exchange.status_line(), "HTTP/1.1 200 OK");
    assert_eq!(exchange.body, body.as_bytes());
    assert_eq!(exchange.headers("content-type"), ["application/json"]);
    assert_eq!(
        exchange.headers("date"),
        [date],
        "the given Date, not the server's"
    );
    assert_eq!(exchange.headers("x-dup"), ["a", "b"]);
    assert_eq!(exchange.content_length(), body.len());
    assert_eq!(
        exchange.head.lines().count(),
        1 + 5,
        "no other header: {}",
        exchange.head
    );

    // Over the admin JSON API, with an unusual status and no headers at all.
    let c = &env.client;
    let added = c
        .post(env.admin_url("/faults"))
        .json(&json!({"endpoint": "uploadPictures", "kind": "exactBody", "status": 418, "body": "not json", "times": 1}))
        .send()
        .unwrap();
    assert_eq!(added.status(), StatusCode::OK);
    let response = env.upload(&picture("u-1", "WO-1"), Some(vec![1, 2, 3])).unwrap();
    assert_eq!(response.status().as_u16(), 418);
    assert!(response.headers().get("content-type").is_none());
    assert_eq!(response.text().unwrap(), "not json");
    assert!(admin.received_pictures().unwrap().is_empty(), "not processed");

    // The framing is the server's.
    let refused = c
        .post(env.admin_url("/faults"))
        .json(&json!({"kind": "exactBody", "status": 200, "headers": {"Content-Length": "5"}, "body": ""}))
        .send()
        .unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(admin.faults().is_empty());
}

#[test]
fn server_time_replaces_only_the_server_time() {
    let env = env();
    let admin = env.provider.admin();
    admin.seed_demo().unwrap();
    admin.set_time(Some(1_700_000_000));
    let normal = env.pull(Value::Null);
    assert_eq!(normal["serverTime"], json!(1_700_000_000));
    let orders = normal["workOrders"].clone();
    assert_eq!(orders.as_array().unwrap().len(), 11);

    // A raw token, written verbatim.
    admin
        .set_fault(Fault::new(Endpoint::GetWorkOrders, FaultKind::server_time_raw("1e30")).times(1))
        .unwrap();
    let text = env
        .post("getWorkOrders", &with_auth(json!({"timestamp": null})))
        .unwrap()
        .text()
        .unwrap();
    assert!(
        text.starts_with(r#"{"error":"","serverTime":1e30,"workOrders":["#),
        "{text:.80}"
    );
    let parsed: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(parsed["serverTime"].as_f64(), Some(1e30));
    assert_eq!(parsed["workOrders"], orders, "the real work orders");

    // Any i64, from Rust and from the admin JSON API (a millisecond value here).
    admin
        .set_fault(Fault::new(Endpoint::GetWorkOrders, FaultKind::server_time(i64::MIN)).times(1))
        .unwrap();
    assert_eq!(env.pull(Value::Null)["serverTime"], json!(i64::MIN));
    let added = env
        .client
        .post(env.admin_url("/faults"))
        .json(&json!({"endpoint": "getWorkOrders", "kind": "serverTime", "serverTime": 1_700_000_000_123_i64, "times": 1}))
        .send()
        .unwrap();
    assert_eq!(added.status(), StatusCode::OK);
    let body = env.pull(json!(0));
    assert_eq!(body["serverTime"], json!(1_700_000_000_123_i64));
    assert_eq!(body["workOrders"].as_array().unwrap().len(), 11);

    // Used up: the provider clock again.
    assert_eq!(env.pull(Value::Null)["serverTime"], json!(1_700_000_000));
    // Only getWorkOrders has a serverTime.
    assert!(
        admin
            .set_fault(Fault::everywhere(FaultKind::server_time(1)))
            .is_err()
    );
    assert!(
        admin
            .set_fault(Fault::new(Endpoint::Status, FaultKind::server_time(1)))
            .is_err()
    );
}

#[test]
fn retry_after_carries_the_raw_header_value() {
    let env = env();
    let admin = env.provider.admin();
    admin.create_work_order(order("WO-1", Some(USER))).unwrap();
    let values = [
        "18446744073709551615",
        "Wed, 21 Oct 2015 07:28:00 GMT",
        "-1",
        "soon\u{e9}ish",
    ];
    for value in values {
        admin
            .set_fault(Fault::new(Endpoint::UploadPictures, FaultKind::retry_after(503, value)).times(1))
            .unwrap();
        let response = env.upload(&picture("u-1", "WO-1"), Some(vec![1])).unwrap();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()["retry-after"].as_bytes(), value.as_bytes());
        assert_eq!(response.json::<Value>().unwrap()["status"], json!(false));
    }
    assert!(admin.received_pictures().unwrap().is_empty(), "nothing processed");

    // Over the admin JSON API: another status; the default status is 503.
    let c = &env.client;
    let added = c
        .post(env.admin_url("/faults"))
        .json(&json!([
            {"endpoint": "getWorkOrders", "kind": "retryAfter", "status": 429, "retryAfter": "120", "times": 1},
            {"endpoint": "getWorkOrders", "kind": "retryAfter", "retryAfter": "", "times": 1}
        ]))
        .send()
        .unwrap();
    assert_eq!(added.status(), StatusCode::OK);
    let first = env
        .post("getWorkOrders", &with_auth(json!({"timestamp": null})))
        .unwrap();
    assert_eq!(first.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(first.headers()["retry-after"], "120");
    let second = env
        .post("getWorkOrders", &with_auth(json!({"timestamp": null})))
        .unwrap();
    assert_eq!(second.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(second.headers()["retry-after"], "");
    assert!(second.json::<Value>().unwrap().get("workOrders").is_none());

    // A header value cannot hold a line break.
    let refused = c
        .post(env.admin_url("/faults"))
        .json(&json!({"kind": "retryAfter", "retryAfter": "1\r\nX-Injected: yes"}))
        .send()
        .unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
}

#[test]
fn the_new_kinds_round_trip_through_the_admin_json_api() {
    let env = env();
    // Raw text: a repeated header name must survive, which a `json!` map would collapse.
    let rules = r#"[
        {"endpoint": "validate", "kind": "redirect", "status": 308, "location": "http://127.0.0.1:9/x", "times": 1},
        {"endpoint": "push", "kind": "redirect", "location": "http://127.0.0.1:9/y"},
        {"kind": "trickle", "bytes": 1, "everyMs": 1000},
        {"endpoint": "status", "kind": "trickle", "bytes": 4, "everyMs": 10, "body": "{}", "times": 2},
        {"endpoint": "status", "kind": "exactBody", "status": 200,
         "headers": {"content-type": "text/plain", "x-a": "1", "x-a": "2"}, "body": "x"},
        {"endpoint": "getWorkOrders", "kind": "serverTime", "serverTime": 1e30},
        {"endpoint": "getWorkOrders", "kind": "serverTime", "serverTime": "\"17\""},
        {"endpoint": "push", "kind": "retryAfter", "retryAfter": "later"}
    ]"#;
    let response = env
        .client
        .post(env.admin_url("/faults"))
        .header("content-type", "application/json")
        .body(rules)
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().unwrap();
    assert!(
        text.contains(r#""headers":{"content-type":"text/plain","x-a":"1","x-a":"2"}"#),
        "the listing keeps the repeated header: {text}"
    );
    let active: Value = serde_json::from_str(&text).unwrap();
    let expected = json!([
        {"endpoint": "validate", "kind": "redirect", "status": 308, "location": "http://127.0.0.1:9/x", "times": 1},
        {"endpoint": "push", "kind": "redirect", "status": 302, "location": "http://127.0.0.1:9/y", "times": null},
        {"endpoint": null, "kind": "trickle", "bytes": 1, "everyMs": 1000, "times": null},
        {"endpoint": "status", "kind": "trickle", "bytes": 4, "everyMs": 10, "body": "{}", "times": 2},
        {"endpoint": "status", "kind": "exactBody", "status": 200,
         "headers": {"content-type": "text/plain", "x-a": "2"}, "body": "x", "times": null},
        // A number is re-printed by serde_json (an exact token is sent as a string).
        {"endpoint": "getWorkOrders", "kind": "serverTime", "serverTime": "1e+30", "times": null},
        {"endpoint": "getWorkOrders", "kind": "serverTime", "serverTime": "\"17\"", "times": null},
        {"endpoint": "push", "kind": "retryAfter", "status": 503, "retryAfter": "later", "times": null}
    ]);
    // serde_json's Value keeps one entry per key; the repeated header is checked in Rust below.
    assert_eq!(active, expected);
    let faults = env.provider.admin().faults();
    let FaultKind::ExactBody { headers, .. } = faults[4].kind else {
        panic!("{:?}", faults[4]);
    };
    assert_eq!(
        headers.iter().collect::<Vec<_>>(),
        [("content-type", "text/plain"), ("x-a", "1"), ("x-a", "2")]
    );

    for bad in [
        json!({"kind": "redirect", "status": 200, "location": "http://127.0.0.1:9/"}),
        json!({"kind": "redirect"}),
        json!({"kind": "trickle", "bytes": 0, "everyMs": 10}),
        json!({"kind": "trickle", "bytes": 1, "everyMs": 0}),
        json!({"kind": "exactBody", "status": 99, "body": ""}),
        json!({"kind": "exactBody", "status": 200, "headers": {"bad name": "x"}}),
        json!({"kind": "serverTime", "serverTime": 1}),
        json!({"endpoint": "getWorkOrders", "kind": "serverTime", "serverTime": " "}),
        json!({"kind": "retryAfter", "status": 600, "retryAfter": "1"}),
    ] {
        let response = env
            .client
            .post(env.admin_url("/faults"))
            .json(&bad)
            .send()
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
    assert_eq!(
        env.provider.admin().faults().len(),
        8,
        "refused rules are not added"
    );
}
