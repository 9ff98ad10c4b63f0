//! ISO/IEC 7064 MOD 37-2 check characters (ST-001 §7.5 and Appendix A).
//!
//! This module owns the keyboard-entry check character "K" used by ISBT 128:
//! computing it ([`check_character`], [`checksum`]), verifying a string that
//! ends with it ([`verify`]), and the character/value table
//! ([`char_value`], [`value_char`]).
//!
//! The input alphabet is `0-9` and `A-Z` (values 0–35). The output alphabet
//! adds `*` (value 36). Unlike the informative C program in ST-001 A.3, this
//! implementation never skips characters: anything outside the alphabet is an
//! error (including lowercase letters).

use thiserror::Error;

/// Modulus of ISO/IEC 7064 MOD 37-2.
const MODULUS: u32 = 37;

/// Why a check character could not be computed or verified.
///
/// Positions are 0-based character indices into the string passed in.
///
/// ```
/// use isbt128::{check_character, CheckError};
/// assert_eq!(
///     check_character("123!56"),
///     Err(CheckError::InvalidCharacter { position: 3, found: '!' })
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum CheckError {
    /// There was nothing to compute a check character over.
    #[error("MOD 37-2: empty input")]
    Empty,
    /// A character outside `0-9 A-Z` (or `0-9 A-Z *` for the check character itself).
    #[error("MOD 37-2: position {position}: expected 0-9 or A-Z, found {found:?}")]
    InvalidCharacter {
        /// 0-based character position.
        position: usize,
        /// The offending character.
        found: char,
    },
    /// The string's last character is not the check character of the rest.
    #[error("MOD 37-2: check character mismatch: expected {expected:?}, found {found:?}")]
    Mismatch {
        /// The check character computed from the data.
        expected: char,
        /// The check character that was supplied.
        found: char,
    },
}

/// The MOD 37-2 value of an input character (`0-9` → 0–9, `A-Z` → 10–35).
///
/// Returns `None` for every other character, including `*` and lowercase.
///
/// ```
/// assert_eq!(isbt128::check::char_value('Z'), Some(35));
/// assert_eq!(isbt128::check::char_value('*'), None);
/// ```
#[must_use]
pub fn char_value(c: char) -> Option<u32> {
    match c {
        '0'..='9' => Some(u32::from(c) - u32::from('0')),
        'A'..='Z' => Some(u32::from(c) - u32::from('A') + 10),
        _ => None,
    }
}

/// The check character for a checksum value 0–36 (`36` → `*`).
///
/// ```
/// assert_eq!(isbt128::check::value_char(10), Some('A'));
/// assert_eq!(isbt128::check::value_char(36), Some('*'));
/// assert_eq!(isbt128::check::value_char(37), None);
/// ```
#[must_use]
pub fn value_char(value: u32) -> Option<char> {
    match value {
        0..=9 => char::from_digit(value, 10),
        10..=35 => char::from_u32(u32::from('A') + value - 10),
        36 => Some('*'),
        _ => None,
    }
}

/// The value 0–36 of a check character (`*` → 36).
fn check_value(c: char) -> Option<u32> {
    if c == '*' {
        Some(36)
    } else {
        char_value(c)
    }
}

/// Computes the MOD 37-2 checksum value (0–36) of `chars`.
///
/// This is the number the DIN type-3 flags carry (as `60 + checksum`) and the
/// two-digit value of the Basic UDI-DI and GRID.
///
/// ```
/// // ST-001 Appendix A.1 worked example.
/// assert_eq!(isbt128::checksum("G123417654321"), Ok(10));
/// ```
///
/// # Errors
/// [`CheckError::Empty`] for an empty string, [`CheckError::InvalidCharacter`]
/// for a character outside `0-9 A-Z`.
pub fn checksum(chars: &str) -> Result<u8, CheckError> {
    if chars.is_empty() {
        return Err(CheckError::Empty);
    }
    // Pure system recursive method (ISO/IEC 7064 §7.1): p = ((p + v) * 2) mod 37.
    let mut p: u32 = 0;
    for (position, c) in chars.chars().enumerate() {
        let v = char_value(c).ok_or(CheckError::InvalidCharacter { position, found: c })?;
        p = ((p + v) * 2) % MODULUS;
    }
    let value = (MODULUS + 1 - p) % MODULUS;
    // value < 37, always fits.
    Ok(u8::try_from(value).unwrap_or(0))
}

/// Computes the keyboard check character K of `chars`.
///
/// For a DIN pass the 13 DIN characters (`αppppyynnnnnn`, no `=`, no flags);
/// for other structures pass their data content.
///
/// ```
/// assert_eq!(isbt128::check_character("A999917123456"), Ok('9'));
/// assert_eq!(isbt128::check_character("A999922012346"), Ok('*'));
/// ```
///
/// # Errors
/// As for [`checksum`].
pub fn check_character(chars: &str) -> Result<char, CheckError> {
    let value = checksum(chars)?;
    Ok(value_char(u32::from(value)).unwrap_or('*'))
}

/// Verifies a string whose last character is its MOD 37-2 check character.
///
/// ```
/// assert!(isbt128::verify("A999914123456N").is_ok());
/// assert!(isbt128::verify("A999933123458J").is_err()); // twin error
/// ```
///
/// # Errors
/// [`CheckError::Empty`] when there is no data before the check character,
/// [`CheckError::InvalidCharacter`] for a bad character, and
/// [`CheckError::Mismatch`] when the check character is wrong.
pub fn verify(with_check: &str) -> Result<(), CheckError> {
    let mut chars = with_check.chars();
    let last = chars.next_back().ok_or(CheckError::Empty)?;
    let data = chars.as_str();
    let expected = check_character(data)?;
    if check_value(last).is_none() {
        return Err(CheckError::InvalidCharacter {
            position: data.chars().count(),
            found: last,
        });
    }
    if expected == last {
        Ok(())
    } else {
        Err(CheckError::Mismatch {
            expected,
            found: last,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Weighted form of Appendix A.1, used to cross-check the recursive form.
    fn weighted(chars: &str) -> u32 {
        let n = chars.len();
        let sum: u64 = chars
            .chars()
            .enumerate()
            .map(|(i, c)| {
                let w = 1u64 << (n - i);
                u64::from(char_value(c).unwrap_or(0)) * w
            })
            .sum();
        let m = u32::try_from(sum % 37).unwrap_or(0);
        (38 - m) % 37
    }

    #[test]
    fn appendix_a_examples() {
        assert_eq!(checksum("G123417654321"), Ok(10));
        assert_eq!(check_character("G123498654321"), Ok('H'));
        assert_eq!(check_character("1"), Ok('*'));
        assert_eq!(check_character("ZZZZ"), Ok('O'));
    }

    #[test]
    fn weighted_matches_recursive() {
        for s in [
            "G123417654321",
            "A999917123456",
            "ZZZZ",
            "3000505",
            "W000016428175",
        ] {
            assert_eq!(u32::from(checksum(s).unwrap_or(99)), weighted(s), "{s}");
        }
    }

    #[test]
    fn rejects_bad_characters() {
        assert_eq!(
            checksum("a1"),
            Err(CheckError::InvalidCharacter {
                position: 0,
                found: 'a'
            })
        );
        assert_eq!(checksum(""), Err(CheckError::Empty));
        assert_eq!(verify("A"), Err(CheckError::Empty));
        assert_eq!(
            verify("A9!"),
            Err(CheckError::InvalidCharacter {
                position: 2,
                found: '!'
            })
        );
    }

    #[test]
    fn verify_detects_mismatch() {
        assert_eq!(
            verify("W483626000011X"),
            Err(CheckError::Mismatch {
                expected: 'N',
                found: 'X'
            })
        );
    }

    #[test]
    fn value_table_round_trips() {
        for v in 0..37 {
            let c = value_char(v).unwrap_or('?');
            assert_eq!(check_value(c), Some(v));
        }
    }
}
