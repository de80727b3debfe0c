//! Who is at the keyboard, from where, and the source of new run ids. Filled once at start
//! from the environment (`Session::from_env`), so `update` stays a pure function and tests
//! get the same ids every time.

use chrono::{DateTime, Utc};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The account name (from `USER`/`LOGNAME`, else looked up from the uid).
    pub user: String,
    /// `203.0.113.7 port 52114` when logged in over SSH.
    pub ssh_client: Option<String>,
    /// Random per process, so two consoles starting in the same second make different ids.
    pub id_salt: u32,
    /// Ids handed out so far.
    pub issued: u32,
}

impl Default for Session {
    fn default() -> Self {
        Session {
            user: "operator".into(),
            ssh_client: None,
            id_salt: 0,
            issued: 0,
        }
    }
}

impl Session {
    pub fn from_env() -> Session {
        Session {
            user: crate::actor::current_user(),
            ssh_client: crate::actor::ssh_client(),
            id_salt: rand::random::<u32>() & 0xff_ffff,
            issued: 0,
        }
    }

    /// A new run id, unique in this process and across processes started together.
    pub fn next_run_id(&mut self, now: DateTime<Utc>) -> String {
        self.issued = self.issued.wrapping_add(1);
        let n = (self.id_salt.wrapping_add(self.issued.wrapping_mul(0x9e37))) & 0xff_ffff;
        format!("{}-{n:06x}", now.format("%Y%m%dT%H%M%SZ"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_differ_within_a_second_and_follow_the_clock() {
        let mut s = Session::default();
        let t = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let a = s.next_run_id(t);
        let b = s.next_run_id(t);
        assert_ne!(a, b);
        assert!(a.starts_with("20270115T"), "{a}");
    }
}
