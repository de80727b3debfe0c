//! Runbook files: the shipped ones load clean; broken ones are refused with file, line and
//! field, and never take the good ones down with them.

use std::path::PathBuf;

use toban::runbook::spec;

fn fixtures(sub: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/runbooks")
        .join(sub)
}

#[test]
fn malformed_runbooks_are_rejected_with_file_line_and_field() {
    let errors = spec::check(&[fixtures("bad")]);
    let shown: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    let find = |file: &str, needle: &str| {
        errors
            .iter()
            .find(|e| e.file.ends_with(file) && e.message.contains(needle))
            .unwrap_or_else(|| panic!("no error in {file} about {needle}: {shown:#?}"))
    };

    let e = find("unknown-kind.toml", "unknown step kind `comand`");
    assert_eq!(e.line, Some(12));
    assert!(
        e.message.contains("did you mean `command`"),
        "{}",
        e.message
    );
    assert_eq!(e.field.as_deref(), Some("step[1].kind"));

    let e = find("missing-field.toml", "missing field `argv`");
    assert_eq!(e.line, Some(11));
    assert_eq!(e.field.as_deref(), Some("step[1].command"));

    let e = find("bad-template.toml", "unknown parameter `databse`");
    assert_eq!(e.line, Some(11));
    assert!(
        e.message.contains("did you mean `database`"),
        "{}",
        e.message
    );
    assert_eq!(e.field.as_deref(), Some("step[0].argv[1]"));

    let e = find("bad-template.toml", "runs later");
    assert_eq!(e.line, Some(16));

    let e = find("bad-template.toml", "duplicate step id `third`");
    assert_eq!(e.line, Some(24));

    // The rendered form names file and line, as `toban config check` prints it.
    assert!(
        shown.iter().any(|s| s.contains("unknown-kind.toml:12:")),
        "{shown:#?}"
    );
}

#[test]
fn a_bad_user_file_leaves_the_shipped_runbooks_and_good_files_usable() {
    let (books, errors) = spec::load_all(&[fixtures("bad"), fixtures("good")]);
    assert!(!errors.is_empty());
    let names: Vec<&str> = books.iter().map(|b| b.name.as_str()).collect();
    for n in [
        "restore-postgres",
        "restore-files",
        "rotate-db-password",
        "echo-param",
    ] {
        assert!(names.contains(&n), "{names:?}");
    }
    assert!(!names.contains(&"bad-kind"));
}

#[test]
fn a_user_file_overrides_a_shipped_runbook_of_the_same_name() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("mine.toml"),
        "name = \"rotate-logs\"\ntitle = \"Our own rotation\"\nkind = \"maintenance\"\n\n[[step]]\nid = \"n\"\nkind = \"note\"\ntext = \"call ops\"\n",
    )
    .unwrap();
    let (books, errors) = spec::load_all(&[dir.path().to_path_buf()]);
    assert!(errors.is_empty(), "{errors:?}");
    let b: Vec<_> = books.iter().filter(|b| b.name == "rotate-logs").collect();
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].title, "Our own rotation");
}

#[test]
fn secrets_may_not_be_put_in_a_command_line() {
    let src = r#"
name = "leaky"
title = "Leaky"
kind = "rotation"

[[step]]
id = "pw"
kind = "generate_secret"

[[step]]
id = "use"
kind = "command"
argv = ["mysql", "--password={{secrets.pw}}"]
"#;
    let errs = spec::parse(std::path::Path::new("leaky.toml"), src).unwrap_err();
    assert!(errs[0].message.contains("visible in `ps`"), "{:?}", errs);
    assert_eq!(errs[0].line, Some(13));
}

#[test]
fn sql_templates_need_a_quoting_filter() {
    let src = r#"
name = "sqlx"
title = "SQL"
kind = "maintenance"

[[param]]
name = "db"

[[step]]
id = "make"
kind = "sql"
connection = "main"
statements = ["CREATE DATABASE {{params.db}}"]
"#;
    let errs = spec::parse(std::path::Path::new("sqlx.toml"), src).unwrap_err();
    assert!(errs[0].message.contains("needs a filter"), "{:?}", errs);
    assert_eq!(errs[0].line, Some(13));
}

#[test]
fn garbage_never_panics() {
    for src in [
        "",
        "name = 1",
        "[[step]]\nkind = 3",
        "name=\"a\"\ntitle=\"b\"\nkind=\"restore\"\nstep = 5",
        "\u{0}\u{ffff}{{",
    ] {
        let _ = spec::parse(std::path::Path::new("g.toml"), src);
    }
}
