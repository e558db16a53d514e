//! The fault vocabulary: which wire endpoint a rule targets ([`Endpoint`]), what it does ([`FaultKind`])
//! and the rule itself ([`Fault`]).
//!
//! This module is plain data on purpose: it imports nothing else of the crate, so every other module
//! (the wire replies, the admin API, the rule table, the middleware) can name these types without
//! creating an import circle. The rules are kept in the crate's `fault_table` module and applied by the
//! middleware in `wire::inject` (both private, and both depending on this module, not the reverse).
//!
//! For each request, every matching `latency` rule adds its delay, then the first matching rule of
//! another kind (in the order they were added) decides the outcome. A rule with `times: Some(n)` clears
//! itself after `n` requests; without `times` it stays until cleared. Rules can therefore be queued: "two
//! 503s, then a dropped connection" is two rules added in that order (the first with `times: 2`).

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock, PoisonError};

use serde::{Deserialize, Serialize};

/// A wire endpoint that faults can target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Endpoint {
    /// `POST /api/v2/validate`
    Validate,
    /// `POST /api/v2/getWorkOrders`
    GetWorkOrders,
    /// `POST /api/v2/uploadPictures`
    UploadPictures,
    /// `POST /api/v2/status`
    Status,
    /// `GET` and `POST /push/{pushkey}`
    Push,
}

impl Endpoint {
    /// Every endpoint.
    pub const ALL: [Endpoint; 5] = [
        Endpoint::Validate,
        Endpoint::GetWorkOrders,
        Endpoint::UploadPictures,
        Endpoint::Status,
        Endpoint::Push,
    ];

    /// The wire name (`validate`, `getWorkOrders`, `uploadPictures`, `status`, `push`).
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::Validate => "validate",
            Endpoint::GetWorkOrders => "getWorkOrders",
            Endpoint::UploadPictures => "uploadPictures",
            Endpoint::Status => "status",
            Endpoint::Push => "push",
        }
    }

    /// Parses a wire name.
    pub fn parse(name: &str) -> Option<Endpoint> {
        Endpoint::ALL.into_iter().find(|e| e.name() == name)
    }
}

/// What a fault does. In JSON, the variant is the `kind` field, in camelCase.
///
/// The kinds that answer with chosen bytes (`redirect`, `trickle`, `exactBody`, `serverTime`,
/// `retryAfter`) carry their texts as [`FaultText`] and [`FaultHeaders`], which are `Copy`, so that a
/// `FaultKind` stays `Copy` like it always was (callers copy kinds around freely).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum FaultKind {
    /// Wait `ms` milliseconds before handling the request (combines with another fault).
    Latency {
        /// Added delay in milliseconds.
        ms: u64,
    },
    /// Answer HTTP 500 without processing the request.
    Http500,
    /// Answer HTTP 503 with `Retry-After: retry_after` seconds, without processing the request.
    Http503 {
        /// Value of the `Retry-After` header in seconds (default 1).
        #[serde(default = "default_retry_after")]
        retry_after: u64,
    },
    /// Answer HTTP 401 without processing the request.
    Http401,
    /// Close the connection before the request is processed: nothing is stored, no response is sent.
    DropBefore,
    /// Process the request (store the item), then close the connection without a response.
    DropAfter,
    /// Process the request, send the headers with the full `Content-Length` and half of the body, then
    /// close the connection.
    Truncate,
    /// Answer a redirect (`status` 301, 302, 303, 307 or 308) with `Location: location`, without
    /// processing the request. The body is the endpoint's usual JSON failure shape.
    Redirect {
        /// 301, 302, 303, 307 or 308 (default 302).
        #[serde(default = "default_redirect_status")]
        status: u16,
        /// The `Location` header, verbatim (for example another emulator's URL on 127.0.0.1).
        location: FaultText,
    },
    /// Send a response's headers at once (with its full `Content-Length`), then its body `bytes` bytes
    /// at a time, one piece every `every_ms` milliseconds (the first piece after `every_ms`). Without
    /// `body`, the request is processed and its real response is trickled; with `body`, the request is
    /// not processed and the answer is 200 `application/json` with that body. The trickle stops when the
    /// client disconnects or the server stops.
    Trickle {
        /// Bytes per piece (at least 1).
        bytes: u32,
        /// Milliseconds between pieces (at least 1).
        every_ms: u64,
        /// A body to send instead of the real response.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        body: Option<FaultText>,
    },
    /// Read the request body at most `bytes` bytes at a time, one piece every `every_ms` milliseconds
    /// (the first piece after `every_ms`), then process the request as usual. What the client sends is
    /// taken off the connection as it arrives, so a client that goes away mid-body (or while its last
    /// bytes are still waiting to be read) is noticed at once: the request is abandoned and nothing is
    /// processed (see [`crate::UploadTraffic`]).
    SlowBody {
        /// Bytes per piece (at least 1).
        bytes: u32,
        /// Milliseconds between pieces (at least 1).
        every_ms: u64,
    },
    /// Answer exactly `status` with `headers` and `body`, without processing the request. The server
    /// adds only the framing (`content-length`) and a `date` header when `headers` has none.
    ExactBody {
        /// HTTP status, 200 to 599.
        status: u16,
        /// Response headers, in order (a name may repeat); `content-length` and `transfer-encoding`
        /// are refused (the framing is the server's).
        #[serde(default, skip_serializing_if = "FaultHeaders::is_empty")]
        headers: FaultHeaders,
        /// The body bytes, verbatim.
        #[serde(default)]
        body: FaultText,
    },
    /// `getWorkOrders` only: answer normally (the real work orders) but with `serverTime` set to this
    /// raw JSON token, written verbatim (`1700000000`, `1e30`, `-1`, `"1700000000"` with its quotes,
    /// ...). In JSON, a number or a string holding the token.
    ServerTime {
        /// The raw JSON text of the `serverTime` value.
        #[serde(deserialize_with = "raw_json_token")]
        server_time: FaultText,
    },
    /// Answer `status` (default 503) with a raw `Retry-After: retry_after` header, without processing
    /// the request. The body is the endpoint's usual JSON failure shape.
    RetryAfter {
        /// HTTP status, 200 to 599 (default 503).
        #[serde(default = "default_retry_after_status")]
        status: u16,
        /// The `Retry-After` header value, verbatim (seconds, an HTTP date, or garbage).
        retry_after: FaultText,
    },
}

impl FaultKind {
    /// A [`FaultKind::Redirect`] to `location`.
    pub fn redirect(status: u16, location: &str) -> Self {
        FaultKind::Redirect {
            status,
            location: FaultText::new(location),
        }
    }

    /// A [`FaultKind::Trickle`] of the real response, `bytes` bytes every `every_ms` milliseconds.
    pub fn trickle(bytes: u32, every_ms: u64) -> Self {
        FaultKind::Trickle {
            bytes,
            every_ms,
            body: None,
        }
    }

    /// A [`FaultKind::SlowBody`]: the request body is read `bytes` bytes every `every_ms` milliseconds.
    pub fn slow_body(bytes: u32, every_ms: u64) -> Self {
        FaultKind::SlowBody { bytes, every_ms }
    }

    /// A [`FaultKind::ExactBody`] answer.
    pub fn exact_body(status: u16, headers: &[(&str, &str)], body: &str) -> Self {
        FaultKind::ExactBody {
            status,
            headers: FaultHeaders::new(headers),
            body: FaultText::new(body),
        }
    }

    /// A [`FaultKind::ServerTime`] with an integer `serverTime`.
    pub fn server_time(server_time: i64) -> Self {
        FaultKind::ServerTime {
            server_time: FaultText::new(&server_time.to_string()),
        }
    }

    /// A [`FaultKind::ServerTime`] with a raw JSON token (`1e30`, `"17"`, ...), written verbatim.
    pub fn server_time_raw(token: &str) -> Self {
        FaultKind::ServerTime {
            server_time: FaultText::new(token),
        }
    }

    /// A [`FaultKind::RetryAfter`] answer.
    pub fn retry_after(status: u16, retry_after: &str) -> Self {
        FaultKind::RetryAfter {
            status,
            retry_after: FaultText::new(retry_after),
        }
    }
}

fn default_retry_after() -> u64 {
    1
}

fn default_redirect_status() -> u16 {
    302
}

fn default_retry_after_status() -> u16 {
    503
}

/// A process-wide set of interned values.
type Interned<T> = OnceLock<Mutex<HashSet<&'static T>>>;

/// The interned copies, one per distinct value. Interning is what lets the text-carrying kinds be
/// `Copy`: a text lives for the rest of the process, so the same rule added again (by every test of a
/// suite, say) costs nothing more, and only distinct texts take memory.
fn intern<T: ?Sized + Eq + std::hash::Hash + 'static>(
    set: &'static Interned<T>,
    value: &T,
    leak: impl FnOnce() -> &'static T,
) -> &'static T {
    let mut set = set
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if let Some(&known) = set.get(value) {
        return known;
    }
    let leaked = leak();
    set.insert(leaked);
    leaked
}

/// An immutable text parameter of a fault (a URL, a body, a header value, a JSON token).
///
/// It is `Copy`: the text is interned for the life of the process (one copy per distinct text). In
/// JSON it is a plain string.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FaultText(&'static str);

impl FaultText {
    /// The interned copy of `text`.
    pub fn new(text: &str) -> Self {
        static TEXTS: Interned<str> = OnceLock::new();
        FaultText(intern(&TEXTS, text, || Box::leak(text.into())))
    }

    /// The text.
    pub fn as_str(self) -> &'static str {
        self.0
    }
}

impl std::fmt::Debug for FaultText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.0, f)
    }
}

impl std::fmt::Display for FaultText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl From<&str> for FaultText {
    fn from(text: &str) -> Self {
        FaultText::new(text)
    }
}

impl Serialize for FaultText {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0)
    }
}

impl<'de> Deserialize<'de> for FaultText {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        Ok(FaultText::new(&text))
    }
}

/// A JSON number (as serde_json prints it) or a string (verbatim) as a raw JSON token.
fn raw_json_token<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<FaultText, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Token {
        Number(serde_json::Number),
        Text(String),
    }
    Ok(match Token::deserialize(deserializer)? {
        Token::Number(number) => FaultText::new(&number.to_string()),
        Token::Text(text) => FaultText::new(&text),
    })
}

/// Response headers of a fault, in order (a name may repeat). `Copy` like [`FaultText`]. In JSON an
/// object, `{"content-type": "application/json", "date": "..."}`; a repeated key repeats the header.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FaultHeaders(&'static [(FaultText, FaultText)]);

impl FaultHeaders {
    /// Interned headers from `(name, value)` pairs.
    pub fn new(headers: &[(&str, &str)]) -> Self {
        let pairs: Vec<(FaultText, FaultText)> = headers
            .iter()
            .map(|(name, value)| (FaultText::new(name), FaultText::new(value)))
            .collect();
        Self::from_pairs(pairs)
    }

    fn from_pairs(pairs: Vec<(FaultText, FaultText)>) -> Self {
        static LISTS: Interned<[(FaultText, FaultText)]> = OnceLock::new();
        FaultHeaders(intern(&LISTS, pairs.as_slice(), || {
            Box::leak(pairs.clone().into_boxed_slice())
        }))
    }

    /// The `(name, value)` pairs, in order.
    pub fn iter(self) -> impl Iterator<Item = (&'static str, &'static str)> {
        self.0.iter().map(|(name, value)| (name.as_str(), value.as_str()))
    }

    /// Whether there are no headers.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for FaultHeaders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Serialize for FaultHeaders {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in self.iter() {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for FaultHeaders {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Pairs;
        impl<'de> serde::de::Visitor<'de> for Pairs {
            type Value = FaultHeaders;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object of header names to string values")
            }

            // Entries are visited one by one, so a repeated name is kept, in order.
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<FaultHeaders, A::Error> {
                let mut pairs = Vec::new();
                while let Some((name, value)) = map.next_entry::<FaultText, FaultText>()? {
                    pairs.push((name, value));
                }
                Ok(FaultHeaders::from_pairs(pairs))
            }
        }
        deserializer.deserialize_map(Pairs)
    }
}

/// A fault rule.
///
/// ```
/// use fieldsync_provider::{Endpoint, Fault, FaultKind};
/// let rule = Fault::new(Endpoint::UploadPictures, FaultKind::DropAfter).times(1);
/// let json = serde_json::to_value(&rule).unwrap();
/// assert_eq!(json, serde_json::json!({"endpoint": "uploadPictures", "kind": "dropAfter", "times": 1}));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Fault {
    /// The endpoint it applies to; `None` means every wire endpoint.
    #[serde(default)]
    pub endpoint: Option<Endpoint>,
    /// What it does.
    #[serde(flatten)]
    pub kind: FaultKind,
    /// How many requests it applies to before clearing itself; `None` means until cleared. When listing
    /// active faults, this is the remaining count.
    #[serde(default)]
    pub times: Option<u32>,
}

impl Fault {
    /// A fault on one endpoint, until cleared.
    pub fn new(endpoint: Endpoint, kind: FaultKind) -> Self {
        Self {
            endpoint: Some(endpoint),
            kind,
            times: None,
        }
    }

    /// A fault on every wire endpoint, until cleared.
    pub fn everywhere(kind: FaultKind) -> Self {
        Self {
            endpoint: None,
            kind,
            times: None,
        }
    }

    /// Limits the fault to the next `n` matching requests.
    pub fn times(mut self, n: u32) -> Self {
        self.times = Some(n);
        self
    }

    /// Whether the rule applies to a request to `endpoint`.
    pub(crate) fn matches(&self, endpoint: Endpoint) -> bool {
        self.endpoint.is_none_or(|e| e == endpoint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_and_headers_are_interned_once_per_distinct_value() {
        let owned = String::from("http://127.0.0.1:1/x");
        let a = FaultText::new(&owned);
        let b = FaultText::new("http://127.0.0.1:1/x");
        // The same allocation: adding the same rule again costs no memory.
        assert!(std::ptr::eq(a.as_str(), b.as_str()));
        assert_ne!(a, FaultText::new("http://127.0.0.1:1/y"));
        let h1 = FaultHeaders::new(&[("x-a", "1"), ("x-a", "2")]);
        let h2 = FaultHeaders::new(&[("x-a", "1"), ("x-a", "2")]);
        assert!(std::ptr::eq(h1.0, h2.0));
        assert_eq!(h1.iter().collect::<Vec<_>>(), [("x-a", "1"), ("x-a", "2")]);
        assert_ne!(
            h1,
            FaultHeaders::new(&[("x-a", "2"), ("x-a", "1")]),
            "order matters"
        );
    }

    #[test]
    fn json_shape_is_stable() {
        let parsed: Fault =
            serde_json::from_str(r#"{"endpoint":"getWorkOrders","kind":"http503","retryAfter":7}"#).unwrap();
        assert_eq!(
            parsed,
            Fault::new(Endpoint::GetWorkOrders, FaultKind::Http503 { retry_after: 7 })
        );
        let parsed: Fault = serde_json::from_str(r#"{"kind":"latency","ms":250,"times":3}"#).unwrap();
        assert_eq!(parsed, Fault::everywhere(FaultKind::Latency { ms: 250 }).times(3));
        let parsed: Fault = serde_json::from_str(
            r#"{"endpoint":"uploadPictures","kind":"slowBody","bytes":4096,"everyMs":20,"times":1}"#,
        )
        .unwrap();
        assert_eq!(
            parsed,
            Fault::new(Endpoint::UploadPictures, FaultKind::slow_body(4096, 20)).times(1)
        );
    }
}
