//! A line's time, when its head carries one: ISO 8601 / RFC 3339 (`2026-12-03T07:00:00Z`,
//! `2026-12-03 07:00:00,123`, `2026/12/03 07:00:00` as nginx's error log writes it) or the
//! common log format (`[03/Dec/2026:07:00:00 +0000]`). A time without a zone is taken as UTC.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};

const HEAD: usize = 128;

pub fn parse(line: &[u8]) -> Option<DateTime<Utc>> {
    let head = &line[..line.len().min(HEAD)];
    let mut i = 0;
    while i + 19 <= head.len() {
        let p = head[i..].iter().position(u8::is_ascii_digit)?;
        let at = i + p;
        if let Some(t) = iso(&head[at..]).or_else(|| clf(head, at)) {
            return Some(t);
        }
        // Skip the run of digits.
        i = at + head[at..].iter().take_while(|c| c.is_ascii_digit()).count();
    }
    None
}

fn num(b: &[u8]) -> Option<u32> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(b).ok()?.parse().ok()
}

fn iso(b: &[u8]) -> Option<DateTime<Utc>> {
    if b.len() < 19
        || !matches!(b[4], b'-' | b'/')
        || b[7] != b[4]
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    if !matches!(b[10], b'T' | b' ') {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(num(&b[0..4])? as i32, num(&b[5..7])?, num(&b[8..10])?)?;
    let (h, m, s) = (num(&b[11..13])?, num(&b[14..16])?, num(&b[17..19])?);
    let mut i = 19;
    let mut nanos = 0u32;
    if matches!(b.get(i), Some(b'.') | Some(b',')) {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let digits = &b[start..i.min(start + 9)];
        nanos = num(digits).unwrap_or(0) * 10u32.pow(9 - digits.len() as u32);
    }
    let naive = NaiveDateTime::new(date, chrono::NaiveTime::from_hms_nano_opt(h, m, s, nanos)?);
    let offset = match b.get(i) {
        Some(b'Z') => 0,
        Some(&c @ (b'+' | b'-')) => {
            let rest = &b[i + 1..];
            let (hh, mm) = if rest.len() >= 5 && rest[2] == b':' {
                (num(&rest[0..2])?, num(&rest[3..5])?)
            } else if rest.len() >= 4 {
                (num(&rest[0..2])?, num(&rest[2..4])?)
            } else {
                (num(rest.get(0..2)?)?, 0)
            };
            let secs = (hh * 3600 + mm * 60) as i32;
            if c == b'-' {
                -secs
            } else {
                secs
            }
        }
        _ => 0,
    };
    let tz = FixedOffset::east_opt(offset)?;
    Some(tz.from_local_datetime(&naive).single()?.with_timezone(&Utc))
}

/// `03/Dec/2026:07:00:00 +0000`, the digits starting at `at`.
fn clf(head: &[u8], at: usize) -> Option<DateTime<Utc>> {
    let b = head.get(at..at + 26)?;
    if b[2] != b'/' || b[6] != b'/' || b[11] != b':' {
        return None;
    }
    let s = std::str::from_utf8(b).ok()?;
    DateTime::parse_from_str(s, "%d/%b/%Y:%H:%M:%S %z")
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_of_common_formats() {
        let t = |s: &str| parse(s.as_bytes()).map(|t| t.to_rfc3339());
        let want = Some("2026-12-03T07:00:00+00:00".to_string());
        assert_eq!(t("2026-12-03T07:00:00Z ERROR x"), want);
        assert_eq!(t("2026-12-03T16:00:00+09:00 x"), want);
        assert_eq!(t("2026-12-03 07:00:00 [error] x"), want);
        assert_eq!(t("2026/12/03 07:00:00 [error] 1#1"), want);
        assert_eq!(
            t(r#"{"time":"2026-12-03T07:00:00Z","level":"error"}"#),
            want
        );
        assert_eq!(
            t(r#"10.0.0.1 - - [03/Dec/2026:16:00:00 +0900] "GET / HTTP/1.1" 200 1"#),
            want
        );
        assert!(t("2026-12-03 07:00:00,250 x").is_some());
        assert_eq!(t("no time here at all, none"), None);
    }
}
