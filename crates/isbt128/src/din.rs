//! Donation Identification Numbers (DS001) and Facility Identification Numbers.
//!
//! This module owns [`Fin`], the 13-character [`Din`] (build, check
//! character, eye-readable formatting), the DIN [`Flags`] with their
//! [`FlagKind`] (including type-3 check flags), the DS001 bar-code structure
//! [`DinStructure`], and the keyboard forms of a DIN ([`KeyedDin`]: 13
//! characters, or 14 with the check character).

use crate::check;
use crate::error::{ErrorKind, ParseError};
use crate::kind::StructureId;
use crate::spec::{self, Class};
use std::fmt;
use std::str::FromStr;

/// A Facility Identification Number: 5 characters, `A–N P–Z 1–9` then two of
/// `A–N P–Z 0–9` then two digits (ST-001 §2.4.1).
///
/// ```
/// use isbt128::Fin;
/// let fin = Fin::new("A9999")?;
/// assert!(fin.is_test_facility());
/// assert!(Fin::new("O4836").is_err()); // no letter O
/// assert!(Fin::new("AB123").is_ok()); // letters allowed in positions 2-3
/// # Ok::<(), isbt128::ParseError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fin([u8; 5]);

const FIN_SEGS: &[spec::Seg] = &[
    spec::Seg {
        name: "fin",
        class: Class::FinFirst,
        len: 1,
    },
    spec::Seg {
        name: "fin",
        class: Class::FinOther,
        len: 2,
    },
    spec::Seg {
        name: "fin",
        class: Class::Digit,
        len: 2,
    },
];

impl Fin {
    /// Validates a FIN.
    ///
    /// ```
    /// assert_eq!(isbt128::Fin::new("W4836")?.as_str(), "W4836");
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    ///
    /// # Errors
    /// A [`ParseError`] with the position of the first bad character, or
    /// [`ErrorKind::UnexpectedEnd`] / [`ErrorKind::TrailingCharacters`] for a
    /// wrong length.
    pub fn new(fin: &str) -> Result<Self, ParseError> {
        let end = spec::check_segs(fin, 0, FIN_SEGS, None)?;
        if end != fin.len() {
            return Err(trailing(fin, end, None));
        }
        let mut out = [0u8; 5];
        out.copy_from_slice(fin.as_bytes().get(..5).unwrap_or(b"00000"));
        Ok(Self(out))
    }

    /// The FIN text.
    ///
    /// ```
    /// assert_eq!(isbt128::Fin::new("G1234")?.as_str(), "G1234");
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("")
    }

    /// Whether this FIN is in the range A9990–A9999 that ICCBBA reserves for
    /// validation and testing.
    ///
    /// ```
    /// assert!(!isbt128::Fin::new("W4836")?.is_test_facility());
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn is_test_facility(&self) -> bool {
        self.as_str().starts_with("A999")
    }
}

impl fmt::Display for Fin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Fin {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

/// Validates a FIN; shorthand for [`Fin::new`]`(fin).is_ok()`.
///
/// ```
/// assert!(isbt128::is_valid_fin("A9999"));
/// assert!(!isbt128::is_valid_fin("A999"));
/// ```
#[must_use]
pub fn is_valid_fin(fin: &str) -> bool {
    Fin::new(fin).is_ok()
}

fn trailing(input: &str, at: usize, id: Option<StructureId>) -> ParseError {
    ParseError::new(
        ErrorKind::TrailingCharacters {
            found: spec::char_at(input, at),
        },
        id,
        at,
    )
}

/// A Donation Identification Number: FIN + 2-digit nominal year + 6-digit
/// sequence, 13 characters (`αppppyynnnnnn`). Flags and the check character
/// are not part of the DIN.
///
/// ```
/// use isbt128::Din;
/// let din = Din::new("A9999", 17, 123456)?;
/// assert_eq!(din.to_string(), "A999917123456");
/// assert_eq!(din.check_character(), '9');
/// assert_eq!(din.eye_readable().to_string(), "A9999 17 123456 [9]");
/// # Ok::<(), isbt128::ParseError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Din {
    fin: Fin,
    year: u8,
    sequence: u32,
}

impl Din {
    /// Builds a DIN from a FIN, a nominal year 0–99 and a sequence number
    /// 0–999999.
    ///
    /// ```
    /// let din = isbt128::Din::new("W4836", 26, 11)?;
    /// assert_eq!(din.to_string(), "W483626000011");
    /// assert!(isbt128::Din::new("W4836", 100, 11).is_err());
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    ///
    /// # Errors
    /// An invalid FIN, or [`ErrorKind::OutOfRange`] for the year or sequence.
    pub fn new(fin: &str, year: u8, sequence: u32) -> Result<Self, ParseError> {
        let fin = Fin::new(fin)?;
        Self::from_fin(fin, year, sequence)
    }

    /// Builds a DIN from an already validated [`Fin`].
    ///
    /// ```
    /// let fin = isbt128::Fin::new("G1234")?;
    /// let din = isbt128::Din::from_fin(fin, 98, 654321)?;
    /// assert_eq!(din.check_character(), 'H');
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::OutOfRange`] for a year above 99 or a sequence above 999999.
    pub fn from_fin(fin: Fin, year: u8, sequence: u32) -> Result<Self, ParseError> {
        if year > 99 {
            return Err(ParseError::new(
                ErrorKind::OutOfRange {
                    field: "year",
                    value: year.to_string(),
                    expected: "a two-digit year 00-99",
                },
                Some(StructureId::Din),
                5,
            ));
        }
        if sequence > 999_999 {
            return Err(ParseError::new(
                ErrorKind::OutOfRange {
                    field: "sequence",
                    value: sequence.to_string(),
                    expected: "a six-digit sequence number 000000-999999",
                },
                Some(StructureId::Din),
                7,
            ));
        }
        Ok(Self {
            fin,
            year,
            sequence,
        })
    }

    /// Parses the bare 13-character DIN (no `=`, no flags, no check character).
    ///
    /// ```
    /// let din = isbt128::Din::parse("AB12326000011")?;
    /// assert_eq!(din.fin().as_str(), "AB123");
    /// let err = isbt128::Din::parse("W483626X00011").unwrap_err();
    /// assert_eq!(err.position(), 7);
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    ///
    /// # Errors
    /// A [`ParseError`] naming the first bad character or the wrong length.
    pub fn parse(din: &str) -> Result<Self, ParseError> {
        let end = spec::check_segs(din, 0, spec::DIN13, Some(StructureId::Din))?;
        if end != din.len() {
            return Err(trailing(din, end, Some(StructureId::Din)));
        }
        Ok(Self::from_validated(din))
    }

    /// Builds from 13 already-validated characters.
    pub(crate) fn from_validated(din: &str) -> Self {
        let mut fin = [0u8; 5];
        fin.copy_from_slice(din.as_bytes().get(..5).unwrap_or(b"00000"));
        Self {
            fin: Fin(fin),
            year: spec::num(din, 5, 7) as u8,
            sequence: spec::num(din, 7, 13),
        }
    }

    /// The Facility Identification Number.
    ///
    /// ```
    /// assert_eq!(isbt128::Din::parse("A999917123456")?.fin().as_str(), "A9999");
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn fin(&self) -> Fin {
        self.fin
    }

    /// The nominal year, 0–99.
    ///
    /// ```
    /// assert_eq!(isbt128::Din::parse("A999917123456")?.year(), 17);
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn year(&self) -> u8 {
        self.year
    }

    /// The sequence number within the year for the FIN, 0–999999.
    ///
    /// ```
    /// assert_eq!(isbt128::Din::parse("A999917123456")?.sequence(), 123456);
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn sequence(&self) -> u32 {
        self.sequence
    }

    /// The MOD 37-2 checksum value (0–36) of the 13 characters.
    ///
    /// ```
    /// assert_eq!(isbt128::Din::parse("G123417654321")?.checksum(), 10);
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn checksum(&self) -> u8 {
        check::checksum(&self.to_string()).unwrap_or(0)
    }

    /// The keyboard check character K (printed boxed beside the DIN).
    ///
    /// ```
    /// assert_eq!(isbt128::Din::parse("A999922012346")?.check_character(), '*');
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn check_character(&self) -> char {
        check::value_char(u32::from(self.checksum())).unwrap_or('*')
    }

    /// The type-3 flags for this DIN (60 + checksum).
    ///
    /// ```
    /// assert_eq!(isbt128::Din::parse("G123417654321")?.check_flags().as_str(), "70");
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn check_flags(&self) -> Flags {
        let v = 60 + self.checksum();
        Flags([b'0' + v / 10, b'0' + v % 10])
    }

    /// The DIN followed by its check character, as keyed by a person (14 characters).
    ///
    /// ```
    /// assert_eq!(isbt128::Din::parse("A999914123456")?.with_check_character(), "A999914123456N");
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn with_check_character(&self) -> String {
        format!("{self}{}", self.check_character())
    }

    /// The eye-readable parts with no flags printed.
    ///
    /// ```
    /// let text = isbt128::Din::parse("A999818123456")?.eye_readable();
    /// assert_eq!(text.plain(), "A9998 18 123456 N");
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn eye_readable(&self) -> EyeReadableDin {
        EyeReadableDin {
            fin: self.fin.as_str().to_owned(),
            year: format!("{:02}", self.year),
            sequence: format!("{:06}", self.sequence),
            flags: None,
            check_character: self.check_character(),
        }
    }
}

impl fmt::Display for Din {
    /// The 13 characters `αppppyynnnnnn`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{:02}{:06}", self.fin, self.year, self.sequence)
    }
}

impl FromStr for Din {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// The eye-readable text of a DIN, in parts, so that a label renderer can
/// print the check character in a box and the flags rotated (ST-001 §7.4.1).
///
/// `Display` gives `A9999 17 123456 [9]` (with flags: `W0000 09 123456 02 [G]`);
/// [`plain`](Self::plain) gives the same without the brackets.
///
/// ```
/// let s = isbt128::parse("=W00000912345602")?;
/// let isbt128::DataStructure::Din(din) = s else { unreachable!() };
/// let text = din.eye_readable();
/// assert_eq!(text.flags.as_deref(), Some("02"));
/// assert_eq!(text.check_character, 'G');
/// assert_eq!(text.to_string(), "W0000 09 123456 02 [G]");
/// # Ok::<(), isbt128::ParseError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EyeReadableDin {
    /// The FIN (5 characters), printed first.
    pub fin: String,
    /// The nominal year (2 digits).
    pub year: String,
    /// The sequence number (6 digits).
    pub sequence: String,
    /// Flags to print (rotated or as an icon); `None` when `00` or type 3,
    /// which ST-001 says are not printed.
    pub flags: Option<String>,
    /// The keyboard check character, to print in a box.
    pub check_character: char,
}

impl EyeReadableDin {
    /// Plain text, groups separated by spaces, no box marks.
    ///
    /// ```
    /// let t = isbt128::Din::parse("W483626000011")?.eye_readable();
    /// assert_eq!(t.plain(), "W4836 26 000011 N");
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn plain(&self) -> String {
        match &self.flags {
            Some(f) => format!(
                "{} {} {} {} {}",
                self.fin, self.year, self.sequence, f, self.check_character
            ),
            None => format!(
                "{} {} {} {}",
                self.fin, self.year, self.sequence, self.check_character
            ),
        }
    }
}

impl fmt::Display for EyeReadableDin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.fin, self.year, self.sequence)?;
        if let Some(flags) = &self.flags {
            write!(f, " {flags}")?;
        }
        write!(f, " [{}]", self.check_character)
    }
}

/// The two DIN flag characters `ff` (ST-001 Table 3).
///
/// ```
/// use isbt128::{Flags, FlagKind};
/// assert_eq!(Flags::new("07")?.kind(), FlagKind::ProcessControl(7));
/// assert_eq!(Flags::NONE.kind(), FlagKind::NotUsed);
/// assert!(Flags::new("IO").is_err());
/// # Ok::<(), isbt128::ParseError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Flags([u8; 2]);

/// What a pair of DIN flags means.
///
/// ```
/// use isbt128::{Flags, FlagKind};
/// assert_eq!(Flags::new("77")?.kind(), FlagKind::Check(17));
/// assert_eq!(Flags::new("25")?.kind(), FlagKind::Local(25));
/// assert_eq!(Flags::new("X0")?.kind(), FlagKind::Reserved);
/// # Ok::<(), isbt128::ParseError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagKind {
    /// `00`: flag not used.
    NotUsed,
    /// Type 1, `01`–`19`: ICCBBA-defined process control (container of a set,
    /// pilot tube, …).
    ProcessControl(u8),
    /// Type 2, `20`–`59`: locally defined; do not interpret outside the site.
    Local(u8),
    /// Type 3, `60`–`96`: the MOD 37-2 checksum (value = flags − 60).
    Check(u8),
    /// `97`–`99` and alphanumeric values: reserved.
    Reserved,
}

impl FlagKind {
    /// Short description, e.g. `"type 3 (ISO 7064 checksum + 60)"`.
    ///
    /// ```
    /// assert_eq!(isbt128::FlagKind::NotUsed.describe(), "not used (00)");
    /// ```
    #[must_use]
    pub const fn describe(self) -> &'static str {
        match self {
            Self::NotUsed => "not used (00)",
            Self::ProcessControl(_) => "type 1 (ICCBBA-defined process control)",
            Self::Local(_) => "type 2 (locally defined)",
            Self::Check(_) => "type 3 (ISO 7064 checksum + 60)",
            Self::Reserved => "reserved for future assignment",
        }
    }
}

impl Flags {
    /// `00`, the default when flags are not used.
    pub const NONE: Self = Self([b'0', b'0']);

    /// Validates two flag characters (`0-9`, `A-H`, `J-N`, `P`, `R-Y`).
    ///
    /// ```
    /// assert_eq!(isbt128::Flags::new("02")?.as_str(), "02");
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    ///
    /// # Errors
    /// A [`ParseError`] naming the bad character or the wrong length.
    pub fn new(flags: &str) -> Result<Self, ParseError> {
        let segs = &[spec::Seg {
            name: "flags",
            class: Class::Flag,
            len: 2,
        }];
        let end = spec::check_segs(flags, 0, segs, Some(StructureId::Din))?;
        if end != flags.len() {
            return Err(trailing(flags, end, Some(StructureId::Din)));
        }
        let b = flags.as_bytes();
        Ok(Self([
            b.first().copied().unwrap_or(b'0'),
            b.get(1).copied().unwrap_or(b'0'),
        ]))
    }

    /// The two characters.
    ///
    /// ```
    /// assert_eq!(isbt128::Flags::NONE.as_str(), "00");
    /// ```
    #[must_use]
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("00")
    }

    /// Classifies the flags.
    ///
    /// ```
    /// assert_eq!(isbt128::Flags::new("05")?.kind(), isbt128::FlagKind::ProcessControl(5));
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn kind(&self) -> FlagKind {
        let [a, b] = self.0;
        if !(a.is_ascii_digit() && b.is_ascii_digit()) {
            return FlagKind::Reserved;
        }
        let v = (a - b'0') * 10 + (b - b'0');
        match v {
            0 => FlagKind::NotUsed,
            1..=19 => FlagKind::ProcessControl(v),
            20..=59 => FlagKind::Local(v),
            60..=96 => FlagKind::Check(v - 60),
            _ => FlagKind::Reserved,
        }
    }
}

impl fmt::Display for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// DS001, the DIN bar code: `=` + DIN + flags (16 characters).
///
/// Type-3 flags are verified when parsing and building.
///
/// ```
/// use isbt128::{Din, DinStructure, Flags};
/// let din = Din::new("G1234", 17, 654321)?;
/// let ds = DinStructure::with_check_flags(din);
/// assert_eq!(ds.encode(), "=G12341765432170");
/// let ds = DinStructure::new(din, Flags::new("07")?)?;
/// assert_eq!(ds.encode(), "=G12341765432107");
/// # Ok::<(), isbt128::ParseError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DinStructure {
    din: Din,
    flags: Flags,
}

impl DinStructure {
    /// Combines a DIN and flags.
    ///
    /// ```
    /// let din = isbt128::Din::new("A9999", 17, 123456)?;
    /// assert!(isbt128::DinStructure::new(din, isbt128::Flags::new("70")?).is_err()); // K is 9 → 69
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::CheckMismatch`] when the flags are type 3 but do not match the DIN.
    pub fn new(din: Din, flags: Flags) -> Result<Self, ParseError> {
        if let FlagKind::Check(v) = flags.kind() {
            if v != din.checksum() {
                return Err(ParseError::new(
                    ErrorKind::CheckMismatch {
                        check: "type-3 flags (60 + MOD 37-2 checksum of the DIN)",
                        expected: din.check_flags().as_str().to_owned(),
                        found: flags.as_str().to_owned(),
                    },
                    Some(StructureId::Din),
                    14,
                ));
            }
        }
        Ok(Self { din, flags })
    }

    /// A DIN with flags `00`.
    ///
    /// ```
    /// let din = isbt128::Din::new("W4836", 26, 11)?;
    /// assert_eq!(isbt128::DinStructure::without_flags(din).encode(), "=W48362600001100");
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn without_flags(din: Din) -> Self {
        Self {
            din,
            flags: Flags::NONE,
        }
    }

    /// A DIN with type-3 check flags (60 + checksum).
    ///
    /// ```
    /// let din = isbt128::Din::parse("G123498654321")?;
    /// assert_eq!(isbt128::DinStructure::with_check_flags(din).flags().as_str(), "77");
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn with_check_flags(din: Din) -> Self {
        Self {
            din,
            flags: din.check_flags(),
        }
    }

    /// Parses the 15-character data content `αppppyynnnnnnff` (a scanner
    /// that strips data identifiers strips only the `=` of a DIN).
    ///
    /// ```
    /// let ds = isbt128::DinStructure::from_content("A99991712345600")?;
    /// assert_eq!(ds.din().sequence(), 123456);
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    ///
    /// # Errors
    /// A [`ParseError`] naming the first fault.
    pub fn from_content(content: &str) -> Result<Self, ParseError> {
        let end = spec::scan_content(StructureId::Din, content, 0)?;
        if end != content.len() {
            return Err(trailing(content, end, Some(StructureId::Din)));
        }
        Ok(Self::from_validated(content))
    }

    pub(crate) fn from_validated(content: &str) -> Self {
        let b = content.as_bytes();
        Self {
            din: Din::from_validated(content.get(..13).unwrap_or("")),
            flags: Flags([
                b.get(13).copied().unwrap_or(b'0'),
                b.get(14).copied().unwrap_or(b'0'),
            ]),
        }
    }

    /// The DIN.
    ///
    /// ```
    /// let ds = isbt128::DinStructure::from_content("A99991712345600")?;
    /// assert_eq!(ds.din().to_string(), "A999917123456");
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn din(&self) -> Din {
        self.din
    }

    /// The flags.
    ///
    /// ```
    /// let ds = isbt128::DinStructure::from_content("A99991712345607")?;
    /// assert_eq!(ds.flags().kind(), isbt128::FlagKind::ProcessControl(7));
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn flags(&self) -> Flags {
        self.flags
    }

    /// The data content, 15 characters (DIN + flags).
    ///
    /// ```
    /// let ds = isbt128::DinStructure::from_content("A99991712345600")?;
    /// assert_eq!(ds.content(), "A99991712345600");
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn content(&self) -> String {
        format!("{}{}", self.din, self.flags)
    }

    /// The bar-code data, `=` + content (16 characters).
    ///
    /// ```
    /// let ds = isbt128::DinStructure::from_content("A99991712345600")?;
    /// assert_eq!(ds.encode(), "=A99991712345600");
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn encode(&self) -> String {
        format!("={}", self.content())
    }

    /// Eye-readable parts: flags are included only for type 1 and type 2
    /// values other than `00` (and reserved values); type-3 flags are never
    /// printed (ST-001 §7.4.1).
    ///
    /// ```
    /// let ds = isbt128::DinStructure::from_content("G12341765432170")?;
    /// assert_eq!(ds.eye_readable().to_string(), "G1234 17 654321 [A]");
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn eye_readable(&self) -> EyeReadableDin {
        let mut text = self.din.eye_readable();
        text.flags = match self.flags.kind() {
            FlagKind::NotUsed | FlagKind::Check(_) => None,
            _ => Some(self.flags.as_str().to_owned()),
        };
        text
    }
}

impl fmt::Display for DinStructure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.encode())
    }
}

/// A DIN as keyed by a person: the bare 13 characters, optionally followed
/// by the keyboard check character (14 characters).
///
/// ```
/// let k = isbt128::parse_keyed_din("A999914123456N")?;
/// assert_eq!(k.check_character, Some('N'));
/// assert_eq!(k.to_string(), "A999914123456N");
/// let err = isbt128::parse_keyed_din("A999933123458J").unwrap_err();
/// assert!(matches!(err.kind(), isbt128::ErrorKind::CheckMismatch { .. }));
/// # Ok::<(), isbt128::ParseError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyedDin {
    /// The DIN.
    pub din: Din,
    /// The check character as keyed (verified), if one was keyed.
    pub check_character: Option<char>,
}

impl fmt::Display for KeyedDin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.din)?;
        if let Some(k) = self.check_character {
            write!(f, "{k}")?;
        }
        Ok(())
    }
}

/// Parses a DIN as keyed: 13 characters, or 14 with the check character,
/// which must match.
///
/// ```
/// assert!(isbt128::parse_keyed_din("W483626000011").is_ok());
/// assert!(isbt128::parse_keyed_din("W483626000011X").is_err());
/// ```
///
/// # Errors
/// A [`ParseError`] naming the bad character, the wrong length or
/// [`ErrorKind::CheckMismatch`] (position 13).
pub fn parse_keyed_din(input: &str) -> Result<KeyedDin, ParseError> {
    let id = Some(StructureId::Din);
    let end = spec::check_segs(input, 0, spec::DIN13, id)?;
    let din = Din::from_validated(input.get(..end).unwrap_or(""));
    let rest = input.get(end..).unwrap_or("");
    let mut chars = rest.chars();
    let check_character = match (chars.next(), chars.next()) {
        (None, _) => None,
        (Some(k), None) => {
            let expected = din.check_character();
            if k != expected {
                if k != '*' && check::char_value(k).is_none() {
                    return Err(ParseError::new(
                        ErrorKind::UnexpectedCharacter {
                            field: "check character",
                            expected: "0-9, A-Z or *",
                            found: k,
                        },
                        id,
                        end,
                    ));
                }
                return Err(ParseError::new(
                    ErrorKind::CheckMismatch {
                        check: "keyboard check character",
                        expected: expected.to_string(),
                        found: k.to_string(),
                    },
                    id,
                    end,
                ));
            }
            Some(k)
        }
        (Some(_), Some(_)) => return Err(trailing(input, end + 1, id)),
    };
    Ok(KeyedDin {
        din,
        check_character,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_and_format() {
        let din = Din::new("W0000", 9, 123456).map_err(|e| e.to_string());
        assert_eq!(din.map(|d| d.check_character()), Ok('G'));
    }

    #[test]
    fn fin_rules() {
        assert!(Fin::new("0A999").is_err());
        assert!(Fin::new("A99A9").is_err());
        assert!(Fin::new("A9999X").is_err());
        assert!(Fin::new("").is_err());
        assert!(Fin::new("WWW00").is_ok());
    }

    #[test]
    fn keyed_din_errors() {
        let e = parse_keyed_din("W48362600001");
        assert!(matches!(
            e.map_err(|e| e.kind().clone()),
            Err(ErrorKind::UnexpectedEnd { .. })
        ));
        let e = parse_keyed_din("W483626000011NN");
        assert!(matches!(
            e.map_err(|e| e.kind().clone()),
            Err(ErrorKind::TrailingCharacters { .. })
        ));
        let e = parse_keyed_din("W483626000011é");
        assert!(matches!(
            e.map_err(|e| e.kind().clone()),
            Err(ErrorKind::UnexpectedCharacter { .. })
        ));
    }

    #[test]
    fn flags_kinds() {
        let k = |s: &str| Flags::new(s).map(|f| f.kind()).ok();
        assert_eq!(k("00"), Some(FlagKind::NotUsed));
        assert_eq!(k("19"), Some(FlagKind::ProcessControl(19)));
        assert_eq!(k("60"), Some(FlagKind::Check(0)));
        assert_eq!(k("96"), Some(FlagKind::Check(36)));
        assert_eq!(k("97"), Some(FlagKind::Reserved));
        assert_eq!(k("0Z"), None);
    }
}
