//! Reading scanner output: single structures, concatenated scans, compound
//! messages and data-content-only forms.
//!
//! This module owns the entry points [`parse`], [`parse_scan`] and
//! [`parse_content`], the [`Scan`] result with its optional AIM symbology
//! identifier ([`SymbologyId`], e.g. `]C4`), and the splitting of
//! back-to-back structures by data identifier and length.

use crate::error::{ErrorKind, ParseError};
use crate::kind::StructureId;
use crate::spec;
use crate::structures::{check_member, trailing, CompoundMessage, DataStructure};
use std::fmt;

/// Reads one structure starting at byte `pos` of `input`; returns it and the
/// position after it. `in_compound` forbids nested compounds.
pub(crate) fn read_structure(
    input: &str,
    pos: usize,
    in_compound: bool,
) -> Result<(DataStructure, usize), ParseError> {
    let rest = input.get(pos..).unwrap_or("");
    let Some((id, di_len)) = StructureId::recognise(rest) else {
        return Err(unknown_di(input, pos));
    };
    let content_start = pos + di_len;
    if id == StructureId::CompoundMessage {
        if in_compound {
            return Err(ParseError::new(
                ErrorKind::NotAllowedInCompound { found: id },
                Some(id),
                pos,
            ));
        }
        return read_compound(input, content_start);
    }
    if in_compound && !id.is_iccbba() {
        return Err(ParseError::new(
            ErrorKind::NotAllowedInCompound { found: id },
            Some(StructureId::CompoundMessage),
            pos,
        ));
    }
    let end = spec::scan_content(id, input, content_start)?;
    let content = input.get(content_start..end).unwrap_or("");
    let di = input.get(pos..content_start).unwrap_or("");
    Ok((DataStructure::from_validated(id, content, di), end))
}

fn unknown_di(input: &str, pos: usize) -> ParseError {
    let found: String = input.get(pos..).unwrap_or("").chars().take(3).collect();
    if found.is_empty() {
        return ParseError::new(
            ErrorKind::UnexpectedEnd {
                field: "data identifier",
                missing: 2,
            },
            None,
            pos,
        );
    }
    ParseError::new(ErrorKind::UnknownDataIdentifier { found }, None, pos)
}

/// Reads a compound message whose header starts at `start` (after `=+`).
/// The message extends to the end of the input.
fn read_compound(input: &str, start: usize) -> Result<(DataStructure, usize), ParseError> {
    let id = StructureId::CompoundMessage;
    let mut pos = spec::check_segs(input, start, spec::layout(id), Some(id))?;
    let declared = spec::num(input, start, start + 2) as usize;
    let message = spec::num(input, start + 2, start + 5) as u16;
    if declared == 0 {
        return Err(ParseError::new(
            ErrorKind::OutOfRange {
                field: "count",
                value: "00".to_owned(),
                expected: "01-99 structures",
            },
            Some(id),
            start,
        ));
    }
    let mut structures = Vec::with_capacity(declared);
    while structures.len() < declared {
        if pos >= input.len() {
            return Err(ParseError::new(
                ErrorKind::CompoundCount {
                    declared,
                    found: structures.len(),
                },
                Some(id),
                pos,
            ));
        }
        let (s, end) = read_structure(input, pos, true)?;
        check_member(message, structures.len(), s.id(), pos, declared)?;
        structures.push(s);
        pos = end;
    }
    if pos < input.len() {
        // Count how many more complete structures follow, to report the mismatch.
        let first_extra = pos;
        let mut extra = 0usize;
        let mut p = pos;
        while p < input.len() {
            match read_structure(input, p, true) {
                Ok((_, end)) => {
                    extra += 1;
                    p = end;
                }
                Err(_) => break,
            }
        }
        if extra > 0 {
            return Err(ParseError::new(
                ErrorKind::CompoundCount {
                    declared,
                    found: declared + extra,
                },
                Some(id),
                first_extra,
            ));
        }
        return Err(trailing(input, first_extra, id));
    }
    Ok((
        DataStructure::CompoundMessage(CompoundMessage::from_parts(message, structures)),
        pos,
    ))
}

/// Parses exactly one data structure, with its data identifier, as a bar
/// code carries it. A compound message (DS023) counts as one structure and
/// carries its members.
///
/// Two-step check of ST-001 §2.2: the data identifier selects the structure,
/// then the length and every character are checked, then the values
/// (dates, reserved positions, type-3 flags, checksums).
///
/// ```
/// use isbt128::{parse, DataStructure, ErrorKind};
/// let s = parse("=<S12954A0")?;
/// assert_eq!(s.number(), "003");
/// assert_eq!(s.encode(), "=<S12954A0");
///
/// // A DS004 with 10 characters of content is a length error.
/// let e = parse("=>0261232359").unwrap_err();
/// assert!(matches!(e.kind(), ErrorKind::TrailingCharacters { .. }));
/// assert_eq!(e.position(), 8);
/// # Ok::<(), isbt128::ParseError>(())
/// ```
///
/// # Errors
/// A [`ParseError`] naming the structure, the 0-based position and the fault.
pub fn parse(input: &str) -> Result<DataStructure, ParseError> {
    if input.is_empty() {
        return Err(ParseError::new(ErrorKind::Empty, None, 0));
    }
    let (s, end) = read_structure(input, 0, false)?;
    if end < input.len() {
        return Err(trailing(input, end, s.id()));
    }
    Ok(s)
}

/// Parses data content without its data identifier (as printed in text, or
/// sent by a scanner set to strip data identifiers), for a structure type
/// known from context. Encode it back with [`DataStructure::content`].
///
/// For the DIN the content is the 15 characters after `=`. For a compound
/// message it is `aabbb` followed by the structures with their identifiers.
/// Nationally defined structures cannot be read this way (their data
/// identifier is needed).
///
/// ```
/// use isbt128::{parse_content, StructureId};
/// let s = parse_content(StructureId::ProductCode, "T0326003")?;
/// assert_eq!(s.content(), "T0326003");
/// assert_eq!(s.encode(), "=<T0326003");
/// assert!(parse_content(StructureId::ProductCode, "=<T0326003").is_err());
/// # Ok::<(), isbt128::ParseError>(())
/// ```
///
/// # Errors
/// A [`ParseError`] whose positions index `content`.
pub fn parse_content(id: StructureId, content: &str) -> Result<DataStructure, ParseError> {
    if content.is_empty() {
        return Err(ParseError::new(ErrorKind::Empty, Some(id), 0));
    }
    if !id.is_iccbba() {
        return Err(ParseError::new(
            ErrorKind::UnknownDataIdentifier {
                found: String::new(),
            },
            Some(id),
            0,
        ));
    }
    if id == StructureId::CompoundMessage {
        let (s, _) = read_compound(content, 0)?;
        return Ok(s);
    }
    let end = spec::scan_content(id, content, 0)?;
    if end < content.len() {
        return Err(trailing(content, end, id));
    }
    Ok(DataStructure::from_validated(id, content, ""))
}

/// An AIM symbology identifier (ISO/IEC 15424) that a scanner may prefix.
///
/// ```
/// assert_eq!(isbt128::SymbologyId::IsbtConcatenated.as_str(), "]C4");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SymbologyId {
    /// `]C0`: Code 128, no special processing.
    Code128,
    /// `]C4`: Code 128, ISBT 128 concatenation performed.
    IsbtConcatenated,
    /// `]d1`: Data Matrix ECC 200.
    DataMatrix,
}

impl SymbologyId {
    /// The three prefix characters.
    ///
    /// ```
    /// assert_eq!(isbt128::SymbologyId::DataMatrix.as_str(), "]d1");
    /// ```
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Code128 => "]C0",
            Self::IsbtConcatenated => "]C4",
            Self::DataMatrix => "]d1",
        }
    }

    fn strip(input: &str) -> (Option<Self>, &str) {
        for id in [Self::Code128, Self::IsbtConcatenated, Self::DataMatrix] {
            if let Some(rest) = input.strip_prefix(id.as_str()) {
                return (Some(id), rest);
            }
        }
        (None, input)
    }
}

/// The result of reading one scan: an optional symbology identifier and the
/// structures in the order read.
///
/// ```
/// let scan = isbt128::parse_scan("]C4=A99991712345600=%5100")?;
/// assert_eq!(scan.symbology, Some(isbt128::SymbologyId::IsbtConcatenated));
/// assert_eq!(scan.structures.len(), 2);
/// assert_eq!(scan.encode(), "]C4=A99991712345600=%5100");
/// # Ok::<(), isbt128::ParseError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scan {
    /// The AIM prefix the scanner sent, if any.
    pub symbology: Option<SymbologyId>,
    /// The structures, left to right. A compound message is one entry that
    /// carries its members.
    pub structures: Vec<DataStructure>,
}

impl Scan {
    /// Re-encodes the scan exactly (prefix + structures, no separators).
    ///
    /// ```
    /// let s = "=<E8341V00&>0183652359";
    /// assert_eq!(isbt128::parse_scan(s)?.encode(), s);
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if let Some(s) = self.symbology {
            out.push_str(s.as_str());
        }
        for s in &self.structures {
            out.push_str(&s.encode());
        }
        out
    }

    /// The structures, without the prefix.
    ///
    /// ```
    /// let v = isbt128::parse_scan("=A99991712345600=,000012")?.into_structures();
    /// assert_eq!(v[1].number(), "032");
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn into_structures(self) -> Vec<DataStructure> {
        self.structures
    }
}

impl fmt::Display for Scan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.encode())
    }
}

/// Parses everything a scanner sent: an optional AIM prefix (`]C4`, `]C0`,
/// `]d1`) then one or more structures back to back with no separators
/// (linear concatenation such as DIN + blood groups), or one compound
/// message. Positions in errors index the whole input, prefix included.
///
/// ```
/// let scan = isbt128::parse_scan("=A99991712345600=,000012")?;
/// let numbers: Vec<_> = scan.structures.iter().map(|s| s.number()).collect();
/// assert_eq!(numbers, ["001", "032"]);
///
/// let err = isbt128::parse_scan("=A99991712345600XX").unwrap_err();
/// assert_eq!(err.position(), 16);
/// # Ok::<(), isbt128::ParseError>(())
/// ```
///
/// # Errors
/// A [`ParseError`] for the first structure that fails, or
/// [`ErrorKind::UnknownDataIdentifier`] where no structure starts.
pub fn parse_scan(input: &str) -> Result<Scan, ParseError> {
    let (symbology, rest) = SymbologyId::strip(input);
    let mut pos = input.len() - rest.len();
    if rest.is_empty() {
        return Err(ParseError::new(ErrorKind::Empty, None, pos));
    }
    let mut structures = Vec::new();
    while pos < input.len() {
        let (s, end) = read_structure(input, pos, false)?;
        structures.push(s);
        pos = end;
    }
    Ok(Scan {
        symbology,
        structures,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(input: &str) -> ParseError {
        match parse(input) {
            Ok(s) => panic!("{input} accepted as {s:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn error_messages_name_structure_position_and_fault() {
        assert_eq!(
            err("=W483626000011N").to_string(),
            "DS001 Donation Identification Number: position 15: flags: input ended, 1 more character expected"
        );
        assert_eq!(
            err("&>0180012400").to_string(),
            "DS005 Expiration Date and Time: position 8: hh: expected an hour 00-23, found \"24\""
        );
        let e = err("&>0193662359");
        assert_eq!((e.structure(), e.position()), (Some(StructureId::ExpirationDateTime), 5));
        let e = err("=,00001a");
        assert!(matches!(e.kind(), ErrorKind::UnexpectedCharacter { found: 'a', field: "divisions", .. }));
        assert_eq!(e.position(), 7);
        let e = err("=R00011295791861");
        assert!(matches!(e.kind(), ErrorKind::CheckMismatch { .. }), "{e}");
        assert_eq!(e.position(), 14);
        let e = err("GARBAGE");
        assert!(matches!(e.kind(), ErrorKind::UnknownDataIdentifier { .. }));
        assert_eq!(e.structure(), None);
        let e = err("=zINVALID_DI_TEST");
        assert!(matches!(e.kind(), ErrorKind::UnknownDataIdentifier { .. }));
    }

    #[test]
    fn semantic_rules() {
        // DS002 reserved e.
        assert!(parse("=%6201").is_err());
        // DS003 pack-number categories need digits; unassigned category letters rejected.
        assert!(parse("=<T1295A03").is_err());
        assert!(parse("=<G1295003").is_err());
        assert!(parse("=<X1234001").is_err());
        // DS012 position 1 phenotype with C/c/E/e coded individually.
        assert!(parse("=\\600000000000010000").is_err());
        assert!(parse("=\\900000000000010000").is_ok());
        // DS027 reserved positions and digit 9.
        assert!(parse("&\"321415000000000001").is_err());
        assert!(parse("&\"921415000000000000").is_err());
        assert!(parse("&\"321415000002000000").is_ok());
        // DS031 zone, reserved, date and time.
        assert!(parse("=(3001201701151515").is_err());
        assert!(parse("=(1101201701151515").is_err());
        assert!(parse("=(1001201702301515").is_err());
        assert!(parse("=(1001201701152400").is_err());
        // DS039 checksum.
        assert!(parse("&:3553000001234567824").is_err());
        // DS038 expiry and coding system.
        assert!(parse("&,4PL001499Z549917123456A00T041600320181232").is_err());
        assert!(parse("&,4PL001499Z549917123456Z00T041600320181231").is_err());
        assert!(parse("&,4PL001499Z549917123456A00T041600300000000").is_ok());
        // DS040 literal CH.
        assert!(parse("&/CXA999926ABC123").is_err());
        // DS025 declared length.
        assert!(parse("&#0106ABC12").is_err());
        assert!(parse_scan("&#0103ABC=%6200").is_ok());
        // DS029 reserved and decimals.
        assert!(parse("&$01010001000016000").is_err());
        assert!(parse("&$01010001000010001").is_err());
        // Century digit 9 is the 1900s: 1900 was not a leap year.
        assert!(parse("=>900366").is_err());
        assert!(parse("=>996366").is_ok());
    }

    #[test]
    fn compound_count_mismatch_short() {
        let e = parse("=+05000=/A9997XYZ100T0479=A99991712345600=,000012=>019031");
        assert!(matches!(
            e.map_err(|e| e.kind().clone()),
            Err(ErrorKind::CompoundCount {
                declared: 5,
                found: 4
            })
        ));
    }

    #[test]
    fn compound_count_mismatch_long() {
        let e = parse("=+01000=A99991712345600=,000012");
        assert!(matches!(
            e.map_err(|e| e.kind().clone()),
            Err(ErrorKind::CompoundCount {
                declared: 1,
                found: 2
            })
        ));
    }

    #[test]
    fn compound_order_checked() {
        let e = parse("=+04035=,000012=/A9997XYZ100T0479=A99991712345600=>019031");
        assert!(matches!(
            e.map_err(|e| e.kind().clone()),
            Err(ErrorKind::CompoundOrder { index: 0, .. })
        ));
    }

    #[test]
    fn no_nesting_no_national() {
        let e = parse("=+01000=+01000=A99991712345600");
        assert!(matches!(
            e.map_err(|e| e.kind().clone()),
            Err(ErrorKind::NotAllowedInCompound { .. })
        ));
        let e = parse("=+01000&a123");
        assert!(matches!(
            e.map_err(|e| e.kind().clone()),
            Err(ErrorKind::NotAllowedInCompound { .. })
        ));
    }

    #[test]
    fn scan_prefix_and_errors() {
        assert!(parse_scan("]C4").is_err());
        assert!(parse_scan("").is_err());
        let e = parse_scan("]C4=A99991712345600=%51");
        assert_eq!(e.map_err(|e| e.position()), Err(23));
    }

    #[test]
    fn content_only_forms() {
        let s = parse_content(StructureId::Din, "A99991712345600");
        assert_eq!(s.map(|s| s.encode()), Ok("=A99991712345600".to_owned()));
        let s = parse_content(StructureId::CompoundMessage, "01000=A99991712345600");
        assert_eq!(
            s.map(|s| s.content()),
            Ok("01000=A99991712345600".to_owned())
        );
        assert!(parse_content(StructureId::National, "x").is_err());
    }
}
