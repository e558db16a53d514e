//! fieldsync's end-to-end, crash and migration tests, in one test binary: each module was its own binary
//! once, and each linked the whole core, the emulator and the HTTP client again.
//!
//! Run one module with a filter, e.g. `cargo nextest run -p fieldsync-tests --test e2e migrations::`.
//! The shared setup (emulator, vendor, orders, a device with its cache and engine) is
//! `fieldsync_tests::world`.
//!
//! nextest runs every test in its own process. Under plain `cargo test` they share one process (in
//! parallel threads); nothing here sets environment variables, panic hooks or other process-wide state, and
//! every test has its own emulator on its own port and its own temporary directory.

// Helpers outside `#[test]` functions panic on purpose too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod background_crash;
mod checkin_e2e;
mod crash;
mod delivery_crash;
mod evidence_e2e;
mod fieldwork;
mod fuzz;
mod hostile_provider;
mod hostile_transport;
mod import_lock;
mod lifecycle;
mod migrations;
mod photo_crash;
mod photo_e2e;
mod photo_relay;
mod retention;
mod scaling;
mod sync_e2e;
mod upload_policy;
