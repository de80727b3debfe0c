//! Finding things in a TOML document by byte span: which dotted field an error offset falls in,
//! where a field's key is written, and taking an entry out.

use std::ops::Range;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// Parses a document keeping every key's and value's span.
pub fn parse(src: &str) -> Result<Spanned<DeTable<'_>>, toml::de::Error> {
    DeTable::parse(src)
}

/// The dotted path (`host.mount[0].warn`) of the deepest key or value containing `offset`.
pub fn path_at(root: &DeTable<'_>, offset: usize) -> Option<String> {
    find(root, offset, "")
}

fn find(table: &DeTable<'_>, offset: usize, prefix: &str) -> Option<String> {
    for (k, v) in table.iter() {
        let here = format!("{prefix}{}", k.get_ref());
        if k.span().contains(&offset) {
            return Some(here);
        }
        match v.get_ref() {
            DeValue::Table(t) => {
                if let Some(p) = find(t, offset, &format!("{here}.")) {
                    return Some(p);
                }
            }
            DeValue::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let at = format!("{here}[{i}]");
                    if let DeValue::Table(t) = item.get_ref() {
                        if let Some(p) = find(t, offset, &format!("{at}.")) {
                            return Some(p);
                        }
                    }
                    if item.span().contains(&offset) {
                        return Some(at);
                    }
                }
            }
            _ => {}
        }
        if v.span().contains(&offset) {
            return Some(here);
        }
    }
    None
}

/// The span of the key at `path` (`host.cpu.warn`, `host.mount[1].crit`); when that key is not
/// written in the file, the span of its nearest parent that is.
pub fn key_span(root: &DeTable<'_>, path: &str) -> Option<Range<usize>> {
    let mut table = root;
    let mut found = None;
    for seg in path.split('.') {
        let (name, index) = match seg.split_once('[') {
            Some((n, rest)) => (n, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (seg, None),
        };
        let (k, v) = table.iter().find(|(k, _)| k.get_ref() == name)?;
        found = Some(k.span());
        let mut value = v;
        if let (Some(i), DeValue::Array(items)) = (index, v.get_ref()) {
            match items.get(i) {
                Some(item) => {
                    found = Some(item.span());
                    value = item;
                }
                None => return found,
            }
        }
        match value.get_ref() {
            DeValue::Table(t) => table = t,
            _ => return found,
        }
    }
    found
}

/// Like [`key_span`], but never gives up: falls back to shorter and shorter prefixes.
pub fn nearest_key_span(root: &DeTable<'_>, path: &str) -> Option<Range<usize>> {
    let mut p = path;
    loop {
        if let Some(s) = key_span(root, p) {
            return Some(s);
        }
        p = &p[..p.rfind('.')?];
    }
}

/// The span of the key (or array item) at `path`, only when that very entry is written.
pub fn exact_span(root: &DeTable<'_>, path: &str) -> Option<Range<usize>> {
    let mut table = root;
    let segments: Vec<&str> = path.split('.').collect();
    for (n, seg) in segments.iter().enumerate() {
        let (name, index) = match seg.split_once('[') {
            Some((n, rest)) => (n, Some(rest.trim_end_matches(']').parse::<usize>().ok()?)),
            None => (*seg, None),
        };
        let (k, v) = table.iter().find(|(k, _)| k.get_ref() == name)?;
        let mut found = k.span();
        let mut value = v;
        if let Some(i) = index {
            let DeValue::Array(items) = v.get_ref() else {
                return None;
            };
            value = items.get(i)?;
            found = value.span();
        }
        if n + 1 == segments.len() {
            return Some(found);
        }
        match value.get_ref() {
            DeValue::Table(t) => table = t,
            _ => return None,
        }
    }
    None
}

/// Removes the entry [`path_at`] names for `offset` (a key with its value, or an array
/// item). False when no entry contains `offset`.
pub fn remove_at(table: &mut DeTable<'_>, offset: usize) -> bool {
    let mut target: Option<String> = None;
    for (k, v) in table.iter_mut() {
        if k.span().contains(&offset) {
            target = Some(k.get_ref().to_string());
            break;
        }
        let value_span = v.span();
        if remove_inside(v.get_mut(), offset) {
            return true;
        }
        if value_span.contains(&offset) {
            target = Some(k.get_ref().to_string());
            break;
        }
    }
    target.is_some_and(|name| table.remove(name.as_str()).is_some())
}

/// [`remove_at`] below a table or array value.
fn remove_inside(value: &mut DeValue<'_>, offset: usize) -> bool {
    match value {
        DeValue::Table(t) => remove_at(t, offset),
        DeValue::Array(items) => {
            let mut drop = None;
            for (i, item) in items.iter_mut().enumerate() {
                if remove_inside(item.get_mut(), offset) {
                    return true;
                }
                if item.span().contains(&offset) {
                    drop = Some(i);
                    break;
                }
            }
            let Some(i) = drop else {
                return false;
            };
            // DeArray has no `remove`: rebuild it without item i.
            let mut kept = toml::de::DeArray::new();
            for (j, item) in items.iter().enumerate() {
                if j != i {
                    kept.push(item.clone());
                }
            }
            *items = kept;
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "theme = \"x\"\n[host]\ninterval = \"2s\"\n[host.cpu]\nwarn = 90\n[[host.mount]]\npath = \"/\"\ncrit = 99\n";

    #[test]
    fn path_at_names_nested_and_array_fields() {
        let doc = parse(DOC).unwrap();
        let off = DOC.find("90").unwrap();
        assert_eq!(
            path_at(doc.get_ref(), off).as_deref(),
            Some("host.cpu.warn")
        );
        let off = DOC.find("99").unwrap();
        assert_eq!(
            path_at(doc.get_ref(), off).as_deref(),
            Some("host.mount[0].crit")
        );
    }

    #[test]
    fn key_span_finds_the_key_line() {
        let doc = parse(DOC).unwrap();
        let span = key_span(doc.get_ref(), "host.cpu.warn").unwrap();
        assert_eq!(&DOC[span], "warn");
        let span = key_span(doc.get_ref(), "host.mount[0].crit").unwrap();
        assert_eq!(&DOC[span], "crit");
        let span = nearest_key_span(doc.get_ref(), "host.cpu.crit").unwrap();
        // Not written: falls back to the `[host.cpu]` header on line 4.
        assert_eq!(crate::config::error::line_col(DOC, span.start).0, 4);
    }
}
