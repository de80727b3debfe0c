//! `toban config check`: every problem in config.toml, every theme and every keymap.

use super::error::ConfigError;
use super::keymap::{keymap_names, load_keymap};
use super::load::{load, LoadOptions};
use super::theme::{load_theme, theme_names, ColorSupport};

/// All problems in the config file, the selected theme and keymap, and every shipped and user
/// theme and keymap (each reported once). Empty when everything is fine.
pub fn check(opts: &LoadOptions) -> Vec<ConfigError> {
    let mut all = load(opts).problems;
    let themes_dir = opts.paths.themes_dir();
    for name in theme_names(Some(&themes_dir)) {
        all.extend(load_theme(&name, Some(&themes_dir), ColorSupport::TrueColor).1);
    }
    let keymaps_dir = opts.paths.keymaps_dir();
    for name in keymap_names(Some(&keymaps_dir)) {
        all.extend(load_keymap(&name, Some(&keymaps_dir)).1);
    }
    let mut unique: Vec<ConfigError> = Vec::new();
    for p in all {
        if !unique.contains(&p) {
            unique.push(p);
        }
    }
    unique
}
