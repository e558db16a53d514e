//! fieldsync-core: the offline-first sync core of the fieldsync SDK.
//!
//! The crate is plain Rust with no FFI: the `bindings` crate wraps it for Kotlin, Swift and Python, and the
//! `fieldsync` CLI uses it directly. Its rooms, in the order data flows through them:
//!
//! - [`model`]: plain types, and the integration status machine (`model/status.rs`);
//! - [`wire`]: the provider's JSON, read tolerantly and streamed, and the shapes of what we send;
//! - [`reconcile`]: pure rules that turn pulled work orders into cached projects;
//! - [`checkin`] and [`photo`]: capture, validation, processing and a photo's lifecycle;
//! - [`requirements`]: configuration options by level and what completing a project requires, pure;
//! - [`survey`]: pure rules of a task's survey: template, typed answers, conditions, evaluation, wire answers;
//! - [`outbox`]: field work waiting for delivery: states, retry policy, ordering, leases, the delivery loop;
//! - [`store`]: the SQLite cache (one writer, readers, numbered migrations) and the import driver;
//! - [`transport`]: the wire protocol over HTTP, with failures classified (auth, permanent, transient);
//! - [`schedule`]: when to try again (backoff, intervals), pure;
//! - [`sync`]: the engine: coalesced runs against the provider, auto-import, the background run;
//! - [`cancel`]: how long operations stop: the host's cancellation, `pause()`, a deadline;
//! - [`secrets`]: where credentials live instead of the database;
//! - [`app`]: the composition root that opens all of it, recovers after a crash, pauses and resumes.
//!
//! `docs/ARCHITECTURE.md` is the map.

pub mod app;
pub mod cancel;
pub mod checkin;
pub mod evidence;
pub mod files;
pub mod model;
pub mod outbox;
pub mod photo;
pub mod reconcile;
pub mod requirements;
pub mod schedule;
pub mod secrets;
pub mod store;
pub mod survey;
pub mod sync;
pub mod transport;
pub mod wire;

mod error;

pub use error::{Error, FailureClass, Result};
pub use secrets::{SecretKind, SecretStore};
pub use store::Store;
