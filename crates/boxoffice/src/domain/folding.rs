//! Text as people read it: one key per string, whatever its Unicode normal form or case
//! (CONTRACT.md rule 10 for emails and passwords, and the listing's `q`, which "matches the name
//! case-insensitively in every script").
//!
//! The rules are Unicode's, taken from well-kept crates rather than hand tables: NFC and NFD from
//! `unicode-normalization`, full case folding (`CaseFolding.txt`, statuses C and F: `ß` folds to
//! `ss`) from ICU4X's `icu_casemap`, and the Default_Ignorable_Code_Point property and general
//! categories from ICU4X's `icu_properties`.

use icu_casemap::CaseMapper;
use icu_properties::props::{DefaultIgnorableCodePoint, GeneralCategory};
use icu_properties::{CodePointMapData, CodePointSetData};
use unicode_normalization::UnicodeNormalization as _;

/// `text` in Normalization Form C (composed: `e` + U+0301 becomes `é`).
pub fn nfc(text: &str) -> String {
    text.nfc().collect()
}

/// The caseless key of `text`: NFC(toCasefold(NFD(text))). Two strings have the same key
/// exactly when they are a *canonical caseless match* (Unicode Standard, §3.13, D145), so
/// `ZOË`, `zoë` composed and `zoë` decomposed share one key, and so do `STRASSE` and `straße`.
/// The key is kept in NFC, the form the rest of the text is stored in.
pub fn caseless_key(text: &str) -> String {
    let decomposed: String = text.nfd().collect();
    let folded = CaseMapper::new().fold_string(&decomposed);
    // NFC decomposes canonically before it composes: NFC(x) = NFC(NFD(x)).
    folded.nfc().collect()
}

/// Whether `c` is invisible when rendered, so that two strings differing only by it look the
/// same: a Default_Ignorable_Code_Point (U+00AD soft hyphen, U+200B–U+200F, U+2060–U+206F,
/// U+FEFF, variation selectors, Hangul fillers, tags, …) or any other format character
/// (general category Cf).
pub fn is_invisible(c: char) -> bool {
    CodePointSetData::new::<DefaultIgnorableCodePoint>().contains(c)
        || CodePointMapData::<GeneralCategory>::new().get(c) == GeneralCategory::Format
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_key_for_every_spelling_of_a_name() {
        let composed = "zo\u{eb}@ex\u{e4}mple.org";
        let decomposed = "zoe\u{308}@exa\u{308}mple.org";
        assert_ne!(composed, decomposed);
        assert_eq!(nfc(decomposed), composed);
        assert_eq!(caseless_key(composed), composed);
        assert_eq!(caseless_key(decomposed), composed);
        assert_eq!(caseless_key("ZO\u{cb}@EX\u{c4}MPLE.ORG"), composed);
        // Full folding, beyond what lower-casing does.
        assert_eq!(caseless_key("Stra\u{df}e"), "strasse");
        assert_eq!(caseless_key("STRASSE"), "strasse");
        assert_eq!(caseless_key("\u{3a3}\u{391}\u{3a3}"), caseless_key("σας"));
        assert_eq!(
            caseless_key("\u{c9}T\u{c9} Musique"),
            "\u{e9}t\u{e9} musique"
        );
        assert_eq!(caseless_key("\u{2126}"), "\u{3c9}"); // OHM SIGN is the Greek omega
    }

    #[test]
    fn invisible_characters_are_known_by_their_property() {
        for c in [
            '\u{200b}',
            '\u{200c}',
            '\u{200d}',
            '\u{2060}',
            '\u{feff}',
            '\u{ad}',
            '\u{200e}',
            '\u{180e}',
            '\u{fe0f}',
            '\u{115f}',
            '\u{e0041}',
            '\u{34f}',
            '\u{61c}',
        ] {
            assert!(is_invisible(c), "U+{:04X}", u32::from(c));
        }
        for c in ['a', '\u{e9}', '@', '.', '-', '\u{301}', '\u{4e2d}'] {
            assert!(!is_invisible(c), "U+{:04X}", u32::from(c));
        }
    }
}
