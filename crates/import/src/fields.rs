//! Readers for single values as clinics write them: identifiers, codes,
//! dates, times, amounts and the ISBT 128 identifiers. Each error message
//! says what was found and how to write it instead.

use celltrace_domain::model::{Language, PersonKind, ProductType, Sex, SourceTissue};
use celltrace_domain::time::{Date, Timestamp};

/// Shows at most 40 characters of what was found, so one huge cell cannot flood the report.
pub(crate) fn shown(value: &str) -> String {
    let mut out: String = value.chars().take(40).collect();
    if value.chars().nth(40).is_some() {
        out.push('…');
    }
    out
}

pub(crate) fn id<T>(value: &str, parse: impl FnOnce(&str) -> Result<T, celltrace_domain::ids::IdError>) -> Result<T, String> {
    parse(value).map_err(|e| format!("'{}' cannot be an identifier: {}; use up to 64 letters, digits, '-', '_', '.' or ':'", shown(value), e.reason))
}

fn choice<T: Copy>(value: &str, options: &[(&str, T)], what: &str) -> Result<T, String> {
    let wanted = value.trim().to_ascii_lowercase().replace([' ', '_'], "-");
    options.iter().find(|(name, _)| name.replace('_', "-") == wanted).map(|(_, v)| *v).ok_or_else(|| {
        let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
        format!("'{}' is not a {what}; write one of: {}", shown(value), names.join(", "))
    })
}

pub(crate) fn person_kind(value: &str) -> Result<PersonKind, String> {
    choice(value, &[("patient", PersonKind::Patient), ("donor", PersonKind::Donor)], "kind of person")
}

pub(crate) fn sex(value: &str) -> Result<Sex, String> {
    choice(value, &[("female", Sex::Female), ("male", Sex::Male), ("other", Sex::Other), ("f", Sex::Female), ("m", Sex::Male)], "sex")
}

pub(crate) fn language(value: &str) -> Result<Language, String> {
    choice(value, &[("en", Language::En), ("ar", Language::Ar), ("hi", Language::Hi)], "language celltrace speaks")
}

pub(crate) fn product_type(value: &str) -> Result<ProductType, String> {
    let options: Vec<(&str, ProductType)> = ProductType::ALL.iter().map(|p| (p.code(), *p)).collect();
    choice(value, &options, "product type of the catalogue")
}

pub(crate) fn tissue(value: &str) -> Result<SourceTissue, String> {
    choice(
        value,
        &[
            ("adipose", SourceTissue::Adipose),
            ("bone_marrow", SourceTissue::BoneMarrow),
            ("cord_blood", SourceTissue::CordBlood),
            ("cord_tissue", SourceTissue::CordTissue),
            ("peripheral_blood", SourceTissue::PeripheralBlood),
            ("conditioned_medium", SourceTissue::ConditionedMedium),
        ],
        "source tissue",
    )
}

pub(crate) fn date(value: &str) -> Result<Date, String> {
    Date::parse(value).map_err(|_| format!("'{}' is not a date: write YYYY-MM-DD, e.g. 1984-03-27", shown(value)))
}

/// `YYYY-MM-DD`, or with a time `YYYY-MM-DDTHH:MM[:SS]` (a space instead of
/// `T` and a trailing `Z` are accepted); always UTC, as the ledger keeps time.
pub(crate) fn timestamp(value: &str) -> Result<Timestamp, String> {
    let fail = || format!("'{}' is not a date and time: write YYYY-MM-DD or YYYY-MM-DDTHH:MM in UTC, e.g. 2024-05-02T09:30", shown(value));
    let text = value.trim().trim_end_matches(['Z', 'z']);
    let (day, time) = match text.split_once(['T', 't', ' ']) {
        Some((day, time)) => (day, Some(time)),
        None => (text, None),
    };
    let day = Date::parse(day).map_err(|_| fail())?;
    let seconds = match time {
        None => 0,
        Some(time) => {
            let parts: Vec<&str> = time.split(':').collect();
            if !(2..=3).contains(&parts.len()) || parts.iter().any(|p| p.len() != 2 || !p.bytes().all(|b| b.is_ascii_digit())) {
                return Err(fail());
            }
            let number = |i: usize| parts.get(i).and_then(|p| p.parse::<i64>().ok()).unwrap_or(0);
            let (h, m, s) = (number(0), number(1), number(2));
            if h > 23 || m > 59 || s > 59 {
                return Err(fail());
            }
            h * 3600 + m * 60 + s
        }
    };
    Ok(Timestamp(day.start().0 + seconds * 1_000_000))
}

/// A decimal amount with at most three decimals, kept exactly in thousandths.
pub(crate) fn milli(value: &str) -> Result<i64, String> {
    let fail = || format!("'{}' is not an amount: write a number with at most 3 decimals and a '.' as the decimal point, e.g. 60 or 12.5", shown(value));
    let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
    if whole.is_empty() && fraction.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
        || fraction.len() > 3
        || whole.len() > 12
    {
        return Err(fail());
    }
    let whole: i64 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| fail())? };
    let fraction: i64 = format!("{fraction:0<3}").parse().map_err(|_| fail())?;
    Ok(whole * 1000 + fraction)
}

/// The 13-character DIN from what a clinic has: the DIN itself, the DIN and
/// its keyboard check character (14), the DS001 content with flags (15), or the
/// scanned bar code with its `=` (16). Checks (check character, type-3 flags)
/// are verified; spaces of the eye-readable form are ignored.
pub(crate) fn din(value: &str) -> Result<String, String> {
    let compact: String = value.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase();
    // The eye-readable form prints the check character in a box or brackets.
    let compact = match (compact.find('['), compact.ends_with(']')) {
        (Some(open), true) => format!("{}{}", compact.get(..open).unwrap_or(""), compact.get(open + 1..compact.len() - 1).unwrap_or("")),
        _ => compact,
    };
    let explain = |e: isbt128::ParseError| format!("'{}' is not a valid DIN: {e}", shown(value));
    match compact.chars().count() {
        13 => isbt128::Din::parse(&compact).map(|d| d.to_string()).map_err(explain),
        14 => isbt128::parse_keyed_din(&compact).map(|k| k.din.to_string()).map_err(explain),
        15 => isbt128::DinStructure::from_content(&compact).and_then(checked_flags).map(|s| s.din().to_string()).map_err(explain),
        16 if compact.starts_with('=') => match isbt128::parse(&compact) {
            Ok(isbt128::DataStructure::Din(s)) => checked_flags(s).map(|s| s.din().to_string()).map_err(explain),
            Ok(other) => Err(format!("'{}' is an ISBT 128 {} bar code, not a DIN", shown(value), other.number())),
            Err(e) => Err(explain(e)),
        },
        n => Err(format!(
            "'{}' has {n} characters; a DIN has 13 (e.g. A999917123456), or 14 with its check character, 15 with its flags, 16 as scanned with '='",
            shown(value)
        )),
    }
}

/// Re-checks type-3 flags against the DIN, whatever path read them.
fn checked_flags(s: isbt128::DinStructure) -> Result<isbt128::DinStructure, isbt128::ParseError> {
    isbt128::DinStructure::new(s.din(), s.flags())
}

/// The 8-character product code (DS003 content), or the scanned `=<` bar code.
pub(crate) fn product_code(value: &str) -> Result<String, String> {
    let compact: String = value.trim().to_ascii_uppercase();
    let structure = if compact.starts_with("=<") {
        isbt128::parse(&compact)
    } else if compact.chars().count() == 8 {
        isbt128::parse_content(isbt128::StructureId::ProductCode, &compact)
    } else {
        return Err(format!(
            "'{}' is not an ISBT 128 product code: write its 8 characters, e.g. S1001100 (product description code, collection type, division)",
            shown(value)
        ));
    };
    match structure {
        Ok(s @ isbt128::DataStructure::ProductCode(_)) => Ok(s.content()),
        Ok(other) => Err(format!("'{}' is an ISBT 128 {} bar code, not a product code", shown(value), other.number())),
        Err(e) => Err(format!("'{}' is not a valid product code: {e}", shown(value))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_of_a_din_reads_to_the_thirteen_characters() {
        let din13 = "A999917123456";
        assert_eq!(din(din13).as_deref(), Ok(din13));
        assert_eq!(din("a999917123456").as_deref(), Ok(din13));
        assert_eq!(din("A99991712345600").as_deref(), Ok(din13));
        assert_eq!(din("=A99991712345600").as_deref(), Ok(din13));
        assert_eq!(din("A9999 17 123456").as_deref(), Ok(din13));
        let d = isbt128::Din::parse(din13).expect("din");
        let keyed = format!("{din13}{}", d.check_character());
        assert_eq!(din(&keyed).as_deref(), Ok(din13));
        let flagged = format!("={din13}{}", d.check_flags());
        assert_eq!(din(&flagged).as_deref(), Ok(din13));
        assert_eq!(din(&format!("A9999 17 123456 [{}]", d.check_character())).as_deref(), Ok(din13));
    }

    #[test]
    fn a_wrong_check_is_refused_with_the_reason() {
        let d = isbt128::Din::parse("A999917123456").expect("din");
        let wrong = if d.check_character() == 'A' { 'B' } else { 'A' };
        let e = din(&format!("A999917123456{wrong}")).expect_err("bad check character");
        assert!(e.contains("check"), "{e}");
        let wrong_flags = if d.check_flags().as_str() == "61" { "62" } else { "61" };
        let e = din(&format!("A999917123456{wrong_flags}")).expect_err("bad check flags");
        assert!(e.contains("check"), "{e}");
        assert!(din("A99991712345").expect_err("short").contains("12 characters"));
        assert!(din("=<S1001100").is_err());
    }

    #[test]
    fn product_codes_are_validated() {
        assert_eq!(product_code("s1001100").as_deref(), Ok("S1001100"));
        assert_eq!(product_code("=<S1001100").as_deref(), Ok("S1001100"));
        assert!(product_code("S100110").is_err());
        assert!(product_code("S10011!0").is_err());
    }

    #[test]
    fn amounts_and_times_read_exactly() {
        assert_eq!(milli("60"), Ok(60_000));
        assert_eq!(milli("12.5"), Ok(12_500));
        assert_eq!(milli(".25"), Ok(250));
        assert!(milli("1,5").is_err());
        assert!(milli("1.2345").is_err());
        assert!(milli("-3").is_err());
        assert!(milli(".").is_err());
        let day = timestamp("2024-05-02").expect("date");
        assert_eq!(timestamp("2024-05-02T09:30").expect("time").0 - day.0, (9 * 3600 + 30 * 60) * 1_000_000);
        assert_eq!(timestamp("2024-05-02 09:30:15Z").expect("time").0 - day.0, (9 * 3600 + 30 * 60 + 15) * 1_000_000);
        assert!(timestamp("2024-05-02T25:00").is_err());
        assert!(timestamp("02/05/2024").is_err());
    }

    #[test]
    fn choices_accept_the_catalogue_ids_and_name_them_when_wrong() {
        assert_eq!(product_type("cord-blood-hpc"), Ok(ProductType::CordBloodHpc));
        assert_eq!(product_type("Autologous Adipose"), Ok(ProductType::AutologousAdipose));
        assert!(product_type("stem cells").expect_err("unknown").contains("autologous-adipose"));
        assert_eq!(tissue("peripheral-blood"), Ok(SourceTissue::PeripheralBlood));
        assert_eq!(sex("F"), Ok(Sex::Female));
        assert!(language("fr").expect_err("unknown").contains("en, ar, hi"));
    }
}
