//! The console's state: plain data, changed only by `update`.

pub mod backups;
pub mod tabs;
