//! Signals to a command's whole process group (the command and everything it started):
//! the one way toban and its supervisor stop a command — a polite signal, then SIGKILL for
//! whatever is left when the grace period ends.

use std::time::{Duration, Instant};

const POLL: Duration = Duration::from_millis(25);

/// Anything of the group still alive (signal 0 reaches it).
pub fn alive(pgid: i32) -> bool {
    // SAFETY: kill(2) with a negative pid only signals; no memory is involved.
    pgid > 0 && unsafe { libc::kill(-pgid, 0) } == 0
}

/// Sends `sig` to every process of the group.
pub fn signal(pgid: i32, sig: i32) {
    if pgid > 0 {
        // SAFETY: as above.
        unsafe { libc::kill(-pgid, sig) };
    }
}

/// Waits (blocking) until the group is gone or `until` passes, then SIGKILLs what is left.
pub fn kill_after(pgid: i32, until: Instant) {
    while alive(pgid) && Instant::now() < until {
        std::thread::sleep(POLL);
    }
    if alive(pgid) {
        signal(pgid, libc::SIGKILL);
    }
}

/// `first` to the group now, SIGKILL after `grace` if anything of it is still alive.
pub async fn stop(pgid: i32, first: i32, grace: Duration) {
    if pgid <= 0 {
        return;
    }
    signal(pgid, first);
    let deadline = tokio::time::Instant::now() + grace;
    while tokio::time::Instant::now() < deadline {
        if !alive(pgid) {
            return;
        }
        tokio::time::sleep(POLL).await;
    }
    if alive(pgid) {
        signal(pgid, libc::SIGKILL);
    }
}
