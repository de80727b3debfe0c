//! Hints from the active keymap: the key shown next to each word is the key that does it in
//! that place, so a hint can never name an unbound key.

use crate::action::Action;
use crate::config::keymap::{KeyContext, Keymap};
use crate::ui::widgets::hints::Hint;

/// Hints for `wanted` (action, label) in `contexts`, leaving out actions no key reaches.
pub fn resolve(keymap: &Keymap, contexts: &[KeyContext], wanted: &[(Action, &str)]) -> Vec<Hint> {
    wanted
        .iter()
        .filter_map(|(action, label)| {
            keymap.key_for(contexts, *action).map(|key| Hint {
                action: *action,
                key,
                label: (*label).to_string(),
            })
        })
        .collect()
}

/// The keys that switch tabs, written compactly: `1-5` when they are consecutive digits.
pub fn tab_keys(keymap: &Keymap) -> Option<String> {
    let keys: Vec<String> = crate::tab::Tab::ALL
        .iter()
        .filter_map(|t| keymap.key_for(&[KeyContext::Global], Action::Tab(*t)))
        .collect();
    if keys.is_empty() {
        return None;
    }
    let digits: Vec<u32> = keys
        .iter()
        .filter_map(|k| (k.chars().count() == 1).then(|| k.chars().next()?.to_digit(10))?)
        .collect();
    if digits.len() == keys.len() && digits.len() > 1 && digits.windows(2).all(|w| w[1] == w[0] + 1)
    {
        return Some(format!("{}-{}", keys[0], keys[keys.len() - 1]));
    }
    Some(keys.join("/"))
}

/// The key that opens `tab`, for card titles that lead to it (`Alarms — 2`).
pub fn tab_key(keymap: &Keymap, tab: crate::tab::Tab) -> Option<String> {
    keymap.key_for(&[KeyContext::Global], Action::Tab(tab))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_follow_the_keymap_and_leave_out_unbound_actions() {
        let km = Keymap::builtin_default();
        let h = resolve(
            &km,
            &[KeyContext::Backups, KeyContext::List],
            &[(Action::Verify, "verify"), (Action::Noop, "nothing")],
        );
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].key, "v");
        assert_eq!(tab_keys(&km).as_deref(), Some("1-6"));
        let vim = crate::config::keymap::load_keymap("vim", None).0.unwrap();
        assert!(tab_keys(&vim).is_some());
    }
}
