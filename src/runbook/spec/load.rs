//! Where runbooks come from: the ones shipped in the binary, then every `*.toml` in the
//! user's folders (a user file replaces a shipped one of the same `name`).

use std::path::{Path, PathBuf};

use super::{parse, Runbook};
use crate::config::ConfigError;

/// The runbooks shipped in the binary.
pub const SHIPPED: &[(&str, &str)] = &[
    (
        "restore-postgres.toml",
        include_str!("../../../runbooks/restore-postgres.toml"),
    ),
    (
        "restore-files.toml",
        include_str!("../../../runbooks/restore-files.toml"),
    ),
    (
        "rotate-db-password.toml",
        include_str!("../../../runbooks/rotate-db-password.toml"),
    ),
    (
        "rotate-access-key.toml",
        include_str!("../../../runbooks/rotate-access-key.toml"),
    ),
    (
        "delete-access-key.toml",
        include_str!("../../../runbooks/delete-access-key.toml"),
    ),
    (
        "rotate-logs.toml",
        include_str!("../../../runbooks/rotate-logs.toml"),
    ),
    (
        "renew-certificate.toml",
        include_str!("../../../runbooks/renew-certificate.toml"),
    ),
    (
        "restart-container.toml",
        include_str!("../../../runbooks/restart-container.toml"),
    ),
    (
        "cw-high-error-rate.toml",
        include_str!("../../../runbooks/cw-high-error-rate.toml"),
    ),
    (
        "cw-high-latency.toml",
        include_str!("../../../runbooks/cw-high-latency.toml"),
    ),
    (
        "cw-db-connection-errors.toml",
        include_str!("../../../runbooks/cw-db-connection-errors.toml"),
    ),
    (
        "cw-alb-5xx.toml",
        include_str!("../../../runbooks/cw-alb-5xx.toml"),
    ),
    (
        "cw-ecs-cpu-high.toml",
        include_str!("../../../runbooks/cw-ecs-cpu-high.toml"),
    ),
    (
        "cw-rds-storage-low.toml",
        include_str!("../../../runbooks/cw-rds-storage-low.toml"),
    ),
];

/// Shipped runbooks plus every `*.toml` in `user_dirs` (a user file overrides a shipped one
/// of the same `name`). Bad files are reported and left out; this never panics.
pub fn load_all(user_dirs: &[PathBuf]) -> (Vec<Runbook>, Vec<ConfigError>) {
    let mut books: Vec<Runbook> = Vec::new();
    let mut errors = Vec::new();
    let add = |rb: Runbook, books: &mut Vec<Runbook>| {
        if let Some(existing) = books.iter_mut().find(|b| b.name == rb.name) {
            *existing = rb;
        } else {
            books.push(rb);
        }
    };
    for (name, text) in SHIPPED {
        match parse(&Path::new("<shipped>").join(name), text) {
            Ok(rb) => add(rb, &mut books),
            Err(e) => errors.extend(e),
        }
    }
    for dir in user_dirs {
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                errors.push(ConfigError::new(dir, format!("cannot read folder: {e}")));
                continue;
            }
        };
        let mut paths: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        paths.sort();
        for path in paths {
            let text = match std::fs::read_to_string(&path) {
                Ok(t) => t,
                Err(e) => {
                    errors.push(ConfigError::new(&path, format!("cannot read: {e}")));
                    continue;
                }
            };
            match parse(&path, &text) {
                Ok(rb) => add(rb, &mut books),
                Err(e) => errors.extend(e),
            }
        }
    }
    (books, errors)
}

/// For `toban config check`: every problem in the shipped and user runbooks.
pub fn check(user_dirs: &[PathBuf]) -> Vec<ConfigError> {
    load_all(user_dirs).1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_runbooks_load_clean() {
        let (books, errors) = load_all(&[]);
        assert!(errors.is_empty(), "{errors:#?}");
        assert_eq!(books.len(), SHIPPED.len());
    }

    #[test]
    fn a_bad_pattern_is_an_error_with_its_line() {
        let src = "name = \"p\"\ntitle = \"P\"\nkind = \"maintenance\"\n\n[[param]]\nname = \"x\"\npattern = '^[a-z'\n\n[[step]]\nid = \"n\"\nkind = \"note\"\ntext = \"{{params.x}}\"\n";
        let errs = parse(Path::new("p.toml"), src).unwrap_err();
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(errs[0].line, Some(7));
        assert_eq!(errs[0].field.as_deref(), Some("param[0].pattern"));
        assert!(
            errs[0].message.contains("not a regular expression"),
            "{}",
            errs[0]
        );
    }

    fn one_step(step: &str) -> Vec<ConfigError> {
        let src = format!(
            "name = \"s\"\ntitle = \"S\"\nkind = \"maintenance\"\n\n[[step]]\nid = \"a\"\n{step}\n"
        );
        parse(Path::new("s.toml"), &src).err().unwrap_or_default()
    }

    #[test]
    fn every_kind_refuses_keys_it_does_not_know_and_bad_time_limits() {
        let e = one_step("kind = \"note\"\ntext = \"x\"\ntxet = \"typo\"");
        assert!(e[0].message.contains("unknown field `txet`"), "{e:?}");
        assert_eq!(e[0].field.as_deref(), Some("step[0].note"));
        let e = one_step(
            "kind = \"sql\"\nconnection = \"c\"\nstatements = [\"SELECT 1\"]\ntimeout = \"soon\"",
        );
        assert!(e[0].message.contains("`soon` is not a duration"), "{e:?}");
        assert_eq!(e[0].line, Some(6));
        assert!(one_step(
            "kind = \"sql\"\nconnection = \"c\"\nstatements = [\"SELECT 1\"]\ntimeout = \"90s\""
        )
        .is_empty());
        assert!(
            one_step("kind = \"container\"\naction = \"stop\"\nnames = [\"x\"]\ntimeout = 5")
                .is_empty()
        );
    }
}
