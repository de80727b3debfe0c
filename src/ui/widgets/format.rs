//! Human formats for sizes and ages. Ages have minute granularity so the screen changes
//! at most once a minute when nothing else does.

use chrono::Duration;

pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "K", "M", "G", "T", "P"];
    let mut v = n as f64;
    let mut i = 0;
    while v >= 1024.0 && i < UNITS.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{n}B")
    } else if v < 10.0 {
        format!("{v:.1}{}", UNITS[i])
    } else {
        format!("{v:.0}{}", UNITS[i])
    }
}

pub fn age(d: Duration) -> String {
    let m = d.num_minutes();
    if m < 1 {
        "<1m".into()
    } else if m < 60 {
        format!("{m}m")
    } else if m < 48 * 60 {
        let h = m / 60;
        let rest = m % 60;
        if h < 10 && rest > 0 {
            format!("{h}h{rest:02}m")
        } else {
            format!("{h}h")
        }
    } else {
        format!("{}d", m / (24 * 60))
    }
}

pub fn pct(v: f64) -> String {
    format!("{:>3.0}%", v)
}

/// Cuts `s` to `width` columns with an ellipsis.
pub fn fit(s: &str, width: usize) -> String {
    use unicode_width::UnicodeWidthStr;
    if s.width() <= width {
        return s.to_string();
    }
    let mut out = String::new();
    let mut w = 0;
    for c in s.chars() {
        let cw = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if w + cw + 1 > width {
            break;
        }
        out.push(c);
        w += cw;
    }
    out.push('…');
    out
}

/// Like [`fit`], but the cut is in the middle: names that differ only at the end
/// (`services.unhealthy:local/web-1`, `…/db-1`) stay apart when cut.
pub fn fit_middle(s: &str, width: usize) -> String {
    use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};
    if s.width() <= width || width < 8 {
        return fit(s, width);
    }
    let tail_room = (width - 1) / 2;
    let mut tail: Vec<char> = Vec::new();
    let mut w = 0;
    for c in s.chars().rev() {
        let cw = c.width().unwrap_or(0);
        if w + cw > tail_room {
            break;
        }
        tail.push(c);
        w += cw;
    }
    let mut out = fit(s, width - w);
    out.extend(tail.into_iter().rev());
    out
}

/// Breaks a long line at `/` or a space so a path or a command wraps where a reader expects,
/// never in the middle of a name when a separator is near.
pub fn wrap_at_separators(line: &str, width: usize) -> Vec<String> {
    use unicode_width::UnicodeWidthChar;
    let width = width.max(8);
    let mut out = Vec::new();
    let mut rest: &str = line;
    loop {
        let mut w = 0;
        let mut cut = rest.len();
        let mut last_sep = None;
        for (idx, c) in rest.char_indices() {
            let cw = c.width().unwrap_or(0);
            if w + cw > width {
                cut = idx;
                break;
            }
            w += cw;
            if c == '/' || c == ' ' {
                last_sep = Some(idx + c.len_utf8());
            }
        }
        if cut == rest.len() {
            out.push(rest.to_string());
            return out;
        }
        // Prefer a separator in the last third of the line.
        let at = match last_sep {
            Some(p) if p > cut * 2 / 3 => p,
            _ => cut,
        };
        out.push(rest[..at].to_string());
        rest = &rest[at..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_ages() {
        assert_eq!(bytes(512), "512B");
        assert_eq!(bytes(1536), "1.5K");
        assert_eq!(bytes(200 * 1024 * 1024 * 1024), "200G");
        assert_eq!(age(Duration::seconds(30)), "<1m");
        assert_eq!(age(Duration::minutes(75)), "1h15m");
        assert_eq!(age(Duration::hours(30)), "30h");
        assert_eq!(age(Duration::days(9)), "9d");
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(
            fit_middle("services.unhealthy:local/web-1", 20),
            "services.u…cal/web-1"
        );
        assert_eq!(fit_middle("short", 20), "short");
        assert_eq!(fit_middle("abcdefghij", 5), "abcd…");
        assert_eq!(
            unicode_width::UnicodeWidthStr::width(
                fit_middle("services.restart_loop:local/celery-1", 29).as_str()
            ),
            29
        );
    }
}
