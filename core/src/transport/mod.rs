//! The wire protocol over HTTP: `POST {base_url}/{service}` with the JSON request in form field `payload`.
//!
//! Every failure is classified so the sync engine knows what to do:
//! - [`TransportError::Auth`]: the provider refused the credentials; retrying cannot help until they change;
//! - [`TransportError::Permanent`]: the request or the answer is wrong; retrying the same thing will fail;
//! - [`TransportError::Transient`]: the network, a 5xx, a captive portal; retry with backoff (honouring
//!   `Retry-After`).
//!
//! The calls are blocking for their callers (the core runs its I/O on worker threads, the bindings own the
//! host-facing async runtime), but each one is an async request driven on the transport's own small tokio
//! runtime ([`runtime`]) and raced against the operation's [`Stop`]: a cancelled, paused or late operation
//! aborts the request in flight at once (the connection is closed mid-body), which `reqwest::blocking`
//! cannot do. A response body streams chunk by chunk straight to a file.
//!
//! TLS: rustls with the platform verifier (the OS trust store). On Android the host must initialise the
//! verifier once through JNI (`rustls-platform-verifier`'s Android component); see the bindings docs.
//! Plain http is accepted only for loopback hosts (validated when the integration is saved).
//! Credentials travel only in the form body and never appear in errors or logs: every text that comes from
//! the other side (error bodies, a `Location`) is passed through [`redact`] with the credentials at hand.
//!
//! Redirects are never followed: a 3xx would carry the credentials (in the body, on a 307/308) to a host
//! nobody configured, or import another host's answer (on a 302). It is a permanent error naming the
//! `Location`, so the integration's URL gets fixed.
//!
//! Every response body is read under a minimum rate and an overall deadline ([`Timeouts`], [`limits`]).

pub mod limits;
pub mod redact;

use std::io::{Read, Write};
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime};

use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};

use self::limits::{Pace, PaceMeter, Stalled, parse_retry_after};
pub use self::redact::{REDACTED, redact};
use crate::cancel::{Stop, StopReason};
use crate::wire::value::is_truthy;

/// Timeouts per phase, and the limits that keep a slow or hostile server from holding a call forever.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// TCP + TLS connection.
    pub connect: Duration,
    /// Any single read or write while a request or response is in flight (an idle timeout for downloads).
    pub io: Duration,
    /// A whole small request (validate, status).
    pub small_request: Duration,
    /// Minimum progress of a response body: at least this many bytes in every [`Self::progress_window`]
    /// (default 1 KiB), else the call fails as transient.
    pub min_progress_bytes: u64,
    /// The window of the minimum progress rule (default 30 s).
    pub progress_window: Duration,
    /// The longest a whole getWorkOrders call may take, request and body (default 10 min).
    pub download_cap: Duration,
    /// The longest the answer to an upload, a status or a validate may take to arrive, once the request
    /// is sent (default 2 min).
    pub response_cap: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(10),
            io: Duration::from_secs(60),
            small_request: Duration::from_secs(30),
            min_progress_bytes: 1024,
            progress_window: Duration::from_secs(30),
            download_cap: Duration::from_secs(10 * 60),
            response_cap: Duration::from_secs(2 * 60),
        }
    }
}

/// What the provider needs to know who is calling. `Debug` never shows the secrets.
#[derive(Clone)]
pub struct ProviderCredentials {
    /// The provider login.
    pub username: String,
    /// SHA-1 hex of the password.
    pub password_sha1: String,
    /// API token, if the provider issued one.
    pub token: Option<String>,
}

impl std::fmt::Debug for ProviderCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderCredentials")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// Why a call to the provider failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// The provider refused the credentials.
    #[error("the provider refused the credentials: {0}")]
    Auth(String),
    /// The request or the answer is wrong; retrying the same call will not help.
    #[error("{0}")]
    Permanent(String),
    /// Worth retrying later.
    #[error("{message}")]
    Transient {
        /// What happened.
        message: String,
        /// The provider's `Retry-After`, if it sent one.
        retry_after: Option<Duration>,
    },
    /// The operation was stopped and the request aborted (nothing to do with the provider).
    #[error("{0}")]
    Stopped(StopReason),
}

impl TransportError {
    fn transient(message: impl Into<String>) -> Self {
        Self::Transient {
            message: message.into(),
            retry_after: None,
        }
    }

    /// The same error with every one of `secrets` in its message replaced by [`REDACTED`].
    pub fn redacted<S: AsRef<str>>(self, secrets: &[S]) -> Self {
        match self {
            Self::Auth(message) => Self::Auth(redact(&message, secrets)),
            Self::Permanent(message) => Self::Permanent(redact(&message, secrets)),
            Self::Transient { message, retry_after } => Self::Transient {
                message: redact(&message, secrets),
                retry_after,
            },
            Self::Stopped(reason) => Self::Stopped(reason),
        }
    }
}

/// The provider's answer to `validate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validation {
    /// True when the provider accepted the credentials.
    pub validated: bool,
    /// The provider's reason when it did not.
    pub error: Option<String>,
}

/// A downloaded getWorkOrders body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Download {
    /// Bytes written.
    pub bytes: u64,
    /// The provider's clock from the HTTP `Date` header, in Unix seconds.
    pub date_header: Option<i64>,
}

/// rustls with the *ring* provider (chosen here, never installed process-wide: the host app may use rustls
/// too) and the operating system's certificate verifier; HTTP/2 and HTTP/1.1 offered through ALPN.
fn tls_config() -> Result<rustls::ClientConfig, TransportError> {
    use rustls_platform_verifier::BuilderVerifierExt;
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|builder| builder.with_platform_verifier())
        .map_err(|err| TransportError::Permanent(format!("cannot set up TLS: {err}")))?
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// The runtime every request runs on: two worker threads, shared by the process (created on first use).
/// Callers block on it from their own threads; its workers only drive sockets and timers.
fn runtime() -> Result<&'static tokio::runtime::Runtime, TransportError> {
    static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("fieldsync-net")
                .enable_all()
                .build()
                .map_err(|err| err.to_string())
        })
        .as_ref()
        .map_err(|err| TransportError::Permanent(format!("cannot start the network runtime: {err}")))
}

/// The wire protocol over HTTP(S).
#[derive(Debug, Clone)]
pub struct HttpTransport {
    client: Client,
    base_url: String,
    extension: String,
    timeouts: Timeouts,
    /// Secrets besides the credentials of a call (the push key) to redact from what the provider says.
    also_redact: Vec<String>,
    /// When the calls of this transport must stop (the operation's cancellation, pause and deadline).
    stop: Stop,
}

impl HttpTransport {
    /// A client for the provider at `base_url` (already validated: https, or http on loopback).
    pub fn new(
        base_url: &str,
        service_extension: Option<&str>,
        timeouts: Timeouts,
    ) -> Result<Self, TransportError> {
        let client = Client::builder()
            .tls_backend_preconfigured(tls_config()?)
            .connect_timeout(timeouts.connect)
            // Idle time between reads of a response (the minimum rate and the caps bound the whole).
            .read_timeout(timeouts.io)
            // Never: a redirect would resend the credentials to another host (see the module docs).
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("fieldsync/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|err| TransportError::Permanent(format!("cannot build the HTTP client: {err}")))?;
        Ok(Self {
            client,
            base_url: base_url.trim_end_matches('/').to_owned(),
            extension: service_extension.unwrap_or_default().to_owned(),
            timeouts,
            also_redact: Vec::new(),
            stop: Stop::never(),
        })
    }

    /// Also redacts `secret` (e.g. the integration's push key) from every error text this transport
    /// returns; the credentials of each call are always redacted.
    pub fn redacting(mut self, secret: impl Into<String>) -> Self {
        self.also_redact.push(secret.into());
        self
    }

    /// Every call of this transport stops when `stop` says so: the request in flight is aborted and the
    /// call returns [`TransportError::Stopped`].
    pub fn stopping_on(mut self, stop: Stop) -> Self {
        self.stop = stop;
        self
    }

    /// Runs one call to its end or until the stop, on the network runtime, blocking this thread.
    fn call<T>(&self, call: impl Future<Output = Result<T, TransportError>>) -> Result<T, TransportError> {
        if let Some(reason) = self.stop.reason() {
            return Err(TransportError::Stopped(reason));
        }
        runtime()?.block_on(async {
            tokio::select! {
                biased;
                reason = self.stop.wait() => Err(TransportError::Stopped(reason)),
                result = call => result,
            }
        })
    }

    /// Every secret to redact from what the provider says in a call made with `credentials`.
    fn secrets<'a>(&'a self, credentials: &'a ProviderCredentials) -> Vec<&'a str> {
        let mut secrets = vec![credentials.password_sha1.as_str()];
        secrets.extend(credentials.token.as_deref());
        secrets.extend(self.also_redact.iter().map(String::as_str));
        secrets
    }

    /// The pace of a response body whose overall limit `limit` counts from `started`.
    fn pace(&self, started: Instant, limit: Duration) -> Pace {
        Pace::new(
            self.timeouts.min_progress_bytes,
            self.timeouts.progress_window,
            started,
            limit,
        )
    }

    fn url(&self, service: &str) -> String {
        format!("{}/{service}{}", self.base_url, self.extension)
    }

    /// The `payload` form field: `fields` (an object) with the credentials added. The one place that puts
    /// credentials into a request.
    fn payload(credentials: &ProviderCredentials, mut fields: Value) -> Result<String, TransportError> {
        let object = fields
            .as_object_mut()
            .ok_or_else(|| TransportError::Permanent("a request payload must be a JSON object".into()))?;
        object.insert("username".into(), json!(credentials.username));
        object.insert("password".into(), json!(credentials.password_sha1));
        object.insert(
            "token".into(),
            json!(credentials.token.clone().unwrap_or_default()),
        );
        Ok(fields.to_string())
    }

    async fn post(
        &self,
        service: &str,
        credentials: &ProviderCredentials,
        fields: Value,
        small: bool,
    ) -> Result<Response, TransportError> {
        let payload = Self::payload(credentials, fields)?;
        let mut request = self.client.post(self.url(service)).form(&[("payload", payload)]);
        if small {
            request = request.timeout(self.timeouts.small_request);
        }
        let response = request
            .send()
            .await
            .map_err(|err| classify_reqwest(service, &err))?;
        self.check_status(service, response, &self.secrets(credentials))
            .await
    }

    /// Sorts an HTTP status into the three kinds of failure (a redirect is permanent: never followed).
    /// `secrets` are redacted from the provider's text before it is cut to length (a cut secret would
    /// escape redaction).
    async fn check_status(
        &self,
        service: &str,
        response: Response,
        secrets: &[&str],
    ) -> Result<Response, TransportError> {
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        if status.is_redirection() {
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .map(|value| printable(&redact(&String::from_utf8_lossy(value.as_bytes()), secrets), 300));
            let target = location.map_or("nowhere (no Location)".to_owned(), |url| format!("to {url}"));
            return Err(TransportError::Permanent(format!(
                "{service}: the provider answered {} and redirects {target}; fieldsync never follows \
                 redirects: check the integration's URL",
                status.as_u16()
            )));
        }
        let provider_now = date_header(&response).map_or_else(SystemTime::now, |unix| {
            SystemTime::UNIX_EPOCH + Duration::from_secs(unix.max(0).unsigned_abs())
        });
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|text| parse_retry_after(text, provider_now));
        let pace = self.pace(Instant::now(), self.timeouts.response_cap);
        let mut body = Vec::new();
        // The provider's words are a courtesy: a body that breaks off or stalls just goes unquoted.
        let _ = read_body(response, pace, 4096, |chunk| {
            body.extend_from_slice(chunk);
            Ok(())
        })
        .await;
        let detail = provider_error_text(&body, secrets);
        let message = format!("{service}: HTTP {}{detail}", status.as_u16());
        Err(match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => TransportError::Auth(message),
            StatusCode::REQUEST_TIMEOUT | StatusCode::TOO_MANY_REQUESTS => {
                TransportError::Transient { message, retry_after }
            }
            status if status.is_server_error() => TransportError::Transient { message, retry_after },
            _ => TransportError::Permanent(message),
        })
    }

    /// A small JSON answer (at most 1 MiB), read under [`Timeouts::response_cap`] and the minimum rate.
    async fn read_small_json(&self, service: &str, response: Response) -> Result<Value, TransportError> {
        reject_html(service, &response)?;
        let pace = self.pace(Instant::now(), self.timeouts.response_cap);
        let mut body = Vec::new();
        read_body(response, pace, 1 << 20, |chunk| {
            body.extend_from_slice(chunk);
            Ok(())
        })
        .await
        .map_err(|failure| failure.into_error(service, "the answer broke off"))?;
        serde_json::from_slice(&body).map_err(|err| {
            TransportError::Permanent(format!("{service}: the answer is not valid JSON ({err})"))
        })
    }

    /// Checks the credentials; `pushkey` is registered with the provider.
    pub fn validate(
        &self,
        credentials: &ProviderCredentials,
        pushkey: &str,
    ) -> Result<Validation, TransportError> {
        let mut secrets = self.secrets(credentials);
        secrets.push(pushkey);
        let validation = self
            .call(self.validate_unredacted(credentials, pushkey))
            .map_err(|err| err.redacted(&secrets))?;
        Ok(Validation {
            error: validation.error.map(|text| redact(&text, &secrets)),
            ..validation
        })
    }

    async fn validate_unredacted(
        &self,
        credentials: &ProviderCredentials,
        pushkey: &str,
    ) -> Result<Validation, TransportError> {
        let response = self
            .post("validate", credentials, json!({ "pushkey": pushkey }), true)
            .await?;
        let body = self.read_small_json("validate", response).await?;
        // A tolerant client treats "", false and null as not validated.
        let validated = is_truthy(body.get("validated"));
        let error = match &body["error"] {
            Value::String(text) if !text.trim().is_empty() => Some(text.clone()),
            Value::Object(_) => Some(body["error"].to_string()),
            _ => None,
        };
        Ok(Validation { validated, error })
    }

    /// Streams a getWorkOrders response body into `out` (at most `max_bytes`). `timestamp` is `None` for a
    /// Full Import. The body is not parsed here: the importer streams it from `out` afterwards.
    pub fn download_work_orders(
        &self,
        credentials: &ProviderCredentials,
        timestamp: Option<i64>,
        out: &mut impl Write,
        max_bytes: u64,
    ) -> Result<Download, TransportError> {
        self.call(self.download_unredacted(credentials, timestamp, out, max_bytes))
            .map_err(|err| err.redacted(&self.secrets(credentials)))
    }

    async fn download_unredacted(
        &self,
        credentials: &ProviderCredentials,
        timestamp: Option<i64>,
        out: &mut impl Write,
        max_bytes: u64,
    ) -> Result<Download, TransportError> {
        // The overall cap counts from the request: a server slow to answer uses up the same budget.
        let pace = self.pace(Instant::now(), self.timeouts.download_cap);
        let response = self
            .post(
                "getWorkOrders",
                credentials,
                json!({ "timestamp": timestamp }),
                false,
            )
            .await?;
        if let Some(length) = response.content_length()
            && length > max_bytes
        {
            return Err(TransportError::Permanent(format!(
                "getWorkOrders: the response is {length} bytes, more than the limit of {max_bytes}"
            )));
        }
        reject_html("getWorkOrders", &response)?;
        let date_header = date_header(&response);
        let bytes = read_body(response, pace, max_bytes.saturating_add(1), |chunk| {
            out.write_all(chunk)
        })
        .await
        .map_err(|failure| failure.into_error("getWorkOrders", "the download broke off"))?;
        if bytes > max_bytes {
            return Err(TransportError::Permanent(format!(
                "getWorkOrders: the response is larger than the limit of {max_bytes} bytes"
            )));
        }
        Ok(Download { bytes, date_header })
    }
}

/// Why reading a response body ended early.
enum BodyFailure {
    /// Too slow, or past the call's overall limit.
    Stalled(Stalled),
    /// The connection broke off (or the idle timeout between reads fired).
    Network(reqwest::Error),
    /// The sink refused the bytes (a full disk).
    Sink(std::io::Error),
}

impl BodyFailure {
    fn into_error(self, service: &str, what: &str) -> TransportError {
        match self {
            Self::Stalled(reason) => TransportError::transient(format!("{service}: {reason}")),
            Self::Network(err) => {
                let mut message = format!("{service}: {what}: {err}");
                let mut source = std::error::Error::source(&err);
                while let Some(inner) = source {
                    message = format!("{message}: {inner}");
                    source = inner.source();
                }
                TransportError::transient(message)
            }
            Self::Sink(err) => {
                TransportError::transient(format!("{service}: cannot store the answer: {err}"))
            }
        }
    }
}

/// Reads a response body chunk by chunk into `sink`, under `pace` (minimum rate, overall deadline),
/// stopping after `limit` bytes (the caller tells "exactly `limit`" from "more" by asking one byte more).
/// Returns the bytes given to `sink`.
async fn read_body(
    mut response: Response,
    pace: Pace,
    limit: u64,
    mut sink: impl FnMut(&[u8]) -> std::io::Result<()>,
) -> Result<u64, BodyFailure> {
    let mut meter = PaceMeter::new(pace, Instant::now());
    let mut total: u64 = 0;
    while total < limit {
        meter.check(Instant::now()).map_err(BodyFailure::Stalled)?;
        let chunk = match tokio::time::timeout_at(pace.deadline.into(), response.chunk()).await {
            Err(_elapsed) => return Err(BodyFailure::Stalled(Stalled::Deadline { limit: pace.limit })),
            Ok(Err(err)) => return Err(BodyFailure::Network(err)),
            Ok(Ok(None)) => break,
            Ok(Ok(Some(chunk))) => chunk,
        };
        let room = usize::try_from(limit - total).unwrap_or(usize::MAX);
        let taken = &chunk[..chunk.len().min(room)];
        meter.add(taken.len() as u64);
        total += taken.len() as u64;
        sink(taken).map_err(BodyFailure::Sink)?;
        meter.check(Instant::now()).map_err(BodyFailure::Stalled)?;
    }
    Ok(total)
}

/// The `file` part of an upload: read as the request is written, `length` bytes exactly.
pub struct UploadFile {
    /// The file name sent with the part.
    pub name: String,
    /// The bytes.
    pub reader: Box<dyn Read + Send>,
    /// How many bytes `reader` gives.
    pub length: u64,
}

impl std::fmt::Debug for UploadFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UploadFile")
            .field("name", &self.name)
            .field("length", &self.length)
            .finish_non_exhaustive()
    }
}

/// An upload's file as a request body stream: 64 KiB read per chunk, as the connection takes them. The
/// reads are of a local file, short enough to do on the runtime's thread.
struct FileChunks {
    reader: Box<dyn Read + Send>,
    remaining: u64,
}

impl futures_core::Stream for FileChunks {
    type Item = std::io::Result<bytes::Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        const CHUNK: u64 = 64 * 1024;
        if self.remaining == 0 {
            return Poll::Ready(None);
        }
        let mut buffer = vec![0_u8; usize::try_from(self.remaining.min(CHUNK)).unwrap_or(64 * 1024)];
        Poll::Ready(Some(match self.reader.read(&mut buffer) {
            Ok(0) => Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the file is shorter than its length",
            )),
            Ok(read) => {
                buffer.truncate(read);
                self.remaining -= read as u64;
                Ok(bytes::Bytes::from(buffer))
            }
            Err(err) => Err(err),
        }))
    }
}

impl HttpTransport {
    /// Sends one `uploadPictures` item: multipart with part `payload` (the item JSON, which carries the
    /// UUID the provider deduplicates on) and, for a photo, part `file`.
    /// The file is streamed from its reader (never buffered whole), so a reader that counts what it gives
    /// out reports upload progress.
    pub fn upload_item(
        &self,
        credentials: &ProviderCredentials,
        item: &Value,
        file: Option<UploadFile>,
    ) -> Result<(), TransportError> {
        self.call(self.upload_unredacted(credentials, item, file))
            .map_err(|err| err.redacted(&self.secrets(credentials)))
    }

    async fn upload_unredacted(
        &self,
        credentials: &ProviderCredentials,
        item: &Value,
        file: Option<UploadFile>,
    ) -> Result<(), TransportError> {
        let payload = Self::payload(credentials, item.clone())?;
        let mut form = reqwest::multipart::Form::new().text("payload", payload);
        if let Some(file) = file {
            let chunks = FileChunks {
                reader: file.reader,
                remaining: file.length,
            };
            form = form.part(
                "file",
                reqwest::multipart::Part::stream_with_length(reqwest::Body::wrap_stream(chunks), file.length)
                    .file_name(file.name),
            );
        }
        let response = self
            .client
            .post(self.url("uploadPictures"))
            .multipart(form)
            .send()
            .await
            .map_err(|err| classify_reqwest("uploadPictures", &err))?;
        let response = self
            .check_status("uploadPictures", response, &self.secrets(credentials))
            .await?;
        let body = self.read_small_json("uploadPictures", response).await?;
        accepted("uploadPictures", &body)
    }

    /// Sends status changes to the `status` service (`request` as [`crate::wire::upload::status_request`]
    /// shapes it: its `uuId` lets the provider deduplicate a retry).
    pub fn post_status(
        &self,
        credentials: &ProviderCredentials,
        request: &Value,
    ) -> Result<(), TransportError> {
        self.call(async {
            let response = self.post("status", credentials, request.clone(), true).await?;
            let body = self.read_small_json("status", response).await?;
            accepted("status", &body)
        })
        .map_err(|err| err.redacted(&self.secrets(credentials)))
    }
}

/// `{"status": true}` is success; `status: false` with an `error` (a string, or an object naming the
/// work order) is the provider refusing this item: permanent.
fn accepted(service: &str, body: &Value) -> Result<(), TransportError> {
    let ok = is_truthy(body.get("status"));
    if ok {
        return Ok(());
    }
    let error = match &body["error"] {
        Value::String(text) if !text.is_empty() => text.clone(),
        Value::Null => "no reason given".to_owned(),
        other => other.to_string(),
    };
    Err(TransportError::Permanent(format!(
        "{service}: the provider refused it: {error}"
    )))
}

/// The provider's own words from an error body, if it sent JSON with `error` (never the whole body).
fn provider_error_text(body: &[u8], secrets: &[&str]) -> String {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|value| match &value["error"] {
            Value::String(text) if !text.is_empty() => {
                Some(redact(text, secrets).chars().take(200).collect::<String>())
            }
            _ => None,
        })
        .map(|text| format!(": {text}"))
        .unwrap_or_default()
}

/// An HTML page with status 200 is usually a captive portal (hotel or carrier Wi-Fi login): transient.
fn reject_html(service: &str, response: &Response) -> Result<(), TransportError> {
    let html = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|text| text.to_ascii_lowercase().contains("text/html"));
    if html {
        return Err(TransportError::transient(format!(
            "{service}: the server answered with an HTML page instead of JSON (a Wi-Fi login page or a proxy?)"
        )));
    }
    Ok(())
}

/// The provider's clock from the HTTP `Date` header, in Unix seconds.
fn date_header(response: &Response) -> Option<i64> {
    response
        .headers()
        .get(reqwest::header::DATE)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| {
            time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc2822).ok()
        })
        .map(|date| date.unix_timestamp())
}

/// `text` from outside made safe to show: control characters escaped, at most `max` characters.
fn printable(text: &str, max: usize) -> String {
    text.chars().take(max).flat_map(char::escape_debug).collect()
}

/// Connection-level failures: all transient (the network may come back), except a malformed URL.
fn classify_reqwest(service: &str, err: &reqwest::Error) -> TransportError {
    // reqwest's messages include the URL, which holds no secret (credentials travel in the body).
    let what = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "could not connect"
    } else if err.is_builder() {
        return TransportError::Permanent(format!("{service}: invalid request: {err}"));
    } else {
        "the connection failed"
    };
    let mut message = format!("{service}: {what}");
    let mut source = std::error::Error::source(err);
    while let Some(inner) = source {
        message = format!("{message}: {inner}");
        source = inner.source();
    }
    TransportError::transient(message)
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use super::*;

    /// The TLS stack is really there: https to a loopback server that answers in plain HTTP fails in the
    /// handshake with a transport error (no panic, no plaintext exchange).
    #[test]
    fn https_to_a_server_without_tls_fails_in_the_handshake() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let (mut socket, _) = listener.accept().unwrap();
            let mut hello = [0_u8; 5];
            socket.read_exact(&mut hello).unwrap();
            socket
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
                .unwrap();
            hello
        });
        let transport = HttpTransport::new(
            &format!("https://127.0.0.1:{port}/api"),
            None,
            Timeouts::default(),
        )
        .unwrap();
        let credentials = ProviderCredentials {
            username: "vendor1".into(),
            password_sha1: "0".repeat(40),
            token: None,
        };
        let err = transport.validate(&credentials, "key").unwrap_err();
        let hello = server.join().unwrap();
        assert_eq!(hello[0], 0x16, "the client opened with a TLS handshake record");
        let message = err.to_string();
        assert!(matches!(err, TransportError::Transient { .. }), "{message}");
        assert!(message.contains("validate"), "{message}");
        assert!(
            !message.contains("200 OK"),
            "the plaintext answer was not accepted: {message}"
        );
    }
}
