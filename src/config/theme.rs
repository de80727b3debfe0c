//! Colour themes: named styles per element (`tab.active`, `gauge.warn` …).
//! (Interface stub: file loading, `inherits`, palettes and colour degradation to be filled in.)

use std::collections::HashMap;

use ratatui::style::{Color, Modifier, Style};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorSupport {
    NoColor,
    Ansi16,
    Ansi256,
    TrueColor,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: String,
    styles: HashMap<String, Style>,
}

impl Theme {
    /// The style of an element; `a.b.c` falls back to `a.b`, then `a`, then `text`.
    pub fn style(&self, key: &str) -> Style {
        let mut k = key;
        loop {
            if let Some(s) = self.styles.get(k) {
                return *s;
            }
            match k.rfind('.') {
                Some(i) => k = &k[..i],
                None => break,
            }
        }
        self.styles.get("text").copied().unwrap_or_default()
    }

    pub fn from_styles(name: &str, styles: HashMap<String, Style>) -> Self {
        Theme {
            name: name.into(),
            styles,
        }
    }

    /// A usable theme for tests and the stub.
    pub fn fallback() -> Self {
        let mut s = HashMap::new();
        s.insert("text".into(), Style::default());
        s.insert(
            "tab.active".into(),
            Style::default().fg(Color::Black).bg(Color::Cyan),
        );
        s.insert("status.ok".into(), Style::default().fg(Color::Green));
        s.insert("status.warn".into(), Style::default().fg(Color::Yellow));
        s.insert(
            "status.crit".into(),
            Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
        );
        s.insert(
            "selection".into(),
            Style::default().add_modifier(Modifier::REVERSED),
        );
        Theme::from_styles("default", s)
    }
}
