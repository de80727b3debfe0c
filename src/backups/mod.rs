//! The backup catalog: what backups exist, whether they are fresh, kept as the policy says,
//! and intact.

pub mod config;
