//! No module imports one that imports it back: reads every file under src/, collects the
//! `crate::…` (and `super::…` reaching the crate root) paths it uses, builds the graph
//! between the top-level modules of src/ and fails naming any cycle that is not on the
//! allow-list below.
//!
//! The check reads source text, not rustc's resolution: comments are skipped, and a path
//! counts wherever it appears in code (imports, qualified calls, types, test modules).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Dependencies that close a cycle today and are being removed by others' work: `(from, to)`
/// means "`from` uses `to`, although `to` (indirectly) uses `from`". This list must only
/// shrink: delete an entry when its cycle is gone (the test says so), never add one — move
/// the shared types down instead.
const KNOWN_CYCLE_EDGES: &[(&str, &str)] = &[];

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The module path of a file: `src/a/b.rs` → `[a, b]`, `src/a/mod.rs` → `[a]`,
/// `src/lib.rs` → `[]`.
fn module_path(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|s| s.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().unwrap_or_default();
    let stem = last.trim_end_matches(".rs");
    if !matches!(stem, "mod" | "lib" | "main") {
        parts.push(stem.to_string());
    }
    parts
}

/// Source text without comments (line, block and doc comments); string literals are kept,
/// which is harmless: a `crate::` inside a string is rare and would only add an edge.
fn strip_comments(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    let b = src.as_bytes();
    let mut i = 0;
    let mut depth = 0usize;
    while i < b.len() {
        if depth > 0 {
            if b[i..].starts_with(b"*/") {
                depth -= 1;
                i += 2;
            } else if b[i..].starts_with(b"/*") {
                depth += 1;
                i += 2;
            } else {
                if b[i] == b'\n' {
                    out.push('\n');
                }
                i += 1;
            }
            continue;
        }
        if b[i..].starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if b[i..].starts_with(b"/*") {
            depth = 1;
            i += 2;
            continue;
        }
        let ch = src[i..].chars().next().unwrap();
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The first module named after each `crate::` / `super::` path in `code`, resolved against
/// the file's own module path; `use crate::{a::X, b}` gives `a` and `b`.
fn used_top_modules(code: &str, here: &[String]) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let chars: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        // A path starts at an identifier boundary.
        if i > 0 && (is_ident(chars[i - 1]) || chars[i - 1] == '$' || chars[i - 1] == ':') {
            i += 1;
            continue;
        }
        let rest: String = chars[i..chars.len().min(i + 7)].iter().collect();
        let (base, mut j) = if rest.starts_with("crate::") {
            (Vec::new(), i + 7)
        } else if rest.starts_with("super::") {
            let mut base = here.to_vec();
            let mut j = i;
            while chars[j..].iter().take(7).collect::<String>() == "super::" {
                base.pop();
                j += 7;
            }
            (base, j)
        } else {
            i += 1;
            continue;
        };
        // `super::` inside a nested module of one file is rare here; a test module's
        // `super::` resolves to the file's own module, which is the same top-level module.
        let mut heads = Vec::new();
        collect_heads(&chars, &mut j, &mut heads);
        for h in heads {
            if base.is_empty() {
                found.insert(h);
            } else {
                found.insert(base[0].clone());
            }
        }
        i = j.max(i + 1);
    }
    found
}

/// Reads one use-tree position: an identifier, or `{a::x, b}` (the first identifier of each
/// branch).
fn collect_heads(chars: &[char], j: &mut usize, heads: &mut Vec<String>) {
    while *j < chars.len() && chars[*j].is_whitespace() {
        *j += 1;
    }
    if *j < chars.len() && chars[*j] == '{' {
        *j += 1;
        let mut depth = 0;
        let mut at_branch_start = true;
        while *j < chars.len() {
            let c = chars[*j];
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => {
                    *j += 1;
                    return;
                }
                '}' => depth -= 1,
                ',' if depth == 0 => at_branch_start = true,
                c if at_branch_start && depth == 0 && is_ident(c) => {
                    let start = *j;
                    while *j < chars.len() && is_ident(chars[*j]) {
                        *j += 1;
                    }
                    let name: String = chars[start..*j].iter().collect();
                    if name != "self" {
                        heads.push(name);
                    }
                    at_branch_start = false;
                    continue;
                }
                c if !c.is_whitespace() => at_branch_start = false,
                _ => {}
            }
            *j += 1;
        }
        return;
    }
    let start = *j;
    while *j < chars.len() && is_ident(chars[*j]) {
        *j += 1;
    }
    if *j > start {
        heads.push(chars[start..*j].iter().collect());
    }
}

/// Top-level module → the top-level modules it uses, and for each edge one file that makes it.
fn module_graph() -> BTreeMap<String, BTreeMap<String, PathBuf>> {
    let src = src_dir();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let top_level: BTreeSet<String> = files
        .iter()
        .filter_map(|f| module_path(f.strip_prefix(&src).unwrap()).first().cloned())
        .collect();
    let mut graph: BTreeMap<String, BTreeMap<String, PathBuf>> = BTreeMap::new();
    for f in &files {
        let rel = f.strip_prefix(&src).unwrap();
        if rel == Path::new("main.rs") {
            continue; // the binary is its own crate: it uses `toban::…`, not `crate::…`
        }
        let here = module_path(rel);
        let Some(from) = here.first().cloned() else {
            continue; // lib.rs only declares the modules
        };
        let code = strip_comments(&std::fs::read_to_string(f).unwrap());
        graph.entry(from.clone()).or_default();
        for to in used_top_modules(&code, &here) {
            if to != from && top_level.contains(&to) {
                graph
                    .entry(from.clone())
                    .or_default()
                    .entry(to)
                    .or_insert_with(|| rel.to_path_buf());
            }
        }
    }
    graph
}

/// A cycle through `start`, as a path `start → … → start`, if there is one.
fn cycle_through(graph: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Option<Vec<String>> {
    // Breadth first, so the cycle named is a shortest one.
    let mut prev: BTreeMap<String, String> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::new();
    for n in graph.get(start).into_iter().flatten() {
        if !prev.contains_key(n) {
            prev.insert(n.clone(), start.to_string());
            queue.push_back(n.clone());
        }
    }
    while let Some(n) = queue.pop_front() {
        if n == start {
            let mut path = vec![start.to_string()];
            let mut at = prev[start].clone();
            while at != start {
                path.push(at.clone());
                at = prev[&at].clone();
            }
            path.push(start.to_string());
            path.reverse();
            return Some(path);
        }
        for m in graph.get(&n).into_iter().flatten() {
            if !prev.contains_key(m) {
                prev.insert(m.clone(), n.clone());
                queue.push_back(m.clone());
            }
        }
    }
    None
}

fn plain(
    graph: &BTreeMap<String, BTreeMap<String, PathBuf>>,
) -> BTreeMap<String, BTreeSet<String>> {
    graph
        .iter()
        .map(|(k, v)| (k.clone(), v.keys().cloned().collect()))
        .collect()
}

fn describe(cycle: &[String], files: &BTreeMap<String, BTreeMap<String, PathBuf>>) -> String {
    let steps: Vec<String> = cycle
        .windows(2)
        .map(|w| format!("{} → {} ({})", w[0], w[1], files[&w[0]][&w[1]].display()))
        .collect();
    format!("{}\n    {}", cycle.join(" → "), steps.join("\n    "))
}

#[test]
fn no_new_cycle_between_top_level_modules() {
    let files = module_graph();
    let mut graph = plain(&files);
    for (from, to) in KNOWN_CYCLE_EDGES {
        if let Some(out) = graph.get_mut(*from) {
            out.remove(*to);
        }
    }
    let mut cycles = Vec::new();
    let mut seen: BTreeSet<BTreeSet<String>> = BTreeSet::new();
    for node in graph.keys() {
        if let Some(c) = cycle_through(&graph, node) {
            let members: BTreeSet<String> = c.iter().cloned().collect();
            if seen.insert(members) {
                cycles.push(describe(&c, &files));
            }
        }
    }
    assert!(
        cycles.is_empty(),
        "modules that import each other (move the shared types down into a module both \
         can use):\n  {}",
        cycles.join("\n  ")
    );
}

#[test]
fn allow_list_names_only_cycles_that_still_exist() {
    let files = module_graph();
    let graph = plain(&files);
    let mut stale = Vec::new();
    for (from, to) in KNOWN_CYCLE_EDGES {
        let edge = graph.get(*from).is_some_and(|o| o.contains(*to));
        // Still a cycle: `to` reaches `from` back.
        let closes = edge && {
            let mut g = graph.clone();
            g.entry(from.to_string()).or_default().retain(|m| m == to);
            cycle_through(&g, from).is_some()
        };
        if !closes {
            stale.push(format!("({from:?}, {to:?})"));
        }
    }
    assert!(
        stale.is_empty(),
        "these cycles are gone: remove them from KNOWN_CYCLE_EDGES in tests/module_cycles.rs: {}",
        stale.join(", ")
    );
}

#[test]
fn the_reader_finds_paths_in_the_forms_the_code_uses() {
    let here = vec!["ui".to_string(), "wizard".to_string()];
    let code = "use crate::{action::Action, config::{keymap::Key, theme}};\n\
                use super::widgets;\n\
                fn f() { crate::sanitize::strip(x); let y: crate::store::Store; }\n";
    let found = used_top_modules(&strip_comments(code), &here);
    let want: BTreeSet<String> = ["action", "config", "sanitize", "store", "ui"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(found, want);
    let commented = "// use crate::store;\n/* crate::app */ /// [`crate::demo`]\nfn g() {}";
    assert!(used_top_modules(&strip_comments(commented), &here).is_empty());
    assert_eq!(module_path(Path::new("a/mod.rs")), ["a"]);
    assert_eq!(module_path(Path::new("a/b.rs")), ["a", "b"]);
    assert!(module_path(Path::new("lib.rs")).is_empty());
}
