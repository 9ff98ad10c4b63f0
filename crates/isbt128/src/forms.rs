//! Textual forms that are not bar-code data structures.
//!
//! This module owns the EU Basic UDI-DI for MPHO medical devices
//! ([`BasicUdiDi`], ST-017 Appendix 1) and the Single European Code
//! eye-readable text and product identification sequence ([`SecText`],
//! [`SecProductIdentification`], ST-012 §2–3).

use crate::check;
use crate::error::{ErrorKind, ParseError};
use crate::kind::StructureId;
use crate::spec::{self, Class, Seg};
use crate::structures::{trailing, Ppic, Sec};
use std::fmt;

/// An EU Basic UDI-DI: the 16-character PPIC data content + a 2-digit
/// MOD 37-2 checksum over those 16 characters (ST-017 Appendix 1).
///
/// ```
/// let b = isbt128::BasicUdiDi::parse("A9990ABC123T048008")?;
/// assert_eq!(b.ppic().pdc(), "T0480");
/// assert_eq!(b.to_string(), "A9990ABC123T048008");
/// assert!(isbt128::BasicUdiDi::parse("A9990ABC123T048099").is_err());
/// # Ok::<(), isbt128::ParseError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BasicUdiDi {
    ppic: Ppic,
}

impl BasicUdiDi {
    /// Parses and verifies the 18 characters.
    ///
    /// ```
    /// assert!(isbt128::BasicUdiDi::parse("A9990ABC123T0480").is_err()); // no checksum
    /// ```
    ///
    /// # Errors
    /// A [`ParseError`] for a malformed PPIC part, a missing or extra
    /// character, or [`ErrorKind::CheckMismatch`] at position 16.
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let id = Some(StructureId::Ppic);
        let end = spec::check_segs(input, 0, spec::PPIC, id)?;
        let end = spec::check_segs(
            input,
            end,
            &[Seg {
                name: "checksum",
                class: Class::Digit,
                len: 2,
            }],
            id,
        )?;
        if end != input.len() {
            return Err(trailing(input, end, StructureId::Ppic));
        }
        let body = input.get(..16).unwrap_or("");
        let expected = format!("{:02}", check::checksum(body).unwrap_or(0));
        let found = input.get(16..18).unwrap_or("");
        if expected != found {
            return Err(ParseError::new(
                ErrorKind::CheckMismatch {
                    check: "Basic UDI-DI MOD 37-2 checksum",
                    expected,
                    found: found.to_owned(),
                },
                id,
                16,
            ));
        }
        Ok(Self {
            ppic: Ppic::from_content(body)?,
        })
    }

    /// Builds from a PPIC.
    ///
    /// ```
    /// let p = isbt128::Ppic::from_content("A9990ABC123T0480")?;
    /// assert_eq!(isbt128::BasicUdiDi::new(p).to_string(), "A9990ABC123T048008");
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn new(ppic: Ppic) -> Self {
        Self { ppic }
    }

    /// The PPIC part.
    ///
    /// ```
    /// let b = isbt128::BasicUdiDi::parse("A9990ABC123T048008")?;
    /// assert_eq!(b.ppic().fin_p(), "A9990");
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn ppic(&self) -> &Ppic {
        &self.ppic
    }

    /// The checksum value 0–36.
    ///
    /// ```
    /// assert_eq!(isbt128::BasicUdiDi::parse("A9990ABC123T048008")?.checksum(), 8);
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn checksum(&self) -> u8 {
        check::checksum(self.ppic.content()).unwrap_or(0)
    }
}

impl fmt::Display for BasicUdiDi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.ppic.basic_udi_di())
    }
}

/// The SEC eye-readable text: `SEC: ` + donation identification sequence
/// (21) + a space or a new line + product identification sequence (19).
///
/// ```
/// let t = isbt128::SecText::parse("SEC: IE0TE999R019917123456 A00S138400020170110")?;
/// assert_eq!(t.sec().donation_identification(), "IE0TE999R019917123456");
/// assert_eq!(t.to_string(), "SEC: IE0TE999R019917123456 A00S138400020170110");
/// assert!(isbt128::SecText::parse("SEC: too short").is_err());
/// # Ok::<(), isbt128::ParseError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SecText {
    sec: Sec,
    separator: char,
}

const SEC_PREFIX: &str = "SEC: ";

impl SecText {
    /// Parses the text. Positions in errors index `input`.
    ///
    /// ```
    /// assert!(isbt128::SecText::parse("SEC: PL001499Z549917123456\nA00T041600320181231").is_ok());
    /// ```
    ///
    /// # Errors
    /// A [`ParseError`] for a missing `SEC: ` prefix or separator, or any
    /// fault of the SEC content.
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let id = StructureId::Sec;
        let Some(rest) = input.strip_prefix(SEC_PREFIX) else {
            let found: String = input.chars().take(5).collect();
            return Err(ParseError::new(
                ErrorKind::UnknownDataIdentifier { found },
                Some(id),
                0,
            ));
        };
        let base = SEC_PREFIX.len();
        let donation_end =
            spec::check_segs(rest, 0, spec::SEC_DONATION, Some(id)).map_err(|e| e.shifted(base))?;
        let separator = match rest.as_bytes().get(donation_end) {
            Some(b' ') => ' ',
            Some(b'\n') => '\n',
            None => {
                return Err(ParseError::new(
                    ErrorKind::UnexpectedEnd {
                        field: "separator",
                        missing: 20,
                    },
                    Some(id),
                    base + donation_end,
                ))
            }
            Some(_) => {
                return Err(ParseError::new(
                    ErrorKind::UnexpectedCharacter {
                        field: "separator",
                        expected: "a space or a new line",
                        found: spec::char_at(rest, donation_end),
                    },
                    Some(id),
                    base + donation_end,
                ))
            }
        };
        let product = rest.get(donation_end + 1..).unwrap_or("");
        let content = format!("{}{}", rest.get(..donation_end).unwrap_or(""), product);
        let sec = Sec::from_content(&content).map_err(|e| {
            let shift = if e.position() >= 21 { base + 1 } else { base };
            e.shifted(shift)
        })?;
        Ok(Self { sec, separator })
    }

    /// Formats a SEC with a space separator.
    ///
    /// ```
    /// let sec = isbt128::Sec::from_content("PL001499Z549917123456A00T041600320181231")?;
    /// assert!(isbt128::SecText::new(sec).to_string().starts_with("SEC: PL"));
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn new(sec: Sec) -> Self {
        Self {
            sec,
            separator: ' ',
        }
    }

    /// The SEC.
    ///
    /// ```
    /// let t = isbt128::SecText::parse("SEC: PL001499Z549917123456 A00T041600320181231")?;
    /// assert_eq!(t.sec().encode(), "&,4PL001499Z549917123456A00T041600320181231");
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn sec(&self) -> &Sec {
        &self.sec
    }
}

impl fmt::Display for SecText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{SEC_PREFIX}{}{}{}",
            self.sec.donation_identification(),
            self.separator,
            self.sec.product_identification()
        )
    }
}

/// The 19-character SEC product identification sequence: coding system
/// (A ISBT 128, B Eurocode, E EUTC) + product code (7) + split number (3) +
/// expiry `YYYYMMDD` (`00000000` if none).
///
/// ```
/// let p = isbt128::SecProductIdentification::parse("E000005300120161231")?;
/// assert_eq!(p.coding_system(), 'E');
/// assert_eq!(p.product_code(), "0000053");
/// assert_eq!(p.split(), "001");
/// assert_eq!(p.expiry(), "20161231");
/// # Ok::<(), isbt128::ParseError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SecProductIdentification {
    text: String,
}

impl SecProductIdentification {
    /// Parses and validates the 19 characters.
    ///
    /// ```
    /// assert!(isbt128::SecProductIdentification::parse("A00T041600320161231").is_ok());
    /// assert!(isbt128::SecProductIdentification::parse("A00T041600320161232").is_err());
    /// ```
    ///
    /// # Errors
    /// A [`ParseError`] naming the fault (positions index `input`).
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let id = StructureId::Sec;
        let end = spec::check_segs(input, 0, spec::SEC_PRODUCT, Some(id))?;
        if end != input.len() {
            return Err(trailing(input, end, id));
        }
        spec::check_sec_product(input, 0, 0)?;
        Ok(Self {
            text: input.to_owned(),
        })
    }

    /// The coding system character.
    ///
    /// ```
    /// assert_eq!(isbt128::SecProductIdentification::parse("A00T041600320161231")?.coding_system(), 'A');
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn coding_system(&self) -> char {
        self.text.chars().next().unwrap_or('A')
    }

    /// The 7-character product code.
    ///
    /// ```
    /// assert_eq!(isbt128::SecProductIdentification::parse("A00T041600320161231")?.product_code(), "00T0416");
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn product_code(&self) -> &str {
        self.text.get(1..8).unwrap_or("")
    }

    /// The 3-character split number.
    ///
    /// ```
    /// assert_eq!(isbt128::SecProductIdentification::parse("A00T041600320161231")?.split(), "003");
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn split(&self) -> &str {
        self.text.get(8..11).unwrap_or("")
    }

    /// The expiry `YYYYMMDD` text.
    ///
    /// ```
    /// assert_eq!(isbt128::SecProductIdentification::parse("A00T041600300000000")?.expiry(), "00000000");
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn expiry(&self) -> &str {
        self.text.get(11..19).unwrap_or("")
    }
}

impl fmt::Display for SecProductIdentification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}
