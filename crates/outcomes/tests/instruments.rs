//! Shipped instruments, scoring rules with missing items, and malformed files.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use celltrace_outcomes::{
    parse_instrument, score, Direction, NotScored, Score, ScoreError, ScoringKind,
};

const NPRS: &str = include_str!("../../../data/instruments/nprs.toml");
const KOOS: &str = include_str!("../../../data/instruments/koos.toml");
const PGIC: &str = include_str!("../../../data/instruments/pgic.toml");

/// A made-up instrument shaped like the ODI (10 sections scored 0–5, sum as
/// percent of the answered sections' maximum). The ODI itself is licensed and
/// not shipped.
const ODI_SHAPED: &str = r#"
id = "made-up-disability"
name = "Made-up disability index (ODI-shaped, for tests)"
version = "test"
scoring = "sum_as_percent"
licence = "Invented for tests; no third-party content."
min_answered = 8
mcid = { value = 10.0, direction = "lower_is_better" }

[option_sets]
zero_to_five = [
  { value = 0, label = "none" }, { value = 1, label = "1" }, { value = 2, label = "2" },
  { value = 3, label = "3" }, { value = 4, label = "4" }, { value = 5, label = "worst" },
]

[[subscales]]
id = "first_half"
name = "Sections 1-5"
items = ["s1", "s2", "s3", "s4", "s5"]

[[items]]
id = "s1"
text = "Section 1"
option_set = "zero_to_five"
[[items]]
id = "s2"
text = "Section 2"
option_set = "zero_to_five"
[[items]]
id = "s3"
text = "Section 3"
option_set = "zero_to_five"
[[items]]
id = "s4"
text = "Section 4"
option_set = "zero_to_five"
[[items]]
id = "s5"
text = "Section 5"
option_set = "zero_to_five"
[[items]]
id = "s6"
text = "Section 6"
option_set = "zero_to_five"
[[items]]
id = "s7"
text = "Section 7"
option_set = "zero_to_five"
[[items]]
id = "s8"
text = "Section 8"
option_set = "zero_to_five"
[[items]]
id = "s9"
text = "Section 9"
option_set = "zero_to_five"
[[items]]
id = "s10"
text = "Section 10"
option_set = "zero_to_five"
"#;

fn answers(pairs: &[(&str, u8)]) -> BTreeMap<String, u8> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
}

fn assert_close(got: Option<f64>, want: f64) {
    let got = got.unwrap_or_else(|| panic!("expected a score of {want}, got none"));
    assert!((got - want).abs() < 1e-9, "got {got}, want {want}");
}

// --- NPRS -----------------------------------------------------------------

#[test]
fn nprs_definition() {
    let i = parse_instrument(NPRS).unwrap();
    assert_eq!(i.id, "nprs");
    assert_eq!(i.scoring, ScoringKind::SingleItem);
    assert_eq!(i.items.len(), 1);
    let values: Vec<u8> = i.items[0].options.iter().map(|o| o.value).collect();
    assert_eq!(values, (0..=10).collect::<Vec<u8>>());
    let mcid = i.mcid.unwrap();
    assert_eq!(
        (mcid.value, mcid.direction),
        (2.0, Direction::LowerIsBetter)
    );
    assert_eq!(i.loinc_score.as_deref(), Some("72514-3"));
    assert!(i.items[0].text_ar.is_some() && i.items[0].text_hi.is_some());
}

#[test]
fn nprs_scores_the_item_value() {
    let i = parse_instrument(NPRS).unwrap();
    for v in 0..=10u8 {
        let s = score(&i, &answers(&[("pain", v)])).unwrap();
        assert_close(s.total.value(), f64::from(v));
    }
    let none = score(&i, &BTreeMap::new()).unwrap();
    assert_eq!(
        none.total,
        Score::NotScored(NotScored::TooFewAnswered {
            answered: 0,
            required: 1,
            items: 1
        })
    );
}

#[test]
fn nprs_rejects_out_of_range_and_unknown_items() {
    let i = parse_instrument(NPRS).unwrap();
    let err = score(&i, &answers(&[("pain", 11)])).unwrap_err();
    assert_eq!(
        err,
        ScoreError::NotAnOption {
            item: "pain".into(),
            value: 11,
            allowed: (0..=10).collect()
        }
    );
    let err = score(&i, &answers(&[("pain", 3), ("mood", 1)])).unwrap_err();
    assert_eq!(
        err,
        ScoreError::UnknownItem {
            instrument: "nprs".into(),
            item: "mood".into()
        }
    );
    assert!(err.to_string().contains("mood"));
}

// --- KOOS -----------------------------------------------------------------

fn koos_all(value: u8) -> BTreeMap<String, u8> {
    let i = parse_instrument(KOOS).unwrap();
    i.items.iter().map(|it| (it.id.clone(), value)).collect()
}

#[test]
fn koos_has_five_subscales_with_their_item_counts() {
    let i = parse_instrument(KOOS).unwrap();
    assert_eq!(i.items.len(), 42);
    let counts: Vec<(&str, usize)> = i
        .subscales
        .iter()
        .map(|s| (s.id.as_str(), s.items.len()))
        .collect();
    assert_eq!(
        counts,
        [
            ("pain", 9),
            ("symptoms", 7),
            ("adl", 17),
            ("sport_rec", 5),
            ("qol", 4)
        ]
    );
    assert!(i
        .subscales
        .iter()
        .all(|s| s.mcid.map(|m| m.direction) == Some(Direction::HigherIsBetter)));
    assert!(i.licence.contains("NOT contain"));
    assert_eq!(
        i.subscale("symptoms").unwrap().loinc.as_deref(),
        Some("72101-9")
    );
}

#[test]
fn koos_subscale_is_100_minus_25_times_mean() {
    let i = parse_instrument(KOOS).unwrap();
    for (v, want) in [(0u8, 100.0), (1, 75.0), (2, 50.0), (3, 25.0), (4, 0.0)] {
        let s = score(&i, &koos_all(v)).unwrap();
        assert_eq!(s.total, Score::NotScored(NotScored::NoTotalDefined));
        assert_eq!(s.subscales.len(), 5);
        for sub in s.subscales.values() {
            assert_close(sub.value(), want);
        }
    }
    // Mixed answers: Pain P1..P9 = 0,1,2,3,4,0,1,2,3 → mean 16/9.
    let mut a = BTreeMap::new();
    for (k, v) in [0u8, 1, 2, 3, 4, 0, 1, 2, 3].iter().enumerate() {
        a.insert(format!("P{}", k + 1), *v);
    }
    let s = score(&i, &a).unwrap();
    assert_close(s.subscales["pain"].value(), 100.0 - 25.0 * 16.0 / 9.0);
    assert!(matches!(
        s.subscales["adl"],
        Score::NotScored(NotScored::TooFewAnswered { answered: 0, .. })
    ));
}

#[test]
fn koos_qol_with_exactly_half_missing_is_scored() {
    let i = parse_instrument(KOOS).unwrap();
    // QOL has 4 items: 2 answered = exactly half missing → scored (2012 rule).
    let s = score(&i, &answers(&[("Q1", 1), ("Q3", 2)])).unwrap();
    assert_eq!(
        s.subscales["qol"],
        Score::Scored {
            value: 62.5,
            answered: 2,
            items: 4
        }
    );
}

#[test]
fn koos_qol_with_more_than_half_missing_is_not_scored() {
    let i = parse_instrument(KOOS).unwrap();
    let s = score(&i, &answers(&[("Q1", 1)])).unwrap();
    assert_eq!(
        s.subscales["qol"],
        Score::NotScored(NotScored::TooFewAnswered {
            answered: 1,
            required: 2,
            items: 4
        })
    );
}

#[test]
fn koos_odd_sized_subscales_need_at_least_half_answered() {
    let i = parse_instrument(KOOS).unwrap();
    // Required answered items per the 2012 rule: Pain 5, Symptoms 4, ADL 9, Sport/Rec 3, QOL 2.
    for (sub, prefix, required, n) in [
        ("pain", "P", 5usize, 9usize),
        ("symptoms", "S", 4, 7),
        ("adl", "A", 9, 17),
        ("sport_rec", "SP", 3, 5),
        ("qol", "Q", 2, 4),
    ] {
        let enough: BTreeMap<String, u8> = (1..=required)
            .map(|k| (format!("{prefix}{k}"), 2))
            .collect();
        let s = score(&i, &enough).unwrap();
        assert_eq!(
            s.subscales[sub],
            Score::Scored {
                value: 50.0,
                answered: required,
                items: n
            },
            "{sub}"
        );
        let short: BTreeMap<String, u8> =
            (1..required).map(|k| (format!("{prefix}{k}"), 2)).collect();
        let s = score(&i, &short).unwrap();
        assert_eq!(
            s.subscales[sub],
            Score::NotScored(NotScored::TooFewAnswered {
                answered: required - 1,
                required,
                items: n
            }),
            "{sub}"
        );
    }
}

#[test]
fn koos_rejects_values_above_4() {
    let i = parse_instrument(KOOS).unwrap();
    let err = score(&i, &answers(&[("A3", 5)])).unwrap_err();
    assert!(matches!(err, ScoreError::NotAnOption { ref item, value: 5, .. } if item == "A3"));
}

// --- PGIC -----------------------------------------------------------------

#[test]
fn pgic_scores_one_to_seven() {
    let i = parse_instrument(PGIC).unwrap();
    assert_eq!(i.scoring, ScoringKind::GlobalChange);
    assert!(i.mcid.is_none());
    for v in 1..=7u8 {
        assert_close(
            score(&i, &answers(&[("change", v)])).unwrap().total.value(),
            f64::from(v),
        );
    }
    assert!(score(&i, &answers(&[("change", 0)])).is_err());
    assert!(score(&i, &answers(&[("change", 8)])).is_err());
    assert!(score(&i, &BTreeMap::new()).unwrap().total.value().is_none());
}

// --- ODI-shaped sum_as_percent -------------------------------------------

#[test]
fn odi_shaped_all_answered() {
    let i = parse_instrument(ODI_SHAPED).unwrap();
    // 16 of 50 → 32 %.
    let a = answers(&[
        ("s1", 3),
        ("s2", 1),
        ("s3", 2),
        ("s4", 2),
        ("s5", 0),
        ("s6", 3),
        ("s7", 1),
        ("s8", 2),
        ("s9", 1),
        ("s10", 1),
    ]);
    let s = score(&i, &a).unwrap();
    assert_eq!(
        s.total,
        Score::Scored {
            value: 32.0,
            answered: 10,
            items: 10
        }
    );
    // Subscale: 8 of 25.
    assert_close(s.subscales["first_half"].value(), 32.0);
}

#[test]
fn odi_shaped_one_section_missing_uses_answered_sections_only() {
    let i = parse_instrument(ODI_SHAPED).unwrap();
    // 16 of 45 → 35.56 %.
    let a = answers(&[
        ("s1", 3),
        ("s2", 1),
        ("s3", 2),
        ("s4", 2),
        ("s5", 0),
        ("s6", 3),
        ("s7", 2),
        ("s9", 2),
        ("s10", 1),
    ]);
    let s = score(&i, &a).unwrap();
    assert_close(s.total.value(), 16.0 / 45.0 * 100.0);
    assert!(matches!(
        s.total,
        Score::Scored {
            answered: 9,
            items: 10,
            ..
        }
    ));
}

#[test]
fn odi_shaped_min_answered_rule() {
    let i = parse_instrument(ODI_SHAPED).unwrap();
    let eight: BTreeMap<String, u8> = (1..=8).map(|k| (format!("s{k}"), 5)).collect();
    assert_close(score(&i, &eight).unwrap().total.value(), 100.0);
    let seven: BTreeMap<String, u8> = (1..=7).map(|k| (format!("s{k}"), 5)).collect();
    assert_eq!(
        score(&i, &seven).unwrap().total,
        Score::NotScored(NotScored::TooFewAnswered {
            answered: 7,
            required: 8,
            items: 10
        })
    );
    assert!(score(&i, &answers(&[("s1", 6)])).is_err());
}

// --- Malformed files ------------------------------------------------------

fn error_of(text: &str) -> celltrace_outcomes::InstrumentError {
    parse_instrument(text).expect_err("should be refused")
}

const GOOD_HEAD: &str =
    "id = \"x\"\nname = \"X\"\nversion = \"1\"\nscoring = \"single_item\"\nlicence = \"test\"\n";

#[test]
fn malformed_toml_syntax_names_the_line() {
    let e = error_of("id = \"x\"\nname = \"X\nversion = \"1\"\n");
    assert_eq!(e.line, 2, "{e}");
}

#[test]
fn missing_field_is_named() {
    let e = error_of("id = \"x\"\nname = \"X\"\nscoring = \"single_item\"\nlicence = \"l\"\n[[items]]\nid = \"a\"\ntext = \"A\"\noptions = [{ value = 0, label = \"0\" }]\n");
    assert_eq!(e.field, "version", "{e}");
    assert!(e.message.contains("missing field"), "{e}");
}

#[test]
fn unknown_scoring_kind_names_line_and_field() {
    let text = GOOD_HEAD.replace("single_item", "median")
        + "[[items]]\nid = \"a\"\ntext = \"A\"\noptions = [{ value = 0, label = \"0\" }]\n";
    let e = error_of(&text);
    assert_eq!((e.line, e.field.as_str()), (4, "scoring"), "{e}");
}

#[test]
fn option_value_out_of_range_names_line_and_field() {
    let text = format!("{GOOD_HEAD}\n[[items]]\nid = \"a\"\ntext = \"A\"\noptions = [\n  {{ value = 0, label = \"0\" }},\n  {{ value = 300, label = \"too big\" }},\n]\n");
    let e = error_of(&text);
    assert_eq!(
        (e.line, e.field.as_str()),
        (12, "items[0].options[1].value"),
        "{e}"
    );
}

#[test]
fn unknown_field_is_named() {
    let text = format!("{GOOD_HEAD}\n[[items]]\nid = \"a\"\ntxet = \"A\"\noptions = [{{ value = 0, label = \"0\" }}]\n");
    let e = error_of(&text);
    assert_eq!((e.line, e.field.as_str()), (9, "items[0].txet"), "{e}");
}

#[test]
fn duplicate_item_id_names_the_second_one() {
    let text = format!(
        "{GOOD_HEAD}\n[[items]]\nid = \"a\"\ntext = \"A\"\noptions = [{{ value = 0, label = \"0\" }}]\n\n[[items]]\nid = \"a\"\ntext = \"B\"\noptions = [{{ value = 0, label = \"0\" }}]\n"
    );
    let e = error_of(&text);
    assert_eq!((e.line, e.field.as_str()), (13, "items[1].id"), "{e}");
}

#[test]
fn subscale_naming_unknown_item_is_located() {
    let text = KOOS.replacen("\"P9\"]", "\"P99\"]", 1);
    let e = error_of(&text);
    let line = KOOS.lines().position(|l| l.contains("\"P9\"]")).unwrap() + 1;
    assert_eq!(
        (e.line, e.field.as_str()),
        (line, "subscales[0].items[8]"),
        "{e}"
    );
    assert!(e.message.contains("P99"));
}

#[test]
fn duplicate_option_value_and_missing_option_set() {
    let text = format!("{GOOD_HEAD}\n[[items]]\nid = \"a\"\ntext = \"A\"\noptions = [{{ value = 1, label = \"x\" }}, {{ value = 1, label = \"y\" }}]\n");
    let e = error_of(&text);
    assert_eq!(
        (e.line, e.field.as_str()),
        (10, "items[0].options[1].value"),
        "{e}"
    );

    let text = format!("{GOOD_HEAD}\n[[items]]\nid = \"a\"\ntext = \"A\"\noption_set = \"nope\"\n");
    let e = error_of(&text);
    assert_eq!(
        (e.line, e.field.as_str()),
        (10, "items[0].option_set"),
        "{e}"
    );
}

#[test]
fn scoring_kind_must_fit_items() {
    let text = format!(
        "{GOOD_HEAD}\n[[items]]\nid = \"a\"\ntext = \"A\"\noptions = [{{ value = 0, label = \"0\" }}]\n[[items]]\nid = \"b\"\ntext = \"B\"\noptions = [{{ value = 0, label = \"0\" }}]\n"
    );
    let e = error_of(&text);
    assert_eq!((e.line, e.field.as_str()), (4, "scoring"), "{e}");
    let koos_out_of_range = KOOS.replacen(
        "{ value = 4, label = \"4 (extreme problems)\" }",
        "{ value = 5, label = \"5\" }",
        1,
    );
    assert!(parse_instrument(&koos_out_of_range).is_err());
}

#[test]
fn bad_mcid_is_located() {
    let text = NPRS.replacen("value = 2.0", "value = -2.0", 1);
    let e = error_of(&text);
    let line = NPRS
        .lines()
        .position(|l| l.trim() == "value = 2.0")
        .unwrap()
        + 1;
    assert_eq!((e.line, e.field.as_str()), (line, "mcid.value"), "{e}");
    let text = NPRS.replacen("lower_is_better", "sideways", 1);
    let e = error_of(&text);
    assert!(e.field.contains("direction"), "{e}");
}

#[test]
fn error_display_names_line_and_field() {
    let e = error_of("id = 3\n");
    let shown = e.to_string();
    assert!(
        shown.contains("line 1") && shown.contains("`id`"),
        "{shown}"
    );
}
