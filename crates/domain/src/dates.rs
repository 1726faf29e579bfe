//! Calendar dates on the wire: `YYYY-MM-DD` (ISO 8601 / RFC 3339 `full-date`), the form people and
//! the Transparency Database read. `time`'s own serde form is `[year, ordinal]` (`[2026,324]`),
//! which earlier versions wrote into stored decisions; reading accepts both, writing only the first.
//!
//! Use with `#[serde(with = "crate::dates")]` or, for `Option<Date>`, `crate::dates::option`.

use serde::{Deserialize, Deserializer, Serializer};
use time::Date;

const FORMAT: &[time::format_description::BorrowedFormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]");

/// Writes `YYYY-MM-DD`.
///
/// # Errors
/// Only the serializer's own.
pub fn serialize<S: Serializer>(date: &Date, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&date.format(FORMAT).map_err(serde::ser::Error::custom)?)
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Wire {
    Text(String),
    YearOrdinal(i32, u16),
}

/// Reads `YYYY-MM-DD`, or the legacy `[year, ordinal]`.
///
/// # Errors
/// A date that is neither, or out of range.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
    match Wire::deserialize(d)? {
        Wire::Text(t) => Date::parse(&t, FORMAT).map_err(serde::de::Error::custom),
        Wire::YearOrdinal(y, o) => Date::from_ordinal_date(y, o).map_err(serde::de::Error::custom),
    }
}

/// The same for `Option<Date>` (`null` for none).
pub mod option {
    use super::{Date, Deserialize, Deserializer, Serializer};

    /// Writes `YYYY-MM-DD` or `null`.
    ///
    /// # Errors
    /// Only the serializer's own.
    #[allow(clippy::ref_option)]
    pub fn serialize<S: Serializer>(date: &Option<Date>, s: S) -> Result<S::Ok, S::Error> {
        match date {
            Some(d) => super::serialize(d, s),
            None => s.serialize_none(),
        }
    }

    /// Reads `YYYY-MM-DD`, `[year, ordinal]` or `null`.
    ///
    /// # Errors
    /// As [`super::deserialize`].
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Date>, D::Error> {
        #[derive(Deserialize)]
        struct Wrapped(#[serde(with = "super")] Date);
        Ok(Option::<Wrapped>::deserialize(d)?.map(|w| w.0))
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};
    use time::macros::date;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Holder {
        #[serde(with = "crate::dates")]
        start: time::Date,
        #[serde(default, with = "crate::dates::option")]
        end: Option<time::Date>,
    }

    #[test]
    fn dates_are_written_as_iso_and_old_stored_forms_still_read() {
        let h = Holder { start: date!(2026 - 11 - 20), end: None };
        assert_eq!(serde_json::to_string(&h).unwrap(), r#"{"start":"2026-11-20","end":null}"#);
        let old: Holder = serde_json::from_str(r#"{"start":[2026,324],"end":[2027,1]}"#).unwrap();
        assert_eq!(old, Holder { start: date!(2026 - 11 - 20), end: Some(date!(2027 - 01 - 01)) });
        let new: Holder = serde_json::from_str(r#"{"start":"2026-11-20"}"#).unwrap();
        assert_eq!(new.end, None);
        assert!(serde_json::from_str::<Holder>(r#"{"start":"20-11-2026"}"#).is_err());
    }
}
