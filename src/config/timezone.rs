//! `timezone = "Asia/Tokyo"` in config.toml: the zone every time is shown in (default: the
//! system's), read with a "did you mean" for misspelt names.

use serde::{Deserialize, Deserializer};

use super::suggest::hint;
use crate::time::Zone;

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Zone, D::Error> {
    let name = String::deserialize(d)?;
    Zone::parse(&name).map_err(|_| {
        serde::de::Error::custom(format!(
            "unknown time zone `{name}`{}; use an IANA name like \"Asia/Tokyo\" or \"UTC\"",
            hint(&name, Zone::names())
        ))
    })
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    #[test]
    fn a_zone_name_is_read_and_a_misspelt_one_gets_a_suggestion() {
        let c: Config = toml::from_str("timezone = \"Asia/Tokyo\"").unwrap();
        assert_eq!(c.timezone.name(), "Asia/Tokyo");
        let e = toml::from_str::<Config>("timezone = \"Asia/Tokio\"").unwrap_err();
        assert!(e.message().contains("did you mean `Asia/Tokyo`?"), "{e}");
    }
}
