//! The read benchmark's dataset: a cord-blood bank of N units, generated
//! through the normal command path (every command decided by the rules and
//! chained in the ledger), in atomic chunks. Each unit has its own donor
//! (names in Latin, Arabic and Devanagari script), a collection, QC results,
//! a signed release and a storage position; every hundredth unit went into a
//! patient of the bank's clinic (plan, eligibility, consent, allocation, a
//! witnessed administration and a follow-up score), so bedside, lookback,
//! registry and portal reads have real records at every size.

use celltrace_domain::command::{Actor, Command, Submission};
use celltrace_domain::model::*;
use celltrace_domain::time::{Date, Timestamp};
use celltrace_store::Engine;
use std::str::FromStr;

/// The bank all units are at.
pub const SITE: &str = "bench-bank";
/// The password of every bench account.
pub const PASSWORD: &str = "bench password 2026";
/// One unit in this many went into a patient.
pub const TREATED_EVERY: usize = 100;
/// Submissions per atomic chunk.
const CHUNK: usize = 2_000;

/// The bench's staff: (id, role).
pub const STAFF: &[(&str, Role)] = &[
    ("bench.doctor", Role::Physician),
    ("bench.nurse", Role::Nurse),
    ("bench.witness", Role::Nurse),
    ("bench.tech", Role::LabTechnologist),
    ("bench.qa", Role::QualityAssurance),
    ("bench.auditor", Role::Auditor),
];

fn id<T: FromStr>(text: &str) -> Result<T, String>
where
    T::Err: std::fmt::Display,
{
    text.parse().map_err(|e: T::Err| format!("bench id '{text}': {e}"))
}

/// The donor of unit `n`.
pub fn donor(n: usize) -> String {
    format!("d-{n}")
}

/// Unit `n`.
pub fn unit(n: usize) -> String {
    format!("cb-{n}")
}

/// The DIN of unit `n`: facility A9997, years 20 to 29, six-digit sequence.
pub fn din(n: usize) -> String {
    format!("A9997{:02}{:06}", 20 + (n / 1_000_000) % 10, n % 1_000_000)
}

/// The patient who received unit `n` (when `n` is a multiple of [`TREATED_EVERY`]).
pub fn patient(n: usize) -> String {
    format!("p-{n}")
}

/// The plan of [`patient`]`(n)`.
pub fn plan(n: usize) -> String {
    format!("plan-{n}")
}

/// A name for person `n`, cycling through three scripts so searches in each have answers at every size.
pub fn name(n: usize) -> String {
    const LATIN: [&str; 8] = ["Amelia", "José", "Oliver", "Zoë", "Ibrahim", "Chloé", "Mateo", "Søren"];
    const ARABIC: [&str; 6] = ["فاطمة", "أحمد", "ليلى", "يوسف", "مريم", "عمر"];
    const DEVANAGARI: [&str; 6] = ["आरव", "प्रिया", "राहुल", "अनन्या", "विक्रम", "मीरा"];
    const FAMILY: [&str; 7] = ["Hassan", "Sharma", "Wilson", "Kapoor", "Nair", "Haddad", "Müller"];
    let family = FAMILY[(n / 7) % FAMILY.len()];
    match n % 3 {
        0 => format!("{} {family} {n}", LATIN[n % LATIN.len()]),
        1 => format!("{} {family} {n}", ARABIC[n % ARABIC.len()]),
        _ => format!("{} {family} {n}", DEVANAGARI[n % DEVANAGARI.len()]),
    }
}

struct Builder {
    base: Timestamp,
    counter: usize,
    out: Vec<Submission>,
}

impl Builder {
    fn push(&mut self, actor: &str, at: Timestamp, command: Command) -> Result<(), String> {
        self.counter += 1;
        let actor = if actor == "system" { Actor::System("bench".into()) } else { Actor::Staff(id(actor)?) };
        self.out.push(Submission { id: id(&format!("bench-{}-{}", self.base.0, self.counter))?, actor, site: id(SITE)?, at, command });
        Ok(())
    }

    fn days(&self, days: i64) -> Timestamp {
        Timestamp(self.base.0 + days * Timestamp::DAY)
    }
}

/// The site and its staff.
fn setup(b: &mut Builder) -> Result<(), String> {
    let at = b.days(0);
    b.push("system", at, Command::RegisterSite {
        site: id(SITE)?,
        name: "Benchmark Cord Blood Bank".into(),
        kind: SiteKind::CordBloodBank,
        country: "GB".into(),
        accreditations: vec!["FACT-NetCord".into()],
        fin: "A9997".into(),
    })?;
    for (staff, role) in STAFF {
        b.push("system", at, Command::RegisterStaff {
            staff: id(staff)?,
            name: format!("Bench {staff}"),
            username: (*staff).into(),
            memberships: vec![Membership { site: id(SITE)?, roles: [*role].into_iter().collect() }],
        })?;
    }
    Ok(())
}

/// Unit `n` from collection to storage, and its recipient when it has one.
fn unit_story(b: &mut Builder, n: usize) -> Result<(), String> {
    let collected = b.days(0);
    let u = unit(n);
    b.push("bench.nurse", collected, Command::RegisterPerson {
        person: id(&donor(n))?,
        kind: PersonKind::Donor,
        mrn: format!("CB-{n:08}"),
        name: name(n),
        date_of_birth: Date::new(2024, 1 + (n % 12) as u8, 1 + (n % 28) as u8).ok_or("bench: date")?,
        sex: if n.is_multiple_of(2) { Sex::Female } else { Sex::Male },
        language: Language::En,
        contact: String::new(),
    })?;
    b.push("bench.nurse", collected, Command::RecordCollection {
        collection: id(&format!("col-{u}"))?,
        source_person: id(&donor(n))?,
        plan: None,
        tissue: SourceTissue::CordBlood,
        product_type: ProductType::CordBloodHpc,
        unit: id(&u)?,
        din: din(n),
        product_code: "S3001V00".into(),
        quantity: Quantity { milli: 25_000, unit: "mL".into() },
        collected_at: collected,
        expires_at: b.days(3650),
    })?;
    let tested = b.days(20);
    for (test, value, specification) in [("total nucleated cells", "1.6 x10^9", ">= 1.25 x10^9"), ("sterility", "no growth at 14 days", "no growth")] {
        b.push("bench.tech", tested, Command::RecordQcResult {
            unit: id(&u)?,
            test: test.into(),
            value: value.into(),
            specification: specification.into(),
            outcome: QcOutcome::InSpecification,
        })?;
    }
    b.push("bench.qa", tested, Command::ReleaseUnit { unit: id(&u)?, signature: SignatureRequest::own(id("bench.qa")?, SignatureMeaning::Release) })?;
    b.push("bench.tech", tested, Command::StoreUnit {
        unit: id(&u)?,
        location: StorageLocation {
            freezer: format!("LN2 tank T-{}", n / 10_000),
            rack: format!("R{}", (n / 100) % 100),
            r#box: format!("B{}", (n / 10) % 10),
            position: format!("P{}", n % 10),
        },
    })?;
    if n.is_multiple_of(TREATED_EVERY) {
        treatment(b, n)?;
    }
    Ok(())
}

/// A patient treated with unit `n`: plan, eligibility, consent, allocation,
/// a witnessed administration and a one-month score.
fn treatment(b: &mut Builder, n: usize) -> Result<(), String> {
    let (p, pl, u) = (patient(n), plan(n), unit(n));
    let planned = b.days(30);
    b.push("bench.nurse", planned, Command::RegisterPerson {
        person: id(&p)?,
        kind: PersonKind::Patient,
        mrn: format!("PT-{n:08}"),
        name: name(n + 1),
        date_of_birth: Date::new(1960 + (n % 50) as i32, 1 + (n % 12) as u8, 1 + (n % 28) as u8).ok_or("bench: date")?,
        sex: if n.is_multiple_of(2) { Sex::Male } else { Sex::Female },
        language: [Language::En, Language::Ar, Language::Hi][n % 3],
        contact: String::new(),
    })?;
    b.push("bench.doctor", planned, Command::CreatePlan {
        plan: id(&pl)?,
        patient: id(&p)?,
        indication: "D61.9".into(),
        product_type: ProductType::CordBloodHpc,
        route: "intravenous infusion".into(),
        sessions: 1,
        dose: Quantity { milli: 25_000, unit: "mL".into() },
        cost_quote: Money { minor: 3_500_000, currency: "GBP".into() },
        trial: None,
    })?;
    b.push("bench.doctor", planned, Command::AssessEligibility {
        plan: id(&pl)?,
        assessment: id(&format!("{pl}-e"))?,
        criteria: vec![Criterion { code: "hla_match".into(), description: "HLA match 6/8 or better".into(), met: true, detail: "7/8".into() }],
        valid_days: 180,
    })?;
    b.push("bench.doctor", planned, Command::RecordConsent {
        plan: id(&pl)?,
        consent: id(&format!("{pl}-c"))?,
        template: celltrace_i18n::CONSENT_TEMPLATE.into(),
        template_version: celltrace_i18n::CONSENT_VERSION.into(),
        language: Language::En,
        witness: None,
    })?;
    b.push("bench.qa", planned, Command::AllocateUnit { unit: id(&u)?, plan: id(&pl)? })?;
    let given = b.days(40);
    let grant = format!("grant-{n}");
    let administer = Command::AdministerUnit {
        administration: id(&format!("adm-{n}"))?,
        unit: id(&u)?,
        patient: id(&p)?,
        plan: id(&pl)?,
        dose: Quantity { milli: 25_000, unit: "mL".into() },
        body_site: "central venous catheter".into(),
        witness: SignatureRequest::granted(id("bench.witness")?, SignatureMeaning::AdministrationWitness, id(&grant)?),
    };
    b.push("bench.witness", given, Command::IssueSigningGrant {
        grant: id(&grant)?,
        meaning: SignatureMeaning::AdministrationWitness,
        submitter: id("bench.nurse")?,
        command_digest: administer.signing_digest(&id("bench.nurse")?, &id(SITE)?),
        method: AuthenticationMethod::Password,
    })?;
    b.push("bench.nurse", given, administer)?;
    b.push("bench.nurse", b.days(70), Command::RecordFollowUp {
        plan: id(&pl)?,
        visit: id(&format!("{pl}-1m"))?,
        time_point: "1m".into(),
        instrument: "neutrophil engraftment day".into(),
        score_milli: Some(((18 + n % 12) * 1000) as i64),
        notes: String::new(),
    })
}

/// Generates units `from..to` (and the site and staff when `from` is 0),
/// `base` being the collection day, in atomic chunks; prints progress on stderr.
pub async fn generate(engine: &Engine, base: Timestamp, from: usize, to: usize) -> Result<(), String> {
    let mut b = Builder { base, counter: from * 20, out: Vec::new() };
    if from == 0 {
        setup(&mut b)?;
    }
    let started = std::time::Instant::now();
    let mut n = from;
    while n < to {
        while n < to && b.out.len() < CHUNK {
            unit_story(&mut b, n)?;
            n += 1;
        }
        let chunk = std::mem::take(&mut b.out);
        engine.submit_atomic(chunk).await.map_err(|e| format!("bench dataset at unit {n}: {e}"))?;
        if n % 50_000 < (CHUNK / 5) || n == to {
            eprintln!("  generated {n}/{to} units ({:.0} s)", started.elapsed().as_secs_f64());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_valid_and_distinct() {
        assert_eq!(din(7), "A999720000007");
        assert_eq!(din(1_000_007), "A999721000007");
        assert_eq!(din(7).len(), 13);
        assert_ne!(name(0), name(1));
        assert!(name(1).contains("Sharma") || name(1).chars().any(|c| ('\u{0600}'..='\u{06FF}').contains(&c)));
        assert!(id::<celltrace_domain::ids::UnitId>(&unit(10_000_000)).is_ok());
    }
}
