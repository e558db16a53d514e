//! The Pruvan v2 wire protocol: serde types and tolerant readers.

mod response;
pub mod upload;
pub mod value;
mod work_order;

pub use response::{ReadError, ResponseMeta, malformed_order, read_work_orders};
pub use work_order::{Options, Service, WorkOrder};
