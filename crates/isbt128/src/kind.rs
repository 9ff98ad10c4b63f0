//! The catalogue of ISBT 128 data structures (ST-001 Table 2, RT003).
//!
//! This module owns [`StructureId`]: the structure numbers `001`–`040`, their
//! names and their data identifiers, and recognition of a data identifier at
//! the start of a string.

use std::fmt;

macro_rules! structure_ids {
    ($( $(#[$doc:meta])* $variant:ident = $num:literal, $di:literal, $name:literal; )*) => {
        /// One ISBT 128 data structure type, identified by its ST-001 number.
        ///
        /// ```
        /// use isbt128::StructureId;
        /// assert_eq!(StructureId::ProductCode.number(), "003");
        /// assert_eq!(StructureId::ProductCode.data_identifier(), "=<");
        /// assert_eq!(StructureId::from_number("040"), Some(StructureId::ChainOfIdentity));
        /// ```
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum StructureId {
            $( $(#[$doc])* $variant, )*
            /// Non-ICCBBA (national, regional or facility) structure `&a`–`&z`.
            National,
            /// Nationally specified Donor Identification Number `&;`.
            NationalDonorId,
            /// Confidential Unit Exclusion status `&!` (nationally defined content).
            ConfidentialUnitExclusion,
        }

        impl StructureId {
            /// All ICCBBA-numbered structures, in number order (`001`–`040`).
            ///
            /// ```
            /// assert_eq!(isbt128::StructureId::ALL.len(), 40);
            /// ```
            pub const ALL: &'static [StructureId] = &[ $( StructureId::$variant, )* ];

            /// The three-digit ST-001 number, `"001"`–`"040"`.
            ///
            /// Non-ICCBBA structures return `"national"` (`&a`–`&z`),
            /// `"national-donor-id"` (`&;`) and `"cue"` (`&!`).
            ///
            /// ```
            /// assert_eq!(isbt128::StructureId::Din.number(), "001");
            /// ```
            #[must_use]
            pub const fn number(self) -> &'static str {
                match self {
                    $( StructureId::$variant => $num, )*
                    StructureId::National => "national",
                    StructureId::NationalDonorId => "national-donor-id",
                    StructureId::ConfidentialUnitExclusion => "cue",
                }
            }

            /// The data identifier as printed in bar codes.
            ///
            /// For the DIN this is only `=` (its second character is data).
            /// For national structures it is `&` (the second character varies).
            ///
            /// ```
            /// assert_eq!(isbt128::StructureId::Sec.data_identifier(), "&,4");
            /// assert_eq!(isbt128::StructureId::Din.data_identifier(), "=");
            /// ```
            #[must_use]
            pub const fn data_identifier(self) -> &'static str {
                match self {
                    $( StructureId::$variant => $di, )*
                    StructureId::National => "&",
                    StructureId::NationalDonorId => "&;",
                    StructureId::ConfidentialUnitExclusion => "&!",
                }
            }

            /// The ST-001 name of the structure.
            ///
            /// ```
            /// assert_eq!(isbt128::StructureId::Grid.name(), "Global Registration Identifier for Donors");
            /// ```
            #[must_use]
            pub const fn name(self) -> &'static str {
                match self {
                    $( StructureId::$variant => $name, )*
                    StructureId::National => "Non-ICCBBA Defined Data Structure",
                    StructureId::NationalDonorId => "Nationally Specified Donor Identification Number",
                    StructureId::ConfidentialUnitExclusion => "Confidential Unit Exclusion Status",
                }
            }

            /// Looks a structure up by its three-digit number (`"001"`–`"040"`).
            ///
            /// ```
            /// assert_eq!(isbt128::StructureId::from_number("002"), Some(isbt128::StructureId::BloodGroups));
            /// assert_eq!(isbt128::StructureId::from_number("041"), None);
            /// ```
            #[must_use]
            pub fn from_number(number: &str) -> Option<Self> {
                match number {
                    $( $num => Some(StructureId::$variant), )*
                    _ => None,
                }
            }
        }
    };
}

structure_ids! {
    /// DS001 Donation Identification Number (`=αppppyynnnnnnff`).
    Din = "001", "=", "Donation Identification Number";
    /// DS002 Blood Groups \[ABO and RhD\] (`=%ggre`).
    BloodGroups = "002", "=%", "Blood Groups [ABO and RhD]";
    /// DS003 Product Code (`=<αooootds`).
    ProductCode = "003", "=<", "Product Code";
    /// DS004 Expiration Date (`=>cyyjjj`).
    ExpirationDate = "004", "=>", "Expiration Date";
    /// DS005 Expiration Date and Time (`&>cyyjjjhhmm`).
    ExpirationDateTime = "005", "&>", "Expiration Date and Time";
    /// DS006 Collection Date (`=*cyyjjj`).
    CollectionDate = "006", "=*", "Collection Date";
    /// DS007 Collection Date and Time (`&*cyyjjjhhmm`).
    CollectionDateTime = "007", "&*", "Collection Date and Time";
    /// DS008 Production Date (`=}cyyjjj`).
    ProductionDate = "008", "=}", "Production Date";
    /// DS009 Production Date and Time (`&}cyyjjjhhmm`).
    ProductionDateTime = "009", "&}", "Production Date and Time";
    /// DS010 Special Testing: General (`&(zzzzz`).
    SpecialTestingGeneral = "010", "&(", "Special Testing: General";
    /// DS011 Special Testing: Red Blood Cell Antigens (retired; `={`).
    RbcAntigensRetired = "011", "={", "Special Testing: Red Blood Cell Antigens (retired)";
    /// DS012 Special Testing: Red Blood Cell Antigens — General (`=\`).
    RbcAntigensGeneral = "012", "=\\", "Special Testing: Red Blood Cell Antigens - General";
    /// DS013 Special Testing: Red Blood Cell Antigens — Finnish (`&\`).
    RbcAntigensFinnish = "013", "&\\", "Special Testing: Red Blood Cell Antigens - Finnish";
    /// DS014 Special Testing: Platelet HLA and Platelet-Specific Antigens (`&{`).
    PlateletHlaAntigens = "014", "&{", "Special Testing: Platelet HLA and Platelet Specific Antigens";
    /// DS015 Special Testing: HLA-A and -B Alleles (retired; `=[`).
    HlaABRetired = "015", "=[", "Special Testing: HLA-A and -B Alleles (retired)";
    /// DS016 Special Testing: HLA-DRB1 Alleles (retired; `="`).
    HlaDrb1Retired = "016", "=\"", "Special Testing: HLA-DRB1 Alleles (retired)";
    /// DS017 Container Manufacturer and Catalog Number (`=)bqqwwwwwww`).
    ContainerCatalog = "017", "=)", "Container Manufacturer and Catalog Number";
    /// DS018 Container Lot Number (`&)`).
    ContainerLot = "018", "&)", "Container Lot Number";
    /// DS019 Donor Identification Number (`=;αpppp` + 16 digits).
    DonorId = "019", "=;", "Donor Identification Number";
    /// DS020 Staff Member Identification Number (`='αppppuuuuuu`).
    StaffId = "020", "='", "Staff Member Identification Number";
    /// DS021 Manufacturer and Catalog Number: Items Other Than Containers (`=-`).
    ItemCatalog = "021", "=-", "Manufacturer and Catalog Number: Items Other Than Containers";
    /// DS022 Lot Number: Items Other Than Containers (`&-`).
    ItemLot = "022", "&-", "Lot Number: Items Other Than Containers";
    /// DS023 Compound Message (`=+aabbb` + structures).
    CompoundMessage = "023", "=+", "Compound Message";
    /// DS024 Patient Date of Birth (`=#aayyyymmdd`).
    PatientBirthDate = "024", "=#", "Patient Date of Birth";
    /// DS025 Patient Identification Number (`&#aall` + `ll` characters).
    PatientId = "025", "&#", "Patient Identification Number";
    /// DS026 Expiration Month and Year (`=]yyyymm`).
    ExpirationMonth = "026", "=]", "Expiration Month and Year";
    /// DS027 Transfusion Transmitted Infection Marker (`&"` + 18 digits).
    InfectionMarkers = "027", "&\"", "Transfusion Transmitted Infection Marker";
    /// DS028 Product Consignment (`=$αppppyynnnnnccdd`).
    Consignment = "028", "=$", "Product Consignment";
    /// DS029 Dimensions (`&$nn` + segments).
    Dimensions = "029", "&$", "Dimensions";
    /// DS030 Red Cell Antigens with Test History (`&%nnn` + segments).
    RedCellAntigenHistory = "030", "&%", "Red Cell Antigens with Test History";
    /// DS031 Flexible Date and Time (`=(ZUTTYYYYMMDDhhmm`).
    FlexibleDateTime = "031", "=(", "Flexible Date and Time";
    /// DS032 Product Divisions (`=,dddddd`).
    ProductDivisions = "032", "=,", "Product Divisions";
    /// DS033 Processing Facility Information Code (`&+nnnnnpppppp`).
    ProcessingFacility = "033", "&+", "Processing Facility Information Code";
    /// DS034 Processor Product Identification Code, PPIC (`=/nnnnnppppppqqqqq`).
    Ppic = "034", "=/", "Processor Product Identification Code";
    /// DS035 MPHO Lot Number (`&,1`).
    MphoLot = "035", "&,1", "MPHO Lot Number";
    /// DS036 MPHO Supplemental Identification Number (`&,2`).
    MphoSupplementalId = "036", "&,2", "MPHO Supplemental Identification Number";
    /// DS037 Global Registration Identifier for Donors (retired; `&,3`).
    GridRetired = "037", "&,3", "Global Registration Identifier for Donors (retired)";
    /// DS038 Single European Code, SEC (`&,4`).
    Sec = "038", "&,4", "Single European Code";
    /// DS039 Global Registration Identifier for Donors, GRID (`&:`).
    Grid = "039", "&:", "Global Registration Identifier for Donors";
    /// DS040 Chain of Identity Identifier (`&/CHαppppyynnnnnn`).
    ChainOfIdentity = "040", "&/", "Chain of Identity Identifier";
}

impl StructureId {
    /// Recognises the data identifier at the start of `input`.
    ///
    /// Returns the structure and the number of characters of `input` that
    /// belong to the data identifier and are **not** data content: 1 for the
    /// DIN (its second DI character is the first data character), 2 or 3
    /// otherwise.
    ///
    /// ```
    /// use isbt128::StructureId;
    /// assert_eq!(StructureId::recognise("=%6200"), Some((StructureId::BloodGroups, 2)));
    /// assert_eq!(StructureId::recognise("=A99991712345600"), Some((StructureId::Din, 1)));
    /// assert_eq!(StructureId::recognise("&,4PL"), Some((StructureId::Sec, 3)));
    /// assert_eq!(StructureId::recognise("=zINVALID"), None);
    /// ```
    #[must_use]
    pub fn recognise(input: &str) -> Option<(Self, usize)> {
        let b = input.as_bytes();
        let first = *b.first()?;
        let second = *b.get(1)?;
        if first == b'=' && crate::spec::is_fin_first(second) {
            return Some((Self::Din, 1));
        }
        if first == b'&' && second == b',' {
            let id = match b.get(2)? {
                b'1' => Self::MphoLot,
                b'2' => Self::MphoSupplementalId,
                b'3' => Self::GridRetired,
                b'4' => Self::Sec,
                _ => return None,
            };
            return Some((id, 3));
        }
        if first == b'&' && second.is_ascii_lowercase() {
            // The second character of a national DI is data-identifier, not content.
            return Some((Self::National, 2));
        }
        let id = match (first, second) {
            (b'=', b'%') => Self::BloodGroups,
            (b'=', b'<') => Self::ProductCode,
            (b'=', b'>') => Self::ExpirationDate,
            (b'&', b'>') => Self::ExpirationDateTime,
            (b'=', b'*') => Self::CollectionDate,
            (b'&', b'*') => Self::CollectionDateTime,
            (b'=', b'}') => Self::ProductionDate,
            (b'&', b'}') => Self::ProductionDateTime,
            (b'&', b'(') => Self::SpecialTestingGeneral,
            (b'=', b'{') => Self::RbcAntigensRetired,
            (b'=', b'\\') => Self::RbcAntigensGeneral,
            (b'&', b'\\') => Self::RbcAntigensFinnish,
            (b'&', b'{') => Self::PlateletHlaAntigens,
            (b'=', b'[') => Self::HlaABRetired,
            (b'=', b'"') => Self::HlaDrb1Retired,
            (b'=', b')') => Self::ContainerCatalog,
            (b'&', b')') => Self::ContainerLot,
            (b'=', b';') => Self::DonorId,
            (b'=', b'\'') => Self::StaffId,
            (b'=', b'-') => Self::ItemCatalog,
            (b'&', b'-') => Self::ItemLot,
            (b'=', b'+') => Self::CompoundMessage,
            (b'=', b'#') => Self::PatientBirthDate,
            (b'&', b'#') => Self::PatientId,
            (b'=', b']') => Self::ExpirationMonth,
            (b'&', b'"') => Self::InfectionMarkers,
            (b'=', b'$') => Self::Consignment,
            (b'&', b'$') => Self::Dimensions,
            (b'&', b'%') => Self::RedCellAntigenHistory,
            (b'=', b'(') => Self::FlexibleDateTime,
            (b'=', b',') => Self::ProductDivisions,
            (b'&', b'+') => Self::ProcessingFacility,
            (b'=', b'/') => Self::Ppic,
            (b'&', b':') => Self::Grid,
            (b'&', b'/') => Self::ChainOfIdentity,
            (b'&', b';') => Self::NationalDonorId,
            (b'&', b'!') => Self::ConfidentialUnitExclusion,
            _ => return None,
        };
        Some((id, 2))
    }

    /// Whether this structure is defined by ICCBBA (`001`–`040`), as opposed
    /// to a nationally defined one.
    ///
    /// ```
    /// assert!(isbt128::StructureId::Din.is_iccbba());
    /// assert!(!isbt128::StructureId::National.is_iccbba());
    /// ```
    #[must_use]
    pub const fn is_iccbba(self) -> bool {
        !matches!(
            self,
            Self::National | Self::NationalDonorId | Self::ConfidentialUnitExclusion
        )
    }

    /// Whether ST-001 has retired this structure (011, 015, 016, 037): it is
    /// recognised when read but should not be created.
    ///
    /// ```
    /// assert!(isbt128::StructureId::GridRetired.is_retired());
    /// ```
    #[must_use]
    pub const fn is_retired(self) -> bool {
        matches!(
            self,
            Self::RbcAntigensRetired
                | Self::HlaABRetired
                | Self::HlaDrb1Retired
                | Self::GridRetired
        )
    }
}

impl fmt::Display for StructureId {
    /// Formats as `DS` + number, e.g. `DS003`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_iccbba() {
            write!(f, "DS{}", self.number())
        } else {
            f.write_str(self.number())
        }
    }
}
