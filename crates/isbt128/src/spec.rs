//! Layouts and validation rules of every data structure (internal).
//!
//! This module owns the element tables of ST-001 §2.4 (name, length and
//! character set of each element), the semantic checks applied after the
//! character sets (dates, reserved positions, check values), and the
//! generation of the ordered `(name, value)` field list.

use crate::check;
use crate::date::{self, Date};
use crate::error::{ErrorKind, ParseError};
use crate::kind::StructureId as Id;
use crate::tables;

/// Character class of one element position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    Digit,
    Upper,
    UpperDigit,
    Alnum,
    LowerDigit,
    FinFirst,
    FinOther,
    Flag,
    Exact(u8),
    Graphic,
}

pub(crate) fn is_fin_first(b: u8) -> bool {
    (b.is_ascii_uppercase() && b != b'O') || (b'1'..=b'9').contains(&b)
}

impl Class {
    pub(crate) fn accepts(self, b: u8) -> bool {
        match self {
            Self::Digit => b.is_ascii_digit(),
            Self::Upper => b.is_ascii_uppercase(),
            Self::UpperDigit => b.is_ascii_uppercase() || b.is_ascii_digit(),
            Self::Alnum => b.is_ascii_alphanumeric(),
            Self::LowerDigit => b.is_ascii_lowercase() || b.is_ascii_digit(),
            Self::FinFirst => is_fin_first(b),
            Self::FinOther => (b.is_ascii_uppercase() && b != b'O') || b.is_ascii_digit(),
            Self::Flag => {
                b.is_ascii_digit()
                    || (b.is_ascii_uppercase() && !matches!(b, b'I' | b'O' | b'Q' | b'Z'))
            }
            Self::Exact(c) => b == c,
            Self::Graphic => (0x20..=0x7e).contains(&b),
        }
    }

    pub(crate) fn describe(self) -> &'static str {
        match self {
            Self::Digit => "a digit 0-9",
            Self::Upper => "an uppercase letter A-Z",
            Self::UpperDigit => "A-Z or 0-9",
            Self::Alnum => "A-Z, a-z or 0-9",
            Self::LowerDigit => "a-z or 0-9",
            Self::FinFirst => "A-N, P-Z or 1-9",
            Self::FinOther => "A-N, P-Z or 0-9",
            Self::Flag => "0-9, A-H, J-N, P or R-Y",
            Self::Exact(b'C') => "'C'",
            Self::Exact(b'H') => "'H'",
            Self::Exact(_) => "a fixed character",
            Self::Graphic => "a printable ASCII character",
        }
    }
}

/// One element (or part of an element with its own character set).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Seg {
    pub(crate) name: &'static str,
    pub(crate) class: Class,
    pub(crate) len: usize,
}

const fn s(name: &'static str, class: Class, len: usize) -> Seg {
    Seg { name, class, len }
}

use Class::{Alnum, Digit, Exact, FinFirst, FinOther, Flag, LowerDigit, Upper, UpperDigit};

/// The 13-character DIN (no flags).
pub(crate) const DIN13: &[Seg] = &[
    s("fin", FinFirst, 1),
    s("fin", FinOther, 2),
    s("fin", Digit, 2),
    s("year", Digit, 2),
    s("sequence", Digit, 6),
];
const DATE: &[Seg] = &[s("c", Digit, 1), s("yy", Digit, 2), s("jjj", Digit, 3)];
const DATE_TIME: &[Seg] = &[
    s("c", Digit, 1),
    s("yy", Digit, 2),
    s("jjj", Digit, 3),
    s("hh", Digit, 2),
    s("mm", Digit, 2),
];
const RBC: &[Seg] = &[
    s("rh_phenotype", Digit, 1),
    s("antigens", Digit, 15),
    s("ii", Digit, 2),
];
pub(crate) const SEC_DONATION: &[Seg] = &[
    s("country", Upper, 2),
    s("te_code", Alnum, 6),
    s("unique_donation_number", Alnum, 13),
];
pub(crate) const SEC_PRODUCT: &[Seg] = &[
    s("coding_system", Upper, 1),
    s("product_code", Alnum, 7),
    s("split", Alnum, 3),
    s("expiry", Digit, 8),
];
pub(crate) const PPIC: &[Seg] = &[
    s("fin_p", FinOther, 5),
    s("fpc", UpperDigit, 6),
    s("pdc", UpperDigit, 5),
];
const DIMENSION_SEGMENT: &[Seg] = &[
    s("symbol", Digit, 2),
    s("dimension", Digit, 4),
    s("value", Digit, 5),
    s("decimals", Digit, 1),
    s("reserved", Digit, 2),
];
const ANTIGEN_SEGMENT: &[Seg] = &[
    s("antigen", Digit, 6),
    s("result", Digit, 2),
    s("history", Digit, 2),
];

/// Fixed layout of a structure's data content (for variable structures: the header).
pub(crate) fn layout(id: Id) -> &'static [Seg] {
    match id {
        Id::Din => {
            const {
                &[
                    s("fin", FinFirst, 1),
                    s("fin", FinOther, 2),
                    s("fin", Digit, 2),
                    s("year", Digit, 2),
                    s("sequence", Digit, 6),
                    s("flags", Flag, 2),
                ]
            }
        }
        Id::BloodGroups => {
            const {
                &[
                    s("gg", Alnum, 2),
                    s("r", UpperDigit, 1),
                    s("e", UpperDigit, 1),
                ]
            }
        }
        Id::ProductCode => {
            const {
                &[
                    s("pdc", Upper, 1),
                    s("pdc", UpperDigit, 4),
                    s("t", Alnum, 1),
                    s("d", UpperDigit, 1),
                    s("s", LowerDigit, 1),
                ]
            }
        }
        Id::ExpirationDate | Id::CollectionDate | Id::ProductionDate => DATE,
        Id::ExpirationDateTime | Id::CollectionDateTime | Id::ProductionDateTime => DATE_TIME,
        Id::SpecialTestingGeneral => const { &[s("code", UpperDigit, 5)] },
        Id::RbcAntigensRetired | Id::RbcAntigensGeneral | Id::RbcAntigensFinnish => RBC,
        Id::PlateletHlaAntigens => {
            const {
                &[
                    s("hla_a", Digit, 4),
                    s("hla_b", Digit, 4),
                    s("platelet_antigens", Digit, 8),
                    s("reserved", Digit, 1),
                    s("high_titre_anti_ab", Digit, 1),
                ]
            }
        }
        Id::HlaABRetired => {
            const {
                &[
                    s("hla_a", Digit, 8),
                    s("hla_b", Digit, 8),
                    s("cmv", Digit, 1),
                    s("reserved", Digit, 1),
                ]
            }
        }
        Id::HlaDrb1Retired => const { &[s("hla_drb1", Digit, 8), s("reserved", Digit, 10)] },
        Id::ContainerCatalog => {
            const {
                &[
                    s("container_id", Alnum, 1),
                    s("manufacturer", UpperDigit, 2),
                    s("catalog", Alnum, 7),
                ]
            }
        }
        Id::ContainerLot | Id::ItemLot => const { &[s("lot", Alnum, 10)] },
        Id::DonorId => {
            const {
                &[
                    s("fin", FinFirst, 1),
                    s("fin", FinOther, 2),
                    s("fin", Digit, 2),
                    s("donor_number", Digit, 16),
                ]
            }
        }
        Id::StaffId => {
            const {
                &[
                    s("fin", FinFirst, 1),
                    s("fin", FinOther, 2),
                    s("fin", Digit, 2),
                    s("staff_id", UpperDigit, 6),
                ]
            }
        }
        Id::ItemCatalog => const { &[s("manufacturer", UpperDigit, 2), s("catalog", Alnum, 8)] },
        Id::CompoundMessage => const { &[s("count", Digit, 2), s("message", Digit, 3)] },
        Id::PatientBirthDate => {
            const {
                &[
                    s("location", Digit, 2),
                    s("year", Digit, 4),
                    s("month", Digit, 2),
                    s("day", Digit, 2),
                ]
            }
        }
        Id::PatientId => const { &[s("location", Digit, 2), s("length", Digit, 2)] },
        Id::ExpirationMonth => const { &[s("year", Digit, 4), s("month", Digit, 2)] },
        Id::InfectionMarkers => const { &[s("markers", Digit, 18)] },
        Id::Consignment => {
            const {
                &[
                    s("fin", FinFirst, 1),
                    s("fin", FinOther, 2),
                    s("fin", Digit, 2),
                    s("year", Digit, 2),
                    s("serial", Digit, 5),
                    s("container_number", Digit, 2),
                    s("total_containers", Digit, 2),
                ]
            }
        }
        Id::Dimensions => const { &[s("count", Digit, 2)] },
        Id::RedCellAntigenHistory => const { &[s("count", Digit, 3)] },
        Id::FlexibleDateTime => {
            const {
                &[
                    s("zone", Digit, 1),
                    s("reserved", Digit, 1),
                    s("time_type", Digit, 2),
                    s("year", Digit, 4),
                    s("month", Digit, 2),
                    s("day", Digit, 2),
                    s("hh", Digit, 2),
                    s("mm", Digit, 2),
                ]
            }
        }
        Id::ProductDivisions => const { &[s("divisions", UpperDigit, 6)] },
        Id::ProcessingFacility => const { &[s("fin_p", FinOther, 5), s("fpc", UpperDigit, 6)] },
        Id::Ppic => PPIC,
        Id::MphoLot => const { &[s("lot", UpperDigit, 18)] },
        Id::MphoSupplementalId => const { &[s("supplemental_id", UpperDigit, 18)] },
        Id::GridRetired => const { &[s("ion", Digit, 4), s("rdi", UpperDigit, 15)] },
        Id::Sec => {
            const {
                &[
                    s("country", Upper, 2),
                    s("te_code", Alnum, 6),
                    s("unique_donation_number", Alnum, 13),
                    s("coding_system", Upper, 1),
                    s("product_code", Alnum, 7),
                    s("split", Alnum, 3),
                    s("expiry", Digit, 8),
                ]
            }
        }
        Id::Grid => {
            const {
                &[
                    s("ion", Digit, 4),
                    s("rdi", UpperDigit, 13),
                    s("checksum", Digit, 2),
                ]
            }
        }
        Id::ChainOfIdentity => {
            const {
                &[
                    s("literal", Exact(b'C'), 1),
                    s("literal", Exact(b'H'), 1),
                    s("fin", FinFirst, 1),
                    s("fin", FinOther, 2),
                    s("fin", Digit, 2),
                    s("year", Digit, 2),
                    s("sequence", UpperDigit, 6),
                ]
            }
        }
        Id::National | Id::NationalDonorId | Id::ConfidentialUnitExclusion => const { &[] },
    }
}

/// The character at byte `pos` (always a char boundary here: everything
/// before it has been validated as ASCII).
pub(crate) fn char_at(input: &str, pos: usize) -> char {
    input
        .get(pos..)
        .and_then(|rest| rest.chars().next())
        .unwrap_or('\u{FFFD}')
}

fn total_len(segs: &[Seg]) -> usize {
    segs.iter().map(|g| g.len).sum()
}

/// Checks `segs` starting at byte `start` of `input`; returns the end position.
pub(crate) fn check_segs(
    input: &str,
    start: usize,
    segs: &[Seg],
    id: Option<Id>,
) -> Result<usize, ParseError> {
    let bytes = input.as_bytes();
    let total = total_len(segs);
    let mut pos = start;
    for seg in segs {
        for _ in 0..seg.len {
            match bytes.get(pos) {
                None => {
                    let missing = total.saturating_sub(pos - start);
                    return Err(ParseError::new(
                        ErrorKind::UnexpectedEnd {
                            field: seg.name,
                            missing,
                        },
                        id,
                        pos,
                    ));
                }
                Some(&b) if !seg.class.accepts(b) => {
                    return Err(ParseError::new(
                        ErrorKind::UnexpectedCharacter {
                            field: seg.name,
                            expected: seg.class.describe(),
                            found: char_at(input, pos),
                        },
                        id,
                        pos,
                    ));
                }
                Some(_) => pos += 1,
            }
        }
    }
    Ok(pos)
}

/// Parses an all-digit slice (validated before); 0 if absent.
pub(crate) fn num(content: &str, from: usize, to: usize) -> u32 {
    content
        .get(from..to)
        .and_then(|d| d.parse::<u32>().ok())
        .unwrap_or(0)
}

fn out_of_range(
    id: Id,
    field: &'static str,
    value: &str,
    expected: &'static str,
    pos: usize,
) -> ParseError {
    ParseError::new(
        ErrorKind::OutOfRange {
            field,
            value: value.to_owned(),
            expected,
        },
        Some(id),
        pos,
    )
}

/// Validates the data content of `id` starting at byte `start` of `input`
/// and returns where it ends. Does not handle compound messages' children.
pub(crate) fn scan_content(id: Id, input: &str, start: usize) -> Result<usize, ParseError> {
    let bytes = input.as_bytes();
    match id {
        Id::National | Id::NationalDonorId | Id::ConfidentialUnitExclusion => {
            let mut pos = start;
            while let Some(&b) = bytes.get(pos) {
                if !Class::Graphic.accepts(b) {
                    return Err(ParseError::new(
                        ErrorKind::UnexpectedCharacter {
                            field: "content",
                            expected: Class::Graphic.describe(),
                            found: char_at(input, pos),
                        },
                        Some(id),
                        pos,
                    ));
                }
                pos += 1;
            }
            if pos == start {
                return Err(ParseError::new(
                    ErrorKind::UnexpectedEnd {
                        field: "content",
                        missing: 1,
                    },
                    Some(id),
                    pos,
                ));
            }
            Ok(pos)
        }
        Id::PatientId => {
            let p = check_segs(input, start, layout(id), Some(id))?;
            let ll = num(input, start + 2, start + 4) as usize;
            check_segs(input, p, &[s("patient_id", Alnum, ll)], Some(id))
        }
        Id::Dimensions => {
            let p = check_segs(input, start, layout(id), Some(id))?;
            let n = num(input, start, start + 2) as usize;
            let mut p = p;
            for _ in 0..n {
                let end = check_segs(input, p, DIMENSION_SEGMENT, Some(id))?;
                let seg = input.get(p..end).unwrap_or("");
                if num(seg, 11, 12) > 5 {
                    return Err(out_of_range(
                        id,
                        "decimals",
                        seg.get(11..12).unwrap_or(""),
                        "0-5 decimal places",
                        p + 11,
                    ));
                }
                if seg.get(12..14) != Some("00") {
                    return Err(out_of_range(
                        id,
                        "reserved",
                        seg.get(12..14).unwrap_or(""),
                        "00 (reserved)",
                        p + 12,
                    ));
                }
                p = end;
            }
            Ok(p)
        }
        Id::RedCellAntigenHistory => {
            let mut p = check_segs(input, start, layout(id), Some(id))?;
            let n = num(input, start, start + 3) as usize;
            for _ in 0..n {
                p = check_segs(input, p, ANTIGEN_SEGMENT, Some(id))?;
            }
            Ok(p)
        }
        _ => {
            let end = check_segs(input, start, layout(id), Some(id))?;
            semantic(id, input.get(start..end).unwrap_or(""), start)?;
            Ok(end)
        }
    }
}

/// Checks a `cyyjjj[hhmm]` content (already digit-validated).
fn check_cyyjjj(id: Id, c: &str, start: usize) -> Result<(), ParseError> {
    let year = date::year_from_century_digit(num(c, 0, 1) as u8, num(c, 1, 3) as u8);
    let jjj = num(c, 3, 6) as u16;
    if Date::from_ordinal(year, jjj).is_none() {
        return Err(out_of_range(
            id,
            "jjj",
            c.get(3..6).unwrap_or(""),
            "an ordinal day 001-365 (366 in a leap year)",
            start + 3,
        ));
    }
    if c.len() >= 10 {
        check_hhmm(id, c, 6, start)?;
    }
    Ok(())
}

fn check_hhmm(id: Id, c: &str, at: usize, start: usize) -> Result<(), ParseError> {
    if num(c, at, at + 2) > 23 {
        return Err(out_of_range(
            id,
            "hh",
            c.get(at..at + 2).unwrap_or(""),
            "an hour 00-23",
            start + at,
        ));
    }
    if num(c, at + 2, at + 4) > 59 {
        return Err(out_of_range(
            id,
            "mm",
            c.get(at + 2..at + 4).unwrap_or(""),
            "a minute 00-59",
            start + at + 2,
        ));
    }
    Ok(())
}

fn check_ymd(
    id: Id,
    c: &str,
    at: usize,
    start: usize,
    field: &'static str,
) -> Result<(), ParseError> {
    let y = num(c, at, at + 4) as u16;
    let m = num(c, at + 4, at + 6) as u8;
    let d = num(c, at + 6, at + 8) as u8;
    if Date::new(y, m, d).is_none() {
        return Err(out_of_range(
            id,
            field,
            c.get(at..at + 8).unwrap_or(""),
            "a valid calendar date YYYYMMDD",
            start + at,
        ));
    }
    Ok(())
}

/// Checks the SEC product identification sequence (19 characters, validated
/// charset) found at `at` within `c`.
pub(crate) fn check_sec_product(c: &str, at: usize, start: usize) -> Result<(), ParseError> {
    let id = Id::Sec;
    let system = c.get(at..at + 1).unwrap_or("");
    if !matches!(system, "A" | "B" | "E") {
        return Err(out_of_range(
            id,
            "coding_system",
            system,
            "A (ISBT 128), B (Eurocode) or E (EUTC)",
            start + at,
        ));
    }
    if system == "A" {
        let pc = c.get(at + 1..at + 8).unwrap_or("");
        let ok = pc.get(0..2) == Some("00")
            && pc.bytes().skip(2).all(|b| UpperDigit.accepts(b))
            && pc.as_bytes().get(2).is_some_and(u8::is_ascii_uppercase);
        if !ok {
            return Err(out_of_range(
                id,
                "product_code",
                pc,
                "00 + a 5-character ISBT 128 product description code",
                start + at + 1,
            ));
        }
    }
    let expiry = c.get(at + 11..at + 19).unwrap_or("");
    if expiry != "00000000" {
        check_ymd(id, c, at + 11, start, "expiry")?;
    }
    Ok(())
}

/// Semantic checks on fixed-layout content `c` (charset already validated).
// One arm per structure with its rule inside reads better than match guards.
#[allow(clippy::collapsible_match)]
fn semantic(id: Id, c: &str, start: usize) -> Result<(), ParseError> {
    let b = c.as_bytes();
    match id {
        Id::Din => {
            let flags = c.get(13..15).unwrap_or("");
            if flags.bytes().all(|x| x.is_ascii_digit()) {
                let v = num(c, 13, 15);
                if (60..=96).contains(&v) {
                    let sum = check::checksum(c.get(0..13).unwrap_or("")).unwrap_or(0);
                    let expected = u32::from(sum) + 60;
                    if v != expected {
                        return Err(ParseError::new(
                            ErrorKind::CheckMismatch {
                                check: "type-3 flags (60 + MOD 37-2 checksum of the DIN)",
                                expected: format!("{expected:02}"),
                                found: flags.to_owned(),
                            },
                            Some(id),
                            start + 13,
                        ));
                    }
                }
            }
        }
        Id::BloodGroups => {
            if b.get(3) != Some(&b'0') {
                return Err(out_of_range(
                    id,
                    "e",
                    c.get(3..4).unwrap_or(""),
                    "0 (reserved)",
                    start + 3,
                ));
            }
        }
        Id::ProductCode => {
            let pdc = c.get(0..5).unwrap_or("");
            let tds = c.get(5..8).unwrap_or("");
            match tables::product_category(pdc) {
                None => {
                    return Err(out_of_range(
                        id,
                        "pdc",
                        pdc,
                        "a product category letter (A-F, H, M, N, P, R-T, V-Y)",
                        start,
                    ))
                }
                Some((_, tables::TdsUse::PackNumber)) => {
                    if !tds.bytes().all(|x| x.is_ascii_digit()) {
                        return Err(out_of_range(
                            id,
                            "tds",
                            tds,
                            "a three-digit division/pack number",
                            start + 5,
                        ));
                    }
                }
                Some((_, tables::TdsUse::Reserved)) => {
                    if tds != "000" {
                        return Err(out_of_range(
                            id,
                            "tds",
                            tds,
                            "000 (reserved for this category)",
                            start + 5,
                        ));
                    }
                }
                Some(_) => {}
            }
        }
        Id::ExpirationDate
        | Id::CollectionDate
        | Id::ProductionDate
        | Id::ExpirationDateTime
        | Id::CollectionDateTime
        | Id::ProductionDateTime => check_cyyjjj(id, c, start)?,
        Id::RbcAntigensRetired | Id::RbcAntigensGeneral | Id::RbcAntigensFinnish => {
            if b.first() != Some(&b'9') {
                // Positions 14-16 carry C, c, E, e individually; with a
                // phenotype in position 1 they must be nt or ni.
                let p14 = num(c, 13, 14);
                let p15 = num(c, 14, 15);
                let p16 = num(c, 15, 16);
                let bad = if !(p14 % 3 == 0 || p14 == 9) {
                    Some(13)
                } else if !(p15 == 0 || p15 == 9) {
                    Some(14)
                } else if !(p16 <= 2 || p16 == 9) {
                    Some(15)
                } else {
                    None
                };
                if let Some(at) = bad {
                    return Err(out_of_range(
                        id,
                        "antigens",
                        c.get(at..at + 1).unwrap_or(""),
                        "C, c, E and e not tested or no information when position 1 gives the Rh phenotype",
                        start + at,
                    ));
                }
            }
        }
        Id::PlateletHlaAntigens => {
            if b.get(16) != Some(&b'0') {
                return Err(out_of_range(
                    id,
                    "reserved",
                    c.get(16..17).unwrap_or(""),
                    "0 (reserved)",
                    start + 16,
                ));
            }
        }
        Id::HlaABRetired => {
            if b.get(17) != Some(&b'9') {
                return Err(out_of_range(
                    id,
                    "reserved",
                    c.get(17..18).unwrap_or(""),
                    "9",
                    start + 17,
                ));
            }
        }
        Id::HlaDrb1Retired => {
            if c.get(8..18) != Some("9999999999") {
                return Err(out_of_range(
                    id,
                    "reserved",
                    c.get(8..18).unwrap_or(""),
                    "9999999999",
                    start + 8,
                ));
            }
        }
        Id::PatientBirthDate => check_ymd(id, c, 2, start, "birth_date")?,
        Id::ExpirationMonth => {
            if !(1..=12).contains(&num(c, 4, 6)) {
                return Err(out_of_range(
                    id,
                    "month",
                    c.get(4..6).unwrap_or(""),
                    "a month 01-12",
                    start + 4,
                ));
            }
        }
        Id::InfectionMarkers => {
            for (i, x) in b.iter().enumerate() {
                if i < 12 && *x == b'9' {
                    return Err(out_of_range(
                        id,
                        "markers",
                        "9",
                        "a marker pair value 0-8",
                        start + i,
                    ));
                }
                if i >= 12 && *x != b'0' {
                    return Err(out_of_range(
                        id,
                        "markers",
                        c.get(i..=i).unwrap_or(""),
                        "0 (positions 13-18 are reserved)",
                        start + i,
                    ));
                }
            }
        }
        Id::FlexibleDateTime => {
            if !matches!(b.first(), Some(b'1' | b'2')) {
                return Err(out_of_range(
                    id,
                    "zone",
                    c.get(0..1).unwrap_or(""),
                    "1 (local time) or 2 (UTC)",
                    start,
                ));
            }
            if b.get(1) != Some(&b'0') {
                return Err(out_of_range(
                    id,
                    "reserved",
                    c.get(1..2).unwrap_or(""),
                    "0 (reserved)",
                    start + 1,
                ));
            }
            check_ymd(id, c, 4, start, "date")?;
            check_hhmm(id, c, 12, start)?;
        }
        Id::GridRetired | Id::Grid => {
            if b.first() == Some(&b'0') {
                return Err(out_of_range(
                    id,
                    "ion",
                    c.get(0..4).unwrap_or(""),
                    "an issuing organization number 1000-9999",
                    start,
                ));
            }
            if id == Id::Grid {
                let found = c.get(17..19).unwrap_or("");
                let expected = check::checksum(c.get(0..17).unwrap_or("")).unwrap_or(0);
                if found != format!("{expected:02}") {
                    return Err(ParseError::new(
                        ErrorKind::CheckMismatch {
                            check: "GRID MOD 37-2 checksum",
                            expected: format!("{expected:02}"),
                            found: found.to_owned(),
                        },
                        Some(id),
                        start + 17,
                    ));
                }
            }
        }
        Id::Sec => check_sec_product(c, 21, start)?,
        _ => {}
    }
    Ok(())
}

/// Whether a keyboard check character applies to the structure
/// (ST-001 Table 30: required, optional or required-if-printed).
pub(crate) fn keyboard_check_applies(id: Id) -> bool {
    !matches!(
        id,
        Id::BloodGroups
            | Id::ProductCode
            | Id::ContainerCatalog
            | Id::ContainerLot
            | Id::ItemCatalog
            | Id::ItemLot
            | Id::CompoundMessage
            | Id::PatientId
            | Id::RedCellAntigenHistory
            | Id::Sec
            | Id::Grid
            | Id::National
            | Id::NationalDonorId
            | Id::ConfidentialUnitExclusion
    )
}

fn push(out: &mut Vec<(String, String)>, name: &str, value: impl Into<String>) {
    out.push((name.to_owned(), value.into()));
}

/// Field list of a layout: consecutive segments with one name are merged;
/// `literal` segments are skipped.
fn layout_fields(out: &mut Vec<(String, String)>, segs: &[Seg], c: &str) {
    let mut pos = 0;
    let mut last: Option<&'static str> = None;
    for seg in segs {
        let value = c.get(pos..pos + seg.len).unwrap_or("");
        pos += seg.len;
        if seg.name == "literal" {
            continue;
        }
        match (last, out.last_mut()) {
            (Some(n), Some(entry)) if n == seg.name => entry.1.push_str(value),
            _ => push(out, seg.name, value),
        }
        last = Some(seg.name);
    }
}

/// Ordered `(name, value)` fields of validated data content `c`.
pub(crate) fn fields(id: Id, c: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    match id {
        Id::ProductCode => {
            let pdc = c.get(0..5).unwrap_or("");
            push(&mut out, "pdc", pdc);
            let cat = tables::product_category(pdc);
            if let Some((name, _)) = cat {
                push(&mut out, "category", name);
            }
            match cat {
                Some((_, tables::TdsUse::CollectionTypeAndDivision)) => {
                    let t = c.get(5..6).unwrap_or("");
                    push(&mut out, "t", t);
                    if let Some(m) = t.chars().next().and_then(tables::collection_type) {
                        push(&mut out, "collection_type", m);
                    }
                    let ds = c.get(6..8).unwrap_or("");
                    push(&mut out, "ds", ds);
                    if ds == "99" {
                        push(
                            &mut out,
                            "division_note",
                            "divisions carried by DS032 (Product Divisions)",
                        );
                    }
                }
                _ => push(&mut out, "tds", c.get(5..8).unwrap_or("")),
            }
        }
        Id::PatientId => {
            layout_fields(&mut out, layout(id), c);
            push(&mut out, "patient_id", c.get(4..).unwrap_or(""));
        }
        Id::Dimensions => {
            layout_fields(&mut out, layout(id), c);
            let mut pos = 2;
            let mut i = 1;
            while let Some(seg) = c.get(pos..pos + 14) {
                let pfx = format!("segment{i}_");
                for (name, from, to) in [
                    ("symbol", 0, 2),
                    ("dimension", 2, 6),
                    ("value", 6, 11),
                    ("decimals", 11, 12),
                    ("reserved", 12, 14),
                ] {
                    push(
                        &mut out,
                        &format!("{pfx}{name}"),
                        seg.get(from..to).unwrap_or(""),
                    );
                }
                if let Some(m) = tables::dimension_symbol(seg.get(0..2).unwrap_or("")) {
                    push(&mut out, &format!("{pfx}symbol_meaning"), m);
                }
                if let Some(m) = tables::dimension(seg.get(2..6).unwrap_or("")) {
                    push(&mut out, &format!("{pfx}dimension_meaning"), m);
                }
                let value = seg.get(6..11).unwrap_or("");
                let dec = num(seg, 11, 12) as usize;
                let split = value.len().saturating_sub(dec);
                let shown = if dec == 0 {
                    value.to_owned()
                } else {
                    format!(
                        "{}.{}",
                        value.get(..split).unwrap_or(""),
                        value.get(split..).unwrap_or("")
                    )
                };
                push(&mut out, &format!("{pfx}decimal_value"), shown);
                pos += 14;
                i += 1;
            }
        }
        Id::RedCellAntigenHistory => {
            layout_fields(&mut out, layout(id), c);
            let mut pos = 3;
            let mut i = 1;
            while let Some(seg) = c.get(pos..pos + 10) {
                let pfx = format!("segment{i}_");
                push(
                    &mut out,
                    &format!("{pfx}antigen"),
                    seg.get(0..6).unwrap_or(""),
                );
                push(
                    &mut out,
                    &format!("{pfx}result"),
                    seg.get(6..8).unwrap_or(""),
                );
                push(
                    &mut out,
                    &format!("{pfx}history"),
                    seg.get(8..10).unwrap_or(""),
                );
                if let Some(m) = tables::antigen_result(seg.get(6..8).unwrap_or("")) {
                    push(&mut out, &format!("{pfx}result_meaning"), m);
                }
                if let Some(m) = tables::antigen_history(seg.get(8..10).unwrap_or("")) {
                    push(&mut out, &format!("{pfx}history_meaning"), m);
                }
                pos += 10;
                i += 1;
            }
        }
        Id::National | Id::NationalDonorId | Id::ConfidentialUnitExclusion => {
            push(&mut out, "content", c);
        }
        _ => layout_fields(&mut out, layout(id), c),
    }
    extra_fields(id, c, &mut out);
    if keyboard_check_applies(id) && id != Id::Din {
        if let Ok(k) = check::check_character(c) {
            push(&mut out, "check_character", k.to_string());
        }
    }
    out
}

fn extra_fields(id: Id, c: &str, out: &mut Vec<(String, String)>) {
    match id {
        Id::Din => {
            let flags = c.get(13..15).unwrap_or("");
            let meaning = if flags.bytes().all(|b| b.is_ascii_digit()) {
                tables::din_flag(num(c, 13, 15) as u8).unwrap_or("reserved")
            } else {
                "reserved for future assignment"
            };
            push(out, "flag_meaning", meaning);
            if let Ok(k) = check::check_character(c.get(0..13).unwrap_or("")) {
                push(out, "check_character", k.to_string());
            }
        }
        Id::BloodGroups => {
            let gg = c.get(0..2).unwrap_or("");
            if let Some((group, info)) = tables::blood_group(gg) {
                push(out, "abo_rhd", group);
                push(out, "collection_info", info);
            }
            if let Some(m) = c.chars().nth(2).and_then(tables::rh_kell) {
                push(out, "r_meaning", m);
            }
        }
        Id::ExpirationDate
        | Id::CollectionDate
        | Id::ProductionDate
        | Id::ExpirationDateTime
        | Id::CollectionDateTime
        | Id::ProductionDateTime => {
            let year = date::year_from_century_digit(num(c, 0, 1) as u8, num(c, 1, 3) as u8);
            if let Some(d) = Date::from_ordinal(year, num(c, 3, 6) as u16) {
                push(out, "date", d.to_string());
            }
            if c.len() >= 10 {
                push(
                    out,
                    "time",
                    format!(
                        "{}:{}",
                        c.get(6..8).unwrap_or(""),
                        c.get(8..10).unwrap_or("")
                    ),
                );
            }
        }
        Id::RbcAntigensRetired | Id::RbcAntigensGeneral | Id::RbcAntigensFinnish => {
            if let Some(m) = c.chars().next().and_then(tables::rh_phenotype) {
                push(out, "rh_phenotype_meaning", m);
            }
            let mut tested = Vec::new();
            for (i, (a, b)) in tables::RBC_ANTIGEN_PAIRS.iter().enumerate() {
                let d = num(c, i + 1, i + 2) as u8;
                if let Some((ra, rb)) = tables::pair(d) {
                    for (name, r) in [(a, ra), (b, rb)] {
                        if matches!(
                            r,
                            tables::PairResult::Negative | tables::PairResult::Positive
                        ) {
                            tested.push(format!("{name} {}", r.as_str()));
                        }
                    }
                }
            }
            push(out, "antigens_tested", tested.join(", "));
        }
        Id::InfectionMarkers => {
            for (i, (a, b)) in tables::TTI_MARKER_PAIRS.iter().enumerate() {
                let d = num(c, i, i + 1) as u8;
                if let Some((ra, rb)) = tables::pair(d) {
                    let name = |r: tables::PairResult| match r {
                        tables::PairResult::NotTested => "ni",
                        other => other.as_str(),
                    };
                    push(out, a, name(ra));
                    if i < 9 || d % 3 != 0 {
                        push(out, b, name(rb));
                    }
                }
            }
            for i in 10..12 {
                if let Some(d) = c.get(i..=i).filter(|d| *d != "0") {
                    push(out, &format!("position{}", i + 1), d);
                }
            }
        }
        Id::PatientBirthDate => {
            if let Some(d) = Date::new(num(c, 2, 6) as u16, num(c, 6, 8) as u8, num(c, 8, 10) as u8)
            {
                push(out, "birth_date", d.to_string());
            }
        }
        Id::FlexibleDateTime => {
            push(
                out,
                "zone_meaning",
                if c.starts_with('2') {
                    "UTC"
                } else {
                    "local time"
                },
            );
            if let Some(m) = tables::flexible_time_type(c.get(2..4).unwrap_or("")) {
                push(out, "time_type_meaning", m);
            }
            if let Some(d) = Date::new(
                num(c, 4, 8) as u16,
                num(c, 8, 10) as u8,
                num(c, 10, 12) as u8,
            ) {
                push(out, "date", d.to_string());
            }
            push(
                out,
                "time",
                format!(
                    "{}:{}",
                    c.get(12..14).unwrap_or(""),
                    c.get(14..16).unwrap_or("")
                ),
            );
        }
        Id::Sec => {
            let expiry = c.get(32..40).unwrap_or("");
            if let Some(d) = Date::new(
                num(c, 32, 36) as u16,
                num(c, 36, 38) as u8,
                num(c, 38, 40) as u8,
            ) {
                push(out, "expiry_date", d.to_string());
            } else if expiry == "00000000" {
                push(out, "expiry_date", "none");
            }
        }
        _ => {}
    }
}
