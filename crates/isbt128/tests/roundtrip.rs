//! Property tests: for every data structure, a generated valid value encodes,
//! parses back to the same value and re-encodes to the same text, in both
//! the bar-code form and the data-content-only form; concatenated scans and
//! compound messages round-trip; and arbitrary input never panics.

use isbt128::date::{days_in_year, year_from_century_digit};
use isbt128::{
    parse, parse_content, parse_keyed_din, parse_scan, CompoundMessage, DataStructure, Date, Din,
    DinStructure, Flags, Grid, StructureId as Id, Time,
};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

const FIN: &str = "[A-NP-Z1-9][A-NP-Z0-9]{2}[0-9]{2}";
const FINP: &str = "[A-NP-Z0-9]{5}";

fn re(pattern: &str) -> BoxedStrategy<String> {
    proptest::string::string_regex(pattern)
        .map(|s| s.boxed())
        .unwrap_or_else(|e| panic!("bad regex {pattern}: {e}"))
}

fn roundtrip(id: Id, content: &str) -> Result<DataStructure, TestCaseError> {
    let text = if id == Id::Din {
        format!("={content}")
    } else {
        format!("{}{content}", id.data_identifier())
    };
    let s = parse(&text).map_err(|e| TestCaseError::fail(format!("{text:?}: {e}")))?;
    prop_assert_eq!(s.id(), id);
    prop_assert_eq!(s.number(), id.number());
    prop_assert_eq!(&s.encode(), &text);
    prop_assert_eq!(s.content(), content);
    let again = parse(&s.encode());
    prop_assert_eq!(again.as_ref(), Ok(&s));
    let c =
        parse_content(id, content).map_err(|e| TestCaseError::fail(format!("{content:?}: {e}")))?;
    prop_assert_eq!(&c, &s);
    prop_assert!(!s.fields().is_empty());
    Ok(s)
}

fn date_strategy() -> impl Strategy<Value = Date> {
    (0u16..=9999, 1u16..=366).prop_map(|(y, o)| {
        let o = o.min(days_in_year(y));
        Date::from_ordinal(y, o).unwrap_or(Date::new(2000, 1, 1).unwrap_or_else(|| unreachable!()))
    })
}

fn ymd(d: Date) -> String {
    format!("{:04}{:02}{:02}", d.year(), d.month(), d.day())
}

fn cyyjjj() -> impl Strategy<Value = String> {
    (0u8..=9, 0u8..=99, 1u16..=366).prop_map(|(c, yy, j)| {
        let j = j.min(days_in_year(year_from_century_digit(c, yy)));
        format!("{c}{yy:02}{j:03}")
    })
}

fn hhmm() -> impl Strategy<Value = String> {
    (0u8..=23, 0u8..=59).prop_map(|(h, m)| format!("{h:02}{m:02}"))
}

fn din() -> impl Strategy<Value = Din> {
    (FIN, 0u8..=99, 0u32..=999_999)
        .prop_map(|(f, y, s)| Din::new(&f, y, s).unwrap_or_else(|e| unreachable!("{e}")))
}

fn din_structure() -> impl Strategy<Value = DinStructure> {
    (din(), "[0-9A-HJ-NPR-Y]{2}", any::<bool>()).prop_map(|(d, f, check)| {
        let flags = Flags::new(&f).unwrap_or(Flags::NONE);
        if check || DinStructure::new(d, flags).is_err() {
            DinStructure::with_check_flags(d)
        } else {
            DinStructure::new(d, flags).unwrap_or(DinStructure::without_flags(d))
        }
    })
}

fn product_code() -> impl Strategy<Value = String> {
    prop_oneof![
        "[EFHSPY][A-Z0-9]{4}[A-Za-z0-9][A-Z0-9][a-z0-9]",
        "X0[A-Z0-9]{3}[A-Za-z0-9][A-Z0-9][a-z0-9]",
        "[MNRTVW][A-Z0-9]{4}[0-9]{3}",
        "X[1-9][A-Z0-9]{3}000",
        "[A-D][A-Z0-9]{4}[A-Za-z0-9][A-Z0-9][a-z0-9]",
        "S[0-9]{4}[A0-9478]99",
    ]
}

fn rbc() -> impl Strategy<Value = String> {
    prop_oneof![
        "9[0-9]{15}[0-9]{2}",
        "[0-8][0-9]{12}[0369][09][0129][0-9]{2}"
    ]
}

fn patient_id() -> impl Strategy<Value = String> {
    ("[0-9]{2}", "[A-Za-z0-9]{0,30}").prop_map(|(loc, id)| format!("{loc}{:02}{id}", id.len()))
}

fn dimensions() -> impl Strategy<Value = String> {
    prop::collection::vec("[0-9]{11}[0-5]00", 0..5)
        .prop_map(|segs| format!("{:02}{}", segs.len(), segs.concat()))
}

fn antigen_history() -> impl Strategy<Value = String> {
    prop::collection::vec("[0-9]{10}", 0..5)
        .prop_map(|segs| format!("{:03}{}", segs.len(), segs.concat()))
}

fn flexible() -> impl Strategy<Value = String> {
    ("[12]0[0-9]{2}", date_strategy(), hhmm()).prop_map(|(h, d, t)| format!("{h}{}{t}", ymd(d)))
}

fn sec() -> impl Strategy<Value = String> {
    let expiry = prop_oneof![Just("00000000".to_owned()), date_strategy().prop_map(ymd),];
    let product = prop_oneof![
        "A00[A-Z][A-Z0-9]{4}[A-Za-z0-9]{3}",
        "[BE][A-Za-z0-9]{7}[A-Za-z0-9]{3}",
    ];
    ("[A-Z]{2}[A-Za-z0-9]{19}", product, expiry).prop_map(|(a, b, c)| format!("{a}{b}{c}"))
}

/// Any ICCBBA structure except compound messages, as (id, content).
fn any_simple() -> BoxedStrategy<(Id, String)> {
    prop_oneof![
        din_structure().prop_map(|d| (Id::Din, d.content())),
        "[A-Za-z0-9]{2}[A-Z0-9]0".prop_map(|c| (Id::BloodGroups, c)),
        product_code().prop_map(|c| (Id::ProductCode, c)),
        cyyjjj().prop_map(|c| (Id::ExpirationDate, c)),
        (cyyjjj(), hhmm()).prop_map(|(a, b)| (Id::ExpirationDateTime, a + &b)),
        "[A-Z0-9]{5}".prop_map(|c| (Id::SpecialTestingGeneral, c)),
        rbc().prop_map(|c| (Id::RbcAntigensGeneral, c)),
        "[A-Za-z0-9][A-Z0-9]{2}[A-Za-z0-9]{7}".prop_map(|c| (Id::ContainerCatalog, c)),
        patient_id().prop_map(|c| (Id::PatientId, c)),
        "[0-8]{12}0{6}".prop_map(|c| (Id::InfectionMarkers, c)),
        dimensions().prop_map(|c| (Id::Dimensions, c)),
        "[A-Z0-9]{6}".prop_map(|c| (Id::ProductDivisions, c)),
        re(&format!("{FINP}[A-Z0-9]{{11}}")).prop_map(|c| (Id::Ppic, c)),
        "[A-Z0-9]{18}".prop_map(|c| (Id::MphoLot, c)),
        sec().prop_map(|c| (Id::Sec, c)),
        re(&format!("CH{FIN}[0-9]{{2}}[A-Z0-9]{{6}}")).prop_map(|c| (Id::ChainOfIdentity, c)),
    ]
    .boxed()
}

macro_rules! roundtrip_tests {
    ($($name:ident: $id:expr => $strategy:expr;)*) => {
        proptest! {
            #![proptest_config(ProptestConfig::with_cases(96))]
            $(
                #[test]
                fn $name(content in $strategy) {
                    roundtrip($id, &content)?;
                }
            )*
        }
    };
}

roundtrip_tests! {
    ds001_din: Id::Din => din_structure().prop_map(|d| d.content());
    ds002_blood_groups: Id::BloodGroups => "[A-Za-z0-9]{2}[A-Z0-9]0";
    ds003_product_code: Id::ProductCode => product_code();
    ds004_expiration_date: Id::ExpirationDate => cyyjjj();
    ds005_expiration_date_time: Id::ExpirationDateTime => (cyyjjj(), hhmm()).prop_map(|(a, b)| a + &b);
    ds006_collection_date: Id::CollectionDate => cyyjjj();
    ds007_collection_date_time: Id::CollectionDateTime => (cyyjjj(), hhmm()).prop_map(|(a, b)| a + &b);
    ds008_production_date: Id::ProductionDate => cyyjjj();
    ds009_production_date_time: Id::ProductionDateTime => (cyyjjj(), hhmm()).prop_map(|(a, b)| a + &b);
    ds010_special_testing: Id::SpecialTestingGeneral => "[A-Z0-9]{5}";
    ds011_rbc_retired: Id::RbcAntigensRetired => rbc();
    ds012_rbc_general: Id::RbcAntigensGeneral => rbc();
    ds013_rbc_finnish: Id::RbcAntigensFinnish => rbc();
    ds014_platelet: Id::PlateletHlaAntigens => "[0-9]{16}0[0-9]";
    ds015_hla_ab: Id::HlaABRetired => "[0-9]{17}9";
    ds016_hla_drb1: Id::HlaDrb1Retired => "[0-9]{8}9{10}";
    ds017_container_catalog: Id::ContainerCatalog => "[A-Za-z0-9][A-Z0-9]{2}[A-Za-z0-9]{7}";
    ds018_container_lot: Id::ContainerLot => "[A-Za-z0-9]{10}";
    ds019_donor_id: Id::DonorId => re(&format!("{FIN}[0-9]{{16}}"));
    ds020_staff_id: Id::StaffId => re(&format!("{FIN}[A-Z0-9]{{6}}"));
    ds021_item_catalog: Id::ItemCatalog => "[A-Z0-9]{2}[A-Za-z0-9]{8}";
    ds022_item_lot: Id::ItemLot => "[A-Za-z0-9]{10}";
    ds024_patient_birth_date: Id::PatientBirthDate => ("[0-9]{2}", date_strategy()).prop_map(|(l, d)| l + &ymd(d));
    ds025_patient_id: Id::PatientId => patient_id();
    ds026_expiration_month: Id::ExpirationMonth => "[0-9]{4}(0[1-9]|1[0-2])";
    ds027_infection_markers: Id::InfectionMarkers => "[0-8]{12}0{6}";
    ds028_consignment: Id::Consignment => re(&format!("{FIN}[0-9]{{11}}"));
    ds029_dimensions: Id::Dimensions => dimensions();
    ds030_antigen_history: Id::RedCellAntigenHistory => antigen_history();
    ds031_flexible: Id::FlexibleDateTime => flexible();
    ds032_divisions: Id::ProductDivisions => "[A-Z0-9]{6}";
    ds033_processing_facility: Id::ProcessingFacility => re(&format!("{FINP}[A-Z0-9]{{6}}"));
    ds034_ppic: Id::Ppic => re(&format!("{FINP}[A-Z0-9]{{11}}"));
    ds035_mpho_lot: Id::MphoLot => "[A-Z0-9]{18}";
    ds036_mpho_supplemental: Id::MphoSupplementalId => "[A-Z0-9]{18}";
    ds037_grid_retired: Id::GridRetired => "[1-9][0-9]{3}[A-Z0-9]{15}";
    ds038_sec: Id::Sec => sec();
    ds039_grid: Id::Grid => ("[1-9][0-9]{3}", "[A-Z0-9]{13}").prop_map(|(i, r)| Grid::new(&i, &r).map(|g| g.content().to_owned()).unwrap_or_default());
    ds040_chain_of_identity: Id::ChainOfIdentity => re(&format!("CH{FIN}[0-9]{{2}}[A-Z0-9]{{6}}"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn ds023_compound_message(parts in prop::collection::vec(any_simple(), 1..6)) {
        let structures: Vec<DataStructure> = parts
            .iter()
            .map(|(id, c)| parse_content(*id, c))
            .collect::<Result<_, _>>()
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let msg = CompoundMessage::new(0, structures.clone()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let text = msg.encode();
        let s = parse(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        prop_assert_eq!(s.encode(), text.clone());
        let DataStructure::CompoundMessage(back) = s else {
            return Err(TestCaseError::fail("not a compound message"));
        };
        prop_assert_eq!(back.structures(), &structures[..]);
        // One structure fewer than declared is a count error.
        let short = text.replacen(&format!("=+{:02}", structures.len()), &format!("=+{:02}", structures.len() + 1), 1);
        let is_count_error = matches!(parse(&short).map_err(|e| e.kind().clone()), Err(isbt128::ErrorKind::CompoundCount { .. }));
        prop_assert!(is_count_error);
    }

    #[test]
    fn national_structures(di in "&[a-z;!]", content in "[ -~]{1,30}") {
        let text = format!("{di}{content}");
        let s = parse(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        prop_assert!(!s.id().is_iccbba());
        prop_assert_eq!(s.encode(), text);
    }

    #[test]
    fn concatenated_scans(parts in prop::collection::vec(any_simple(), 1..5), prefix in prop_oneof![Just(""), Just("]C4"), Just("]C0"), Just("]d1")]) {
        let mut text = prefix.to_owned();
        for (id, c) in &parts {
            text.push_str(&parse_content(*id, c).map_err(|e| TestCaseError::fail(e.to_string()))?.encode());
        }
        let scan = parse_scan(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        prop_assert_eq!(scan.structures.len(), parts.len());
        prop_assert_eq!(scan.encode(), text);
    }

    #[test]
    fn din_builder_and_keyed_forms(d in din()) {
        let k = d.check_character();
        prop_assert!(isbt128::verify(&d.with_check_character()).is_ok());
        let keyed = parse_keyed_din(&d.with_check_character()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(keyed.din, d);
        prop_assert_eq!(keyed.check_character, Some(k));
        prop_assert_eq!(Din::parse(&d.to_string()), Ok(d));
        let bar = DinStructure::with_check_flags(d).encode();
        prop_assert_eq!(parse(&bar).map(|s| s.encode()), Ok(bar));
        let text = d.eye_readable();
        prop_assert_eq!(text.check_character, k);
        prop_assert_eq!(format!("{}{}{}", text.fin, text.year, text.sequence), d.to_string());
    }

    #[test]
    fn any_single_substitution_in_a_keyed_din_is_detected(d in din(), pos in 0usize..14, c in "[0-9A-Z*]") {
        let good = d.with_check_character();
        let mut chars: Vec<char> = good.chars().collect();
        let Some(slot) = chars.get_mut(pos) else { return Ok(()); };
        let c = c.chars().next().unwrap_or('0');
        prop_assume!(*slot != c);
        *slot = c;
        let bad: String = chars.into_iter().collect();
        prop_assert!(parse_keyed_din(&bad).is_err(), "{} accepted", bad);
    }

    #[test]
    fn type3_flag_mismatch_is_rejected(d in din(), v in 60u8..=96) {
        let flags = format!("{v:02}");
        let text = format!("={d}{flags}");
        let ok = d.check_flags().as_str() == flags;
        prop_assert_eq!(parse(&text).is_ok(), ok);
    }

    #[test]
    fn date_constructors(d in date_strategy().prop_filter("1900-2099", |d| (1900..=2099).contains(&d.year())), h in 0u8..24, m in 0u8..60) {
        let t = Time::new(h, m);
        let e = isbt128::ExpirationDateTime::new(d, t).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(e.date(), d);
        prop_assert_eq!(e.time(), t);
        let e = isbt128::CollectionDate::new(d, None).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(e.date(), d);
        prop_assert_eq!(e.time(), None);
    }

    #[test]
    fn arbitrary_strings_never_panic(s in "\\PC{0,80}") {
        exercise(&s);
    }

    #[test]
    fn isbt_like_strings_never_panic(s in "(\\]C4)?[=&][ -~]{0,90}") {
        exercise(&s);
    }
}

fn exercise(s: &str) {
    if let Ok(x) = parse(s) {
        assert_eq!(x.encode(), s);
        let _ = x.fields();
        let _ = x.eye_readable();
    } else if let Err(e) = parse(s) {
        assert!(e.position() <= s.len());
        assert!(!e.to_string().is_empty());
    }
    if let Ok(scan) = parse_scan(s) {
        assert_eq!(scan.encode(), s);
    }
    for id in Id::ALL {
        if let Ok(x) = parse_content(*id, s) {
            assert_eq!(x.content(), s);
        }
    }
    let _ = parse_keyed_din(s);
    let _ = isbt128::check_character(s);
    let _ = isbt128::verify(s);
    let _ = isbt128::BasicUdiDi::parse(s);
    let _ = isbt128::SecText::parse(s);
    let _ = isbt128::SecProductIdentification::parse(s);
    let _ = isbt128::Fin::new(s);
}
