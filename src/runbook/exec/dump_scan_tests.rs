use super::*;

const CREATE_DUMP: &str = "--\n-- PostgreSQL database dump\n--\n\nSET statement_timeout = 0;\n\
DROP DATABASE IF EXISTS prod;\n\
CREATE DATABASE prod WITH TEMPLATE = template0 ENCODING = 'UTF8';\n\
ALTER DATABASE prod OWNER TO postgres;\n\
\\connect prod\n\
CREATE TABLE public.items (id integer, name text);\n\
COPY public.items (id, name) FROM stdin;\n1\ta\n2\tb\n3\t\\\\.\n\\.\n\n\
COPY public.\"Odd \"\"Name\"\" \" (x) FROM stdin;\n9\n\\.\n";

fn scan_in_chunks(text: &[u8], size: usize, target: &str) -> DumpReport {
    let mut s = DumpScan::new(target);
    for c in text.chunks(size) {
        s.feed(c);
    }
    s.finish(true)
}

#[test]
fn counts_copy_rows_and_finds_what_leaves_the_database_whatever_the_chunking() {
    let whole = scan_in_chunks(CREATE_DUMP.as_bytes(), 1 << 20, "prod_drill");
    for size in [1, 2, 3, 7, 64] {
        assert_eq!(
            scan_in_chunks(CREATE_DUMP.as_bytes(), size, "prod_drill"),
            whole,
            "chunk size {size}"
        );
    }
    assert_eq!(whole.tables.len(), 2);
    assert_eq!(whole.tables[0].name, ["public", "items"]);
    // A data row ending in an escaped backslash-dot is a row, not the end marker.
    assert_eq!(whole.tables[0].rows, 3);
    assert!(whole.tables[0].ended);
    assert_eq!(whole.tables[1].name, ["public", "Odd \"Name\" "]);
    assert_eq!(whole.tables[1].display(), "public.\"Odd \"\"Name\"\" \"");
    assert_eq!(whole.tables[1].rows, 1);
    assert!(whole.cut_short().is_none());
    let what: Vec<&str> = whole.findings.iter().map(|f| f.what.as_str()).collect();
    assert_eq!(
        what,
        [
            "drops database `prod`",
            "creates database `prod`",
            "alters database `prod`",
            "connects to database `prod`"
        ]
    );
    assert_eq!(whole.findings[3].line, 9);
}

#[test]
fn the_target_itself_and_plain_dumps_are_fine() {
    let plain = "SET x = 1;\n\\connect mydb\n\\c -reuse-previous=on \"dbname='mydb'\"\n\
ALTER DATABASE mydb SET search_path = public;\n\\restrict abc\nCOPY t FROM stdin;\n1\n\\.\n";
    let r = scan_in_chunks(plain.as_bytes(), 5, "mydb");
    assert!(r.findings.is_empty(), "{:?}", r.findings);
    assert_eq!(r.tables[0].name, ["t"]);
}

#[test]
fn pg_dumpall_roles_other_hosts_and_shell_escapes_are_findings() {
    let all = "\\connect template1\nCREATE ROLE app;\nALTER ROLE app WITH LOGIN;\n\
\\c mydb other_user db.example 5433\n\\! rm -rf /\nALTER DATABASE mydb RENAME TO old;\n";
    let r = scan_in_chunks(all.as_bytes(), 4, "mydb");
    let what: Vec<&str> = r.findings.iter().map(|f| f.what.as_str()).collect();
    assert_eq!(what.len(), 6, "{what:?}");
    assert!(what[0].contains("template1"));
    assert!(what[1].contains("roles") && what[2].contains("roles"));
    assert!(what[3].contains("reconnects"));
    assert!(what[4].contains("shell"));
    assert!(what[5].contains("renames"));
}

#[test]
fn a_stream_cut_inside_copy_data_names_its_table() {
    let cut = "COPY public.a (x) FROM stdin;\n1\n\\.\nCOPY public.b (x) FROM stdin;\n1\n2\n3";
    let r = scan_in_chunks(cut.as_bytes(), 3, "db");
    let t = r.cut_short().expect("cut short");
    assert_eq!(t.display(), "public.b");
    assert_eq!(t.rows, 3);
    assert!(r.tables[0].ended);
}

#[test]
fn a_copy_line_that_smuggles_sql_is_not_a_table_name() {
    let evil = "COPY x; DROP TABLE y; -- (a) FROM stdin;\n1\n\\.\n";
    let r = scan_in_chunks(evil.as_bytes(), 100, "db");
    assert_eq!(r.tables.len(), 1);
    assert!(r.tables[0].name.is_empty());
    assert!(r.tables[0].display().contains("unreadable"));
}

#[test]
fn a_long_stream_is_scanned_fast() {
    let mut dump = String::from("COPY public.big (id, v) FROM stdin;\n");
    for i in 0..200_000 {
        dump.push_str(&format!("{i}\tsome text value {i}\n"));
    }
    dump.push_str("\\.\n");
    let started = std::time::Instant::now();
    let r = scan_in_chunks(dump.as_bytes(), 256 * 1024, "db");
    assert_eq!(r.tables[0].rows, 200_000);
    // ~6 MB: far below what gunzip alone costs; generous for a debug build.
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}
