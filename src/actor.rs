//! Who is acting: the account and, over SSH, the client's address. Recorded with every
//! completion and run so the history says who did what from where.

/// `$USER` (else the uid).
pub fn current_user() -> String {
    std::env::var("USER")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| format!("uid {}", unsafe { libc::getuid() }))
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
