//! Integration tests of the emulator over real loopback HTTP (one test binary, several modules).

// Helpers outside `#[test]` functions are test code too: a panic is the right failure.
#![allow(clippy::unwrap_used)]

mod admin_http;
mod auth;
mod bulk;
mod common;
mod faults;
mod hostile;
mod lifecycle;
mod orders;
mod push;
mod slow_body;
mod surveys;
mod uploads;
