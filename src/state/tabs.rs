//! The tabs, as the state refers to them (defined in [`crate::tab`], a leaf every layer can
//! use).

pub use crate::tab::Tab;
