//! `fieldsync-provider`: a local emulator of a Pruvan Share provider account.
//!
//! It is a real HTTP server (axum on hyper, served connection by connection so that faults can drop a
//! TCP connection for real) with its own SQLite store. It plays the provider side of the Pruvan v2 wire
//! protocol (`validate`, `getWorkOrders`, `uploadPictures`, `status`, push key URL) and exposes an admin
//! API, both over HTTP (`/admin/...`) and in-process ([`Admin`]), to create users and work orders,
//! assign, unassign, patch and delete them (and give their tasks surveys), generate bulk data, read back
//! what the client delivered (pictures, check-ins, surveys with the photos they reference, status
//! updates), and inject faults. [`surveys`] holds the seeded inspection survey template.
//!
//! It is independent of `fieldsync-core` on purpose: it is the other side of the wire, written from the
//! protocol description, so that it can catch misreadings of the protocol by the client.
//!
//! ```no_run
//! use fieldsync_provider::{start, ProviderConfig};
//!
//! let provider = start(ProviderConfig::default())?;
//! provider.admin().create_user("vendor1", "secret1", "tok-1")?;
//! println!("wire base URL: {}", provider.base_url());
//! provider.stop()?;
//! # Ok::<(), fieldsync_provider::ProviderError>(())
//! ```

pub mod admin;
mod clock;
pub mod config;
pub mod credentials;
pub mod error;
mod fault_table;
pub mod faults;
pub mod model;
mod seed;
pub mod server;
mod state;
mod store;
pub mod surveys;
mod traffic;
mod wire;

pub use admin::Admin;
pub use config::ProviderConfig;
pub use error::ProviderError;
pub use faults::{Endpoint, Fault, FaultHeaders, FaultKind, FaultText};
pub use model::{
    BulkReport, BulkSpec, Health, ItemFilter, PushEvent, ReceivedItem, ReceivedSurvey, SeedReport,
    StatusUpdate, SurveyFilter, UploadTraffic, UserInfo, WorkOrderFilter, WorkOrderInfo, WorkOrderRecord,
};
pub use server::{RunningProvider, serve, serve_blocking, serve_with_shutdown, start};
pub use state::ProviderState;
