//! Drawing: one file per tab or block, each a pure function of state and theme.

pub mod backups;
