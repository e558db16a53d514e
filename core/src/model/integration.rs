//! Integrations: the link between the vendor's account and one provider login.
//!
//! An integration is identified by its short `code`; every project it imports is shown as `CODE::NUMBER`.
//! Credentials are not part of this record: the password (as the SHA-1 the wire protocol wants) and the
//! token live behind [`crate::SecretStore`], so the database never holds them in plain text.

use serde::{Deserialize, Serialize};

use super::{InvalidInput, Timestamp};

/// The service an integration talks to. Only Pruvan Share exists today; the enum leaves room for more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntegrationType {
    /// A Pruvan Share link to a provider's account.
    PruvanShare,
}

impl IntegrationType {
    /// The value stored in the database and shown to people.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PruvanShare => "pruvan_share",
        }
    }

    /// Parses the stored value.
    pub fn parse(value: &str) -> Result<Self, InvalidInput> {
        match value {
            "pruvan_share" => Ok(Self::PruvanShare),
            other => Err(InvalidInput::new(
                "type",
                format!("unknown integration type `{other}`"),
            )),
        }
    }
}

/// Whether the provider is the vendor's own office system (internal) or a client (external).
///
/// Internal integrations may set assignee, status, due date, instructions and description directly;
/// external ones set the assignee only through Default Assign To (see `docs/RECONCILE.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// The vendor's own system.
    Internal,
    /// A client's system: the usual case for a Pruvan Share link.
    #[default]
    External,
}

impl Mode {
    /// The value stored in the database and shown to people.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Internal => "internal",
            Self::External => "external",
        }
    }

    /// Parses `internal` or `external`.
    pub fn parse(value: &str) -> Result<Self, InvalidInput> {
        match value {
            "internal" => Ok(Self::Internal),
            "external" => Ok(Self::External),
            other => Err(InvalidInput::new(
                "mode",
                format!("`{other}` is not internal or external"),
            )),
        }
    }
}

/// Who newly imported projects are assigned to. In JSON: `"none"`, `"all"` or the user name.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum DefaultAssignTo {
    /// Leave new projects unassigned.
    #[default]
    None,
    /// Assign to every user of the vendor account (wire value `~all~`).
    All,
    /// Assign to one user.
    User(String),
}

impl DefaultAssignTo {
    /// The wire value `~all~` that means "every user".
    pub const ALL_WIRE_VALUE: &'static str = "~all~";

    /// Parses the CLI/stored form: `none`, `all` (or `~all~`), or a user name.
    pub fn parse(value: &str) -> Result<Self, InvalidInput> {
        let value = value.trim();
        match value {
            "" | "none" => Ok(Self::None),
            "all" | Self::ALL_WIRE_VALUE => Ok(Self::All),
            user if user.chars().any(char::is_control) => Err(InvalidInput::new(
                "default_assign_to",
                "a user name cannot hold control characters",
            )),
            user => Ok(Self::User(user.to_owned())),
        }
    }

    /// The stored form, the inverse of [`DefaultAssignTo::parse`].
    pub fn to_stored(&self) -> String {
        match self {
            Self::None => "none".into(),
            Self::All => "all".into(),
            Self::User(user) => user.clone(),
        }
    }

    /// The assignee value a project gets from this setting, if any.
    pub fn assignee(&self) -> Option<&str> {
        match self {
            Self::None => None,
            Self::All => Some(Self::ALL_WIRE_VALUE),
            Self::User(user) => Some(user),
        }
    }
}

impl Serialize for DefaultAssignTo {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_stored())
    }
}

impl<'de> Deserialize<'de> for DefaultAssignTo {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Where an integration is in its import cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum IntegrationStatus {
    /// Nothing to do.
    #[default]
    Idle,
    /// An import was requested and waits for the worker.
    Pending,
    /// An import is running.
    Running,
    /// The last import failed; `last_error` says why.
    Error,
}

impl IntegrationStatus {
    /// The value stored in the database and shown to people.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Error => "error",
        }
    }

    /// Parses the stored value.
    pub fn parse(value: &str) -> Result<Self, InvalidInput> {
        match value {
            "idle" => Ok(Self::Idle),
            "pending" => Ok(Self::Pending),
            "running" => Ok(Self::Running),
            "error" => Ok(Self::Error),
            other => Err(InvalidInput::new(
                "status",
                format!("unknown integration status `{other}`"),
            )),
        }
    }
}

/// Check-in rules of an integration (used by the check-in capability). Missing keys take the defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CheckInSettings {
    /// Radius around the property within which a fix counts as on site, in metres.
    pub geofence_radius_m: f64,
    /// Worst horizontal accuracy accepted, in metres.
    pub max_accuracy_m: f64,
    /// Oldest fix accepted, in seconds.
    pub max_fix_age_s: u32,
    /// Refuse a check-in outside the rules (true) or record it as not certified (false).
    pub refuse_uncertified: bool,
    /// Largest accepted difference between a fix's time and the device clock, in seconds.
    pub max_clock_skew_s: u32,
}

impl Default for CheckInSettings {
    fn default() -> Self {
        Self {
            geofence_radius_m: 200.0,
            max_accuracy_m: 50.0,
            max_fix_age_s: 120,
            refuse_uncertified: false,
            max_clock_skew_s: 300,
        }
    }
}

/// An integration as stored in the cache.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Integration {
    /// Short unique code, e.g. `ACME`.
    pub code: String,
    /// Optional long name.
    pub name: Option<String>,
    /// The service it talks to.
    #[serde(rename = "type")]
    pub kind: IntegrationType,
    /// Internal or external.
    pub mode: Mode,
    /// Import status.
    pub status: IntegrationStatus,
    /// When the last import succeeded.
    #[serde(with = "super::timestamp_rfc3339")]
    pub last_refreshed: Option<Timestamp>,
    /// Why the last import failed, when `status` is `error`.
    pub last_error: Option<String>,
    /// Email addresses or user names with client-portal access.
    pub publish_to: Vec<String>,
    /// The provider login.
    pub username: String,
    /// The provider's base URL (services are `{base_url}/{service}`).
    pub base_url: String,
    /// Optional service extension appended by some providers.
    pub service_extension: Option<String>,
    /// Auto Admin: imports overwrite shared fields.
    pub auto_admin: bool,
    /// Name of the work type applied to imported projects.
    pub default_work_type: Option<String>,
    /// Who new projects are assigned to.
    pub default_assign_to: DefaultAssignTo,
    /// Photos relay without QA approval.
    pub auto_relay: bool,
    /// Refresh in the background.
    pub auto_import: bool,
    /// Check-in rules.
    pub check_in: CheckInSettings,
    /// Provider timestamp to send with the next incremental refresh.
    pub sync_cursor: Option<i64>,
    /// When the credentials were last validated against the provider.
    #[serde(with = "super::timestamp_rfc3339")]
    pub validated_at: Option<Timestamp>,
}

/// Everything needed to create an integration (credentials go to the secret store separately).
#[derive(Debug, Clone, PartialEq)]
pub struct NewIntegration {
    /// Short unique code.
    pub code: String,
    /// Optional long name.
    pub name: Option<String>,
    /// Internal or external.
    pub mode: Mode,
    /// Client-portal recipients.
    pub publish_to: Vec<String>,
    /// The provider login.
    pub username: String,
    /// The provider's base URL.
    pub base_url: String,
    /// Optional service extension.
    pub service_extension: Option<String>,
    /// Auto Admin (on by default).
    pub auto_admin: bool,
    /// Default Work Type name.
    pub default_work_type: Option<String>,
    /// Default Assign To.
    pub default_assign_to: DefaultAssignTo,
    /// Auto relay of photos.
    pub auto_relay: bool,
    /// Background refresh.
    pub auto_import: bool,
    /// Check-in rules.
    pub check_in: CheckInSettings,
}

impl NewIntegration {
    /// A new integration with the documented defaults (external, Auto Admin on, auto relay off).
    pub fn new(code: impl Into<String>, base_url: impl Into<String>, username: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            name: None,
            mode: Mode::External,
            publish_to: Vec::new(),
            username: username.into(),
            base_url: base_url.into(),
            service_extension: None,
            auto_admin: true,
            default_work_type: None,
            default_assign_to: DefaultAssignTo::None,
            auto_relay: false,
            auto_import: false,
            check_in: CheckInSettings::default(),
        }
    }

    /// Checks every field and normalises the URL; the first problem found is returned.
    pub fn validate(&mut self) -> Result<(), InvalidInput> {
        validate_code(&self.code)?;
        self.base_url = validate_base_url(&self.base_url)?;
        validate_username(&self.username)?;
        for address in &self.publish_to {
            validate_publish_to(address)?;
        }
        validate_check_in(&self.check_in)?;
        Ok(())
    }
}

/// A partial edit of an integration: `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IntegrationEdit {
    /// New long name (`Some(None)` clears it).
    pub name: Option<Option<String>>,
    /// New mode.
    pub mode: Option<Mode>,
    /// Replaces the publish-to list.
    pub publish_to: Option<Vec<String>>,
    /// New login.
    pub username: Option<String>,
    /// New base URL.
    pub base_url: Option<String>,
    /// New service extension (`Some(None)` clears it).
    pub service_extension: Option<Option<String>>,
    /// Auto Admin.
    pub auto_admin: Option<bool>,
    /// Default Work Type (`Some(None)` clears it).
    pub default_work_type: Option<Option<String>>,
    /// Default Assign To.
    pub default_assign_to: Option<DefaultAssignTo>,
    /// Auto relay.
    pub auto_relay: Option<bool>,
    /// Background refresh.
    pub auto_import: Option<bool>,
    /// Check-in rules.
    pub check_in: Option<CheckInSettings>,
}

impl IntegrationEdit {
    /// Applies the edit to an integration, validating the fields it changes.
    pub fn apply_to(&self, integration: &mut Integration) -> Result<(), InvalidInput> {
        if let Some(name) = &self.name {
            integration.name = name.clone();
        }
        if let Some(mode) = self.mode {
            integration.mode = mode;
        }
        if let Some(publish_to) = &self.publish_to {
            for address in publish_to {
                validate_publish_to(address)?;
            }
            integration.publish_to = publish_to.clone();
        }
        if let Some(username) = &self.username {
            validate_username(username)?;
            integration.username = username.clone();
        }
        if let Some(url) = &self.base_url {
            integration.base_url = validate_base_url(url)?;
        }
        if let Some(extension) = &self.service_extension {
            integration.service_extension = extension.clone();
        }
        if let Some(auto_admin) = self.auto_admin {
            integration.auto_admin = auto_admin;
        }
        if let Some(work_type) = &self.default_work_type {
            integration.default_work_type = work_type.clone();
        }
        if let Some(assign_to) = &self.default_assign_to {
            integration.default_assign_to = assign_to.clone();
        }
        if let Some(auto_relay) = self.auto_relay {
            integration.auto_relay = auto_relay;
        }
        if let Some(auto_import) = self.auto_import {
            integration.auto_import = auto_import;
        }
        if let Some(check_in) = &self.check_in {
            validate_check_in(check_in)?;
            integration.check_in = check_in.clone();
        }
        Ok(())
    }
}

/// An integration code is 1-16 characters of ASCII letters, digits, `-` or `_`.
pub fn validate_code(code: &str) -> Result<(), InvalidInput> {
    if code.is_empty() || code.len() > 16 {
        return Err(InvalidInput::new(
            "code",
            format!("`{code}` must be 1 to 16 characters long"),
        ));
    }
    if let Some(bad) = code
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        return Err(InvalidInput::new(
            "code",
            format!("`{code}` holds `{bad}`: only letters, digits, `-` and `_` are allowed"),
        ));
    }
    Ok(())
}

/// The base URL must be https, except on a loopback host (for the emulator and tests).
/// Returns the URL normalised without a trailing slash.
pub fn validate_base_url(raw: &str) -> Result<String, InvalidInput> {
    let parsed = url::Url::parse(raw.trim())
        .map_err(|err| InvalidInput::new("url", format!("`{raw}` is not a valid URL: {err}")))?;
    let host = parsed
        .host_str()
        .ok_or_else(|| InvalidInput::new("url", format!("`{raw}` has no host")))?;
    match parsed.scheme() {
        "https" => {}
        "http" if is_loopback_host(host) => {}
        "http" => {
            return Err(InvalidInput::new(
                "url",
                format!("`{raw}` must use https (plain http is only allowed on loopback)"),
            ));
        }
        other => {
            return Err(InvalidInput::new(
                "url",
                format!("`{raw}` has scheme `{other}`, not https"),
            ));
        }
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(InvalidInput::new("url", "credentials do not belong in the URL"));
    }
    Ok(parsed.as_str().trim_end_matches('/').to_owned())
}

fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false)
}

fn validate_username(username: &str) -> Result<(), InvalidInput> {
    if username.trim().is_empty() {
        return Err(InvalidInput::new(
            "username",
            "the provider login cannot be empty",
        ));
    }
    if username.chars().any(char::is_control) {
        return Err(InvalidInput::new(
            "username",
            "the provider login cannot hold control characters",
        ));
    }
    Ok(())
}

fn validate_publish_to(address: &str) -> Result<(), InvalidInput> {
    if address.trim().is_empty() || address.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(InvalidInput::new(
            "publish_to",
            format!("`{address}` is not an email address or user name"),
        ));
    }
    Ok(())
}

fn validate_check_in(settings: &CheckInSettings) -> Result<(), InvalidInput> {
    let positive = |value: f64| value.is_finite() && value > 0.0;
    if !positive(settings.geofence_radius_m) || !positive(settings.max_accuracy_m) {
        return Err(InvalidInput::new(
            "check_in",
            "geofence radius and accuracy limit must be positive",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_short_and_plain() {
        assert!(validate_code("ACME").is_ok());
        assert!(validate_code("a-b_9").is_ok());
        assert!(validate_code("ABCDEFGHIJKLMNOP").is_ok());
        assert!(validate_code("").is_err());
        assert!(validate_code("ABCDEFGHIJKLMNOPQ").is_err());
        assert!(validate_code("AC ME").is_err());
        assert!(validate_code("ACME::1").is_err());
        assert!(validate_code("ÄCME").is_err());
    }

    #[test]
    fn urls_must_be_https_except_loopback() {
        assert_eq!(
            validate_base_url("https://p.example.com/api/").unwrap(),
            "https://p.example.com/api"
        );
        assert!(validate_base_url("http://127.0.0.1:8080/api").is_ok());
        assert!(validate_base_url("http://localhost/api").is_ok());
        assert!(validate_base_url("http://[::1]:9/api").is_ok());
        assert!(validate_base_url("http://p.example.com/api").is_err());
        assert!(validate_base_url("ftp://p.example.com").is_err());
        assert!(validate_base_url("not a url").is_err());
        assert!(validate_base_url("https://user:pw@p.example.com").is_err());
    }

    #[test]
    fn default_assign_to_round_trips() {
        for value in ["none", "all", "jane"] {
            assert_eq!(DefaultAssignTo::parse(value).unwrap().to_stored(), value);
        }
        assert_eq!(DefaultAssignTo::parse("~all~").unwrap(), DefaultAssignTo::All);
        assert_eq!(DefaultAssignTo::All.assignee(), Some("~all~"));
    }
}

/// Which secret of an integration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SecretKind {
    /// SHA-1 hex of the provider password (what the wire protocol sends).
    PasswordSha1,
    /// The provider's API token.
    Token,
    /// The push key a provider uses to trigger a refresh.
    PushKey,
}

impl std::fmt::Display for SecretKind {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(match self {
            Self::PasswordSha1 => "password",
            Self::Token => "API token",
            Self::PushKey => "push key",
        })
    }
}

impl SecretKind {
    /// The secret's name in a store's key (`ACME/password_sha1`).
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::PasswordSha1 => "password_sha1",
            Self::Token => "token",
            Self::PushKey => "push_key",
        }
    }
}
