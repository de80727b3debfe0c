//! The console's state: plain data, changed only by `update`.

pub mod tabs;
pub mod wizard;
