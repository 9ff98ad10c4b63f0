//! Test support shared by the store and application tests: a fresh database
//! per test on each available backend (SQLite always, PostgreSQL when
//! `CELLTRACE_TEST_DATABASE_URL` is set), and command sequences that build a
//! clinic with patients whose units are released and ready to administer.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use celltrace_domain::command::{Actor, Command, Submission};
use celltrace_domain::model::*;
use celltrace_domain::time::{Date, Timestamp};
use sqlx::Connection;
use std::sync::atomic::{AtomicU64, Ordering};

/// The variable naming the PostgreSQL server for tests.
pub const PG_VAR: &str = "CELLTRACE_TEST_DATABASE_URL";

/// A database created for one test.
pub struct TestDb {
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// URL (or path) to give celltrace.
    pub url: String,
    /// Directory for files of this test (SQLite file, key, backups).
    pub dir: tempfile::TempDir,
    admin: Option<(String, String)>,
}

impl TestDb {
    /// A fresh SQLite file.
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = dir.path().join("celltrace.db").display().to_string();
        TestDb { backend: "sqlite", url, dir, admin: None }
    }

    /// A fresh PostgreSQL database, if the server is configured.
    pub async fn postgres() -> Option<TestDb> {
        let base = std::env::var(PG_VAR).ok().filter(|v| !v.is_empty())?;
        let name = format!("celltrace_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::PgConnection::connect(&base).await.expect("connect to the test PostgreSQL server");
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.expect("create test database");
        conn.close().await.ok();
        let (prefix, _) = base.rsplit_once('/').expect("a database URL has a path");
        let url = format!("{prefix}/{name}");
        Some(TestDb { backend: "postgres", url, dir: tempfile::tempdir().expect("temp dir"), admin: Some((base, name)) })
    }

    /// SQLite, plus PostgreSQL when configured.
    pub async fn all() -> Vec<TestDb> {
        let mut dbs = vec![TestDb::sqlite()];
        match TestDb::postgres().await {
            Some(pg) => dbs.push(pg),
            None => eprintln!("note: {PG_VAR} is not set; this test ran on SQLite only"),
        }
        dbs
    }

    /// A path for the signing key of this test, in a directory apart from
    /// the SQLite file (serve refuses a key beside the database).
    pub fn key_path(&self) -> std::path::PathBuf {
        let dir = self.dir.path().join("keys");
        std::fs::create_dir_all(&dir).expect("key directory");
        dir.join("celltrace.key")
    }

    /// Drops a PostgreSQL test database (SQLite files go with the directory).
    pub async fn drop_database(self) {
        if let Some((base, name)) = &self.admin {
            if let Ok(mut conn) = sqlx::PgConnection::connect(base).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn).await;
            }
        }
    }
}

fn id<T: std::str::FromStr>(s: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    s.parse().expect("valid test id")
}

/// The clinic every fixture uses.
pub const SITE: &str = "test-clinic";

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A submission with a fresh command id.
pub fn submission(actor: &str, at: Timestamp, command: Command) -> Submission {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    Submission {
        id: id(&format!("t-{}-{n}", uuid::Uuid::new_v4().simple())),
        actor: if actor == "system" { Actor::System("test".into()) } else { Actor::Staff(id(actor)) },
        site: id(SITE),
        at,
        command,
    }
}

/// The nurse registers patient `id` (MRN = id) named `name` at the clinic:
/// the filler command of load, crash and proof tests.
pub fn register_patient(id: &str, name: &str) -> Submission {
    submission("nurse", now(), Command::RegisterPerson {
        person: id.parse().expect("person id"),
        kind: PersonKind::Patient,
        mrn: id.to_owned(),
        name: name.to_owned(),
        date_of_birth: Date::new(1990, 1, 1).expect("date"),
        sex: Sex::Other,
        language: Language::En,
        contact: String::new(),
    })
}

/// The submitter's own signature.
pub fn signature(signer: &str, meaning: SignatureMeaning) -> SignatureRequest {
    SignatureRequest::own(id(signer), meaning)
}

/// The reference data celltrace ships, for engines under test.
pub fn reference() -> std::sync::Arc<dyn celltrace_domain::Reference> {
    static SHIPPED: std::sync::OnceLock<std::sync::Arc<celltrace_reference::ReferenceData>> = std::sync::OnceLock::new();
    SHIPPED.get_or_init(|| std::sync::Arc::new(celltrace_reference::ReferenceData::shipped().expect("the shipped reference data parses"))).clone()
}

/// The local operator issues the API token `token` to `staff` (a ledger
/// event recording only its SHA-256, as `celltrace token create` does).
pub fn api_token(token: &str, staff: &str, at: Timestamp) -> Submission {
    use sha2::{Digest, Sha256};
    let token_hash: String = Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    submission("system", at, Command::IssueApiToken {
        token: id(&format!("tok-{}", &token_hash[..16])),
        staff: id(staff),
        label: "test".into(),
        token_hash,
        expires_at: None,
    })
}

/// The consent template and version celltrace ships.
pub const CONSENT: (&str, &str) = ("celltrace-consent", "2026.1");

/// The planned dose of fixture plans.
pub fn dose() -> Quantity {
    Quantity { milli: 4000, unit: "mL".into() }
}

/// Site and staff: `doc` (physician), `nurse`, `nurse2`, `tech`, `qa`, `logistics`.
pub fn clinic(at: Timestamp) -> Vec<Submission> {
    let mut subs = vec![submission("system", at, Command::RegisterSite {
        site: id(SITE),
        name: "Test clinic".into(),
        kind: SiteKind::Clinic,
        country: "GB".into(),
        accreditations: vec![],
        fin: "A9998".into(),
    })];
    for (staff, role) in [
        ("doc", Role::Physician),
        ("nurse", Role::Nurse),
        ("nurse2", Role::Nurse),
        ("tech", Role::LabTechnologist),
        ("qa", Role::QualityAssurance),
        ("logistics", Role::Logistics),
    ] {
        subs.push(submission("system", at, Command::RegisterStaff {
            staff: id(staff),
            name: format!("Test {staff}"),
            username: staff.into(),
            memberships: vec![Membership { site: id(SITE), roles: [role].into_iter().collect() }],
        }));
    }
    subs
}

/// A patient `p-{n}` with an active plan `plan-{n}` (eligible, consented) for
/// autologous PRP, and a released unit `u-{n}` ready to administer. In order:
/// each submission depends on the ones before it.
pub fn released_unit(n: u32, at: Timestamp) -> Vec<Submission> {
    let patient = format!("p-{n}");
    let plan = format!("plan-{n}");
    let unit = format!("u-{n}");
    vec![
        submission("nurse", at, Command::RegisterPerson {
            person: id(&patient),
            kind: PersonKind::Patient,
            mrn: format!("MRN-{n}"),
            name: format!("Patient {n}"),
            date_of_birth: Date::new(1975, 6, 1).expect("date"),
            sex: Sex::Other,
            language: Language::En,
            contact: String::new(),
        }),
        submission("doc", at, Command::CreatePlan {
            plan: id(&plan),
            patient: id(&patient),
            indication: "M77.10".into(),
            product_type: ProductType::Prp,
            route: "intratendinous".into(),
            sessions: 1,
            dose: dose(),
            cost_quote: Money { minor: 50_000, currency: "USD".into() },
            // Test data: a trial keeps the fixture plan active without an override.
            trial: Some(Trial { registration: "NCT00000001".into(), ethics_approval: "TEST-ETHICS-1".into() }),
        }),
        submission("doc", at, Command::AssessEligibility {
            plan: id(&plan),
            assessment: id(&format!("{plan}-e")),
            criteria: vec![Criterion { code: "no_anticoagulation".into(), description: "No anticoagulation".into(), met: true, detail: String::new() }],
            valid_days: 30,
        }),
        submission("doc", at, Command::RecordConsent {
            plan: id(&plan),
            consent: id(&format!("{plan}-c")),
            template: CONSENT.0.into(),
            template_version: CONSENT.1.into(),
            language: Language::En,
            witness: None,
        }),
        submission("nurse", at, Command::RecordCollection {
            collection: id(&format!("col-{n}")),
            source_person: id(&patient),
            plan: Some(id(&plan)),
            tissue: SourceTissue::PeripheralBlood,
            product_type: ProductType::Prp,
            unit: id(&unit),
            din: format!("A999826{n:06}"),
            product_code: "S5001100".into(),
            quantity: dose(),
            collected_at: at,
            expires_at: Timestamp(at.0 + 2 * Timestamp::DAY),
        }),
        submission("tech", at, Command::RecordQcResult {
            unit: id(&unit),
            test: "platelet concentration".into(),
            value: "1100".into(),
            specification: ">= 1000".into(),
            outcome: QcOutcome::InSpecification,
        }),
        submission("qa", at, Command::ReleaseUnit { unit: id(&unit), signature: signature("qa", SignatureMeaning::Release) }),
    ]
}

fn administration(n: u32, nurse: &str, witness: &str) -> Command {
    Command::AdministerUnit {
        administration: id(&format!("adm-{n}-{nurse}")),
        unit: id(&format!("u-{n}")),
        patient: id(&format!("p-{n}")),
        plan: id(&format!("plan-{n}")),
        dose: dose(),
        body_site: "right elbow".into(),
        witness: SignatureRequest::granted(id(witness), SignatureMeaning::AdministrationWitness, id(&format!("grant-{n}-{nurse}"))),
    }
}

/// The witness's signing grant for [`administer`]`(n, nurse, witness, at)`:
/// submit it first (the witness re-entering their password, in the web).
pub fn witness_grant(n: u32, nurse: &str, witness: &str, at: Timestamp) -> Submission {
    submission(witness, at, Command::IssueSigningGrant {
        grant: id(&format!("grant-{n}-{nurse}")),
        meaning: SignatureMeaning::AdministrationWitness,
        submitter: id(nurse),
        command_digest: administration(n, nurse, witness).signing_digest(&id(nurse), &id(SITE)),
        method: AuthenticationMethod::Password,
    })
}

/// Administering unit `u-{n}` to its patient, by `nurse` witnessed by
/// `witness`, whose grant [`witness_grant`] records.
pub fn administer(n: u32, nurse: &str, witness: &str, at: Timestamp) -> Submission {
    submission(nurse, at, administration(n, nurse, witness))
}

/// Now, in microseconds.
pub fn now() -> Timestamp {
    Timestamp(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_micros() as i64)
            .unwrap_or(0),
    )
}
