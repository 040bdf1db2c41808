//! Whole numbers in JSON bodies, read the way JSON reads them: `36` and `36.0` are the same
//! number (JSON Schema's `integer` admits both, and clients that compute in floating point send
//! either), so both are accepted. `36.5` is refused, and so is a float beyond 2^53, where it no
//! longer stands for one whole number (`-9223372036854775809` would round into range).

use serde::de::Error;
use serde::{Deserialize, Deserializer};
use serde_json::Number;

/// For `#[serde(default, deserialize_with = "whole::optional")]`: absent or `null` is `None`;
/// a whole number that does not fit `T` (a negative one for `u64`) is refused.
pub fn optional<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i64>,
{
    Option::<Number>::deserialize(d)?
        .map(|n| {
            whole(&n)
                .and_then(|n| T::try_from(n).ok())
                .ok_or_else(|| D::Error::custom(format!("{n} is not a whole number in range")))
        })
        .transpose()
}

/// For `#[serde(deserialize_with = "whole::required")]`.
pub fn required<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let n = Number::deserialize(d)?;
    whole(&n).ok_or_else(|| D::Error::custom(format!("{n} is not a whole number")))
}

fn whole(n: &Number) -> Option<i64> {
    // Every whole number up to 2^53 is exact as a float.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    n.as_i64().or_else(|| {
        n.as_f64()
            .filter(|f| f.fract() == 0.0 && (-EXACT..=EXACT).contains(f))
            .map(|f| f as i64)
    })
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Body {
        #[serde(default, deserialize_with = "super::optional")]
        n: Option<i64>,
    }

    fn read(json: &str) -> Result<Option<i64>, String> {
        serde_json::from_str::<Body>(json)
            .map(|b| b.n)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn whole_numbers_in_either_spelling_are_read() {
        assert_eq!(read(r#"{"n": 36}"#), Ok(Some(36)));
        assert_eq!(read(r#"{"n": 36.0}"#), Ok(Some(36)));
        assert_eq!(read(r#"{"n": -4e3}"#), Ok(Some(-4000)));
        assert_eq!(read(r#"{"n": null}"#), Ok(None));
        assert_eq!(read(r#"{}"#), Ok(None));
    }

    #[test]
    fn fractions_and_numbers_beyond_64_bits_are_refused() {
        assert!(read(r#"{"n": 36.5}"#).is_err());
        assert!(read(r#"{"n": 1e19}"#).is_err());
        assert!(read(r#"{"n": -9223372036854775809}"#).is_err());
        assert!(
            read(r#"{"n": 1e16}"#).is_err(),
            "past 2^53 a float is not one number"
        );
        assert_eq!(read(r#"{"n": 9007199254740992.0}"#), Ok(Some(1 << 53)));
        assert!(read(r#"{"n": "36"}"#).is_err());
    }
}
