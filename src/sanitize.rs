//! Makes remote text inert before it is drawn: escape sequences (CSI, OSC, DCS …) and
//! other control characters are removed, tabs become spaces.

pub fn strip_escapes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => match chars.next() {
                // CSI: parameters and intermediates up to a final byte in @..~
                Some('[') => {
                    for c in chars.by_ref() {
                        if ('@'..='~').contains(&c) {
                            break;
                        }
                    }
                }
                // OSC, DCS, SOS, PM, APC: up to BEL or ST (ESC \)
                Some(']') | Some('P') | Some('X') | Some('^') | Some('_') => {
                    while let Some(c) = chars.next() {
                        if c == '\u{7}' {
                            break;
                        }
                        if c == '\u{1b}' && chars.peek() == Some(&'\\') {
                            chars.next();
                            break;
                        }
                    }
                }
                // Two-character sequences (ESC c, ESC 7 …) are dropped whole.
                _ => {}
            },
            '\u{9b}' => {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            '\t' => out.push_str("    "),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::strip_escapes;

    #[test]
    fn sequences_and_controls_are_removed() {
        assert_eq!(strip_escapes("\x1b[31mred\x1b[0m"), "red");
        assert_eq!(strip_escapes("a\x1b]0;title\x07b"), "ab");
        assert_eq!(
            strip_escapes("a\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\"),
            "alink"
        );
        assert_eq!(strip_escapes("clear\x1bc screen\r\n"), "clear screen");
        assert_eq!(strip_escapes("tab\there"), "tab    here");
        assert_eq!(strip_escapes("日本語 ok"), "日本語 ok");
    }
}
