//! The parameter form by keys: a required value left empty keeps the run from starting,
//! and the form says why, on the field that needs fixing.

mod common;

use std::collections::BTreeMap;

use common::console::Console;

#[test]
fn an_invalid_value_keeps_the_run_from_starting_and_says_why() {
    let mut c = Console::shipped();
    let mut fx = Vec::new();
    toban::console::runbooks::open_runbook(
        &mut c.s,
        "rotate-logs",
        BTreeMap::new(),
        false,
        false,
        &mut fx,
    );
    let n =
        c.s.form
            .as_ref()
            .expect("rotate-logs asks its parameters")
            .fields
            .len();
    for _ in 0..n {
        c.keys("<Down>");
    }
    c.keys("<Enter>");
    let f =
        c.s.form
            .as_ref()
            .expect("a required value is missing: the form stays");
    assert!(c.s.wizard.is_none(), "no run started");
    assert!(
        f.notice.as_deref().unwrap_or("").contains("fixing"),
        "{:?}",
        f.notice
    );
    assert!(f.fields[f.focus].error().is_some());
}
