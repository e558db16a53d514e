//! Generated data: the demo data set and bulk orders for benchmarks.

mod bulk;
mod calendar;
mod demo;

pub(crate) use bulk::bulk_insert;
pub(crate) use demo::{DEMO_PASSWORD, DEMO_TOKEN, DEMO_USER, demo};
