//! Patient-facing text in English, Arabic and Hindi. The messages live in
//! Fluent files under `locales/` (one per language and purpose), embedded at
//! build time and parsed once; this crate also owns text direction and the
//! localised writing of dates, numbers and amounts.

#![forbid(unsafe_code)]

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use std::collections::BTreeSet;
use std::sync::OnceLock;

/// A language the portal and consent documents are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Lang {
    /// English.
    En,
    /// Arabic, written right to left.
    Ar,
    /// Hindi, in Devanagari.
    Hi,
}

impl Lang {
    /// Every language, in the order the language menu lists them.
    pub const ALL: [Lang; 3] = [Lang::En, Lang::Ar, Lang::Hi];

    /// The BCP 47 code, as used in `lang` attributes and cookies.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ar => "ar",
            Lang::Hi => "hi",
        }
    }

    /// The language from its code (`en`, `ar`, `hi`, also `ar-AE` and the like).
    pub fn parse(code: &str) -> Option<Lang> {
        let primary = code.trim().split(['-', '_']).next().unwrap_or_default().to_ascii_lowercase();
        Lang::ALL.into_iter().find(|l| l.code() == primary)
    }

    /// `rtl` for Arabic, `ltr` otherwise: the value of the page's `dir`.
    pub fn dir(self) -> &'static str {
        match self {
            Lang::Ar => "rtl",
            Lang::En | Lang::Hi => "ltr",
        }
    }

    /// The language's own name, for the language menu.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Ar => "العربية",
            Lang::Hi => "हिन्दी",
        }
    }

    fn index(self) -> usize {
        match self {
            Lang::En => 0,
            Lang::Ar => 1,
            Lang::Hi => 2,
        }
    }
}

/// One message file: what it is for, and its text in each language.
struct Source {
    name: &'static str,
    text: [&'static str; 3],
}

/// Consent documents are versioned: a signed consent names the template
/// version it was read in, so old versions stay here as long as a consent
/// signed on them exists.
pub const CONSENT_TEMPLATE: &str = "celltrace-consent";
/// The consent template version new consents are signed on.
pub const CONSENT_VERSION: &str = "2026.1";

const SOURCES: [Source; 2] = [
    Source {
        name: "portal",
        text: [
            include_str!("../locales/en/portal.ftl"),
            include_str!("../locales/ar/portal.ftl"),
            include_str!("../locales/hi/portal.ftl"),
        ],
    },
    Source {
        name: "consent-2026.1",
        text: [
            include_str!("../locales/en/consent-2026.1.ftl"),
            include_str!("../locales/ar/consent-2026.1.ftl"),
            include_str!("../locales/hi/consent-2026.1.ftl"),
        ],
    },
];

/// The names of the message files, e.g. `portal`, `consent-2026.1`.
pub fn file_names() -> Vec<&'static str> {
    SOURCES.iter().map(|s| s.name).collect()
}

/// The Fluent source of one file in one language (for tests and tooling).
pub fn file_source(name: &str, lang: Lang) -> Option<&'static str> {
    SOURCES.iter().find(|s| s.name == name).map(|s| s.text[lang.index()])
}

/// Whether `version` of the consent template is shipped.
pub fn consent_version_known(version: &str) -> bool {
    SOURCES.iter().any(|s| s.name.strip_prefix("consent-") == Some(version))
}

/// A message file that does not parse: which one and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogError(pub String);

impl std::fmt::Display for CatalogError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CatalogError {}

/// Every message of every language, parsed.
pub struct Catalog {
    bundles: [FluentBundle<FluentResource>; 3],
    keys: [BTreeSet<String>; 3],
}

impl Catalog {
    /// Parses the embedded message files. A syntax error or a message
    /// defined twice is an error naming the file and language.
    pub fn load() -> Result<Catalog, CatalogError> {
        let bundle = |lang: Lang| -> Result<(FluentBundle<FluentResource>, BTreeSet<String>), CatalogError> {
            let id: unic_langid::LanguageIdentifier =
                lang.code().parse().map_err(|e| CatalogError(format!("language {}: {e:?}", lang.code())))?;
            let mut bundle = FluentBundle::new_concurrent(vec![id]);
            // Isolation marks keep Latin names and codes from reordering an
            // Arabic sentence; left-to-right text does not need them.
            bundle.set_use_isolating(lang == Lang::Ar);
            let mut keys = BTreeSet::new();
            for source in &SOURCES {
                let file = format!("locales/{}/{}.ftl", lang.code(), source.name);
                let resource = FluentResource::try_new(source.text[lang.index()].to_owned())
                    .map_err(|(_, errors)| CatalogError(format!("{file} does not parse: {errors:?}")))?;
                for entry in resource.entries() {
                    if let fluent_syntax::ast::Entry::Message(m) = entry {
                        keys.insert(m.id.name.to_owned());
                    }
                }
                bundle.add_resource(resource).map_err(|errors| CatalogError(format!("{file}: {errors:?}")))?;
            }
            Ok((bundle, keys))
        };
        let (en, en_keys) = bundle(Lang::En)?;
        let (ar, ar_keys) = bundle(Lang::Ar)?;
        let (hi, hi_keys) = bundle(Lang::Hi)?;
        Ok(Catalog { bundles: [en, ar, hi], keys: [en_keys, ar_keys, hi_keys] })
    }

    /// The catalogue shipped with celltrace, parsed once.
    pub fn shipped() -> Result<&'static Catalog, CatalogError> {
        static CATALOG: OnceLock<Result<Catalog, CatalogError>> = OnceLock::new();
        CATALOG.get_or_init(Catalog::load).as_ref().map_err(Clone::clone)
    }

    /// Every message id defined in `lang`.
    pub fn keys(&self, lang: Lang) -> &BTreeSet<String> {
        &self.keys[lang.index()]
    }

    /// Formats message `key` in `lang`. A missing message shows its key in
    /// brackets rather than failing the page: the key test catches it first.
    pub fn format(&self, lang: Lang, key: &str, args: &[(&str, Arg)]) -> String {
        let bundle = &self.bundles[lang.index()];
        let Some(pattern) = bundle.get_message(key).and_then(|m| m.value()) else {
            return format!("[{key}]");
        };
        let mut fluent_args = FluentArgs::new();
        for (name, value) in args {
            let value = match value {
                Arg::Text(text) => FluentValue::from(text.clone()),
                Arg::Number(n) => FluentValue::from(*n),
            };
            fluent_args.set(*name, value);
        }
        let mut errors = Vec::new();
        let text = bundle.format_pattern(pattern, Some(&fluent_args), &mut errors);
        if errors.is_empty() {
            text.into_owned()
        } else {
            format!("[{key}: {errors:?}]")
        }
    }
}

/// A value given to a message.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// Text, already localised where it needs to be.
    Text(String),
    /// A number, for plural selection.
    Number(f64),
}

impl From<&str> for Arg {
    fn from(text: &str) -> Arg {
        Arg::Text(text.to_owned())
    }
}

impl From<String> for Arg {
    fn from(text: String) -> Arg {
        Arg::Text(text)
    }
}

/// A language chosen for one page: what templates call to get text.
#[derive(Clone, Copy)]
pub struct Tr {
    /// The language.
    pub lang: Lang,
    catalog: &'static Catalog,
}

impl Tr {
    /// Text in `lang` from the shipped catalogue.
    pub fn new(lang: Lang) -> Result<Tr, CatalogError> {
        Ok(Tr { lang, catalog: Catalog::shipped()? })
    }

    /// A message without arguments.
    pub fn msg(&self, key: &str) -> String {
        self.catalog.format(self.lang, key, &[])
    }

    /// A message with arguments.
    pub fn msg_args(&self, key: &str, args: &[(&str, Arg)]) -> String {
        self.catalog.format(self.lang, key, args)
    }

    /// The language code, for `lang` attributes.
    pub fn code(&self) -> &'static str {
        self.lang.code()
    }

    /// The text direction, for `dir` attributes.
    pub fn dir(&self) -> &'static str {
        self.lang.dir()
    }

    /// Digits written the way readers of the language expect.
    pub fn digits(&self, text: &str) -> String {
        localise_digits(self.lang, text)
    }

    /// A calendar date, e.g. `3 March 2026`, `٣ مارس ٢٠٢٦`, `3 मार्च 2026`.
    pub fn date(&self, year: i32, month: u32, day: u32) -> String {
        let month_name = usize::try_from(month)
            .ok()
            .and_then(|m| m.checked_sub(1))
            .and_then(|i| MONTH_KEYS.get(i))
            .map(|key| self.msg(key))
            .unwrap_or_else(|| month.to_string());
        let text = self.msg_args(
            "date-long",
            &[("day", Arg::Text(day.to_string())), ("month", Arg::Text(month_name)), ("year", Arg::Text(year.to_string()))],
        );
        self.digits(&text)
    }

    /// A whole number of `currency` written with the language's grouping,
    /// e.g. `AED 25,000`, `INR 1,50,000` (Indian grouping in Hindi).
    pub fn amount(&self, currency: &str, minor_units: i64, minor_digits: u32) -> String {
        let scale = 10i64.saturating_pow(minor_digits);
        let whole = minor_units / scale.max(1);
        let grouped = group_digits(self.lang, whole);
        self.digits(&format!("{currency} {grouped}"))
    }
}

/// Month names, by message id, January first.
pub const MONTH_KEYS: [&str; 12] = [
    "month-1", "month-2", "month-3", "month-4", "month-5", "month-6", "month-7", "month-8", "month-9", "month-10", "month-11",
    "month-12",
];

/// Arabic pages use Arabic-Indic digits (٠١٢…); English and Hindi keep
/// Western digits, which is what Hindi-language clinics print today.
pub fn localise_digits(lang: Lang, text: &str) -> String {
    match lang {
        Lang::Ar => text
            .chars()
            .map(|c| match c.to_digit(10) {
                Some(d) if c.is_ascii_digit() => char::from_u32(0x0660 + d).unwrap_or(c),
                _ => c,
            })
            .collect(),
        Lang::En | Lang::Hi => text.to_owned(),
    }
}

/// Thousands grouping: 3-3-3 in English and Arabic, 3-2-2 (lakh, crore) in Hindi.
pub fn group_digits(lang: Lang, value: i64) -> String {
    let digits = value.unsigned_abs().to_string();
    let separator = match lang {
        Lang::Ar => '٬',
        Lang::En | Lang::Hi => ',',
    };
    let mut groups: Vec<&str> = Vec::new();
    let (mut rest, first) = if digits.len() > 3 { digits.split_at(digits.len() - 3) } else { ("", digits.as_str()) };
    groups.push(first);
    let size = if lang == Lang::Hi { 2 } else { 3 };
    while !rest.is_empty() {
        let cut = rest.len().saturating_sub(size);
        let (head, tail) = rest.split_at(cut);
        groups.push(tail);
        rest = head;
    }
    groups.reverse();
    let joined = groups.join(&separator.to_string());
    if value < 0 {
        format!("-{joined}")
    } else {
        joined
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_parses_and_every_language_has_the_same_messages() {
        let catalog = Catalog::load().expect("shipped messages parse");
        let en = catalog.keys(Lang::En);
        assert!(en.len() > 50, "the portal has its messages");
        for lang in [Lang::Ar, Lang::Hi] {
            let other = catalog.keys(lang);
            let missing: Vec<_> = en.difference(other).collect();
            let extra: Vec<_> = other.difference(en).collect();
            assert!(missing.is_empty(), "{} lacks {missing:?}", lang.code());
            assert!(extra.is_empty(), "{} has messages English lacks: {extra:?}", lang.code());
        }
    }

    #[test]
    fn every_message_formats_in_every_language_without_errors() {
        let catalog = Catalog::load().expect("shipped messages parse");
        let sample: Vec<(&str, Arg)> = ["name", "status", "date", "version", "trial", "site", "from", "to", "step", "test", "result", "din", "product", "condition", "route", "sessions", "cost", "language", "template", "due", "instrument", "time_point", "count", "day", "month", "year", "code", "dose", "score", "physician", "clinic", "reference"]
            .into_iter()
            .map(|n| (n, Arg::Text("x".into())))
            .collect();
        for lang in Lang::ALL {
            for key in catalog.keys(lang) {
                let text = catalog.format(lang, key, &sample);
                assert!(!text.starts_with('['), "{}: {key} does not format: {text}", lang.code());
                assert!(!text.trim().is_empty(), "{}: {key} is empty", lang.code());
            }
        }
    }

    #[test]
    fn a_missing_message_shows_its_key_instead_of_failing() {
        let tr = Tr::new(Lang::En).expect("catalogue");
        assert_eq!(tr.msg("no-such-message"), "[no-such-message]");
    }

    #[test]
    fn directions_codes_and_parsing() {
        assert_eq!(Lang::Ar.dir(), "rtl");
        assert_eq!(Lang::Hi.dir(), "ltr");
        assert_eq!(Lang::parse("ar-AE"), Some(Lang::Ar));
        assert_eq!(Lang::parse("HI"), Some(Lang::Hi));
        assert_eq!(Lang::parse("fr"), None);
        assert_eq!(Lang::parse(""), None);
    }

    #[test]
    fn dates_and_amounts_are_written_for_their_readers() {
        let en = Tr::new(Lang::En).expect("catalogue");
        let ar = Tr::new(Lang::Ar).expect("catalogue");
        let hi = Tr::new(Lang::Hi).expect("catalogue");
        assert_eq!(en.date(2026, 3, 5), "5 March 2026");
        assert_eq!(ar.date(2026, 3, 5), "\u{2068}٥\u{2069} \u{2068}مارس\u{2069} \u{2068}٢٠٢٦\u{2069}");
        assert!(hi.date(2026, 3, 5).contains("मार्च"));
        assert_eq!(en.amount("AED", 2_500_000, 2), "AED 25,000");
        assert_eq!(hi.amount("INR", 15_000_000, 2), "INR 1,50,000");
        assert_eq!(ar.amount("AED", 2_500_000, 2), "AED ٢٥٬٠٠٠");
        assert_eq!(group_digits(Lang::En, 1_234_567), "1,234,567");
        assert_eq!(group_digits(Lang::Hi, 123_456_789), "12,34,56,789");
        assert_eq!(group_digits(Lang::En, -999), "-999");
        assert_eq!(group_digits(Lang::Hi, 0), "0");
    }

    #[test]
    fn consent_versions_are_known_by_name() {
        assert!(consent_version_known(CONSENT_VERSION));
        assert!(!consent_version_known("1999.1"));
        assert!(file_names().contains(&"portal"));
        assert!(file_source("portal", Lang::Ar).is_some_and(|s| s.contains("=")));
    }
}
