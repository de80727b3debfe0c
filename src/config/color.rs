//! Colour names in theme files, and degrading colours to what the terminal can show.

use ratatui::style::{Color, Style};

/// How many colours the terminal shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorSupport {
    /// No colours at all (modifiers such as bold and reverse still apply).
    NoColor,
    Ansi16,
    Ansi256,
    TrueColor,
}

impl ColorSupport {
    /// From the environment: `COLORTERM=truecolor|24bit`, `TERM=*256color*`, `TERM=dumb`.
    /// `NO_COLOR` is not looked at here: it chooses the monochrome theme instead, which an
    /// explicitly named theme overrides.
    pub fn detect() -> ColorSupport {
        ColorSupport::from_env_values(
            std::env::var("COLORTERM").ok().as_deref(),
            std::env::var("TERM").ok().as_deref(),
        )
    }

    pub fn from_env_values(colorterm: Option<&str>, term: Option<&str>) -> ColorSupport {
        let colorterm = colorterm.unwrap_or("").to_ascii_lowercase();
        let term = term.unwrap_or("").to_ascii_lowercase();
        if colorterm == "truecolor" || colorterm == "24bit" {
            ColorSupport::TrueColor
        } else if term.contains("256color") {
            ColorSupport::Ansi256
        } else if term == "dumb" {
            ColorSupport::NoColor
        } else {
            ColorSupport::Ansi16
        }
    }

    /// The colour as this terminal will be asked to show it.
    pub fn degrade(self, c: Color) -> Option<Color> {
        match self {
            ColorSupport::NoColor => None,
            ColorSupport::TrueColor => Some(c),
            ColorSupport::Ansi256 => Some(match c {
                Color::Rgb(r, g, b) => Color::Indexed(nearest_256(r, g, b)),
                other => other,
            }),
            ColorSupport::Ansi16 => Some(match c {
                Color::Rgb(r, g, b) => nearest_16(r, g, b),
                Color::Indexed(i) if i < 16 => ANSI16[i as usize].0,
                Color::Indexed(i) => {
                    let (r, g, b) = rgb_of_index(i);
                    nearest_16(r, g, b)
                }
                other => other,
            }),
        }
    }

    /// The style with every colour degraded; modifiers are kept.
    pub fn degrade_style(self, s: Style) -> Style {
        Style {
            fg: s.fg.and_then(|c| self.degrade(c)),
            bg: s.bg.and_then(|c| self.degrade(c)),
            underline_color: s.underline_color.and_then(|c| self.degrade(c)),
            ..s
        }
    }
}

/// The 16 ANSI colours by their theme-file names, with the VGA values used to pick the nearest
/// one (closer to what most terminals show for "red" than xterm's bright values).
const ANSI16: [(Color, &str, (u8, u8, u8)); 16] = [
    (Color::Black, "black", (0, 0, 0)),
    (Color::Red, "red", (170, 0, 0)),
    (Color::Green, "green", (0, 170, 0)),
    (Color::Yellow, "yellow", (170, 85, 0)),
    (Color::Blue, "blue", (0, 0, 170)),
    (Color::Magenta, "magenta", (170, 0, 170)),
    (Color::Cyan, "cyan", (0, 170, 170)),
    (Color::Gray, "gray", (170, 170, 170)),
    (Color::DarkGray, "dark_gray", (85, 85, 85)),
    (Color::LightRed, "light_red", (255, 85, 85)),
    (Color::LightGreen, "light_green", (85, 255, 85)),
    (Color::LightYellow, "light_yellow", (255, 255, 85)),
    (Color::LightBlue, "light_blue", (85, 85, 255)),
    (Color::LightMagenta, "light_magenta", (255, 85, 255)),
    (Color::LightCyan, "light_cyan", (85, 255, 255)),
    (Color::White, "white", (255, 255, 255)),
];

/// Every colour name a theme may use (besides `#rrggbb`, 0-255 and palette names).
pub fn color_names() -> impl Iterator<Item = &'static str> {
    ANSI16.iter().map(|c| c.1).chain(["reset"])
}

/// Parses `red`, `dark_gray` (also `dark-grey`), `reset`, `#rrggbb`.
pub fn parse_color_name(s: &str) -> Option<Color> {
    if let Some(hex) = s.strip_prefix('#') {
        if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        let v = u32::from_str_radix(hex, 16).ok()?;
        return Some(Color::Rgb((v >> 16) as u8, (v >> 8) as u8, v as u8));
    }
    let norm = s
        .trim()
        .to_ascii_lowercase()
        .replace(['-', ' '], "_")
        .replace("grey", "gray");
    if norm == "reset" {
        return Some(Color::Reset);
    }
    ANSI16.iter().find(|c| c.1 == norm).map(|c| c.0)
}

/// Weighted ("redmean") distance: cheap and close enough to perception for picking a colour.
fn distance(a: (u8, u8, u8), b: (u8, u8, u8)) -> f64 {
    let rmean = (a.0 as f64 + b.0 as f64) / 2.0;
    let dr = a.0 as f64 - b.0 as f64;
    let dg = a.1 as f64 - b.1 as f64;
    let db = a.2 as f64 - b.2 as f64;
    (2.0 + rmean / 256.0) * dr * dr + 4.0 * dg * dg + (2.0 + (255.0 - rmean) / 256.0) * db * db
}

fn nearest_16(r: u8, g: u8, b: u8) -> Color {
    ANSI16
        .iter()
        .min_by(|x, y| distance(x.2, (r, g, b)).total_cmp(&distance(y.2, (r, g, b))))
        .map(|c| c.0)
        .unwrap_or(Color::Reset)
}

const CUBE: [u8; 6] = [0, 95, 135, 175, 215, 255];

/// The xterm value of a 256-palette index (0-15 use the VGA values above).
fn rgb_of_index(i: u8) -> (u8, u8, u8) {
    match i {
        0..=15 => ANSI16[i as usize].2,
        16..=231 => {
            let i = i - 16;
            (
                CUBE[(i / 36) as usize],
                CUBE[(i / 6 % 6) as usize],
                CUBE[(i % 6) as usize],
            )
        }
        _ => {
            let v = 8 + (i - 232) * 10;
            (v, v, v)
        }
    }
}

/// Nearest of the colour cube and grey ramp (16-255); 0-15 are left out because terminals
/// redefine them.
fn nearest_256(r: u8, g: u8, b: u8) -> u8 {
    (16..=255u8)
        .min_by(|x, y| {
            distance(rgb_of_index(*x), (r, g, b)).total_cmp(&distance(rgb_of_index(*y), (r, g, b)))
        })
        .unwrap_or(16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_hex_parse() {
        assert_eq!(parse_color_name("dark_gray"), Some(Color::DarkGray));
        assert_eq!(parse_color_name("dark-grey"), Some(Color::DarkGray));
        assert_eq!(
            parse_color_name("#2e3440"),
            Some(Color::Rgb(0x2e, 0x34, 0x40))
        );
        assert_eq!(parse_color_name("#2e34"), None);
        assert_eq!(parse_color_name("purple"), None);
    }

    #[test]
    fn pure_red_degrades_to_red_and_to_the_cube() {
        let red = Color::Rgb(255, 0, 0);
        assert_eq!(ColorSupport::Ansi16.degrade(red), Some(Color::Red));
        assert_eq!(
            ColorSupport::Ansi256.degrade(red),
            Some(Color::Indexed(196))
        );
        assert_eq!(ColorSupport::TrueColor.degrade(red), Some(red));
        assert_eq!(ColorSupport::NoColor.degrade(red), None);
    }

    #[test]
    fn nord_like_colours_pick_sensible_neighbours() {
        // Nord's red and its dark "polar night" grey.
        assert_eq!(
            ColorSupport::Ansi16.degrade(Color::Rgb(0xbf, 0x61, 0x6a)),
            Some(Color::LightRed)
        );
        assert_eq!(
            ColorSupport::Ansi16.degrade(Color::Rgb(0x4c, 0x56, 0x6a)),
            Some(Color::DarkGray)
        );
        assert_eq!(
            ColorSupport::Ansi256.degrade(Color::Rgb(128, 128, 128)),
            Some(Color::Indexed(244))
        );
        assert_eq!(
            ColorSupport::Ansi16.degrade(Color::Indexed(9)),
            Some(Color::LightRed)
        );
        assert_eq!(
            ColorSupport::Ansi16.degrade(Color::Indexed(196)),
            Some(Color::Red)
        );
    }

    #[test]
    fn detection_follows_colorterm_then_term() {
        use ColorSupport::*;
        assert_eq!(
            ColorSupport::from_env_values(Some("truecolor"), Some("xterm")),
            TrueColor
        );
        assert_eq!(
            ColorSupport::from_env_values(Some("24bit"), None),
            TrueColor
        );
        assert_eq!(
            ColorSupport::from_env_values(None, Some("tmux-256color")),
            Ansi256
        );
        assert_eq!(ColorSupport::from_env_values(None, Some("xterm")), Ansi16);
        assert_eq!(ColorSupport::from_env_values(None, Some("dumb")), NoColor);
    }
}
