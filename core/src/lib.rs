//! fieldsync-core: the offline-first sync core of the fieldsync SDK.
//!
//! The crate is plain Rust with no FFI: the `bindings` crate wraps it for Kotlin, Swift and Python, and the
//! `fieldsync` CLI uses it directly. Its rooms, in the order data flows through them:
//!
//! - [`wire`]: the provider's JSON, read tolerantly and streamed;
//! - [`reconcile`]: pure rules that turn pulled work orders into cached projects;
//! - [`store`]: the SQLite cache (one writer, readers, numbered migrations) and the import driver;
//! - [`transport`]: the wire protocol over HTTP, with failures classified (auth, permanent, transient);
//! - [`sync`]: the engine: import state machine, coalesced runs, scheduling;
//! - [`secrets`]: where credentials live instead of the database.

pub mod checkin;
pub mod model;
pub mod outbox;
pub mod photo;
pub mod reconcile;
pub mod schedule;
pub mod secrets;
pub mod store;
pub mod sync;
pub mod transport;
pub mod wire;

mod error;

pub use error::{Error, FailureClass, Result};
pub use secrets::{SecretKind, SecretStore};
pub use store::Store;
