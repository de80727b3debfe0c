//! Text from commands and remote systems is drawn in the terminal: escape sequences in it
//! could move the cursor, retitle the window or worse, so they are removed first.

/// `s` without escape sequences (CSI `ESC [ … final`, OSC `ESC ] … BEL|ESC \`, DCS/SOS/PM/APC
/// strings, two-byte `ESC x`), 8-bit C1 controls, and C0 controls other than tab.
/// Carriage returns are dropped too: a progress bar's `\r` rewrites would otherwise hide
/// text when drawn.
pub fn strip_escapes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '\u{1b}' => match it.next() {
                // CSI: parameters and intermediates up to a final byte in @..~
                Some('[') => {
                    for n in it.by_ref() {
                        if ('\u{40}'..='\u{7e}').contains(&n) {
                            break;
                        }
                    }
                }
                // String sequences end with BEL or ST (ESC \)
                Some(']') | Some('P') | Some('X') | Some('^') | Some('_') => {
                    skip_string(&mut it);
                }
                // nF sequences: intermediates (0x20..0x2f) then one final byte
                Some(n) if ('\u{20}'..='\u{2f}').contains(&n) => {
                    while let Some(&m) = it.peek() {
                        it.next();
                        if !('\u{20}'..='\u{2f}').contains(&m) {
                            break;
                        }
                    }
                }
                // Any other ESC x: two characters
                Some(_) | None => {}
            },
            // 8-bit CSI and string introducers
            '\u{9b}' => {
                for n in it.by_ref() {
                    if ('\u{40}'..='\u{7e}').contains(&n) {
                        break;
                    }
                }
            }
            '\u{9d}' | '\u{90}' | '\u{98}' | '\u{9e}' | '\u{9f}' => skip_string(&mut it),
            '\t' => out.push('\t'),
            c if (c as u32) < 0x20 || c == '\u{7f}' || ('\u{80}'..='\u{9f}').contains(&c) => {}
            c => out.push(c),
        }
    }
    out
}

fn skip_string(it: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while let Some(n) = it.next() {
        match n {
            '\u{7}' | '\u{9c}' => break,
            '\u{1b}' => {
                if it.peek() == Some(&'\\') {
                    it.next();
                }
                break;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::strip_escapes;

    #[test]
    fn colours_and_cursor_moves_are_removed() {
        assert_eq!(strip_escapes("\x1b[1;31mERROR\x1b[0m done"), "ERROR done");
        assert_eq!(strip_escapes("a\x1b[2J\x1b[Hb"), "ab");
        assert_eq!(strip_escapes("x\x1b[?25ly"), "xy");
    }

    #[test]
    fn window_titles_and_hyperlinks_are_removed() {
        assert_eq!(strip_escapes("\x1b]0;pwned\x07ok"), "ok");
        assert_eq!(
            strip_escapes("\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\"),
            "link"
        );
        assert_eq!(strip_escapes("\x1bP+q544e\x1b\\z"), "z");
    }

    #[test]
    fn controls_other_than_tab_are_removed() {
        assert_eq!(strip_escapes("a\tb\rc\x08d\x07e\u{9b}31mf"), "a\tbcdef");
        assert_eq!(strip_escapes("keep 日本語 text"), "keep 日本語 text");
        assert_eq!(strip_escapes("\x1b(Bplain\x1b7\x1b8"), "plain");
        assert_eq!(strip_escapes("trailing\x1b"), "trailing");
    }
}
