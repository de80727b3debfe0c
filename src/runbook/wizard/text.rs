//! One-line text fields (tui-textarea) as an operator expects them in a terminal: Ctrl-U
//! clears to the start, Ctrl-K to the end, Ctrl-W deletes a word, pasted text is inserted
//! with line breaks and control characters left out (a value never spans lines).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui_textarea::{CursorMove, TextArea};

/// A one-line field holding `value`, the cursor at its end; `mask` for secrets.
pub fn field(value: &str, mask: bool) -> TextArea<'static> {
    let mut t = TextArea::new(vec![value.to_string()]);
    if mask {
        t.set_mask_char('•');
    }
    t.move_cursor(CursorMove::End);
    t
}

pub fn value(t: &TextArea<'_>) -> String {
    t.lines().join("")
}

/// Applies an editing key; false when the key is not for the field (Enter, Esc, Tab, Up,
/// Down … are left to the keymap).
pub fn edit(t: &mut TextArea<'_>, key: KeyEvent) -> bool {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match key.code {
        KeyCode::Char('u') if ctrl => {
            t.delete_line_by_head();
            true
        }
        KeyCode::Char('k') if ctrl => {
            t.delete_line_by_end();
            true
        }
        KeyCode::Char('w') if ctrl => {
            t.delete_word();
            true
        }
        KeyCode::Char('a') if ctrl => {
            t.move_cursor(CursorMove::Head);
            true
        }
        KeyCode::Char('e') if ctrl => {
            t.move_cursor(CursorMove::End);
            true
        }
        // Other control chords would reach the text area's own bindings (undo, newline…).
        KeyCode::Char(_) if ctrl || key.modifiers.contains(KeyModifiers::ALT) => false,
        KeyCode::Char(_)
        | KeyCode::Backspace
        | KeyCode::Delete
        | KeyCode::Left
        | KeyCode::Right
        | KeyCode::Home
        | KeyCode::End => t.input(key),
        _ => false,
    }
}

/// Pasted text, kept to one line of printable characters.
pub fn paste(t: &mut TextArea<'_>, text: &str) {
    let clean: String = text
        .chars()
        .map(|c| {
            if c == '\n' || c == '\r' || c == '\t' {
                ' '
            } else {
                c
            }
        })
        .filter(|c| !c.is_control())
        .collect();
    t.insert_str(clean.trim_end());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    #[test]
    fn ctrl_u_clears_to_the_start_and_paste_stays_on_one_line() {
        let mut t = field("/var/backups/db", false);
        assert!(edit(&mut t, key(KeyCode::Char('u'), KeyModifiers::CONTROL)));
        assert_eq!(value(&t), "");
        paste(&mut t, "/mnt/backup-hdd/db\n/etc\x1b[31m");
        assert_eq!(value(&t), "/mnt/backup-hdd/db /etc[31m");
        assert!(!edit(&mut t, key(KeyCode::Enter, KeyModifiers::NONE)));
        assert!(!edit(
            &mut t,
            key(KeyCode::Char('z'), KeyModifiers::CONTROL)
        ));
    }
}
