//! Showing times: toban stores and computes in UTC and shows every time in one zone, the
//! configured `timezone` (default: the system's). [`Zone::show`] is the one function that
//! turns a UTC time into text for people.

use std::path::Path;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// The zone times are shown in: an IANA zone such as `Asia/Tokyo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Zone(Tz);

/// `2026-11-23 12:00`: the format used wherever a date and time are shown.
pub const DATE_TIME: &str = "%Y-%m-%d %H:%M";

impl Zone {
    pub const UTC: Zone = Zone(Tz::UTC);

    /// An IANA zone name (`Asia/Tokyo`, `UTC`, `Europe/Berlin`); exact spelling.
    pub fn parse(name: &str) -> Result<Zone, String> {
        name.trim()
            .parse::<Tz>()
            .map(Zone)
            .map_err(|_| format!("unknown time zone `{name}`: an IANA name like \"Asia/Tokyo\""))
    }

    /// Every zone name toban knows (for suggestions).
    pub fn names() -> impl Iterator<Item = &'static str> {
        chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name())
    }

    /// The system's zone: `TZ` when it names an IANA zone, else where `/etc/localtime`
    /// points, else `/etc/timezone`, else UTC.
    pub fn system() -> Zone {
        Zone::from_system(std::env::var("TZ").ok().as_deref(), Path::new("/etc"))
    }

    /// [`Zone::system`] with the `TZ` value and the `/etc` folder given (for tests).
    pub fn from_system(tz_var: Option<&str>, etc: &Path) -> Zone {
        if let Some(z) = tz_var
            .map(|v| v.trim_start_matches(':'))
            .and_then(|v| Zone::parse(v).ok().or_else(|| zone_from_path(Path::new(v))))
        {
            return z;
        }
        if let Some(z) = std::fs::read_link(etc.join("localtime"))
            .ok()
            .and_then(|target| zone_from_path(&target))
        {
            return z;
        }
        std::fs::read_to_string(etc.join("timezone"))
            .ok()
            .and_then(|s| Zone::parse(s.trim()).ok())
            .unwrap_or(Zone::UTC)
    }

    /// The IANA name, e.g. `Asia/Tokyo`.
    pub fn name(&self) -> &'static str {
        self.0.name()
    }

    pub fn tz(&self) -> Tz {
        self.0
    }

    /// `t` in this zone.
    pub fn local(&self, t: DateTime<Utc>) -> DateTime<Tz> {
        t.with_timezone(&self.0)
    }

    /// `t` as people read it here: `2026-11-23 12:00`.
    pub fn show(&self, t: DateTime<Utc>) -> String {
        self.show_as(t, DATE_TIME)
    }

    /// `t` with the zone's abbreviation, for text read away from the screen (status lines,
    /// mails from cron): `2026-11-23 12:00 JST`.
    pub fn show_named(&self, t: DateTime<Utc>) -> String {
        self.show_as(t, "%Y-%m-%d %H:%M %Z")
    }

    /// `t` in a `chrono` format of the caller's choosing (`%m-%d %H:%M` in narrow columns).
    pub fn show_as(&self, t: DateTime<Utc>, format: &str) -> String {
        self.local(t).format(format).to_string()
    }
}

impl Default for Zone {
    fn default() -> Self {
        Zone::system()
    }
}

/// `/usr/share/zoneinfo/Asia/Tokyo` (or `../usr/share/zoneinfo/…`) → `Asia/Tokyo`.
fn zone_from_path(path: &Path) -> Option<Zone> {
    let text = path.to_str()?;
    let (_, name) = text.split_once("zoneinfo/")?;
    let name = name
        .strip_prefix("posix/")
        .or_else(|| name.strip_prefix("right/"))
        .unwrap_or(name);
    Zone::parse(name).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 3, 0, 0).unwrap()
    }

    #[test]
    fn shows_utc_times_in_the_zone_with_its_name_where_asked() {
        let tokyo = Zone::parse("Asia/Tokyo").unwrap();
        assert_eq!(tokyo.show(t()), "2026-11-23 12:00");
        assert_eq!(tokyo.show_named(t()), "2026-11-23 12:00 JST");
        assert_eq!(Zone::UTC.show_named(t()), "2026-11-23 03:00 UTC");
        let berlin = Zone::parse("Europe/Berlin").unwrap();
        assert_eq!(berlin.show_as(t(), "%H:%M %Z"), "04:00 CET");
        assert!(Zone::parse("Asia/Tokio").is_err());
    }

    #[test]
    fn the_system_zone_comes_from_tz_then_etc_localtime_then_etc_timezone() {
        let etc = tempfile::tempdir().unwrap();
        assert_eq!(Zone::from_system(None, etc.path()), Zone::UTC);
        std::fs::write(etc.path().join("timezone"), "Europe/Berlin\n").unwrap();
        assert_eq!(Zone::from_system(None, etc.path()).name(), "Europe/Berlin");
        std::os::unix::fs::symlink(
            "/usr/share/zoneinfo/Asia/Tokyo",
            etc.path().join("localtime"),
        )
        .unwrap();
        assert_eq!(Zone::from_system(None, etc.path()).name(), "Asia/Tokyo");
        let z = Zone::from_system(Some(":America/New_York"), etc.path());
        assert_eq!(z.name(), "America/New_York");
        let z = Zone::from_system(Some("/usr/share/zoneinfo/Asia/Kolkata"), etc.path());
        assert_eq!(z.name(), "Asia/Kolkata");
        // A POSIX rule (not an IANA name) falls through to the files.
        assert_eq!(
            Zone::from_system(Some("JST-9"), etc.path()).name(),
            "Asia/Tokyo"
        );
    }
}
