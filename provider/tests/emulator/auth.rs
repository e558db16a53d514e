//! Credentials, `validate`, malformed requests.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::*;

#[test]
fn validate_accepts_good_credentials_and_stores_the_push_key() {
    let env = env();
    let (status, body) = env.call("validate", &with_auth(json!({"pushkey": "pk-abc"})));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"validated": true, "error": ""}));
    let user = env.provider.admin().user(USER).unwrap().unwrap();
    assert_eq!(user.push_key.as_deref(), Some("pk-abc"));

    // The password hash is compared case-insensitively.
    let mut upper = with_auth(json!({"pushkey": "pk-def"}));
    upper["password"] = json!(upper["password"].as_str().unwrap().to_uppercase());
    let (status, body) = env.call("validate", &upper);
    assert_eq!((status, body["validated"].clone()), (StatusCode::OK, json!(true)));
    assert_eq!(
        env.provider
            .admin()
            .user(USER)
            .unwrap()
            .unwrap()
            .push_key
            .as_deref(),
        Some("pk-def")
    );
}

#[test]
fn bad_password_token_or_user_is_401_with_a_json_error() {
    let env = env();
    let cases = [
        creds_of(USER, "wrong", TOKEN),
        creds_of(USER, PASSWORD, "tok-2"),
        creds_of("nobody", PASSWORD, TOKEN),
        json!({"password": "x"}),
    ];
    for payload in cases {
        let (status, body) = env.call("validate", &payload);
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{payload}");
        assert_eq!(body["validated"], json!(false));
        assert!(body["error"].as_str().unwrap().contains("invalid"));
        let (status, body) = env.call("getWorkOrders", &payload);
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(body["error"].is_string());
        assert!(
            body.get("workOrders").is_none(),
            "an auth failure must not look like an empty import"
        );
    }
    // A failed validate does not register the push key.
    let mut payload = creds_of(USER, "wrong", TOKEN);
    payload["pushkey"] = json!("pk-x");
    env.call("validate", &payload);
    assert_eq!(env.provider.admin().user(USER).unwrap().unwrap().push_key, None);
}

#[test]
fn malformed_requests_are_406_with_a_json_error() {
    let env = env();
    let url = env.url("getWorkOrders");
    let not_json = env
        .client
        .post(&url)
        .form(&[("payload", "{not json")])
        .send()
        .unwrap();
    assert_eq!(not_json.status(), StatusCode::NOT_ACCEPTABLE);
    assert!(
        not_json.json::<serde_json::Value>().unwrap()["error"]
            .as_str()
            .unwrap()
            .contains("JSON")
    );

    let missing = env.client.post(&url).form(&[("other", "1")]).send().unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_ACCEPTABLE);

    let (status, _) = env.call("getWorkOrders", &json!([1, 2]));
    assert_eq!(status, StatusCode::NOT_ACCEPTABLE);

    let (status, body) = env.call("getWorkOrders", &with_auth(json!({"timestamp": "yesterday"})));
    assert_eq!(status, StatusCode::NOT_ACCEPTABLE);
    assert!(body["error"].as_str().unwrap().contains("timestamp"));

    let plain = env
        .client
        .post(&url)
        .body("payload=x")
        .header("content-type", "text/plain")
        .send()
        .unwrap();
    assert_eq!(plain.status(), StatusCode::NOT_ACCEPTABLE);

    let unknown = env
        .client
        .post(env.url("noSuchService"))
        .form(&[("payload", "{}")])
        .send()
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert!(unknown.json::<serde_json::Value>().unwrap()["error"].is_string());
}

#[test]
fn a_json_body_and_a_multipart_payload_are_accepted_too() {
    let env = env();
    let json_body = env
        .client
        .post(env.url("validate"))
        .header("content-type", "application/json")
        .body(with_auth(json!({})).to_string())
        .send()
        .unwrap();
    assert_eq!(json_body.status(), StatusCode::OK);
    let form = reqwest::blocking::multipart::Form::new().text("payload", with_auth(json!({})).to_string());
    let multipart = env
        .client
        .post(env.url("validate"))
        .multipart(form)
        .send()
        .unwrap();
    assert_eq!(multipart.status(), StatusCode::OK);
    assert_eq!(
        multipart.json::<serde_json::Value>().unwrap()["validated"],
        json!(true)
    );
}
