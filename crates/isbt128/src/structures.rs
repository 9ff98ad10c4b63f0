//! The typed data structures and the [`DataStructure`] enum.
//!
//! This module owns one type per ISBT 128 data structure. Every type keeps
//! its validated data content, so encoding reproduces the scanned text
//! exactly, and offers typed accessors for its elements. It also owns the
//! compound message (DS023) and nationally defined structures.

use crate::check;
use crate::date::{self, Date, Time};
use crate::din::DinStructure;
use crate::error::{ErrorKind, ParseError};
use crate::kind::StructureId;
use crate::spec;
use crate::tables;
use std::fmt;

pub(crate) fn trailing(input: &str, at: usize, id: StructureId) -> ParseError {
    ParseError::new(
        ErrorKind::TrailingCharacters {
            found: spec::char_at(input, at),
        },
        Some(id),
        at,
    )
}

macro_rules! content_structures {
    ($( $(#[$doc:meta])* $name:ident => $id:ident, $di:literal, $example:literal; )*) => {
        $(
            $(#[$doc])*
            ///
            /// ```
            #[doc = concat!("use isbt128::{parse, DataStructure, ", stringify!($name), "};")]
            #[doc = concat!("let s = parse(r#\"", $di, $example, "\"#)?;")]
            #[doc = concat!("assert!(matches!(s, DataStructure::", stringify!($name), "(_)));")]
            #[doc = concat!("let direct = ", stringify!($name), "::from_content(r#\"", $example, "\"#)?;")]
            #[doc = concat!("assert_eq!(direct.encode(), r#\"", $di, $example, "\"#);")]
            /// # Ok::<(), isbt128::ParseError>(())
            /// ```
            #[derive(Debug, Clone, PartialEq, Eq, Hash)]
            pub struct $name {
                content: String,
            }

            impl $name {
                /// The structure type.
                pub const ID: StructureId = StructureId::$id;

                /// Parses the data content (the text after the data identifier).
                ///
                /// # Errors
                /// A [`ParseError`] naming the first fault (positions index `content`).
                pub fn from_content(content: &str) -> Result<Self, ParseError> {
                    let end = spec::scan_content(StructureId::$id, content, 0)?;
                    if end != content.len() {
                        return Err(trailing(content, end, StructureId::$id));
                    }
                    Ok(Self { content: content.to_owned() })
                }

                /// The data content, without the data identifier.
                #[must_use]
                pub fn content(&self) -> &str {
                    &self.content
                }

                /// The bar-code data: data identifier + content.
                #[must_use]
                pub fn encode(&self) -> String {
                    format!("{}{}", StructureId::$id.data_identifier(), self.content)
                }

                /// Ordered `(name, value)` pairs of the elements and their meanings.
                #[must_use]
                pub fn fields(&self) -> Vec<(String, String)> {
                    spec::fields(StructureId::$id, &self.content)
                }

                #[allow(dead_code)]
                fn part(&self, from: usize, to: usize) -> &str {
                    self.content.get(from..to).unwrap_or("")
                }
            }

            impl fmt::Display for $name {
                /// The bar-code data (same as `encode`).
                fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    write!(f, "{}{}", StructureId::$id.data_identifier(), self.content)
                }
            }
        )*

        /// Any ISBT 128 data structure, as parsed.
        ///
        /// ```
        /// use isbt128::{parse, DataStructure};
        /// let s = parse("=%6200")?;
        /// assert_eq!(s.number(), "002");
        /// assert_eq!(s.encode(), "=%6200");
        /// assert_eq!(s.content(), "6200");
        /// if let DataStructure::BloodGroups(bg) = &s {
        ///     assert_eq!(bg.abo_rhd(), Some("A RhD positive"));
        /// }
        /// # Ok::<(), isbt128::ParseError>(())
        /// ```
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum DataStructure {
            /// DS001 Donation Identification Number with flags.
            Din(DinStructure),
            $( $(#[$doc])* $name($name), )*
            /// DS023 Compound Message with the structures it carries.
            CompoundMessage(CompoundMessage),
            /// A nationally defined structure (`&a`–`&z`, `&;`, `&!`).
            National(NationalStructure),
        }

        impl DataStructure {
            /// The structure type.
            ///
            /// ```
            /// assert_eq!(isbt128::parse("=,000012")?.id(), isbt128::StructureId::ProductDivisions);
            /// # Ok::<(), isbt128::ParseError>(())
            /// ```
            #[must_use]
            pub fn id(&self) -> StructureId {
                match self {
                    Self::Din(_) => StructureId::Din,
                    $( Self::$name(_) => StructureId::$id, )*
                    Self::CompoundMessage(_) => StructureId::CompoundMessage,
                    Self::National(n) => n.id(),
                }
            }

            /// The data content without the data identifier (for the DIN:
            /// the 15 characters after `=`; for a compound message: the
            /// header `aabbb` followed by the encoded structures).
            ///
            /// ```
            /// assert_eq!(isbt128::parse("=A99991712345600")?.content(), "A99991712345600");
            /// # Ok::<(), isbt128::ParseError>(())
            /// ```
            #[must_use]
            pub fn content(&self) -> String {
                match self {
                    Self::Din(d) => d.content(),
                    $( Self::$name(x) => x.content().to_owned(), )*
                    Self::CompoundMessage(c) => c.content(),
                    Self::National(n) => n.content().to_owned(),
                }
            }

            fn layout_fields(&self) -> Vec<(String, String)> {
                match self {
                    Self::Din(d) => spec::fields(StructureId::Din, &d.content()),
                    $( Self::$name(x) => x.fields(), )*
                    Self::CompoundMessage(c) => c.fields(),
                    Self::National(n) => n.fields(),
                }
            }

            /// Builds from validated content.
            pub(crate) fn from_validated(id: StructureId, content: &str, national_di: &str) -> Self {
                match id {
                    StructureId::Din => Self::Din(DinStructure::from_validated(content)),
                    $( StructureId::$id => Self::$name($name { content: content.to_owned() }), )*
                    _ => Self::National(NationalStructure {
                        id,
                        data_identifier: national_di.to_owned(),
                        content: content.to_owned(),
                    }),
                }
            }
        }
    };
}

content_structures! {
    /// DS002 Blood Groups \[ABO and RhD\] (`=%ggre`).
    BloodGroups => BloodGroups, "=%", "6200";
    /// DS003 Product Code (`=<αooootds`), including cellular-therapy `S` codes.
    ProductCode => ProductCode, "=<", "S12954A0";
    /// DS004 Expiration Date (`=>cyyjjj`).
    ExpirationDate => ExpirationDate, "=>", "019032";
    /// DS005 Expiration Date and Time (`&>cyyjjjhhmm`).
    ExpirationDateTime => ExpirationDateTime, "&>", "0261232359";
    /// DS006 Collection Date (`=*cyyjjj`).
    CollectionDate => CollectionDate, "=*", "017009";
    /// DS007 Collection Date and Time (`&*cyyjjjhhmm`).
    CollectionDateTime => CollectionDateTime, "&*", "0170091330";
    /// DS008 Production Date (`=}cyyjjj`).
    ProductionDate => ProductionDate, "=}", "017032";
    /// DS009 Production Date and Time (`&}cyyjjjhhmm`).
    ProductionDateTime => ProductionDateTime, "&}", "0170321200";
    /// DS010 Special Testing: General (`&(zzzzz`, code from the RT029 database).
    SpecialTesting => SpecialTestingGeneral, "&(", "N0001";
    /// DS011 Special Testing: Red Blood Cell Antigens (retired; read only).
    RbcAntigensRetired => RbcAntigensRetired, "={", "999999999999999100";
    /// DS012 Special Testing: Red Blood Cell Antigens — General (`=\` + 18 digits).
    RbcAntigens => RbcAntigensGeneral, "=\\", "620000000000000000";
    /// DS013 Special Testing: Red Blood Cell Antigens — Finnish (`&\` + 18 digits).
    RbcAntigensFinnish => RbcAntigensFinnish, "&\\", "999999999999999100";
    /// DS014 Special Testing: Platelet HLA and Platelet-Specific Antigens (`&{` + 18 digits).
    PlateletHlaAntigens => PlateletHlaAntigens, "&{", "029907999999999900";
    /// DS015 Special Testing: HLA-A and -B Alleles (retired; read only).
    HlaABRetired => HlaABRetired, "=[", "999999999999999999";
    /// DS016 Special Testing: HLA-DRB1 Alleles (retired; read only).
    HlaDrb1Retired => HlaDrb1Retired, "=\"", "999999999999999999";
    /// DS017 Container Manufacturer and Catalog Number (`=)bqqwwwwwww`).
    ContainerCatalog => ContainerCatalog, "=)", "1FE1234567";
    /// DS018 Container Lot Number (`&)` + 10 characters).
    ContainerLot => ContainerLot, "&)", "123F5678V0";
    /// DS019 Donor Identification Number (`=;` + FIN + 16 digits).
    DonorId => DonorId, "=;", "A99990000222244445555";
    /// DS020 Staff Member Identification Number (`='` + FIN + 6 characters).
    StaffId => StaffId, "='", "A99990001AB";
    /// DS021 Manufacturer and Catalog Number: Items Other Than Containers (`=-`).
    ItemCatalog => ItemCatalog, "=-", "AB0000cd12";
    /// DS022 Lot Number: Items Other Than Containers (`&-` + 10 characters).
    ItemLot => ItemLot, "&-", "0000001234";
    /// DS024 Patient Date of Birth (`=#aayyyymmdd`).
    PatientBirthDate => PatientBirthDate, "=#", "0119800101";
    /// DS025 Patient Identification Number (`&#aall` + `ll` characters).
    PatientId => PatientId, "&#", "0105ABC12";
    /// DS026 Expiration Month and Year (`=]yyyymm`).
    ExpirationMonth => ExpirationMonth, "=]", "201703";
    /// DS027 Transfusion Transmitted Infection Marker (`&"` + 18 digits).
    InfectionMarkers => InfectionMarkers, "&\"", "321415000000000000";
    /// DS028 Product Consignment (`=$αppppyynnnnnccdd`).
    Consignment => Consignment, "=$", "A999917123450102";
    /// DS029 Dimensions (`&$nn` + `nn` segments of 14 digits).
    Dimensions => Dimensions, "&$", "020100010000100002000200002000";
    /// DS030 Red Cell Antigens with Test History (`&%nnn` + `nnn` segments of 10 digits).
    RedCellAntigenHistory => RedCellAntigenHistory, "&%", "0010010010201";
    /// DS031 Flexible Date and Time (`=(ZUTTYYYYMMDDhhmm`).
    FlexibleDateTime => FlexibleDateTime, "=(", "1001201701151515";
    /// DS032 Product Divisions (`=,dddddd`).
    ProductDivisions => ProductDivisions, "=,", "000012";
    /// DS033 Processing Facility Information Code (`&+` + FIN(P) + FPC).
    ProcessingFacility => ProcessingFacility, "&+", "A9999AB3456";
    /// DS034 Processor Product Identification Code, PPIC (`=/` + FIN(P) + FPC + PDC).
    Ppic => Ppic, "=/", "A9997AB3456T0123";
    /// DS035 MPHO Lot Number (`&,1` + 18 characters).
    MphoLot => MphoLot, "&,1", "000000000000XYZ123";
    /// DS036 MPHO Supplemental Identification Number (`&,2` + 18 characters).
    MphoSupplementalId => MphoSupplementalId, "&,2", "000000000000000123";
    /// DS037 Global Registration Identifier for Donors (retired; read only).
    GridRetired => GridRetired, "&,3", "1234ABCDEFGHIJ12345";
    /// DS038 Single European Code, SEC (`&,4` + 40 characters).
    Sec => Sec, "&,4", "PL001499Z549917123456A00T041600320181231";
    /// DS039 Global Registration Identifier for Donors, GRID (`&:`).
    Grid => Grid, "&:", "3553000001234567825";
    /// DS040 Chain of Identity Identifier (`&/CH` + FIN + year + 6 characters).
    ChainOfIdentity => ChainOfIdentity, "&/", "CHA999926ABC123";
}

impl DataStructure {
    /// The ST-001 number, `"001"`–`"040"` (see [`StructureId::number`]).
    ///
    /// ```
    /// assert_eq!(isbt128::parse("&:3553000001234567825")?.number(), "039");
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn number(&self) -> &'static str {
        self.id().number()
    }

    /// The ST-001 name.
    ///
    /// ```
    /// assert_eq!(isbt128::parse("=,000012")?.name(), "Product Divisions");
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn name(&self) -> &'static str {
        self.id().name()
    }

    /// The data identifier this structure is encoded with (`=` for a DIN).
    ///
    /// ```
    /// assert_eq!(isbt128::parse("&aXYZ")?.data_identifier(), "&a");
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn data_identifier(&self) -> &str {
        match self {
            Self::National(n) => &n.data_identifier,
            other => other.id().data_identifier(),
        }
    }

    /// The exact bar-code data: data identifier + content.
    ///
    /// ```
    /// let s = "=+04035=/A9997XYZ100T0479=,000012=A99991712345600=>019031";
    /// assert_eq!(isbt128::parse(s)?.encode(), s);
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn encode(&self) -> String {
        match self {
            Self::Din(d) => d.encode(),
            other => format!("{}{}", other.data_identifier(), other.content()),
        }
    }

    /// Ordered `(name, value)` pairs describing the structure: its elements
    /// (e.g. `fin`, `year`, `sequence`, `flags`) followed by decoded meanings
    /// and, where ST-001 Table 30 gives one, the keyboard `check_character`.
    /// Suitable for printing as a JSON object.
    ///
    /// ```
    /// let f = isbt128::parse("=A99991712345600")?.fields();
    /// assert_eq!(f[0], ("fin".to_string(), "A9999".to_string()));
    /// assert!(f.contains(&("check_character".to_string(), "9".to_string())));
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn fields(&self) -> Vec<(String, String)> {
        self.layout_fields()
    }

    /// The keyboard check character K where ST-001 Table 30 defines one
    /// (for the DIN over its 13 characters, otherwise over the data content).
    /// `None` where K does not apply or the content has characters outside
    /// the MOD 37-2 alphabet.
    ///
    /// ```
    /// assert_eq!(isbt128::parse("=A99991712345600")?.check_character(), Some('9'));
    /// assert_eq!(isbt128::parse("=\\620000000000000000")?.check_character(), Some('8'));
    /// assert_eq!(isbt128::parse("=%6200")?.check_character(), None);
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn check_character(&self) -> Option<char> {
        match self {
            Self::Din(d) => Some(d.din().check_character()),
            other if spec::keyboard_check_applies(other.id()) => {
                check::check_character(&other.content()).ok()
            }
            _ => None,
        }
    }

    /// Eye-readable text for printing under the bar code: no data identifier
    /// (ST-001 §7.4.2). For a DIN, the plain grouped form with its check
    /// character (see [`DinStructure::eye_readable`] for the parts); for a
    /// SEC the `SEC: ` form; for a compound message the texts of its
    /// structures separated by new lines.
    ///
    /// ```
    /// assert_eq!(isbt128::parse("=A99991712345600")?.eye_readable(), "A9999 17 123456 9");
    /// assert_eq!(isbt128::parse("=<E8341V00")?.eye_readable(), "E8341V00");
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn eye_readable(&self) -> String {
        match self {
            Self::Din(d) => d.eye_readable().plain(),
            Self::Sec(s) => s.eye_readable(),
            Self::CompoundMessage(c) => c
                .structures()
                .iter()
                .map(Self::eye_readable)
                .collect::<Vec<_>>()
                .join("\n"),
            other => other.content(),
        }
    }
}

impl fmt::Display for DataStructure {
    /// The bar-code data (same as [`DataStructure::encode`]).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.encode())
    }
}

impl std::str::FromStr for DataStructure {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        crate::parse(s)
    }
}

// ---------------------------------------------------------------------------
// Typed accessors.

impl BloodGroups {
    /// The `gg` code (ABO/RhD and collection information, or a special message).
    ///
    /// ```
    /// assert_eq!(isbt128::BloodGroups::from_content("5100")?.group_code(), "51");
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn group_code(&self) -> &str {
        self.part(0, 2)
    }

    /// ABO/RhD meaning of `gg` from ST-001 Tables 4/5, if listed there.
    ///
    /// ```
    /// assert_eq!(isbt128::BloodGroups::from_content("5100")?.abo_rhd(), Some("O RhD positive"));
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn abo_rhd(&self) -> Option<&'static str> {
        tables::blood_group(self.group_code()).map(|x| x.0)
    }

    /// The `r` character (Rh, Kell, Mi<sup>a</sup> phenotype, ST-001 Table 6).
    ///
    /// ```
    /// assert_eq!(isbt128::BloodGroups::from_content("51E0")?.phenotype_code(), 'E');
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn phenotype_code(&self) -> char {
        self.content.chars().nth(2).unwrap_or('0')
    }
}

impl ProductCode {
    /// The 5-character Product Description Code (`αoooo`).
    ///
    /// ```
    /// assert_eq!(isbt128::ProductCode::from_content("S12954A0")?.product_description_code(), "S1295");
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn product_description_code(&self) -> &str {
        self.part(0, 5)
    }

    /// Product category name from the first character.
    ///
    /// ```
    /// assert_eq!(isbt128::ProductCode::from_content("S12954A0")?.category(), Some("Cellular therapy"));
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn category(&self) -> Option<&'static str> {
        tables::product_category(self.product_description_code()).map(|c| c.0)
    }

    /// Whether this is a cellular-therapy product (`S` codes).
    ///
    /// ```
    /// assert!(isbt128::ProductCode::from_content("S12954A0")?.is_cellular_therapy());
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn is_cellular_therapy(&self) -> bool {
        self.content.starts_with('S')
    }

    /// The collection type code `t` (Table 7), for categories that use one
    /// (E, F, H, S, P, X0, Y).
    ///
    /// ```
    /// assert_eq!(isbt128::ProductCode::from_content("S12954A0")?.collection_type(), Some('4'));
    /// assert_eq!(isbt128::ProductCode::from_content("T1295003")?.collection_type(), None);
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn collection_type(&self) -> Option<char> {
        match tables::product_category(self.product_description_code()) {
            Some((_, tables::TdsUse::CollectionTypeAndDivision)) => self.content.chars().nth(5),
            _ => None,
        }
    }

    /// The division code: `ds` (2 characters) for categories with a
    /// collection type, otherwise the 3-character `tds` pack number.
    ///
    /// ```
    /// assert_eq!(isbt128::ProductCode::from_content("S12954A0")?.division(), "A0");
    /// assert_eq!(isbt128::ProductCode::from_content("T1295003")?.division(), "003");
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn division(&self) -> &str {
        if self.collection_type().is_some() {
            self.part(6, 8)
        } else {
            self.part(5, 8)
        }
    }

    /// Whether positions 7–8 are `99`: divisions are carried by DS032,
    /// which must then be scanned and recorded too.
    ///
    /// ```
    /// assert!(isbt128::ProductCode::from_content("S1295499")?.uses_product_divisions());
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn uses_product_divisions(&self) -> bool {
        self.part(6, 8) == "99"
    }
}

macro_rules! date_accessors {
    ($(($name:ident, $example:literal, $has_time:literal)),*) => {$(
        impl $name {
            /// The calendar date (century digit decoded per
            /// [`year_from_century_digit`](crate::date::year_from_century_digit)).
            ///
            /// ```
            #[doc = concat!("let s = isbt128::", stringify!($name), "::from_content(\"", $example, "\")?;")]
            /// assert_eq!(s.date().to_string(), "2017-02-01");
            /// # Ok::<(), isbt128::ParseError>(())
            /// ```
            #[must_use]
            pub fn date(&self) -> Date {
                let year = date::year_from_century_digit(
                    spec::num(&self.content, 0, 1) as u8,
                    spec::num(&self.content, 1, 3) as u8,
                );
                Date::from_ordinal(year, spec::num(&self.content, 3, 6) as u16).unwrap_or(Y2K)
            }

            /// The time of day for the date-and-time forms; `None` for the
            /// date-only forms (which mean the end of the day, 23:59).
            ///
            /// ```
            #[doc = concat!("let s = isbt128::", stringify!($name), "::from_content(\"", $example, "\")?;")]
            #[doc = concat!("assert_eq!(s.time().is_some(), ", $has_time, ");")]
            /// # Ok::<(), isbt128::ParseError>(())
            /// ```
            #[must_use]
            pub fn time(&self) -> Option<Time> {
                if self.content.len() < 10 {
                    return None;
                }
                Time::new(spec::num(&self.content, 6, 8) as u8, spec::num(&self.content, 8, 10) as u8)
            }

            /// Builds the structure from a date (and a time for the
            /// date-and-time forms, ignored otherwise; `None` encodes 23:59,
            /// the end of the day). Years 2000–2099 encode with century
            /// digit 0, 1900–1999 with 9.
            ///
            /// ```
            /// let d = isbt128::Date::new(2019, 2, 1).unwrap();
            #[doc = concat!("let s = isbt128::", stringify!($name), "::new(d, None)?;")]
            /// assert_eq!(s.date(), d);
            /// # Ok::<(), isbt128::ParseError>(())
            /// ```
            ///
            /// # Errors
            /// [`ErrorKind::OutOfRange`] for a year outside 1900–2099.
            pub fn new(date: Date, time: Option<Time>) -> Result<Self, ParseError> {
                let (c, yy) = match date.year() {
                    2000..=2099 => (0, date.year() - 2000),
                    1900..=1999 => (9, date.year() - 1900),
                    y => {
                        return Err(ParseError::new(
                            ErrorKind::OutOfRange {
                                field: "year",
                                value: y.to_string(),
                                expected: "a year 1900-2099",
                            },
                            Some(Self::ID),
                            0,
                        ))
                    }
                };
                let mut content = format!("{c}{yy:02}{:03}", date.ordinal());
                if $has_time {
                    let t = time.unwrap_or(END_OF_DAY);
                    content.push_str(&format!("{:02}{:02}", t.hour(), t.minute()));
                }
                Self::from_content(&content)
            }
        }
    )*};
}

const Y2K: Date = match Date::new(2000, 1, 1) {
    Some(d) => d,
    None => panic!("2000-01-01 is a valid date"),
};

const END_OF_DAY: Time = match Time::new(23, 59) {
    Some(t) => t,
    None => panic!("23:59 is a valid time"),
};

date_accessors!(
    (ExpirationDate, "017032", false),
    (ExpirationDateTime, "0170321330", true),
    (CollectionDate, "017032", false),
    (CollectionDateTime, "0170321330", true),
    (ProductionDate, "017032", false),
    (ProductionDateTime, "0170321330", true)
);

impl ProductDivisions {
    /// Builds from a 6-character divisions code (`A–Z 0–9`).
    ///
    /// ```
    /// assert_eq!(isbt128::ProductDivisions::new("000012")?.encode(), "=,000012");
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    ///
    /// # Errors
    /// As [`ProductDivisions::from_content`].
    pub fn new(code: &str) -> Result<Self, ParseError> {
        Self::from_content(code)
    }

    /// The divisions code.
    ///
    /// ```
    /// assert_eq!(isbt128::ProductDivisions::new("AABB00")?.code(), "AABB00");
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn code(&self) -> &str {
        &self.content
    }
}

impl Ppic {
    /// FIN(P), the facility that assigned the product code.
    ///
    /// ```
    /// assert_eq!(isbt128::Ppic::from_content("A9997AB3456T0123")?.fin_p(), "A9997");
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn fin_p(&self) -> &str {
        self.part(0, 5)
    }

    /// The facility-defined product code (FPC).
    ///
    /// ```
    /// assert_eq!(isbt128::Ppic::from_content("A9997AB3456T0123")?.fpc(), "AB3456");
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn fpc(&self) -> &str {
        self.part(5, 11)
    }

    /// The Product Description Code.
    ///
    /// ```
    /// assert_eq!(isbt128::Ppic::from_content("A9997AB3456T0123")?.pdc(), "T0123");
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn pdc(&self) -> &str {
        self.part(11, 16)
    }

    /// The EU Basic UDI-DI: the 16 characters + 2-digit MOD 37-2 value (ST-017 App. 1).
    ///
    /// ```
    /// assert_eq!(isbt128::Ppic::from_content("A9990ABC123T0480")?.basic_udi_di(), "A9990ABC123T048008");
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn basic_udi_di(&self) -> String {
        let v = check::checksum(&self.content).unwrap_or(0);
        format!("{}{v:02}", self.content)
    }
}

impl Sec {
    /// The donation identification sequence: country + TE code + unique
    /// donation number (21 characters).
    ///
    /// ```
    /// let s = isbt128::Sec::from_content("PL001499Z549917123456A00T041600320181231")?;
    /// assert_eq!(s.donation_identification(), "PL001499Z549917123456");
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn donation_identification(&self) -> &str {
        self.part(0, 21)
    }

    /// The product identification sequence: coding system + product code +
    /// split number + expiry (19 characters).
    ///
    /// ```
    /// let s = isbt128::Sec::from_content("PL001499Z549917123456A00T041600320181231")?;
    /// assert_eq!(s.product_identification(), "A00T041600320181231");
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn product_identification(&self) -> &str {
        self.part(21, 40)
    }

    /// The expiry date; `None` when encoded as `00000000`.
    ///
    /// ```
    /// let s = isbt128::Sec::from_content("PL001499Z549917123456A00T041600320181231")?;
    /// assert_eq!(s.expiry().map(|d| d.to_string()).as_deref(), Some("2018-12-31"));
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn expiry(&self) -> Option<Date> {
        Date::new(
            spec::num(&self.content, 32, 36) as u16,
            spec::num(&self.content, 36, 38) as u8,
            spec::num(&self.content, 38, 40) as u8,
        )
    }

    /// The eye-readable text, `SEC: ` + donation sequence + space + product sequence.
    ///
    /// ```
    /// let s = isbt128::Sec::from_content("PL001499Z549917123456A00T041600320181231")?;
    /// assert_eq!(s.eye_readable(), "SEC: PL001499Z549917123456 A00T041600320181231");
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn eye_readable(&self) -> String {
        format!(
            "SEC: {} {}",
            self.donation_identification(),
            self.product_identification()
        )
    }
}

impl Grid {
    /// The issuing organization number (ION).
    ///
    /// ```
    /// assert_eq!(isbt128::Grid::from_content("3553000001234567825")?.ion(), "3553");
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn ion(&self) -> &str {
        self.part(0, 4)
    }

    /// The registration donor identifier (RDI, 13 characters).
    ///
    /// ```
    /// assert_eq!(isbt128::Grid::from_content("3553000001234567825")?.rdi(), "0000012345678");
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn rdi(&self) -> &str {
        self.part(4, 17)
    }

    /// Builds a GRID from ION and RDI, computing the two-digit checksum
    /// (MOD 37-2 over the 17 characters — see the crate README for the
    /// assumption this rests on).
    ///
    /// ```
    /// assert_eq!(isbt128::Grid::new("3553", "0000012345678")?.content(), "3553000001234567825");
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    ///
    /// # Errors
    /// A [`ParseError`] for a malformed ION or RDI.
    pub fn new(ion: &str, rdi: &str) -> Result<Self, ParseError> {
        let body = format!("{ion}{rdi}");
        let v = check::checksum(&body).unwrap_or(0);
        Self::from_content(&format!("{body}{v:02}"))
    }
}

impl ChainOfIdentity {
    /// Builds a CoI identifier from the issuer's FIN, year and 6-character sequence.
    ///
    /// ```
    /// let c = isbt128::ChainOfIdentity::new("A9999", 26, "ABC123")?;
    /// assert_eq!(c.encode(), "&/CHA999926ABC123");
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    ///
    /// # Errors
    /// A [`ParseError`] for a malformed FIN, a year above 99 or a bad sequence.
    pub fn new(fin: &str, year: u8, sequence: &str) -> Result<Self, ParseError> {
        if year > 99 {
            return Err(ParseError::new(
                ErrorKind::OutOfRange {
                    field: "year",
                    value: year.to_string(),
                    expected: "a two-digit year 00-99",
                },
                Some(Self::ID),
                7,
            ));
        }
        Self::from_content(&format!("CH{fin}{year:02}{sequence}"))
    }

    /// The issuing organization's FIN.
    ///
    /// ```
    /// assert_eq!(isbt128::ChainOfIdentity::from_content("CHA999926ABC123")?.fin(), "A9999");
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn fin(&self) -> &str {
        self.part(2, 7)
    }

    /// The 6-character sequence.
    ///
    /// ```
    /// assert_eq!(isbt128::ChainOfIdentity::from_content("CHA999926ABC123")?.sequence(), "ABC123");
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn sequence(&self) -> &str {
        self.part(9, 15)
    }
}

// ---------------------------------------------------------------------------
// Compound messages and national structures.

/// Structure order fixed by RT017 for the specified-sequence messages known
/// from ST-017 (034–037). Other message numbers cannot be order-checked.
pub(crate) fn rt017_sequence(message: u16) -> Option<&'static [StructureId]> {
    use StructureId::{Din, ExpirationDate, Ppic, ProductDivisions, ProductionDate};
    Some(match message {
        34 => &[Ppic, ProductDivisions, Din],
        35 => &[Ppic, ProductDivisions, Din, ExpirationDate],
        36 => &[Ppic, ProductDivisions, Din, ProductionDate],
        37 => &[Ppic, ProductDivisions, Din, ExpirationDate, ProductionDate],
        _ => return None,
    })
}

/// DS023 Compound Message: header `=+aabbb` followed by `aa` structures.
///
/// The count is always verified; the order is verified for the RT017 message
/// numbers known here (see [`CompoundMessage::order_checked`]).
///
/// ```
/// use isbt128::{parse, CompoundMessage, DataStructure};
/// let s = parse("=+04000=/A9997XYZ100T0479=A99991712345600=,000012=>019031")?;
/// let DataStructure::CompoundMessage(c) = &s else { unreachable!() };
/// assert_eq!(c.structures().len(), 4);
/// assert_eq!(c.message(), 0);
///
/// let built = CompoundMessage::new(0, c.structures().to_vec())?;
/// assert_eq!(built.encode(), s.encode());
/// # Ok::<(), isbt128::ParseError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CompoundMessage {
    message: u16,
    structures: Vec<DataStructure>,
}

impl CompoundMessage {
    /// Builds a compound message (`message` = RT017 number, 0 for an
    /// undefined order), checking the rules a reader checks.
    ///
    /// ```
    /// let din = isbt128::parse("=A99991712345600")?;
    /// assert!(isbt128::CompoundMessage::new(0, vec![din]).is_ok());
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    ///
    /// # Errors
    /// More than 99 structures or a message number above 999
    /// ([`ErrorKind::OutOfRange`]); a nested compound or national structure
    /// ([`ErrorKind::NotAllowedInCompound`]); a known RT017 sequence not followed.
    pub fn new(message: u16, structures: Vec<DataStructure>) -> Result<Self, ParseError> {
        let id = Some(StructureId::CompoundMessage);
        if structures.len() > 99 || structures.is_empty() {
            return Err(ParseError::new(
                ErrorKind::OutOfRange {
                    field: "count",
                    value: structures.len().to_string(),
                    expected: "1-99 structures",
                },
                id,
                0,
            ));
        }
        if message > 999 {
            return Err(ParseError::new(
                ErrorKind::OutOfRange {
                    field: "message",
                    value: message.to_string(),
                    expected: "a message number 000-999",
                },
                id,
                2,
            ));
        }
        let mut pos = 5;
        for (index, s) in structures.iter().enumerate() {
            check_member(message, index, s.id(), pos, structures.len())?;
            pos += s.encode().len();
        }
        Ok(Self {
            message,
            structures,
        })
    }

    pub(crate) fn from_parts(message: u16, structures: Vec<DataStructure>) -> Self {
        Self {
            message,
            structures,
        }
    }

    /// The RT017 message number (`bbb`); 0 for an undefined order.
    ///
    /// ```
    /// let s = isbt128::parse("=+04035=/A9997XYZ100T0479=,000012=A99991712345600=>019031")?;
    /// let isbt128::DataStructure::CompoundMessage(c) = s else { unreachable!() };
    /// assert_eq!(c.message(), 35);
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn message(&self) -> u16 {
        self.message
    }

    /// The structures carried, in order.
    ///
    /// ```
    /// let s = isbt128::parse("=+01000=A99991712345600")?;
    /// let isbt128::DataStructure::CompoundMessage(c) = s else { unreachable!() };
    /// assert_eq!(c.structures()[0].number(), "001");
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn structures(&self) -> &[DataStructure] {
        &self.structures
    }

    /// Whether the structure order was verified against RT017 (true for
    /// undefined-order messages and for the known specified sequences).
    ///
    /// ```
    /// let s = isbt128::parse("=+01999=A99991712345600")?;
    /// let isbt128::DataStructure::CompoundMessage(c) = s else { unreachable!() };
    /// assert!(!c.order_checked());
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn order_checked(&self) -> bool {
        self.message == 0 || rt017_sequence(self.message).is_some()
    }

    /// The header `aabbb`.
    ///
    /// ```
    /// let s = isbt128::parse("=+01000=A99991712345600")?;
    /// let isbt128::DataStructure::CompoundMessage(c) = s else { unreachable!() };
    /// assert_eq!(c.header(), "01000");
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn header(&self) -> String {
        format!("{:02}{:03}", self.structures.len(), self.message)
    }

    /// Header + encoded structures.
    ///
    /// ```
    /// let s = isbt128::parse("=+01000=A99991712345600")?;
    /// let isbt128::DataStructure::CompoundMessage(c) = s else { unreachable!() };
    /// assert_eq!(c.content(), "01000=A99991712345600");
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn content(&self) -> String {
        let mut out = self.header();
        for s in &self.structures {
            out.push_str(&s.encode());
        }
        out
    }

    /// `=+` + content.
    ///
    /// ```
    /// let text = "=+01000=A99991712345600";
    /// let isbt128::DataStructure::CompoundMessage(c) = isbt128::parse(text)? else { unreachable!() };
    /// assert_eq!(c.encode(), text);
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn encode(&self) -> String {
        format!("=+{}", self.content())
    }

    /// Fields: `count`, `message`, `sequence` (comma-separated structure
    /// numbers), `order_checked`, then each structure's encoded text as
    /// `part1`, `part2`, ….
    ///
    /// ```
    /// let isbt128::DataStructure::CompoundMessage(c) = isbt128::parse("=+01000=A99991712345600")? else { unreachable!() };
    /// assert_eq!(c.fields()[2], ("sequence".to_string(), "001".to_string()));
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn fields(&self) -> Vec<(String, String)> {
        let mut out = vec![
            ("count".to_owned(), format!("{:02}", self.structures.len())),
            ("message".to_owned(), format!("{:03}", self.message)),
            (
                "sequence".to_owned(),
                self.structures
                    .iter()
                    .map(DataStructure::number)
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            ("order_checked".to_owned(), self.order_checked().to_string()),
        ];
        for (i, s) in self.structures.iter().enumerate() {
            out.push((format!("part{}", i + 1), s.encode()));
        }
        out
    }
}

/// Checks one member of a compound message at `index`.
pub(crate) fn check_member(
    message: u16,
    index: usize,
    found: StructureId,
    pos: usize,
    declared: usize,
) -> Result<(), ParseError> {
    let id = Some(StructureId::CompoundMessage);
    if found == StructureId::CompoundMessage || !found.is_iccbba() {
        return Err(ParseError::new(
            ErrorKind::NotAllowedInCompound { found },
            id,
            pos,
        ));
    }
    if let Some(seq) = rt017_sequence(message) {
        if seq.len() != declared {
            return Err(ParseError::new(
                ErrorKind::OutOfRange {
                    field: "count",
                    value: format!("{declared:02}"),
                    expected: "the number of structures the RT017 message defines",
                },
                id,
                0,
            ));
        }
        if let Some(expected) = seq.get(index) {
            if *expected != found {
                return Err(ParseError::new(
                    ErrorKind::CompoundOrder {
                        index,
                        expected: *expected,
                        found,
                    },
                    id,
                    pos,
                ));
            }
        }
    }
    Ok(())
}

/// A nationally defined structure (`&a`–`&z`, `&;` or `&!`). Its content is
/// not defined by ICCBBA; it extends to the end of the input and must be
/// printable ASCII.
///
/// ```
/// let s = isbt128::parse("&a123456")?;
/// let isbt128::DataStructure::National(n) = &s else { unreachable!() };
/// assert_eq!(n.content(), "123456");
/// assert_eq!(s.encode(), "&a123456");
/// # Ok::<(), isbt128::ParseError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NationalStructure {
    id: StructureId,
    data_identifier: String,
    content: String,
}

impl NationalStructure {
    /// Which kind of non-ICCBBA structure this is.
    ///
    /// ```
    /// let isbt128::DataStructure::National(n) = isbt128::parse("&!1")? else { unreachable!() };
    /// assert_eq!(n.id(), isbt128::StructureId::ConfidentialUnitExclusion);
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn id(&self) -> StructureId {
        self.id
    }

    /// The data identifier (e.g. `&a`).
    ///
    /// ```
    /// let isbt128::DataStructure::National(n) = isbt128::parse("&b1234567")? else { unreachable!() };
    /// assert_eq!(n.data_identifier(), "&b");
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn data_identifier(&self) -> &str {
        &self.data_identifier
    }

    /// The content after the data identifier.
    ///
    /// ```
    /// let isbt128::DataStructure::National(n) = isbt128::parse("&b1234567")? else { unreachable!() };
    /// assert_eq!(n.content(), "1234567");
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn content(&self) -> &str {
        &self.content
    }

    /// Fields: `data_identifier`, `content`.
    ///
    /// ```
    /// let isbt128::DataStructure::National(n) = isbt128::parse("&b1234567")? else { unreachable!() };
    /// assert_eq!(n.fields().len(), 2);
    /// # Ok::<(), isbt128::ParseError>(())
    /// ```
    #[must_use]
    pub fn fields(&self) -> Vec<(String, String)> {
        vec![
            ("data_identifier".to_owned(), self.data_identifier.clone()),
            ("content".to_owned(), self.content.clone()),
        ]
    }
}

#[cfg(feature = "serde")]
mod serde_impl {
    use super::DataStructure;
    use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

    impl Serialize for DataStructure {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.serialize_str(&self.encode())
        }
    }

    impl<'de> Deserialize<'de> for DataStructure {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            let s = String::deserialize(deserializer)?;
            crate::parse(&s).map_err(de::Error::custom)
        }
    }
}
