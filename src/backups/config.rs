//! `[backups]` settings, named where the backups code has always found them. The types live in
//! [`crate::config::backups`], below both `config` and `backups`, so that `Config` does not
//! import the capability that reads it.

pub use crate::config::backups::*;
