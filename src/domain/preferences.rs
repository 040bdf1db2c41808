//! An account's preferences: how the web app looks and behaves for them (theme, font size,
//! clock, Enter-to-send, density, sounds) and two privacy choices the server enforces (who may
//! open a conversation or whisper to them, whether they show as online).
//!
//! One small typed document per account, so that the settings follow the person to every
//! device. Parsing is the validation: an unknown field or a value out of range does not
//! deserialize, and an absent field takes its default, so a stored document written by an
//! older version still reads.

use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

/// The largest preferences document the server takes, in bytes of JSON.
pub const MAX_PREFERENCES_BYTES: usize = 4096;

/// A colour theme of the web app. `System` follows the device's light or dark mode.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Theme {
    #[default]
    MidnightPurple,
    CrimsonNoir,
    OceanDeep,
    Ember,
    NeonGreen,
    Cyberpunk,
    RoseGold,
    Arctic,
    Daylight,
    MidnightBlue,
    System,
}

/// How timestamps read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum Clock {
    #[default]
    #[serde(rename = "24h")]
    TwentyFour,
    #[serde(rename = "12h")]
    Twelve,
}

/// How much room a message takes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Density {
    #[default]
    Comfortable,
    Compact,
}

/// Who may open a private conversation with the account, or whisper to it. Staff always may
/// (they must be able to reach anyone).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DmFrom {
    #[default]
    Everyone,
    /// Accounts only: guests may not whisper.
    Registered,
    Nobody,
}

impl DmFrom {
    /// Whether someone (a guest or not) may start talking to the account privately.
    pub fn admits(self, from_guest: bool) -> bool {
        match self {
            DmFrom::Everyone => true,
            DmFrom::Registered => !from_guest,
            DmFrom::Nobody => false,
        }
    }
}

/// The font size in CSS pixels, 12–20.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct FontSize(u8);

impl FontSize {
    pub const MIN: u8 = 12;
    pub const MAX: u8 = 20;

    pub fn new(px: u8) -> Option<Self> {
        (Self::MIN..=Self::MAX).contains(&px).then_some(Self(px))
    }

    pub fn px(self) -> u8 {
        self.0
    }
}

impl Default for FontSize {
    fn default() -> Self {
        Self(15)
    }
}

impl<'de> Deserialize<'de> for FontSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let px = u8::deserialize(d)?;
        FontSize::new(px).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "font_size must be between {} and {}",
                FontSize::MIN,
                FontSize::MAX
            ))
        })
    }
}

fn yes() -> bool {
    true
}

/// An account's preferences. Every field may be left out (it takes its default).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Preferences {
    #[serde(default)]
    pub theme: Theme,
    #[serde(default)]
    #[schema(value_type = u8, minimum = 12, maximum = 20)]
    pub font_size: FontSize,
    #[serde(default)]
    pub clock: Clock,
    /// Enter sends (Shift+Enter makes a new line); off: Enter makes a new line and
    /// Ctrl/Cmd+Enter sends.
    #[serde(default = "yes")]
    pub enter_to_send: bool,
    #[serde(default)]
    pub density: Density,
    /// Notification sounds.
    #[serde(default = "yes")]
    pub sounds: bool,
    #[serde(default)]
    pub dm_from: DmFrom,
    /// Listed as online (`GET /api/online`, profiles). Off: hidden there; the account still
    /// shows in the rooms it is in.
    #[serde(default = "yes")]
    pub show_online: bool,
}

impl Default for Preferences {
    fn default() -> Self {
        Self {
            theme: Theme::default(),
            font_size: FontSize::default(),
            clock: Clock::default(),
            enter_to_send: true,
            density: Density::default(),
            sounds: true,
            dm_from: DmFrom::default(),
            show_online: true,
        }
    }
}

impl Preferences {
    /// A stored document; one that no longer reads (written by a newer version) counts as
    /// the defaults rather than locking the account out of its settings.
    pub fn from_stored(json: Option<&str>) -> Self {
        json.and_then(|j| serde_json::from_str(j).ok())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_fields_take_their_defaults_and_unknown_ones_are_refused() {
        let empty: Preferences = serde_json::from_str("{}").unwrap();
        assert_eq!(empty, Preferences::default());
        let some: Preferences =
            serde_json::from_str(r#"{"theme": "rose-gold", "clock": "12h", "font_size": 20}"#)
                .unwrap();
        assert_eq!(
            (some.theme, some.clock, some.font_size.px(), some.sounds),
            (Theme::RoseGold, Clock::Twelve, 20, true)
        );
        for bad in [
            r#"{"font_size": 11}"#,
            r#"{"font_size": 21}"#,
            r#"{"font_size": 14.5}"#,
            r#"{"theme": "hotdog"}"#,
            r#"{"clock": "25h"}"#,
            r#"{"sounds": "yes"}"#,
            r#"{"colour": "red"}"#,
        ] {
            assert!(serde_json::from_str::<Preferences>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_document_that_no_longer_reads_counts_as_the_defaults() {
        assert_eq!(
            Preferences::from_stored(Some(r#"{"theme": "from-the-future"}"#)),
            Preferences::default()
        );
        assert_eq!(Preferences::from_stored(None), Preferences::default());
    }

    #[test]
    fn who_may_write_first() {
        assert!(DmFrom::Everyone.admits(true) && DmFrom::Registered.admits(false));
        assert!(!DmFrom::Registered.admits(true) && !DmFrom::Nobody.admits(false));
    }
}
