//! Background providers: each a tokio task with its own interval, timeout and backoff that
//! sends typed updates and its own health over a bounded channel.

pub mod docker;
pub mod host_types;
