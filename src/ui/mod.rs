//! Drawing pieces shared by every view: panels, bars, formats, empty states. A leaf: it
//! knows no state, so capability views and the console's composition both use it.

pub mod empty;
pub mod widgets;
