//! Every key a hint line names in any screen snapshot is bound in the shipped default
//! keymap: a hint that names an unbound key (the first wave's `c abort`) fails here.

use std::collections::HashSet;

use toban::config::keymap::{KeyContext, Keymap};

fn bound_keys(k: &Keymap) -> HashSet<String> {
    let mut out = HashSet::new();
    for ctx in KeyContext::ALL {
        for b in k.bindings(ctx) {
            for key in &b.on {
                out.insert(key.short());
            }
        }
    }
    out
}

/// A hint segment's key: `Enter details` → `Enter`; `PageUp/PageDown scroll` → both.
fn keys_of(segment: &str) -> Vec<String> {
    let first = segment.split_whitespace().next().unwrap_or("");
    first.split('/').map(str::to_string).collect()
}

/// Hint lines: short segments joined by ` · `, most of them (two at least) starting with a
/// bound key (other lines with ` · `, such as `alert · ALARM since 02:48`, start with words).
fn hint_lines(text: &str, bound: &HashSet<String>) -> Vec<String> {
    text.lines()
        .take_while(|l| !l.starts_with("--- styles ---"))
        // A popup over a table puts its hint line beside the table's text: each box's
        // piece of the line is read on its own.
        .flat_map(|l| l.split('│'))
        .map(|l| {
            l.trim_matches(|c: char| "│└┘─ ┌┐".contains(c))
                .trim()
                .to_string()
        })
        .filter(|l| l.contains(" · "))
        .filter(|l| {
            let segs: Vec<&str> = l.split(" · ").collect();
            let keyed = segs
                .iter()
                .filter(|s| keys_of(s).iter().all(|k| bound.contains(k)))
                .count();
            segs.iter().all(|s| s.split_whitespace().count() <= 6)
                && keyed >= 2
                && keyed * 2 > segs.len()
        })
        .collect()
}

#[test]
fn every_hint_in_every_snapshot_names_a_bound_key() {
    let keymap = Keymap::builtin_default();
    let bound = bound_keys(&keymap);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    let mut checked = 0;
    let mut wrong = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "snap") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for line in hint_lines(&text, &bound) {
            for seg in line.split(" · ") {
                checked += 1;
                for k in keys_of(seg) {
                    if !bound.contains(&k) && !k.is_empty() {
                        wrong.push(format!(
                            "{}: `{k}` in `{line}`",
                            path.file_name().unwrap().to_string_lossy()
                        ));
                    }
                }
            }
        }
    }
    // The wizard, picker, backups, calendar and alarms snapshots have hint lines.
    assert!(
        checked > 100,
        "only {checked} hint segments found: the parser lost them"
    );
    assert!(
        wrong.is_empty(),
        "hints naming unbound keys:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_check_catches_an_unbound_key() {
    let bound = bound_keys(&Keymap::builtin_default());
    let lines = hint_lines("│Enter do it · c abort · Esc leave      │\n", &bound);
    assert_eq!(
        lines.len(),
        1,
        "a hint line whose first key is unbound is still checked"
    );
    assert!(!bound.contains("c"), "c is not bound in the default keymap");
}
