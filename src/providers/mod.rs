//! Background providers: each a tokio task with its own interval, timeout and backoff that
//! sends typed updates and its own health over a bounded channel. A provider that fails,
//! hangs or panics is reported as down; it never blocks the others or the screen.

pub mod docker;
pub mod health;
pub mod host;
pub mod host_types;
pub mod poller;
pub mod stream;

pub use health::{Board, Envelope, Health, HealthEvent, ProviderId};
