//! `celltrace import` against the real binary on each backend: good files
//! are recorded and verify; a file with bad rows records nothing and names
//! every bad row by line and column; a dry run records nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use celltrace_domain::model::{Person, Plan, Unit};
use celltrace_store::{Database, Engine};
use celltrace_testkit::{clinic, now, released_unit, TestDb, SITE};
use common::{celltrace, text};
use std::path::{Path, PathBuf};

const PATIENTS: &str = "person_id,kind,mrn,name,date_of_birth,sex,language,contact\n\
p-1,patient,MRN-1,Jane Doe,1970-01-02,female,en,+44 20 7946 0000\n\
p-2,patient,MRN-2,\"علي, محمد\",1985-12-31,male,ar,\n\
d-1,donor,MRN-D1,अनीता शर्मा,1990-06-15,female,hi,\n";

/// Rows 3, 5 and 6 are bad (4 is good); line 6 twice.
const BAD_PATIENTS: &str = "person_id,kind,mrn,name,date_of_birth,sex,language\n\
p-10,patient,MRN-10,Good Row,1970-01-02,female,en\n\
p-11,patient,MRN-11,Bad Date,1970-02-30,female,en\n\
p-12,patient,MRN-12,Good Row,1970-01-02,male,en\n\
p 13,patient,MRN-13,Bad Id,1970-01-02,female,en\n\
p-14,martian,MRN-14,Bad Kind,1970-01-02,female,fr\n";

fn write(db: &TestDb, name: &str, contents: &str) -> PathBuf {
    let path = db.dir.path().join(name);
    std::fs::write(&path, contents).expect("write csv");
    path
}

async fn engine(db: &TestDb) -> Engine {
    let database = Database::open(&db.url).await.expect("open");
    let key = celltrace::keys::load_or_create(&db.key_path()).expect("key").0;
    Engine::start(database, celltrace::engine_options(key).expect("reference data"))
}

fn import(db: &TestDb, kind: &str, file: &Path, extra: &[&str]) -> std::process::Output {
    let file = file.display().to_string();
    let mut args = vec!["import", kind, file.as_str(), "--site", SITE, "--as", "nurse"];
    args.extend_from_slice(extra);
    celltrace(db, &args)
}

fn assert_verifies(db: &TestDb) {
    let out = celltrace(db, &["verify"]);
    assert!(out.status.success(), "{}: verify failed:\n{}", db.backend, text(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clinic_imports_patients_units_and_answers() {
    for db in TestDb::all().await {
        let at = now();
        {
            let engine = engine(&db).await;
            for sub in clinic(at) {
                engine.submit(sub).await.expect("clinic");
            }
        }
        let database = Database::connect(&db.url).await.expect("connect");

        // A dry run checks and records nothing.
        let patients = write(&db, "patients.csv", PATIENTS);
        let head = database.reader().head().await.expect("head");
        let out = import(&db, "patients", &patients, &["--dry-run"]);
        assert!(out.status.success(), "{}: {}", db.backend, text(&out));
        assert!(text(&out).contains("nothing was recorded"), "{}", text(&out));
        assert_eq!(database.reader().head().await.expect("head"), head);

        let out = import(&db, "patients", &patients, &[]);
        assert!(out.status.success(), "{}: {}", db.backend, text(&out));
        assert!(text(&out).contains("imported 3 patients"), "{}", text(&out));
        assert!(text(&out).contains("rows/s"), "{}", text(&out));
        let arabic: Person = database.reader().get::<celltrace_domain::model::Person>("p-2").await.expect("read").expect("p-2 imported");
        assert_eq!(arabic.name, "علي, محمد");
        assert_verifies(&db);

        // Bad rows: every one named with its line and column, nothing recorded.
        let bad = write(&db, "bad.csv", BAD_PATIENTS);
        let head = database.reader().head().await.expect("head");
        for extra in [&["--dry-run"][..], &[]] {
            let out = import(&db, "patients", &bad, extra);
            let report = text(&out);
            assert!(!out.status.success(), "{}: {report}", db.backend);
            for expected in ["line 3, column date_of_birth", "line 5, column person_id", "line 6, column kind", "line 6, column language"] {
                assert!(report.contains(expected), "{}: '{expected}' missing from:\n{report}", db.backend);
            }
            assert!(!report.contains("line 2,") && !report.contains("line 4,"), "{report}");
            assert!(report.contains("3 of 5 row(s) are bad; nothing was imported"), "{report}");
        }
        assert_eq!(database.reader().head().await.expect("head"), head, "{}: a bad file changed the ledger", db.backend);
        assert!(database.reader().get::<celltrace_domain::model::Person>("p-10").await.expect("read").is_none());

        // Rule refusals and clashes with the records are listed per row too.
        let clash = write(
            &db,
            "clash.csv",
            "person_id,kind,mrn,name,date_of_birth,sex,language\n\
p-20,patient,MRN-1,Same MRN as p-1,1970-01-02,female,en\n\
p-1,patient,MRN-21,Existing id,1970-01-02,female,en\n\
p-22,patient,MRN-22,Born tomorrow,2999-01-01,female,en\n\
p-23,patient,MRN-23,Twin A,1970-01-02,female,en\n\
p-24,patient,MRN-23,Twin B,1970-01-02,female,en\n",
        );
        let out = import(&db, "patients", &clash, &[]);
        let report = text(&out);
        assert!(!out.status.success(), "{report}");
        for expected in ["line 2: Medical record number", "line 3: Person p-1 already exists", "line 4: The date of birth is in the future", "line 6: Medical record number"] {
            assert!(report.contains(expected), "{}: '{expected}' missing from:\n{report}", db.backend);
        }
        assert!(!report.contains("line 5:"), "{report}");
        assert_eq!(database.reader().head().await.expect("head"), head);

        // Units need plans with consent, which clinics record in celltrace.
        {
            let engine = engine(&db).await;
            for sub in released_unit(1, at).into_iter().skip(1).take(3) {
                engine.submit(sub).await.expect("plan");
            }
        }
        let din = isbt128::Din::parse("A999826100002").expect("din");
        let units = write(
            &db,
            "units.csv",
            &format!(
                "unit_id,din,product_code,product_type,source_person,plan,tissue,quantity,quantity_unit,collected_at,expires_at\n\
u-1,A999826100001,S5001100,prp,p-1,plan-1,peripheral_blood,4,mL,2026-01-05T09:30,2099-01-07\n\
u-2,={din}{flags},=<E0001V00,cord-blood-hpc,d-1,,cord_blood,80.5,mL,2026-01-05,2099-02-05\n",
                flags = din.check_flags()
            ),
        );
        let out = import(&db, "units", &units, &[]);
        assert!(out.status.success(), "{}: {}", db.backend, text(&out));
        let unit: Unit = database.reader().get::<celltrace_domain::model::Unit>("u-2").await.expect("read").expect("u-2 imported");
        assert_eq!(unit.din, "A999826100002");
        assert_eq!(unit.product_code, "E0001V00");
        assert_verifies(&db);

        // A unit naming a patient who is not registered, and a DIN already used.
        let bad_units = write(
            &db,
            "bad-units.csv",
            "unit_id,din,product_code,product_type,source_person,plan,tissue,quantity,quantity_unit,collected_at,expires_at\n\
u-3,A999826100003,E0001V00,cord-blood-hpc,nobody,,cord_blood,80,mL,2026-01-05,2099-02-05\n\
u-4,A999826100001,E0001V00,cord-blood-hpc,d-1,,cord_blood,80,mL,2026-01-05,2099-02-05\n\
u-5,A999826100006,E0001V00,cord-blood-hpc,d-1,,cord_blood,80,mL,2026-01-05,2099-02-05\n",
        );
        let head = database.reader().head().await.expect("head");
        let out = import(&db, "units", &bad_units, &[]);
        let report = text(&out);
        assert!(!out.status.success(), "{report}");
        assert!(report.contains("line 2:") && report.contains("line 3: DIN A999826100001"), "{}: {report}", db.backend);
        assert!(!report.contains("line 4"), "{report}");
        assert_eq!(database.reader().head().await.expect("head"), head);

        // Answers outside their time point's window are refused as in every entry path:
        // no 3-month answer before any administration. Nothing of the file is recorded.
        let early = write(
            &db,
            "early-answers.csv",
            "plan,time_point,instrument,language,item:pain,item:change\n\
plan-1,baseline,nprs,en,7,\n\
plan-1,3m,pgic,,,6\n",
        );
        let head = database.reader().head().await.expect("head");
        let out = import(&db, "answers", &early, &[]);
        assert!(!out.status.success(), "{}", text(&out));
        assert!(text(&out).contains("line 3: No administration is recorded yet: the 3m follow-up opens"), "{}", text(&out));
        assert_eq!(database.reader().head().await.expect("head"), head, "{}: all or nothing", db.backend);
        // The baseline answers alone, in the patient's language.
        let answers = write(&db, "answers.csv", "plan,time_point,instrument,item:pain\nplan-1,baseline,nprs,7\n");
        let out = import(&db, "answers", &answers, &[]);
        assert!(out.status.success(), "{}: {}", db.backend, text(&out));
        let plan: Plan = database.reader().get::<celltrace_domain::model::Plan>("plan-1").await.expect("read").expect("plan");
        assert_eq!(plan.responses.len(), 1, "{}", db.backend);
        assert_eq!(plan.responses[0].scores.get("NPRS"), Some(&Some(7000)), "the rules scored the answers");
        // The same answers again are refused: one answer per time point and instrument.
        let out = import(&db, "answers", &answers, &[]);
        assert!(!out.status.success(), "{}", text(&out));
        assert!(text(&out).contains("line 2: The nprs questionnaire for baseline is already answered"), "{}", text(&out));
        assert_verifies(&db);

        database.close().await;
        db.drop_database().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_two_thousand_row_file_imports_in_one_transaction() {
    for db in TestDb::all().await {
        {
            let engine = engine(&db).await;
            for sub in clinic(now()) {
                engine.submit(sub).await.expect("clinic");
            }
        }
        let mut csv = String::from("person_id,kind,mrn,name,date_of_birth,sex,language\n");
        for n in 0..2000 {
            csv.push_str(&format!("bulk-{n},patient,BULK-{n},Patient {n},1980-01-01,other,en\n"));
        }
        let file = write(&db, "bulk.csv", &csv);
        let out = import(&db, "patients", &file, &[]);
        assert!(out.status.success(), "{}: {}", db.backend, text(&out));
        let database = Database::connect(&db.url).await.expect("connect");
        assert!(database.reader().get::<celltrace_domain::model::Person>("bulk-1999").await.expect("read").is_some());
        database.close().await;
        assert_verifies(&db);
        db.drop_database().await;
    }
}
