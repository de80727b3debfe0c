//! Who is acting: the account and, over SSH, the client's address. Recorded with every
//! completion and run so the history says who did what from where.

/// `USER` or `LOGNAME`, else the name the password database gives the uid (a console
/// started by systemd or `sudo -i` may have neither variable), else `uid N`.
pub fn current_user() -> String {
    for var in ["USER", "LOGNAME"] {
        if let Ok(u) = std::env::var(var) {
            if !u.is_empty() {
                return u;
            }
        }
    }
    let uid = unsafe { libc::getuid() };
    let mut buf = vec![0 as libc::c_char; 4096];
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut out: *mut libc::passwd = std::ptr::null_mut();
    // getpwuid_r writes only into the buffers it is given.
    let rc = unsafe { libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr(), buf.len(), &mut out) };
    if rc == 0 && !out.is_null() && !pwd.pw_name.is_null() {
        let name = unsafe { std::ffi::CStr::from_ptr(pwd.pw_name) };
        if let Ok(n) = name.to_str() {
            if !n.is_empty() {
                return n.to_string();
            }
        }
    }
    format!("uid {uid}")
}

/// The SSH client's address and port, when logged in over SSH.
pub fn ssh_client() -> Option<String> {
    for var in ["SSH_CONNECTION", "SSH_CLIENT"] {
        if let Ok(c) = std::env::var(var) {
            let parts: Vec<&str> = c.split_whitespace().collect();
            if parts.len() >= 2 {
                return Some(format!("{} port {}", parts[0], parts[1]));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_account_is_named_without_user_in_the_environment() {
        // The name comes from the password database when the variables are missing; root
        // is uid 0 wherever this runs as root.
        if unsafe { libc::getuid() } == 0
            && std::env::var("USER").is_err()
            && std::env::var("LOGNAME").is_err()
        {
            assert_eq!(current_user(), "root");
        }
        assert!(!current_user().is_empty());
    }
}
