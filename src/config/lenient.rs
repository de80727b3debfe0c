//! Reading a TOML document into a config type so that a mistake costs only the entry it is
//! in: serde stops at the first unknown key or wrong type, so the entry it names is taken
//! out of the document and the rest is read again, until what is left reads cleanly. Every
//! struct involved keeps `#[serde(default, deny_unknown_fields)]`, so a removed entry takes
//! its default and every other field and section is kept. This works for any section added
//! to `Config` without code of its own.

use std::ops::Range;

use serde::de::DeserializeOwned;
use toml::de::DeTable;
use toml::Spanned;

use super::locate;

/// One entry that could not be read: where it is in the original text, its dotted path
/// there, and serde's message.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejected {
    pub span: Option<Range<usize>>,
    pub field: Option<String>,
    pub message: String,
}

/// Reads `T` from `doc`, removing every entry that serde rejects (each one reported) until
/// the rest reads. `original` is the document as parsed (for the reported paths: array
/// indices there match the file); `doc` is the working copy, left without the rejected
/// entries. When a rejection cannot be pinned to an entry, the result is `T::default()`.
pub fn read<T: DeserializeOwned + Default>(
    original: &DeTable<'_>,
    doc: &mut Spanned<DeTable<'_>>,
) -> (T, Vec<Rejected>) {
    let mut rejected = Vec::new();
    loop {
        let error = match T::deserialize(toml::de::Deserializer::from(doc.clone())) {
            Ok(value) => return (value, in_file_order(rejected)),
            Err(e) => e,
        };
        let span = error.span();
        rejected.push(Rejected {
            field: span
                .as_ref()
                .and_then(|s| locate::path_at(original, s.start)),
            span: span.clone(),
            message: error.message().trim().to_string(),
        });
        // Each round removes at least one entry, so this ends.
        let removed = span.is_some_and(|s| locate::remove_at(doc.get_mut(), s.start));
        if !removed {
            return (T::default(), in_file_order(rejected));
        }
    }
}

/// serde finds unknown keys before wrong values; people read a file top to bottom.
fn in_file_order(mut rejected: Vec<Rejected>) -> Vec<Rejected> {
    rejected.sort_by_key(|r| r.span.as_ref().map_or(usize::MAX, |s| s.start));
    rejected
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(default, deny_unknown_fields)]
    struct Doc {
        name: String,
        a: Section,
        b: Section,
        items: Vec<Item>,
        map: BTreeMap<String, Section>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(default, deny_unknown_fields)]
    struct Section {
        n: u32,
        s: String,
        list: Vec<u32>,
    }

    impl Default for Section {
        fn default() -> Self {
            Section {
                n: 7,
                s: "dflt".into(),
                list: vec![1],
            }
        }
    }

    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Item {
        path: String,
        size: Option<u32>,
    }

    fn read_str(text: &str) -> (Doc, Vec<Rejected>) {
        let original = DeTable::parse(text).unwrap();
        let mut doc = original.clone();
        read::<Doc>(original.get_ref(), &mut doc)
    }

    fn fields(r: &[Rejected]) -> Vec<&str> {
        r.iter()
            .map(|r| r.field.as_deref().unwrap_or("?"))
            .collect()
    }

    #[test]
    fn every_bad_entry_is_reported_and_only_it_is_dropped() {
        let text = "name = \"x\"\n\
                    [a]\nn = \"three\"\ns = \"kept\"\nlistt = [2]\n\
                    [b]\nn = 2\nlist = [1, \"two\", 3]\n\
                    [c]\nn = 1\n\
                    [c.d]\nx = 1\n";
        let (doc, rejected) = read_str(text);
        assert_eq!(
            fields(&rejected),
            ["a.n", "a.listt", "b.list[1]", "c"],
            "{rejected:#?}"
        );
        assert!(rejected[0].message.contains("invalid type"), "{rejected:?}");
        assert!(rejected[1].message.contains("unknown field `listt`"));
        // `[c.d]` went with `c`: one mistake, one report.
        assert_eq!(doc.name, "x");
        assert_eq!(
            doc.a,
            Section {
                n: 7,
                s: "kept".into(),
                list: vec![1]
            }
        );
        assert_eq!((doc.b.n, doc.b.list.clone()), (2, vec![1, 3]));
    }

    #[test]
    fn array_tables_and_maps_lose_only_their_bad_entries() {
        let text = "[[items]]\npath = \"/a\"\n\
                    [[items]]\nsize = 3\n\
                    [[items]]\npath = \"/c\"\nsise = 4\n\
                    [map.one]\nn = 1\n\
                    [map.two]\nn = -1\ns = \"ok\"\n";
        let (doc, rejected) = read_str(text);
        assert_eq!(
            fields(&rejected),
            ["items[1]", "items[2].sise", "map.two.n"],
            "{rejected:#?}"
        );
        assert!(rejected[0].message.contains("missing field `path`"));
        let paths: Vec<&str> = doc.items.iter().map(|i| i.path.as_str()).collect();
        assert_eq!(paths, ["/a", "/c"]);
        assert_eq!(doc.map["one"].n, 1);
        assert_eq!((doc.map["two"].n, doc.map["two"].s.as_str()), (7, "ok"));
    }

    #[test]
    fn reported_spans_point_into_the_original_text() {
        let text = "[a]\nn = 1\nbogus = true\n[b]\nn = \"x\"\n";
        let (_, rejected) = read_str(text);
        let at: Vec<&str> = rejected
            .iter()
            .map(|r| &text[r.span.clone().unwrap()])
            .collect();
        assert_eq!(at, ["bogus", "\"x\""]);
    }
}
