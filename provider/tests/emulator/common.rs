//! Shared helpers: a started emulator, a blocking HTTP client, wire calls.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use fieldsync_provider::admin::password_sha1;
use fieldsync_provider::{ProviderConfig, RunningProvider, start};
use reqwest::StatusCode;
use reqwest::blocking::{Client, Response, multipart};
use serde_json::{Value, json};

pub const USER: &str = "vendor1";
pub const PASSWORD: &str = "secret1";
pub const TOKEN: &str = "tok-1";

/// An emulator with the `vendor1` login and a client.
pub struct Env {
    pub provider: RunningProvider,
    pub client: Client,
}

pub fn env() -> Env {
    let provider = start(ProviderConfig::default()).expect("start emulator");
    provider
        .admin()
        .create_user(USER, PASSWORD, TOKEN)
        .expect("create user");
    Env {
        provider,
        client: client(),
    }
}

pub fn client() -> Client {
    // Plain http only, but reqwest (built with `rustls-no-provider` in this workspace) needs a provider to
    // build a client at all. Installing it again is a no-op.
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client")
}

/// The auth fields of a login, to merge into a payload.
pub fn creds_of(user: &str, password: &str, token: &str) -> Value {
    json!({"username": user, "password": password_sha1(password), "token": token})
}

/// `payload` with vendor1's credentials added.
pub fn with_auth(mut payload: Value) -> Value {
    let creds = creds_of(USER, PASSWORD, TOKEN);
    for (k, v) in creds.as_object().unwrap() {
        payload
            .as_object_mut()
            .unwrap()
            .entry(k.clone())
            .or_insert(v.clone());
    }
    payload
}

/// A minimal valid wire order.
pub fn order(number: &str, assigned_to: Option<&str>) -> Value {
    let mut doc = json!({
        "workOrderNumber": number,
        "workOrderInfo": "Grass Cut",
        "address1": "1 Main Street",
        "city": "Columbus",
        "state": "OH",
        "zip": "43215",
        "clientStatus": "Open",
        "dueDate": "2030-01-02",
        "services": [{"serviceName": "Grass Cut", "instructions": "cut", "options": {}}]
    });
    if let Some(user) = assigned_to {
        doc["assignedTo"] = json!(user);
    }
    doc
}

impl Env {
    pub fn url(&self, service: &str) -> String {
        format!("{}/{service}", self.provider.base_url())
    }

    /// Posts a form with field `payload` to a service.
    pub fn post(&self, service: &str, payload: &Value) -> reqwest::Result<Response> {
        self.client
            .post(self.url(service))
            .form(&[("payload", payload.to_string())])
            .send()
    }

    /// Posts and reads the JSON answer.
    pub fn call(&self, service: &str, payload: &Value) -> (StatusCode, Value) {
        let response = self.post(service, payload).expect("request");
        let status = response.status();
        (status, response.json().expect("JSON body"))
    }

    /// `getWorkOrders` for vendor1 with a timestamp.
    pub fn pull(&self, timestamp: Value) -> Value {
        let (status, body) = self.call("getWorkOrders", &with_auth(json!({"timestamp": timestamp})));
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    /// Uploads an item (multipart) with vendor1's credentials.
    pub fn upload(&self, item: &Value, file: Option<Vec<u8>>) -> reqwest::Result<Response> {
        let mut form = multipart::Form::new().text("payload", with_auth(item.clone()).to_string());
        if let Some(bytes) = file {
            let part = multipart::Part::bytes(bytes)
                .file_name("photo.jpg")
                .mime_str("image/jpeg")
                .unwrap();
            form = form.part("file", part);
        }
        self.client
            .post(self.url("uploadPictures"))
            .multipart(form)
            .send()
    }

    pub fn admin_url(&self, path: &str) -> String {
        format!("{}/admin{path}", self.provider.root_url())
    }
}

/// The order numbers in a `getWorkOrders` answer, sorted, with their clientStatus.
pub fn numbers(body: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = body["workOrders"]
        .as_array()
        .expect("workOrders array")
        .iter()
        .map(|o| {
            let number = match &o["workOrderNumber"] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (number, o["clientStatus"].as_str().unwrap_or_default().to_owned())
        })
        .collect();
    out.sort();
    out
}

/// A picture item for an order.
pub fn picture(uuid: &str, order: &str) -> Value {
    json!({
        "uuId": uuid, "key2": order, "key4": "Grass Cut", "evidenceType": "before",
        "fileName": format!("{uuid}.jpg"), "fileExt": "jpg", "fileType": "picture",
        "gpsLatitude": 39.96, "gpsLongitude": -82.99, "gpsAccuracy": 5.0,
        "timestamp": 1_700_000_000, "deviceId": "dev-1", "clientCode": "PS1"
    })
}

/// Percent-encodes a form value.
pub fn form_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Sends a raw HTTP/1.1 POST and reads everything until the server closes. A reset is reported as
/// `Err`.
pub fn raw_post(addr: SocketAddr, path: &str, form_body: &str) -> std::io::Result<Vec<u8>> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{form_body}",
        form_body.len()
    );
    stream.write_all(request.as_bytes())?;
    let mut received = Vec::new();
    stream.read_to_end(&mut received)?;
    Ok(received)
}
