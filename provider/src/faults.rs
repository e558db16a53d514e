//! The fault vocabulary: which wire endpoint a rule targets ([`Endpoint`]), what it does ([`FaultKind`])
//! and the rule itself ([`Fault`]).
//!
//! This module is plain data on purpose: it imports nothing else of the crate, so every other module
//! (the wire replies, the admin API, the rule table, the middleware) can name these types without
//! creating an import circle. The rules are kept in [`crate::fault_table`] and applied by the middleware
//! in [`crate::wire::inject`].
//!
//! For each request, every matching `latency` rule adds its delay, then the first matching rule of
//! another kind (in the order they were added) decides the outcome. A rule with `times: Some(n)` clears
//! itself after `n` requests; without `times` it stays until cleared. Rules can therefore be queued: "two
//! 503s, then a dropped connection" is two rules added in that order (the first with `times: 2`).

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
}

fn default_retry_after() -> u64 {
    1
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
    fn json_shape_is_stable() {
        let parsed: Fault =
            serde_json::from_str(r#"{"endpoint":"getWorkOrders","kind":"http503","retryAfter":7}"#).unwrap();
        assert_eq!(
            parsed,
            Fault::new(Endpoint::GetWorkOrders, FaultKind::Http503 { retry_after: 7 })
        );
        let parsed: Fault = serde_json::from_str(r#"{"kind":"latency","ms":250,"times":3}"#).unwrap();
        assert_eq!(parsed, Fault::everywhere(FaultKind::Latency { ms: 250 }).times(3));
    }
}
