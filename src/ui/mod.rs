//! Drawing: one file per block, each a pure function of (frame, area, view, theme).

pub mod wizard;
