//! Moved to the crate root: one implementation for every remote text.

pub use crate::sanitize::strip_escapes;
