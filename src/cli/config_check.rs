//! `toban config check`: every problem in config.toml, the themes, the keymaps and the
//! runbook files, each with file, line and field; exit 1 when there is one. It sits in the
//! CLI because it gathers from several capabilities (config does not know runbooks).

use crate::config::{ConfigError, LoadOptions};

/// Every problem, in the order: config.toml, themes and keymaps, runbooks.
pub fn problems(opts: &LoadOptions) -> Vec<ConfigError> {
    let mut problems = crate::config::check(opts);
    let config = crate::config::load(opts).config;
    problems.extend(crate::runbook::spec::check(
        &config.runbooks.all_dirs(&opts.paths),
    ));
    problems
}

/// Prints "configuration OK" or every problem (stderr) and their count; the exit code.
pub fn run(opts: &LoadOptions) -> i32 {
    let problems = problems(opts);
    if problems.is_empty() {
        println!("configuration OK");
        return 0;
    }
    for p in &problems {
        eprintln!("{}", crate::sanitize::strip_escapes(&p.to_string()));
    }
    eprintln!("{} problem(s)", problems.len());
    1
}
