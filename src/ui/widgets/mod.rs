//! Small drawing helpers shared by the tabs.

pub mod bar;
pub mod format;
pub mod hints;
pub mod panel;
