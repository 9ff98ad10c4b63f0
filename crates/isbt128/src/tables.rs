//! Short factual reference tables needed to interpret codes.
//!
//! This module owns the code → meaning lookups that ST-001 prints in the
//! standard itself (blood groups, Rh/Kell phenotypes, DIN flags, collection
//! types, product categories, special-testing and infection-marker pair
//! decoding, dimension and date-type codes). It deliberately does **not**
//! contain the licence-gated ICCBBA databases (product descriptions,
//! facilities, special testing RT029, manufacturers). Unknown codes return
//! `None`; they are not rejected, because those tables grow over time.

/// ABO/RhD meaning and collection information of a DS002 `gg` code
/// (ST-001 Tables 4 and 5).
///
/// ```
/// assert_eq!(
///     isbt128::tables::blood_group("62"),
///     Some(("A RhD positive", "default: intended use not specified"))
/// );
/// assert_eq!(isbt128::tables::blood_group("Mq").map(|x| x.0), Some("quarantine/hold until further notice"));
/// ```
#[must_use]
pub fn blood_group(gg: &str) -> Option<(&'static str, &'static str)> {
    const COLUMNS: [&str; 8] = [
        "default: intended use not specified",
        "directed (dedicated/designated) collection use only",
        "for emergency use only",
        "directed collection, biohazardous",
        "directed collection, eligible for crossover",
        "autologous collection, eligible for crossover",
        "for autologous use only",
        "for autologous use only, biohazardous",
    ];
    const NUMERIC: [(&str, [u8; 8]); 8] = [
        ("O RhD negative", [95, 91, 92, 93, 94, 96, 97, 98]),
        ("O RhD positive", [51, 47, 48, 49, 50, 52, 53, 54]),
        ("A RhD negative", [6, 2, 3, 4, 5, 7, 8, 9]),
        ("A RhD positive", [62, 58, 59, 60, 61, 63, 64, 65]),
        ("B RhD negative", [17, 13, 14, 15, 16, 18, 19, 20]),
        ("B RhD positive", [73, 69, 70, 71, 72, 74, 75, 76]),
        ("AB RhD negative", [28, 24, 25, 26, 27, 29, 30, 31]),
        ("AB RhD positive", [84, 80, 81, 82, 83, 85, 86, 87]),
    ];
    let b = gg.as_bytes();
    let (first, second) = match b {
        [f, s] => (*f, *s),
        _ => return None,
    };
    let special = match gg {
        "00" => Some("no ABO or RhD information"),
        "Ma" => Some("autologous collection"),
        "Mb" => Some("biohazardous"),
        "Md" => Some("discard"),
        "Mf" => Some("for fractionation use only"),
        "Mq" => Some("quarantine/hold until further notice"),
        "Mr" => Some("for research use only"),
        "Mx" => Some("not for transfusion based on test results"),
        "T1" => Some("ABO not specified, RhD positive (tissue)"),
        "T2" => Some("ABO not specified, RhD negative (tissue)"),
        "T3" => Some("ABO not specified, RhD not specified (tissue)"),
        "T4" => Some("autologous collection/in quarantine (tissue)"),
        "T5" => Some("see outer packaging for product status (tissue)"),
        "T6" => Some("must be sterilized before release (tissue)"),
        "A0" => Some("group A, pooled RhD"),
        "B0" => Some("group B, pooled RhD"),
        "C0" => Some("group AB, pooled RhD"),
        "D0" => Some("group O, pooled RhD"),
        "E0" => Some("pooled ABO, RhD positive"),
        "F0" => Some("pooled ABO, RhD negative"),
        "G0" => Some("pooled ABO, pooled RhD"),
        "H0" => Some("pooled ABO, RhD not specified"),
        "I0" => Some("A1"),
        "J0" => Some("A2"),
        "K0" => Some("A1B"),
        "L0" => Some("A2B"),
        _ => None,
    };
    if let Some(s) = special {
        return Some((s, "special message or pooled/subgroup"));
    }
    if first.is_ascii_digit() && second.is_ascii_digit() {
        let v = (first - b'0') * 10 + (second - b'0');
        let by_letter = match v {
            55 => Some("O, RhD not specified"),
            66 => Some("A, RhD not specified"),
            77 => Some("B, RhD not specified"),
            88 => Some("AB, RhD not specified"),
            _ => None,
        };
        if let Some(g) = by_letter {
            return COLUMNS.first().map(|c| (g, *c));
        }
        for (group, codes) in NUMERIC {
            if let Some(col) = codes.iter().position(|c| *c == v) {
                return COLUMNS.get(col).map(|c| (group, *c));
            }
        }
        return None;
    }
    let group = match first {
        b'P' => "O, RhD not specified",
        b'A' => "A, RhD not specified",
        b'B' => "B, RhD not specified",
        b'C' => "AB, RhD not specified",
        b'D' => "para-Bombay, RhD negative",
        b'E' => "para-Bombay, RhD positive",
        b'G' => "Bombay, RhD negative",
        b'H' => "Bombay, RhD positive",
        b'I' => "O para-Bombay, RhD negative",
        b'J' => "O para-Bombay, RhD positive",
        b'K' => "A para-Bombay, RhD negative",
        b'L' => "B para-Bombay, RhD negative",
        b'M' => "AB para-Bombay, RhD negative",
        b'N' => "A para-Bombay, RhD positive",
        b'O' => "B para-Bombay, RhD positive",
        b'Q' => "AB para-Bombay, RhD positive",
        _ => return None,
    };
    // Column digits for letter codes: 6 default, 2 directed, 3 emergency,
    // 4 directed/biohazardous, 5 directed/crossover, 7 autologous/crossover,
    // 8 autologous, 9 autologous/biohazardous. P/A/B/C have no "6" (numeric default).
    let col = match second {
        b'6' if !matches!(first, b'P' | b'A' | b'B' | b'C') => 0,
        b'2' => 1,
        b'3' => 2,
        b'4' => 3,
        b'5' => 4,
        b'7' => 5,
        b'8' => 6,
        b'9' => 7,
        _ => return None,
    };
    COLUMNS.get(col).map(|c| (group, *c))
}

/// Meaning of the DS002 `r` character (ST-001 Table 6): Kell status and
/// C, c, E, e phenotype, or the Mi<sup>a</sup>/special-testing messages.
///
/// ```
/// assert_eq!(isbt128::tables::rh_kell('E'), Some("K-; C- c+ E+ e+"));
/// ```
#[must_use]
pub fn rh_kell(r: char) -> Option<&'static str> {
    Some(match r {
        '0' => "K ni; C, c, E, e ni",
        '1' => "K ni; C- c+ E- e+",
        '2' => "K ni; C+ c+ E- e+",
        '3' => "K ni; C+ c+ E+ e+",
        '4' => "K ni; C+ c+ E+ e-",
        '5' => "K ni; C- c+ E+ e+",
        '6' => "K ni; C- c+ E+ e-",
        '7' => "K ni; C+ c- E- e+",
        '8' => "K ni; C+ c- E+ e+",
        '9' => "K ni; C+ c- E+ e-",
        'X' => "K ni; C- c ni E- e ni",
        'S' => "K-; C, c, E, e ni",
        'A' => "K-; C- c+ E- e+",
        'B' => "K-; C+ c+ E- e+",
        'C' => "K-; C+ c+ E+ e+",
        'D' => "K-; C+ c+ E+ e-",
        'E' => "K-; C- c+ E+ e+",
        'F' => "K-; C- c+ E+ e-",
        'G' => "K-; C+ c- E- e+",
        'H' => "K-; C+ c- E+ e+",
        'I' => "K-; C+ c- E+ e-",
        'Y' => "K-; C- c ni E- e ni",
        'T' => "K+; C, c, E, e ni",
        'J' => "K+; C- c+ E- e+",
        'K' => "K+; C+ c+ E- e+",
        'L' => "K+; C+ c+ E+ e+",
        'M' => "K+; C+ c+ E+ e-",
        'N' => "K+; C- c+ E+ e+",
        'O' => "K+; C- c+ E+ e-",
        'P' => "K+; C+ c- E- e+",
        'Q' => "K+; C+ c- E+ e+",
        'R' => "K+; C+ c- E+ e-",
        'Z' => "K+; C- c ni E- e ni",
        'U' => "Mia/Mur negative",
        'V' => "Mia/Mur positive",
        'W' => "special testing bar code present and must be scanned",
        _ => return None,
    })
}

/// Meaning of numeric DIN flag characters (ST-001 Table 3).
///
/// ```
/// assert_eq!(isbt128::tables::din_flag(7), Some("test tube label"));
/// assert_eq!(isbt128::tables::din_flag(25), Some("type 2: locally defined"));
/// ```
#[must_use]
pub fn din_flag(value: u8) -> Option<&'static str> {
    Some(match value {
        0 => "flag not used",
        1 => "container 1 of a set",
        2 => "container 2 of a set",
        3 => "container 3 of a set",
        4 => "container 4 of a set",
        5 => "second (or repeated) demand-printed label",
        6 => "pilot tube label",
        7 => "test tube label",
        8 => "donor record label",
        9 => "sample tube for NAT testing",
        10 => "samples for bacterial testing",
        11 => "match with unit label",
        12 => "affixed partial label",
        13 => "attached label (used with affixed partial label)",
        14 => "reserved",
        15 => "container 5 of a set",
        16 => "container 6 of a set",
        17 => "container 7 of a set",
        18 => "container 8 of a set",
        19 => "container 9 of a set",
        20..=59 => "type 2: locally defined",
        60..=96 => "type 3: ISO/IEC 7064 MOD 37-2 checksum + 60",
        97..=99 => "reserved",
        _ => return None,
    })
}

/// Meaning of a collection type code `t` (ST-001 Table 7).
///
/// ```
/// assert_eq!(isbt128::tables::collection_type('4'), Some("Designated"));
/// ```
#[must_use]
pub fn collection_type(t: char) -> Option<&'static str> {
    Some(match t {
        '0' => "Not specified",
        'V' => "Volunteer homologous (allogeneic) (default)",
        'R' => "Volunteer research",
        'S' => "Volunteer source",
        'T' => "Volunteer therapeutic",
        'P' => "Paid homologous (allogeneic)",
        'r' => "Paid research",
        's' => "Paid source",
        'A' => "Autologous, eligible for crossover",
        '1' => "For autologous use only",
        'X' => "For autologous use only, biohazardous",
        'D' => "Volunteer directed, eligible for crossover",
        'd' => "Paid directed, eligible for crossover",
        '2' => "For directed recipient use only",
        'L' => "For directed recipient use only, limited exposure",
        'E' => "Medical exception, for specified recipient only (allogeneic)",
        'Q' => "See (scan) special testing bar code",
        '3' => "For directed recipient use only, biohazardous",
        '4' => "Designated",
        '5' => "Dedicated",
        '6' => "Designated, biohazardous",
        'F' => "Family reserved",
        'C' => "Replacement",
        '7' => "For allogeneic use",
        '8' => "For autologous use, contains allogeneic material",
        'B' => "Directed/dedicated/designated collection use only",
        'H' => "Directed/dedicated/designated collection use only, biohazardous",
        'J' => "Directed/dedicated/designated collection, eligible for crossover",
        'G' => "For emergency use only",
        _ => return None,
    })
}

/// How positions 6–8 (`tds`) of a product code are used, by product category.
///
/// ```
/// use isbt128::tables::{product_category, TdsUse};
/// assert_eq!(product_category("S1180").map(|c| c.1), Some(TdsUse::CollectionTypeAndDivision));
/// assert_eq!(product_category("T1295").map(|c| c.1), Some(TdsUse::PackNumber));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TdsUse {
    /// `t` = collection type (Table 7), `ds` = division code.
    CollectionTypeAndDivision,
    /// `tds` = three-digit division / pack number.
    PackNumber,
    /// `tds` is reserved and shall be `000` (X1–X9 codes).
    Reserved,
    /// National or local codes (A–D): `tds` defined nationally or locally.
    NationallyDefined,
}

/// Product category of a Product Description Code (ST-001 §2.4.3, Table 26)
/// and how its `tds` positions are used. `None` for letters with no category.
///
/// ```
/// assert_eq!(isbt128::tables::product_category("E8341").map(|c| c.0), Some("Blood components"));
/// ```
#[must_use]
pub fn product_category(pdc: &str) -> Option<(&'static str, TdsUse)> {
    use TdsUse::{CollectionTypeAndDivision as Ct, NationallyDefined, PackNumber, Reserved};
    let b = pdc.as_bytes();
    let second = b.get(1).copied().unwrap_or(b'0');
    Some(match b.first()? {
        b'E' | b'F' => ("Blood components", Ct),
        b'H' => ("MPHO with INN/USAN names", Ct),
        b'S' => ("Cellular therapy", Ct),
        b'P' => ("Regenerated tissue", Ct),
        b'Y' => ("Clinical trials", Ct),
        b'X' if second == b'0' => ("Plasma derivatives", Ct),
        b'X' if second == b'5' => ("In vivo diagnostic MPHO", Reserved),
        b'X' => ("Other blood products", Reserved),
        b'M' if second == b'0' => ("Human milk", PackNumber),
        b'M' if second == b'9' => ("Topical products of human origin", PackNumber),
        b'M' => ("Other therapies", PackNumber),
        b'N' => ("Organs", PackNumber),
        b'R' => ("Reproductive tissue and cells", PackNumber),
        b'T' => ("Tissues", PackNumber),
        b'V' => ("Ocular tissue", PackNumber),
        b'W' => ("Fecal microbiota", PackNumber),
        b'A' | b'B' | b'C' => ("National codes", NationallyDefined),
        b'D' => ("Local (facility) codes", NationallyDefined),
        _ => return None,
    })
}

/// Result of one test in a pair-coded digit (DS012/013 antigens, DS027 markers).
///
/// ```
/// use isbt128::tables::{pair, PairResult};
/// assert_eq!(pair(5), Some((PairResult::Negative, PairResult::Positive)));
/// assert_eq!(pair(9), Some((PairResult::NoInformation, PairResult::NoInformation)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairResult {
    /// Not tested (DS012/013) or no information (DS027, value 0).
    NotTested,
    /// Tested negative.
    Negative,
    /// Tested positive.
    Positive,
    /// No information (digit 9 of DS012/013).
    NoInformation,
}

impl PairResult {
    /// Short text: `nt`, `neg`, `pos`, `ni`.
    ///
    /// ```
    /// assert_eq!(isbt128::tables::PairResult::Positive.as_str(), "pos");
    /// ```
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::NotTested => "nt",
            Self::Negative => "neg",
            Self::Positive => "pos",
            Self::NoInformation => "ni",
        }
    }
}

/// Decodes a pair digit: v in 0–8 → (v div 3, v mod 3) with 0 = not tested,
/// 1 = negative, 2 = positive; 9 = no information for both.
///
/// ```
/// use isbt128::tables::{pair, PairResult::*};
/// assert_eq!(pair(7), Some((Positive, Negative)));
/// assert_eq!(pair(10), None);
/// ```
#[must_use]
pub const fn pair(digit: u8) -> Option<(PairResult, PairResult)> {
    const fn one(v: u8) -> PairResult {
        match v {
            0 => PairResult::NotTested,
            1 => PairResult::Negative,
            _ => PairResult::Positive,
        }
    }
    match digit {
        0..=8 => Some((one(digit / 3), one(digit % 3))),
        9 => Some((PairResult::NoInformation, PairResult::NoInformation)),
        _ => None,
    }
}

/// Antigen pairs of DS012/DS013 positions 2–16 (ST-001 Table 9).
pub const RBC_ANTIGEN_PAIRS: [(&str, &str); 15] = [
    ("K", "k"),
    ("Cw", "Mia"),
    ("M", "N"),
    ("S", "s"),
    ("U", "P1"),
    ("Lua", "Kpa"),
    ("Lea", "Leb"),
    ("Fya", "Fyb"),
    ("Jka", "Jkb"),
    ("Doa", "Dob"),
    ("Ina", "Cob"),
    ("Dia", "VS/V"),
    ("Jsa", "C"),
    ("c", "E"),
    ("e", "CMV antibody"),
];

/// Rh phenotype of DS012/DS013 position 1 (ST-001 Table 9).
///
/// ```
/// assert_eq!(isbt128::tables::rh_phenotype('6'), Some("C+c-E-e+"));
/// ```
#[must_use]
pub fn rh_phenotype(d: char) -> Option<&'static str> {
    Some(match d {
        '0' => "C+c-E+e-",
        '1' => "C+c+E+e-",
        '2' => "C-c+E+e-",
        '3' => "C+c-E+e+",
        '4' => "C+c+E+e+",
        '5' => "C-c+E+e+",
        '6' => "C+c-E-e+",
        '7' => "C+c+E-e+",
        '8' => "C-c+E-e+",
        '9' => "ni",
        _ => return None,
    })
}

/// Marker pairs of DS027 positions 1–10 (ST-001 §2.4.27, Table 18).
/// The second marker of position 10 is only defined by the 2026 RT019
/// update, whose column assignment is uncertain.
pub const TTI_MARKER_PAIRS: [(&str, &str); 10] = [
    ("HIV-1/2 Ab", "HIV-p24 Ag"),
    ("HIV genomic", "HCV Ab"),
    ("HCV Ag", "HCV genomic"),
    ("HBc Ab", "HBs Ag"),
    ("HBV genomic", "HTLV-I/II Ab"),
    ("Syphilis Ab", "CMV Ab"),
    ("CMV genomic", "EBV genomic"),
    ("WNV genomic", "Parvo B19 Ab"),
    ("Parvo B19 genomic", "Chagas Ab"),
    ("HEV genomic", "position 10 second marker"),
];

/// DS029 symbol codes (ST-001 Table 19).
///
/// ```
/// assert_eq!(isbt128::tables::dimension_symbol("02"), Some("greater than"));
/// ```
#[must_use]
pub fn dimension_symbol(aa: &str) -> Option<&'static str> {
    Some(match aa {
        "01" => "equal to (within facility tolerance)",
        "02" => "greater than",
        "03" => "greater than or equal to",
        "04" => "less than",
        "05" => "less than or equal to",
        "06" => "nominal",
        _ => return None,
    })
}

/// DS029 dimension codes (ST-001 Table 20).
///
/// ```
/// assert_eq!(isbt128::tables::dimension("0001"), Some("volume mL"));
/// ```
#[must_use]
pub fn dimension(bbbb: &str) -> Option<&'static str> {
    Some(match bbbb {
        "0001" => "volume mL",
        "0002" => "length mm",
        "0003" => "width mm",
        "0004" => "height mm",
        "0005" => "particle size mm",
        "0006" => "area cm2",
        "0007" => "total platelets x1E9",
        "0008" => "weight g (excluding container)",
        "0009" => "tare weight of container g",
        "0010" => "tare weight of container and tubing g",
        "0011" => "trachea rings",
        _ => return None,
    })
}

/// DS031 time type codes `TT` (ST-001 Table 25).
///
/// ```
/// assert_eq!(isbt128::tables::flexible_time_type("04"), Some("cross clamp"));
/// ```
#[must_use]
pub fn flexible_time_type(tt: &str) -> Option<&'static str> {
    Some(match tt {
        "01" => "expiration",
        "02" => "collection",
        "03" => "production",
        "04" => "cross clamp",
        "05" => "time of preservation",
        "06" => "time of death of donor",
        _ => return None,
    })
}

/// DS030 result codes `rr` (ST-001 Table 22).
///
/// ```
/// assert_eq!(isbt128::tables::antigen_result("04"), Some("positive (serology)"));
/// ```
#[must_use]
pub fn antigen_result(rr: &str) -> Option<&'static str> {
    Some(match rr {
        "01" => "negative (method not specified)",
        "02" => "positive (method not specified)",
        "03" => "negative (serology)",
        "04" => "positive (serology)",
        "05" => "negative (predicted from genotype)",
        "06" => "positive (predicted from genotype)",
        _ => return None,
    })
}

/// DS030 test history codes `ss` (ST-001 Table 23).
///
/// ```
/// assert_eq!(isbt128::tables::antigen_history("06"), Some("history not specified"));
/// ```
#[must_use]
pub fn antigen_history(ss: &str) -> Option<&'static str> {
    Some(match ss {
        "01" => "tested once on this collection",
        "02" => "tested once on a prior collection",
        "03" => "tested two or more times, current and historic, concordant",
        "04" => "tested two or more times, historic only",
        "05" => "tested two or more times on different samples of this collection",
        "06" => "history not specified",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blood_group_examples() {
        assert_eq!(blood_group("51").map(|x| x.0), Some("O RhD positive"));
        assert_eq!(
            blood_group("95").map(|x| x.1),
            Some("default: intended use not specified")
        );
        assert_eq!(
            blood_group("E6").map(|x| x.0),
            Some("para-Bombay, RhD positive")
        );
        assert_eq!(blood_group("P6"), None);
        assert_eq!(blood_group("99"), None);
        assert_eq!(blood_group("A0").map(|x| x.0), Some("group A, pooled RhD"));
        assert_eq!(
            blood_group("A2").map(|x| x.1),
            Some("directed (dedicated/designated) collection use only")
        );
    }

    #[test]
    fn every_rh_kell_code_known() {
        for c in ('0'..='9').chain('A'..='Z') {
            assert!(rh_kell(c).is_some(), "{c}");
        }
    }
}
