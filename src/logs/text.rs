//! Log content made safe to draw or print: invalid UTF-8 shown lossily (never dropped),
//! escape sequences, C0/C1 controls, NUL and CR removed by `crate::sanitize`, and bidi
//! overrides removed so text cannot reorder what is around it. A huge line is cut before
//! any of that work, so a 10 MB line costs what a screenful does.

/// At most this many bytes of a line are ever made drawable at once.
pub const DRAW_LIMIT: usize = 64 * 1024;

/// Unicode bidi controls: embeddings, overrides, isolates and marks.
fn is_bidi(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}')
}

/// `bytes` as inert text (tabs become spaces, so columns stay predictable).
pub fn inert(bytes: &[u8]) -> String {
    let bytes = &bytes[..bytes.len().min(DRAW_LIMIT)];
    if bytes.iter().all(|&b| (0x20..0x7f).contains(&b)) {
        // Printable ASCII: nothing to remove (the common case, and the fast one).
        return String::from_utf8(bytes.to_vec()).unwrap_or_default();
    }
    let lossy = String::from_utf8_lossy(bytes);
    crate::sanitize::strip_escapes(&lossy)
        .chars()
        .filter(|c| !is_bidi(*c))
        .map(|c| if c == '\t' { ' ' } else { c })
        .collect()
}

/// Appends `line` made inert to `out` (for `toban logs`): printable ASCII is copied as is.
pub fn write_inert(out: &mut Vec<u8>, line: &[u8]) {
    if line
        .iter()
        .all(|&b| (0x20..0x7f).contains(&b) || b == b'\t')
    {
        out.extend_from_slice(line);
    } else {
        let lossy = String::from_utf8_lossy(line);
        let s: String = crate::sanitize::strip_escapes(&lossy)
            .chars()
            .filter(|c| !is_bidi(*c))
            .collect();
        out.extend_from_slice(s.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_controls_and_bidi_are_inert_and_bad_utf8_is_shown() {
        let line = b"\x1b]0;owned\x07a\x1b[31mred\x1b[0m\x00\r\xc2\x9bx \xe2\x80\xaeevil\xe2\x80\xac \xff!";
        assert_eq!(inert(line), "ared evil \u{fffd}!");
        let mut out = Vec::new();
        write_inert(&mut out, line);
        assert_eq!(String::from_utf8(out).unwrap(), "ared evil \u{fffd}!");
        assert_eq!(inert(b"a\tb"), "a b");
    }

    #[test]
    fn a_ten_megabyte_line_is_cut_before_work() {
        let l = vec![b'y'; 10 << 20];
        assert_eq!(inert(&l).len(), DRAW_LIMIT);
    }
}
