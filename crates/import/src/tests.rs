#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use celltrace_domain::model::{PersonKind, ProductType, Sex, SourceTissue};
use proptest::prelude::*;

const PATIENTS: &str = "\u{feff}person_id,kind,mrn,name,date_of_birth,sex,language,contact\n\
p-1,patient,MRN-1,Jane Doe,1970-01-02,female,en,+44 20 7946 0000\n\
p-2,donor,MRN-2,\"محمد, علي\",1985-12-31,male,ar,\n\
p-3,Patient,MRN-3,अनीता शर्मा,1990-06-15,Other,HI,anita@example.org\n";

fn messages(parsed: &Parsed) -> Vec<String> {
    parsed.errors.iter().map(ToString::to_string).collect()
}

#[test]
fn a_good_patients_file_becomes_one_registration_per_row() {
    let parsed = parse(Kind::Patients, PATIENTS);
    assert!(parsed.errors.is_empty(), "{:?}", messages(&parsed));
    assert_eq!(parsed.row_count, 3);
    assert_eq!(parsed.rows.iter().map(|r| r.line).collect::<Vec<_>>(), [2, 3, 4]);
    match &parsed.rows[1].command {
        Command::RegisterPerson { kind, name, sex, language, contact, .. } => {
            assert_eq!(*kind, PersonKind::Donor);
            assert_eq!(name, "محمد, علي");
            assert_eq!(*sex, Sex::Male);
            assert_eq!(*language, Language::Ar);
            assert!(contact.is_empty());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_bad_value_of_every_row_is_named_by_line_and_column() {
    let text = "person_id,kind,mrn,name,date_of_birth,sex,language\n\
p-1,patient,MRN-1,Jane,1970-01-02,female,en\n\
p 2,patient,MRN-2,John,1970-13-01,female,en\n\
p-3,alien,MRN-3,,1970-01-02,female,fr\n\
p-4,patient,MRN-4,Ann,1970-01-02,female\n\
p-5,patient,MRN-5,Bo,02/01/1970,x,en\n";
    let parsed = parse(Kind::Patients, text);
    let errors = messages(&parsed);
    assert_eq!(parsed.rows.len(), 1, "{errors:?}");
    assert_eq!(parsed.row_count, 5);
    assert_eq!(parsed.bad_lines().into_iter().collect::<Vec<_>>(), [3, 4, 5, 6]);
    let expect = [
        "line 3, column person_id",
        "line 3, column date_of_birth",
        "line 4, column kind",
        "line 4, column name",
        "line 4, column language",
        "line 5: expected 7 values",
        "line 6, column date_of_birth",
        "line 6, column sex",
    ];
    assert_eq!(errors.len(), expect.len(), "{errors:#?}");
    for (error, start) in errors.iter().zip(expect) {
        assert!(error.starts_with(start), "{error} should start with {start}");
    }
    assert!(errors[1].contains("YYYY-MM-DD"), "{}", errors[1]);
    assert!(errors[4].contains("en, ar, hi"), "{}", errors[4]);
}

#[test]
fn header_problems_are_reported_once() {
    let text = "person_id,kind,mrn,name,dob,sex,language,notes\np-1,patient,M1,A,1970-01-01,female,en,x\np-2,patient,M2,B,1970-01-01,female,en,y\n";
    let parsed = parse(Kind::Patients, text);
    let errors = messages(&parsed);
    assert!(parsed.rows.is_empty());
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(errors[0].starts_with("line 1: the header lacks the column(s) date_of_birth"), "{}", errors[0]);
    assert!(errors[1].starts_with("line 1: unknown column(s) dob, notes"), "{}", errors[1]);

    // Unknown columns alone do not stop the rows from being checked.
    let text = "person_id,kind,mrn,name,date_of_birth,sex,language,notes\np-1,patient,M1,A,1970-01-01,female,en,x\n";
    let parsed = parse(Kind::Patients, text);
    assert_eq!(parsed.errors.len(), 1);
    assert_eq!(parsed.rows.len(), 1);

    let parsed = parse(Kind::Patients, "Person ID,Kind,MRN,Name,Date of birth,Sex,Language\n");
    assert_eq!(messages(&parsed), ["line 1: the file has a header but no rows; add one row per record below it"]);
    assert!(!parse(Kind::Patients, "").errors.is_empty());
}

const UNITS_HEADER: &str = "unit_id,din,product_code,product_type,source_person,plan,tissue,quantity,quantity_unit,collected_at,expires_at\n";

#[test]
fn units_read_their_isbt_128_identifiers() {
    let din = isbt128::Din::parse("A999926000001").expect("din");
    let text = format!(
        "{UNITS_HEADER}\
u-1,A999926000001,S1001100,autologous-adipose,p-1,plan-1,adipose,60,mL,2026-01-05T09:30,2026-01-07\n\
u-2,={din}{flags},=<E0001V00,cord-blood-hpc,p-2,,cord_blood,80.5,mL,2026-01-05,2026-02-05\n",
        flags = din.check_flags()
    );
    let parsed = parse(Kind::Units, &text);
    assert!(parsed.errors.is_empty(), "{:?}", messages(&parsed));
    match &parsed.rows[1].command {
        Command::RecordCollection { collection, din, product_code, product_type, plan, tissue, quantity, .. } => {
            assert_eq!(collection.as_str(), "col-u-2");
            assert_eq!(din, "A999926000001");
            assert_eq!(product_code, "E0001V00");
            assert_eq!(*product_type, ProductType::CordBloodHpc);
            assert!(plan.is_none());
            assert_eq!(*tissue, SourceTissue::CordBlood);
            assert_eq!(quantity.milli, 80_500);
            assert_eq!(quantity.unit, "mL");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn bad_units_say_what_is_wrong_with_the_din_and_product_code() {
    let text = format!(
        "{UNITS_HEADER}\
u-1,A99992600000,S1001100,prp,p-1,plan-1,peripheral_blood,60,mL,2026-01-05,2026-01-07\n\
u-2,A999926000001Z,S100110,prp,p-1,plan-1,blood,1.2345,mL,2026-01-05,soon\n"
    );
    let parsed = parse(Kind::Units, &text);
    let errors = messages(&parsed);
    assert!(parsed.rows.is_empty());
    let columns: Vec<(u64, Option<&str>)> = parsed.errors.iter().map(|e| (e.line, e.column.as_deref())).collect();
    assert_eq!(
        columns,
        [(2, Some("din")), (3, Some("din")), (3, Some("product_code")), (3, Some("tissue")), (3, Some("quantity")), (3, Some("expires_at"))],
        "{errors:#?}"
    );
    assert!(errors[0].contains("13"), "{}", errors[0]);
    assert!(errors[1].contains("check"), "{}", errors[1]);
}

#[test]
fn answers_are_read_like_the_paper_form() {
    let text = "plan,time_point,instrument,language,item:pain,item:change,item:P1,item:P2\n\
plan-1,baseline,nprs,en,7,,,\n\
plan-1,3m,pgic,,,6,,\n\
plan-1,baseline,koos,ar,,,2,3\n";
    let parsed = parse(Kind::Answers, text);
    assert!(parsed.errors.is_empty(), "{:?}", messages(&parsed));
    // The rules score the answers (as they do for the portal and paper forms); the import reads them.
    let read: Vec<(String, Vec<(String, u8)>)> = parsed
        .rows
        .iter()
        .map(|row| match &row.command {
            Command::AnswerQuestionnaire { instrument, answers, visit, .. } => {
                assert!(visit.as_str().starts_with("q-"));
                (instrument.clone(), answers.iter().map(|(k, v)| (k.clone(), *v)).collect())
            }
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(read[0], ("nprs".to_owned(), vec![("pain".to_owned(), 7)]));
    assert_eq!(read[1], ("pgic".to_owned(), vec![("change".to_owned(), 6)]));
    assert_eq!(read[2], ("koos".to_owned(), vec![("P1".to_owned(), 2), ("P2".to_owned(), 3)]));
    // No language given: the patient's is filled in from the records.
    assert_eq!(parsed.rows.iter().map(|r| r.language_from_patient).collect::<Vec<_>>(), [false, true, false]);
    let mut row = parsed.rows[1].clone();
    assert_eq!(row.plan_needing_language().map(|p| p.as_str()), Some("plan-1"));
    row.set_patient_language(Language::Hi);
    assert!(matches!(row.command, Command::AnswerQuestionnaire { language: Language::Hi, .. }));
    assert!(row.plan_needing_language().is_none());
    assert!(!row.visit_from_file);
    row.replace_visit("visit-new".parse().expect("id"));
    assert!(matches!(&row.command, Command::AnswerQuestionnaire { visit, .. } if visit.as_str() == "visit-new"));
}

#[test]
fn bad_answers_name_the_item_column() {
    let text = "plan,time_point,instrument,item:pain,item:P1\n\
plan-1,baseline,nprs,11,\n\
plan-1,baseline,nprs,,2\n\
plan-1,baseline,sf36,3,\n\
plan-1,baseline,nprs,,\n";
    let parsed = parse(Kind::Answers, text);
    let got: Vec<(u64, Option<&str>)> = parsed.errors.iter().map(|e| (e.line, e.column.as_deref())).collect();
    assert_eq!(
        got,
        [(2, Some("item:pain")), (3, Some("item:P1")), (4, Some("instrument")), (5, Some("instrument"))],
        "{:#?}",
        messages(&parsed)
    );
    assert!(parsed.errors[0].message.contains("0, 1, 2"), "{}", parsed.errors[0]);
    let unknown = parse(Kind::Answers, "plan,time_point,instrument,item:nope\nplan-1,baseline,nprs,1\n");
    assert!(unknown.errors.iter().any(|e| e.line == 1 && e.message.contains("item:nope")), "{:?}", messages(&unknown));
}

#[test]
fn kinds_read_from_the_command_line() {
    for kind in Kind::ALL {
        assert_eq!(Kind::parse(kind.as_str()), Some(kind));
    }
    assert_eq!(Kind::parse(" Units "), Some(Kind::Units));
    assert_eq!(Kind::parse("staff"), None);
}

fn csv_like() -> impl Strategy<Value = String> {
    let cell = prop_oneof![
        Just(String::new()),
        "[a-zA-Z0-9 :.=<\\[\\]-]{0,20}",
        Just("\"quoted, value\"".to_owned()),
        Just("\"unterminated".to_owned()),
        Just("A999926000001".to_owned()),
        Just("=A99992600000160".to_owned()),
        Just("2026-01-05T09:30".to_owned()),
        Just("item:pain".to_owned()),
        "\\PC{0,8}",
    ];
    let row = prop::collection::vec(cell, 0..14).prop_map(|cells| cells.join(","));
    prop::collection::vec(row, 0..8).prop_map(|rows| rows.join("\n"))
}

proptest! {
    #[test]
    fn parsing_never_panics_on_any_text(text in "\\PC*") {
        for kind in Kind::ALL {
            let _ = parse(kind, &text);
        }
    }

    #[test]
    fn parsing_never_panics_on_csv_shaped_text(body in csv_like(), kind in 0usize..3) {
        let kind = Kind::ALL[kind];
        let header = [kind.required_columns(), kind.optional_columns()].concat().join(",");
        let text = format!("{header},item:pain,item:P1\n{body}");
        let parsed = parse(kind, &text);
        // Every row is either imported or named in an error.
        let good: std::collections::BTreeSet<u64> = parsed.rows.iter().map(|r| r.line).collect();
        prop_assert!(good.is_disjoint(&parsed.bad_lines()));
        let _ = parse(kind, &body);
    }
}
