//! Key hints as views draw them (`v verify · d drill`). The keys come from the active keymap
//! (the console resolves them), so a hint never names a key that does something else.

use crate::action::Action;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint {
    pub action: Action,
    /// As written in hints: `v`, `Enter`, `C-x`.
    pub key: String,
    pub label: String,
}

/// ` v verify · V verify service ` — empty when nothing is bound.
pub fn join(hints: &[Hint]) -> String {
    if hints.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = hints
        .iter()
        .map(|h| format!("{} {}", h.key, h.label))
        .collect();
    format!(" {} ", parts.join(" · "))
}

/// The key bound to `action`, if a hint for it is shown.
pub fn key_of(hints: &[Hint], action: Action) -> Option<&str> {
    hints
        .iter()
        .find(|h| h.action == action)
        .map(|h| h.key.as_str())
}
