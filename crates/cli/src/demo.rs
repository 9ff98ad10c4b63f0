//! The demo dataset: four sites, staff of every role, and patients and donors
//! whose paths cover the catalogue (adipose cells for back pain, bone marrow
//! cells for knee osteoarthritis in a trial, donor cord blood for a blood
//! disorder, exosomes with microneedling for hair loss, PRP for a tendon
//! injury), including a plan the evidence guard blocks and an adverse event.
//! Everything is written through the engine, as the staff who would do it.
//!
//! Names, MRNs, DINs and the trial registration are fictional.

// Each step helper takes the columns of one row of a worksheet (who, where,
// what); named structs for each would hide the data the reader came to see.
#![allow(clippy::too_many_arguments)]

use celltrace_domain::command::{Actor, Command, NewUnit, Submission};
use celltrace_domain::ids::*;
use celltrace_domain::model::*;
use celltrace_domain::time::{Date, Timestamp};
use celltrace_domain::EntityKind;
use celltrace_store::{Engine, Receipt, SubmitError};
use std::collections::BTreeSet;

/// Password of every demo account (shown on the demo login page only).
pub const DEMO_PASSWORD: &str = "celltrace-demo";

/// Why the demo could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// A step was refused; the dataset and the rules disagree.
    #[error("demo step '{step}' was refused: {source}")]
    Step {
        /// Which step.
        step: String,
        /// Why.
        source: SubmitError,
    },
    /// Reading the database failed.
    #[error(transparent)]
    Store(#[from] celltrace_store::StoreError),
    /// An identifier in the dataset is malformed (a bug in this file).
    #[error("demo identifier: {0}")]
    Id(String),
}

/// The demo's first site: its presence means the demo is loaded.
pub const MARKER_SITE: &str = "dubai-clinic";

const DAY: i64 = Timestamp::DAY;
const HOUR: i64 = DAY / 24;
const MINUTE: i64 = HOUR / 60;

fn id<T: std::str::FromStr<Err = IdError>>(text: &str) -> Result<T, DemoError> {
    text.parse().map_err(|e: IdError| DemoError::Id(e.to_string()))
}

/// Loads the dataset through `engine`, timed as if it happened over the
/// 200 days before `now`. Returns false when it was already loaded.
pub async fn load(engine: &Engine, now: Timestamp) -> Result<bool, DemoError> {
    if engine.database().get::<Site>(EntityKind::Site, MARKER_SITE).await?.is_some() {
        return Ok(false);
    }
    let mut demo = Demo { engine, clock: Timestamp(now.0 - 200 * DAY), counter: 0 };
    demo.sites_and_staff().await?;
    demo.people().await?;
    demo.adipose_for_back_pain().await?;
    demo.bone_marrow_for_knee_oa().await?;
    demo.cord_blood_for_blood_disorder().await?;
    demo.exosomes_for_hair_loss().await?;
    demo.prp_for_tendon_injury().await?;
    demo.in_progress_and_blocked().await?;
    demo.passwords().await?;
    engine.checkpoint().await?;
    engine.database().set_setting("demo", "loaded").await?;
    Ok(true)
}

/// Demo patients with portal passwords, and the language each reads in.
pub const DEMO_PORTAL_PATIENTS: [(&str, &str); 3] = [("p-layla", "ar"), ("p-james", "en"), ("p-rajesh", "hi")];

struct Demo<'e> {
    engine: &'e Engine,
    clock: Timestamp,
    counter: u32,
}

fn q(value: f64, unit: &str) -> Quantity {
    Quantity { milli: (value * 1000.0).round() as i64, unit: unit.to_owned() }
}

fn criterion(code: &str, description: &str, met: bool, detail: &str) -> Criterion {
    Criterion { code: code.into(), description: description.into(), met, detail: detail.into() }
}

fn standard_criteria(extra: &[(&str, &str, bool, &str)]) -> Vec<Criterion> {
    let mut list = vec![
        criterion("age", "Age 18 to 75", true, "within range"),
        criterion("no_active_cancer", "No active cancer", true, "history negative"),
        criterion("no_active_infection", "No active infection", true, "afebrile, CRP normal"),
        criterion("not_pregnant", "Not pregnant", true, "not applicable or test negative"),
        criterion("no_anticoagulation", "No anticoagulation", true, "no anticoagulants"),
    ];
    list.extend(extra.iter().map(|(c, d, m, t)| criterion(c, d, *m, t)));
    list
}

fn rating(status: EvidenceStatus, summary: &str) -> EvidenceRating {
    EvidenceRating {
        status,
        summary: summary.to_owned(),
        sources: vec!["celltrace evidence data (shared/reference/evidence.md)".to_owned()],
        data_version: "2026-11".to_owned(),
    }
}

impl Demo<'_> {
    /// Runs one step as `actor` at `site`, `minutes` after the previous one.
    async fn run(&mut self, actor: &str, site: &str, minutes: i64, command: Command) -> Result<Receipt, DemoError> {
        self.clock = Timestamp(self.clock.0 + minutes * MINUTE);
        self.counter += 1;
        let step = format!("{} #{} by {actor}", command.name(), self.counter);
        let actor = match actor.strip_prefix("patient:") {
            Some(patient) => Actor::Patient(id(patient)?),
            None if actor == "system" => Actor::System("demo".into()),
            None => Actor::Staff(id(actor)?),
        };
        let submission = Submission {
            id: id(&format!("demo-{:04}", self.counter))?,
            actor,
            site: id(site)?,
            at: self.clock,
            command,
        };
        self.engine.submit(submission).await.map_err(|source| DemoError::Step { step, source })
    }

    fn sig(&self, signer: &str, meaning: SignatureMeaning) -> Result<Signature, DemoError> {
        Ok(Signature { signer: id(signer)?, meaning, signed_at: self.clock })
    }

    async fn sites_and_staff(&mut self) -> Result<(), DemoError> {
        let sites = [
            ("dubai-clinic", "Gulf Regenerative Clinic, Dubai", SiteKind::Clinic, "AE", vec![], "A9991"),
            ("delhi-centre", "Delhi Haematology & Regenerative Centre", SiteKind::Clinic, "IN", vec!["FACT".to_owned()], "A9992"),
            ("mumbai-lab", "Mumbai Cell Processing Laboratory", SiteKind::ProcessingLab, "IN", vec!["FACT".to_owned(), "AABB".to_owned()], "A9993"),
            ("london-bank", "London Cord Blood Bank", SiteKind::CordBloodBank, "GB", vec!["FACT-NetCord".to_owned(), "JACIE".to_owned()], "A9994"),
        ];
        for (site, name, kind, country, accreditations, fin) in sites {
            self.run("system", site, 1, Command::RegisterSite {
                site: id(site)?,
                name: name.into(),
                kind,
                country: country.into(),
                accreditations,
                fin: fin.into(),
            })
            .await?;
        }
        use Role::*;
        let all_sites = ["dubai-clinic", "delhi-centre", "mumbai-lab", "london-bank"];
        type Account<'a> = (&'a str, &'a str, Vec<(&'a str, Vec<Role>)>);
        let staff: Vec<Account> = vec![
            ("admin", "Grace Okafor", all_sites.iter().map(|s| (*s, vec![Administrator])).collect()),
            ("auditor", "Henrik Lund", all_sites.iter().map(|s| (*s, vec![Auditor])).collect()),
            ("dr.haddad", "Dr Samir Haddad", vec![("dubai-clinic", vec![Physician])]),
            ("dr.khoury", "Dr Rana Khoury", vec![("dubai-clinic", vec![Physician])]),
            ("md.alsayed", "Dr Huda Al-Sayed", vec![("dubai-clinic", vec![MedicalDirector, Physician])]),
            ("nurse.fatima", "Fatima Noor", vec![("dubai-clinic", vec![Nurse])]),
            ("nurse.omar", "Omar Farouk", vec![("dubai-clinic", vec![Nurse])]),
            ("tech.dubai", "Joseph Mathew", vec![("dubai-clinic", vec![LabTechnologist])]),
            ("qa.dubai", "Aisha Rahman", vec![("dubai-clinic", vec![QualityAssurance])]),
            ("dr.sharma", "Dr Anjali Sharma", vec![("delhi-centre", vec![Physician])]),
            ("dr.menon", "Dr Ravi Menon", vec![("delhi-centre", vec![Physician])]),
            ("md.iyer", "Dr Lakshmi Iyer", vec![("delhi-centre", vec![MedicalDirector, Physician])]),
            ("nurse.priya", "Priya Verma", vec![("delhi-centre", vec![Nurse])]),
            ("nurse.anil", "Anil Joshi", vec![("delhi-centre", vec![Nurse])]),
            ("tech.delhi", "Kiran Das", vec![("delhi-centre", vec![LabTechnologist])]),
            ("qa.delhi", "Pooja Bhatt", vec![("delhi-centre", vec![QualityAssurance])]),
            ("dr.nair", "Dr Kavya Nair", vec![("mumbai-lab", vec![Physician])]),
            ("tech.rao", "Suresh Rao", vec![("mumbai-lab", vec![LabTechnologist])]),
            ("qa.mehta", "Neha Mehta", vec![("mumbai-lab", vec![QualityAssurance])]),
            ("log.khan", "Imran Khan", vec![("mumbai-lab", vec![Logistics]), ("dubai-clinic", vec![Logistics]), ("delhi-centre", vec![Logistics])]),
            ("nurse.evans", "Claire Evans", vec![("london-bank", vec![Nurse])]),
            ("tech.smith", "Daniel Smith", vec![("london-bank", vec![LabTechnologist])]),
            ("qa.jones", "Olivia Jones", vec![("london-bank", vec![QualityAssurance])]),
            ("log.brown", "Thomas Brown", vec![("london-bank", vec![Logistics]), ("delhi-centre", vec![Logistics])]),
        ];
        for (username, name, memberships) in staff {
            let memberships = memberships
                .into_iter()
                .map(|(site, roles)| Ok(Membership { site: id(site)?, roles: roles.into_iter().collect::<BTreeSet<_>>() }))
                .collect::<Result<Vec<_>, DemoError>>()?;
            let site = memberships.first().map(|m| m.site.to_string()).unwrap_or_default();
            self.run("system", &site, 1, Command::RegisterStaff {
                staff: id(username)?,
                name: name.into(),
                username: username.into(),
                memberships,
            })
            .await?;
        }
        self.run("md.alsayed", "dubai-clinic", 60, Command::SetSitePolicy { allows_unproven: true }).await?;
        let entries = crate::products::parse_csv(crate::products::EXAMPLE).map_err(|e| DemoError::Id(e.join("; ")))?;
        self.run("admin", "dubai-clinic", 5, Command::LoadProductCatalogue { entries, source: "data/product-descriptions.example.csv".into() }).await?;
        Ok(())
    }

    /// Every demo account signs in with [`DEMO_PASSWORD`]; each gets its own salted hash.
    async fn passwords(&mut self) -> Result<(), DemoError> {
        let db = self.engine.database();
        for row in db.list(EntityKind::Staff, None, None, 1000).await? {
            let hash = celltrace_web::auth::hash_password(DEMO_PASSWORD).map_err(DemoError::Id)?;
            db.set_password_hash(&id(&row.key.id)?, &hash, self.clock.0).await?;
        }
        // Three patients, one per portal language, can sign in to the portal.
        for (patient, language) in DEMO_PORTAL_PATIENTS {
            let hash = celltrace_web::auth::hash_password(DEMO_PASSWORD).map_err(DemoError::Id)?;
            db.set_portal_password(&id(patient)?, &hash, language, self.clock.0).await?;
        }
        let listed: Vec<String> = DEMO_PORTAL_PATIENTS.iter().map(|(p, l)| format!("{p}:{l}")).collect();
        db.set_setting("demo_portal_patients", &listed.join(",")).await?;
        Ok(())
    }

    async fn people(&mut self) -> Result<(), DemoError> {
        let people = [
            ("p-layla", "dubai-clinic", "dr.haddad", PersonKind::Patient, "DXB-100231", "ليلى الحسن (Layla Al-Hassan)", "1979-04-12", Sex::Female, Language::Ar),
            ("p-james", "dubai-clinic", "dr.haddad", PersonKind::Patient, "DXB-100232", "James Carter", "1968-11-03", Sex::Male, Language::En),
            ("p-fatima", "dubai-clinic", "dr.khoury", PersonKind::Patient, "DXB-100233", "فاطمة الزهراء (Fatima Al-Zahra)", "1985-07-21", Sex::Female, Language::Ar),
            ("p-noura", "dubai-clinic", "dr.khoury", PersonKind::Patient, "DXB-100234", "نورة المنصوري (Noura Al-Mansouri)", "1990-02-14", Sex::Female, Language::Ar),
            ("p-omar", "dubai-clinic", "dr.haddad", PersonKind::Patient, "DXB-100235", "عمر خالد (Omar Khalid)", "1987-09-30", Sex::Male, Language::Ar),
            ("p-sarah", "dubai-clinic", "dr.khoury", PersonKind::Patient, "DXB-100236", "Sarah Thompson", "1972-05-08", Sex::Female, Language::En),
            ("p-rajesh", "delhi-centre", "dr.sharma", PersonKind::Patient, "DEL-200411", "राजेश कुमार (Rajesh Kumar)", "1961-01-19", Sex::Male, Language::Hi),
            ("p-sunita", "delhi-centre", "dr.sharma", PersonKind::Patient, "DEL-200412", "सुनीता देवी (Sunita Devi)", "1958-08-02", Sex::Female, Language::Hi),
            ("p-aarav", "delhi-centre", "dr.menon", PersonKind::Patient, "DEL-200413", "आरव सिंह (Aarav Singh)", "2009-03-11", Sex::Male, Language::Hi),
            ("p-vikram", "delhi-centre", "dr.menon", PersonKind::Patient, "DEL-200414", "विक्रम राव (Vikram Rao)", "2001-12-25", Sex::Male, Language::Hi),
            ("p-meera", "delhi-centre", "dr.sharma", PersonKind::Patient, "DEL-200415", "मीरा पटेल (Meera Patel)", "1994-06-17", Sex::Female, Language::Hi),
            ("d-cord-wilson", "london-bank", "nurse.evans", PersonKind::Donor, "LCB-50071", "Baby of Emma Wilson (cord blood donor)", "2026-04-20", Sex::Female, Language::En),
            ("d-cord-ahmed", "london-bank", "nurse.evans", PersonKind::Donor, "LCB-50072", "Baby of Zara Ahmed (cord blood donor)", "2026-04-28", Sex::Male, Language::En),
            ("d-msc-01", "mumbai-lab", "dr.nair", PersonKind::Donor, "MUM-MSC-0001", "Umbilical cord tissue donor MSC-01", "2026-03-09", Sex::Female, Language::Hi),
        ];
        for (person, site, staff, kind, mrn, name, dob, sex, language) in people {
            let date_of_birth = Date::parse(dob).map_err(|e| DemoError::Id(e.to_string()))?;
            self.run(staff, site, 5, Command::RegisterPerson {
                person: id(person)?,
                kind,
                mrn: mrn.into(),
                name: name.into(),
                date_of_birth,
                sex,
                language,
                contact: format!("{}@example.org", person),
            })
            .await?;
        }
        Ok(())
    }

    async fn plan(
        &mut self,
        physician: &str,
        site: &str,
        plan: &str,
        patient: &str,
        indication: (&str, &str),
        product_type: ProductType,
        route: &str,
        dose: Quantity,
        cost: i64,
        currency: &str,
        evidence: EvidenceRating,
        trial: Option<Trial>,
    ) -> Result<(), DemoError> {
        // The demo's story states the status it expects; the rating itself
        // (summary, sources, data version) comes from the shipped evidence data.
        let data = celltrace_evidence::EvidenceData::shipped().map_err(|e| DemoError::Id(e.to_string()))?;
        let entry = data.indication_by_code(indication.0).ok_or_else(|| DemoError::Id(format!("no indication {} in the evidence data", indication.0)))?;
        let shipped = data.rating(&entry.id, product_type).ok_or_else(|| DemoError::Id(format!("no rating for {} and {product_type:?}", indication.0)))?;
        if shipped.status != evidence.status {
            return Err(DemoError::Id(format!("plan {plan}: the demo expects {:?} but the evidence data says {:?}", evidence.status, shipped.status)));
        }
        let evidence = shipped;
        self.run(physician, site, 30, Command::CreatePlan {
            plan: id(plan)?,
            patient: id(patient)?,
            indication: Indication { icd10: indication.0.into(), name: indication.1.into() },
            product_type,
            route: route.into(),
            sessions: 1,
            dose,
            cost_quote: Money { minor: cost * 100, currency: currency.into() },
            evidence,
            trial,
        })
        .await?;
        Ok(())
    }

    /// Warning signed by the patient, then the medical director's override.
    async fn override_unproven(&mut self, staff: &str, director: &str, site: &str, plan: &str) -> Result<(), DemoError> {
        self.run(staff, site, 20, Command::AcknowledgeEvidenceWarning { plan: id(plan)? }).await?;
        let signature = self.sig(director, SignatureMeaning::EvidenceOverride)?;
        self.run(director, site, 60, Command::OverrideEvidenceBlock { plan: id(plan)?, signature }).await?;
        Ok(())
    }

    async fn eligibility_and_consent(&mut self, physician: &str, witness: &str, site: &str, plan: &str, criteria: Vec<Criterion>, language: Language) -> Result<(), DemoError> {
        self.run(physician, site, 60, Command::AssessEligibility {
            plan: id(plan)?,
            assessment: id(&format!("{plan}-elig-1"))?,
            criteria,
            valid_days: 180,
        })
        .await?;
        let witness = Some(self.sig(witness, SignatureMeaning::ConsentWitness)?);
        self.run(physician, site, 30, Command::RecordConsent {
            plan: id(plan)?,
            consent: id(&format!("{plan}-consent-1"))?,
            template: celltrace_i18n::CONSENT_TEMPLATE.into(),
            template_version: celltrace_i18n::CONSENT_VERSION.into(),
            language,
            witness,
        })
        .await?;
        Ok(())
    }

    async fn collect(&mut self, nurse: &str, site: &str, person: &str, plan: Option<&str>, tissue: SourceTissue, product_type: ProductType, unit: &str, din: &str, code: &str, quantity: Quantity, shelf_hours: i64) -> Result<(), DemoError> {
        let collected_at = Timestamp(self.clock.0 + 60 * MINUTE);
        self.run(nurse, site, 90, Command::RecordCollection {
            collection: id(&format!("col-{unit}"))?,
            source_person: id(person)?,
            plan: plan.map(id).transpose()?,
            tissue,
            product_type,
            unit: id(unit)?,
            din: din.into(),
            product_code: code.into(),
            quantity,
            collected_at,
            expires_at: Timestamp(collected_at.0 + shelf_hours * HOUR),
        })
        .await?;
        Ok(())
    }

    async fn step(&mut self, tech: &str, site: &str, step: &str, kind: ProcessingKind, inputs: &[&str], outputs: &[(&str, &str, Quantity, i64)], equipment: &str, lots: &[&str], parameters: &[(&str, &str)]) -> Result<(), DemoError> {
        let now = self.clock;
        self.run(tech, site, 120, Command::RecordProcessingStep {
            step: id(step)?,
            kind,
            inputs: inputs.iter().map(|u| id(u)).collect::<Result<_, _>>()?,
            outputs: outputs
                .iter()
                .map(|(unit, code, quantity, shelf_days)| {
                    Ok(NewUnit { unit: id(unit)?, product_code: (*code).into(), quantity: quantity.clone(), expires_at: Timestamp(now.0 + shelf_days * DAY) })
                })
                .collect::<Result<_, DemoError>>()?,
            equipment: equipment.into(),
            reagent_lots: lots.iter().map(|l| (*l).to_owned()).collect(),
            parameters: parameters.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        })
        .await?;
        Ok(())
    }

    async fn qc(&mut self, tech: &str, site: &str, unit: &str, results: &[(&str, &str, &str, bool)]) -> Result<(), DemoError> {
        for (test, value, specification, in_spec) in results {
            self.run(tech, site, 45, Command::RecordQcResult {
                unit: id(unit)?,
                test: (*test).into(),
                value: (*value).into(),
                specification: (*specification).into(),
                in_spec: *in_spec,
            })
            .await?;
        }
        Ok(())
    }

    async fn release(&mut self, qa: &str, site: &str, unit: &str) -> Result<(), DemoError> {
        let signature = self.sig(qa, SignatureMeaning::Release)?;
        self.run(qa, site, 60, Command::ReleaseUnit { unit: id(unit)?, signature }).await?;
        Ok(())
    }

    async fn store(&mut self, tech: &str, site: &str, unit: &str, freezer: &str, position: &str) -> Result<(), DemoError> {
        self.run(tech, site, 15, Command::StoreUnit {
            unit: id(unit)?,
            location: StorageLocation { freezer: freezer.into(), rack: "R2".into(), r#box: "B07".into(), position: position.into() },
        })
        .await?;
        Ok(())
    }

    async fn ship(&mut self, shipment: &str, sender: &str, from: &str, receiver: &str, to: &str, units: &[&str], courier: &str, excursions: &[&str]) -> Result<(), DemoError> {
        let signature = self.sig(sender, SignatureMeaning::CustodyTransfer)?;
        self.run(sender, from, 60, Command::DispatchShipment {
            shipment: id(shipment)?,
            to_site: id(to)?,
            units: units.iter().map(|u| id(u)).collect::<Result<_, _>>()?,
            courier: courier.into(),
            signature,
        })
        .await?;
        self.clock = Timestamp(self.clock.0 + 20 * HOUR);
        let signature = self.sig(receiver, SignatureMeaning::CustodyTransfer)?;
        self.run(receiver, to, 1, Command::ReceiveShipment {
            shipment: id(shipment)?,
            condition_ok: true,
            excursions: excursions.iter().map(|e| (*e).to_owned()).collect(),
            signature,
        })
        .await?;
        Ok(())
    }

    async fn administer(&mut self, nurse: &str, witness: &str, site: &str, plan: &str, patient: &str, unit: &str, dose: Quantity, body_site: &str) -> Result<(), DemoError> {
        let witness = self.sig(witness, SignatureMeaning::AdministrationWitness)?;
        self.run(nurse, site, 120, Command::AdministerUnit {
            administration: id(&format!("adm-{unit}"))?,
            unit: id(unit)?,
            patient: id(patient)?,
            plan: id(plan)?,
            dose,
            body_site: body_site.into(),
            witness,
        })
        .await?;
        Ok(())
    }

    async fn follow_ups(&mut self, nurse: &str, site: &str, plan: &str, instrument: &str, scores: &[(&str, f64)]) -> Result<(), DemoError> {
        for (i, (time_point, score)) in scores.iter().enumerate() {
            self.run(nurse, site, if i == 0 { 10 } else { 30 * 24 * 60 }, Command::RecordFollowUp {
                plan: id(plan)?,
                visit: id(&format!("{plan}-{time_point}"))?,
                time_point: (*time_point).into(),
                instrument: instrument.into(),
                score_milli: Some((score * 1000.0).round() as i64),
                notes: String::new(),
            })
            .await?;
        }
        Ok(())
    }

    async fn adipose_for_back_pain(&mut self) -> Result<(), DemoError> {
        let unproven = rating(EvidenceStatus::Unproven, "No regulator has approved adipose-derived cells for low back pain; one systematic review found no evidence supporting their use.");
        let dose = q(50.0, "million cells");
        self.plan("dr.haddad", "dubai-clinic", "plan-layla", "p-layla", ("M51.36", "Other intervertebral disc degeneration, lumbar region"), ProductType::AutologousAdipose, "intradiscal", dose.clone(), 12_000, "USD", unproven.clone(), None).await?;
        self.override_unproven("nurse.fatima", "md.alsayed", "dubai-clinic", "plan-layla").await?;
        self.follow_ups("nurse.fatima", "dubai-clinic", "plan-layla", "NPRS", &[("baseline", 7.0)]).await?;
        self.eligibility_and_consent("dr.haddad", "nurse.fatima", "dubai-clinic", "plan-layla",
            standard_criteria(&[("baseline_pain", "Baseline NPRS at least 4", true, "NPRS 7"), ("imaging", "MRI confirms disc degeneration", true, "L4-L5 Pfirrmann grade III")]),
            Language::Ar).await?;
        self.collect("nurse.fatima", "dubai-clinic", "p-layla", Some("plan-layla"), SourceTissue::Adipose, ProductType::AutologousAdipose, "u-layla-lipo", "A999126000101", "S1001100", q(120.0, "mL"), 48).await?;
        self.ship("ship-layla-1", "log.khan", "dubai-clinic", "log.khan", "mumbai-lab", &["u-layla-lipo"], "MedCourier Gulf, temperature-controlled 2-8 °C", &[]).await?;
        self.step("tech.rao", "mumbai-lab", "step-layla-svf", ProcessingKind::Isolation, &["u-layla-lipo"], &[("u-layla-svf", "S1002100", q(10.0, "mL"), 2)], "Biosafety cabinet BSC-3, centrifuge C-12", &["COLL-2026-0412 collagenase"], &[("digestion", "37 °C, 45 min")]).await?;
        self.step("tech.rao", "mumbai-lab", "step-layla-exp", ProcessingKind::Expansion, &["u-layla-svf"], &[("u-layla-msc", "S1003100", q(5.0, "mL"), 365)], "Incubator INC-2", &["MEM-2026-0088 alpha-MEM", "HPL-2026-0031 platelet lysate"], &[("passages", "3"), ("harvest confluence", "85 %")]).await?;
        self.step("tech.rao", "mumbai-lab", "step-layla-cryo", ProcessingKind::Cryopreservation, &["u-layla-msc"], &[], "Controlled-rate freezer CRF-1", &["CRYO-2026-0150 DMSO 10 %"], &[("profile", "-1 °C/min to -80 °C")]).await?;
        self.qc("tech.rao", "mumbai-lab", "u-layla-msc", &[
            ("viability", "92 %", ">= 70 %", true),
            ("cell count", "52 million", ">= 45 million", true),
            ("sterility", "no growth at 14 days", "no growth", true),
            ("endotoxin", "< 0.5 EU/mL", "< 5 EU/kg", true),
            ("mycoplasma", "not detected", "not detected", true),
            ("identity (ISCT markers)", "CD73+ CD90+ CD105+ >= 95 %; CD45- CD34- <= 2 %", "ISCT 2006 criteria", true),
        ]).await?;
        self.release("qa.mehta", "mumbai-lab", "u-layla-msc").await?;
        self.store("tech.rao", "mumbai-lab", "u-layla-msc", "LN2 tank T-1", "A4").await?;
        self.ship("ship-layla-2", "log.khan", "mumbai-lab", "log.khan", "dubai-clinic", &["u-layla-msc"], "CryoPort dry shipper", &[]).await?;
        self.administer("nurse.fatima", "nurse.omar", "dubai-clinic", "plan-layla", "p-layla", "u-layla-msc", dose.clone(), "L4-L5 disc").await?;
        self.follow_ups("nurse.fatima", "dubai-clinic", "plan-layla", "NPRS", &[("1m", 6.0), ("3m", 4.0)]).await?;

        // A second patient withdraws consent after collection: everything downstream stops.
        self.plan("dr.haddad", "dubai-clinic", "plan-james", "p-james", ("M54.50", "Low back pain, unspecified"), ProductType::AutologousAdipose, "intradiscal", dose, 12_000, "USD", unproven, None).await?;
        self.override_unproven("nurse.fatima", "md.alsayed", "dubai-clinic", "plan-james").await?;
        self.eligibility_and_consent("dr.haddad", "nurse.omar", "dubai-clinic", "plan-james", standard_criteria(&[("baseline_pain", "Baseline NPRS at least 4", true, "NPRS 6")]), Language::En).await?;
        self.collect("nurse.omar", "dubai-clinic", "p-james", Some("plan-james"), SourceTissue::Adipose, ProductType::AutologousAdipose, "u-james-lipo", "A999126000102", "S1001100", q(100.0, "mL"), 48).await?;
        self.run("nurse.omar", "dubai-clinic", 600, Command::WithdrawConsent { plan: id("plan-james")?, reason: "Patient decided against treatment after reading the evidence summary.".into() }).await?;
        self.run("qa.dubai", "dubai-clinic", 60, Command::DiscardUnit { unit: id("u-james-lipo")?, reason: "Consent withdrawn; destroyed per SOP-DSP-04.".into() }).await?;
        Ok(())
    }

    async fn bone_marrow_for_knee_oa(&mut self) -> Result<(), DemoError> {
        let trial = Trial { registration: "NCT09990001".into(), ethics_approval: "IEC-DHRC-2026-014 (fictional)".into() };
        let rating = rating(EvidenceStatus::Unproven, "Not approved for knee osteoarthritis in the US or EU; the largest trial found bone marrow cells no better than a corticosteroid injection. Offered here only inside a registered trial.");
        for (patient, plan, unit, din, nurse, witness, score) in [
            ("p-rajesh", "plan-rajesh", "u-rajesh-bma", "A999226000201", "nurse.priya", "nurse.anil", [("baseline", 38.0), ("1m", 45.0), ("3m", 52.0)]),
            ("p-sunita", "plan-sunita", "u-sunita-bma", "A999226000202", "nurse.anil", "nurse.priya", [("baseline", 42.0), ("1m", 44.0), ("3m", 41.0)]),
        ] {
            let dose = q(5.0, "mL");
            self.plan("dr.sharma", "delhi-centre", plan, patient, ("M17.11", "Unilateral primary osteoarthritis, right knee"), ProductType::AutologousBoneMarrow, "intra-articular", dose.clone(), 250_000, "INR", rating.clone(), Some(trial.clone())).await?;
            self.follow_ups(nurse, "delhi-centre", plan, "KOOS pain", &score[..1]).await?;
            self.eligibility_and_consent("dr.sharma", nurse, "delhi-centre", plan,
                standard_criteria(&[("kellgren_lawrence", "Kellgren-Lawrence grade 2 to 3", true, "grade 3 on X-ray"), ("bmi", "BMI under 35", true, "BMI 29")]),
                Language::Hi).await?;
            self.collect(nurse, "delhi-centre", patient, Some(plan), SourceTissue::BoneMarrow, ProductType::AutologousBoneMarrow, unit, din, "S2001100", q(60.0, "mL"), 24).await?;
            let concentrate = format!("{unit}-bmac");
            self.step_point_of_care(unit, &concentrate).await?;
            self.administer(nurse, witness, "delhi-centre", plan, patient, &concentrate, dose, "right knee").await?;
            self.follow_ups(nurse, "delhi-centre", plan, "KOOS pain", &score[1..]).await?;
            // The patient answers the 3-month impression of change in the portal, in Hindi.
            let pgic = celltrace_web::questionnaires::instruments().map_err(DemoError::Id)?.get("pgic").ok_or_else(|| DemoError::Id("the PGIC instrument is not shipped".into()))?;
            let answers = std::collections::BTreeMap::from([("change".to_owned(), if patient == "p-rajesh" { 3 } else { 4 })]);
            let scores = celltrace_web::questionnaires::registry_scores(pgic, &answers).map_err(|e| DemoError::Id(e.to_string()))?;
            self.run(&format!("patient:{patient}"), "delhi-centre", 60, Command::AnswerQuestionnaire {
                plan: id(plan)?,
                visit: id(&format!("{plan}-3m-pgic"))?,
                time_point: "3m".into(),
                instrument: "pgic".into(),
                instrument_version: pgic.version.clone(),
                answers,
                scores,
                language: Language::Hi,
            })
            .await?;
        }
        // The adverse event of the demo: a painful effusion after the injection.
        self.run("dr.sharma", "delhi-centre", 60, Command::ReportAdverseEvent {
            adverse_event: id("ae-rajesh-1")?,
            patient: id("p-rajesh")?,
            plan: Some(id("plan-rajesh")?),
            unit: Some(id("u-rajesh-bma-bmac")?),
            term: "Joint effusion".into(),
            grade: 2,
            onset: self.clock.date(),
            seriousness: BTreeSet::new(),
            relatedness: Relatedness::Probable,
            action: "Aspiration and NSAIDs; activity modified".into(),
            outcome: "Recovering".into(),
            description: "Swelling and pain of the right knee two days after intra-articular BMAC injection; aspirate clear, culture negative.".into(),
        })
        .await?;
        self.run("md.iyer", "delhi-centre", 24 * 60, Command::ReviewAdverseEvent { adverse_event: id("ae-rajesh-1")?, note: "Expected reaction listed in the trial protocol; not serious; report in the annual safety report.".into() }).await?;
        Ok(())
    }

    /// Bedside concentration of bone marrow (point of care) with QC and release at the clinic.
    async fn step_point_of_care(&mut self, unit: &str, concentrate: &str) -> Result<(), DemoError> {
        self.step("tech.delhi", "delhi-centre", &format!("step-{concentrate}"), ProcessingKind::Isolation, &[unit], &[(concentrate, "S2002100", q(6.0, "mL"), 1)], "Point-of-care centrifuge PoC-2", &["KIT-BMAC-2026-077"], &[("spin", "12 min")]).await?;
        self.qc("tech.delhi", "delhi-centre", concentrate, &[("nucleated cell count", "1.9 x10^9", ">= 1.0 x10^9", true), ("sterility (sample sent)", "no growth at 5 days", "no growth", true)]).await?;
        self.release("qa.delhi", "delhi-centre", concentrate).await
    }

    async fn cord_blood_for_blood_disorder(&mut self) -> Result<(), DemoError> {
        for (donor, unit, din, position) in [("d-cord-wilson", "u-cord-wilson", "A999426000301", "C3"), ("d-cord-ahmed", "u-cord-ahmed", "A999426000302", "C4")] {
            self.collect("nurse.evans", "london-bank", donor, None, SourceTissue::CordBlood, ProductType::CordBloodHpc, &format!("{unit}-raw"), din, "S3001V00", q(110.0, "mL"), 48).await?;
            self.step("tech.smith", "london-bank", &format!("step-{unit}"), ProcessingKind::Isolation, &[&format!("{unit}-raw")], &[(unit, "S3002V00", q(25.0, "mL"), 3650)], "Sepax 2 cell processor", &["CS-490-2026-12 kit", "DMSO-2026-007"], &[("method", "volume reduction, red cell depletion")]).await?;
            self.step("tech.smith", "london-bank", &format!("step-{unit}-cryo"), ProcessingKind::Cryopreservation, &[unit], &[], "Controlled-rate freezer CRF-LB2", &["DMSO-2026-007"], &[("profile", "-1 °C/min")]).await?;
            self.qc("tech.smith", "london-bank", unit, &[
                ("total nucleated cells", "1.6 x10^9", ">= 1.25 x10^9", true),
                ("CD34+ cells", "5.1 x10^6", ">= 1.25 x10^6", true),
                ("viability (CD34+)", "94 %", ">= 85 %", true),
                ("sterility", "no growth", "no growth", true),
                ("ABO/RhD", "O RhD positive", "recorded", true),
                ("HLA typing", "A*02:01, B*44:02, DRB1*04:01 (high resolution)", "recorded", true),
                ("maternal infectious disease markers", "HIV-1/2, HBV, HCV, HTLV, syphilis negative; CMV IgG positive", "21 CFR 1271 subpart C", true),
            ]).await?;
            self.release("qa.jones", "london-bank", unit).await?;
            self.store("tech.smith", "london-bank", unit, "LN2 vapour tank V-3", position).await?;
        }
        let approved = rating(EvidenceStatus::Approved, "HPC, Cord Blood is approved for disorders affecting the blood-forming system, in an accredited transplant programme.");
        for (patient, plan, indication) in [
            ("p-aarav", "plan-aarav", ("D61.9", "Aplastic anaemia, unspecified")),
            ("p-vikram", "plan-vikram", ("D57.1", "Sickle-cell disease without crisis")),
        ] {
            self.plan("dr.menon", "delhi-centre", plan, patient, indication, ProductType::CordBloodHpc, "intravenous infusion", q(25.0, "mL"), 3_500_000, "INR", approved.clone(), None).await?;
            self.eligibility_and_consent("dr.menon", "nurse.priya", "delhi-centre", plan,
                vec![
                    criterion("hla_match", "HLA match 6/8 or better", true, "7/8"),
                    criterion("no_active_infection", "No active infection", true, "cultures negative"),
                    criterion("organ_function", "Adequate organ function", true, "creatinine, bilirubin, LVEF normal"),
                    criterion("conditioning", "Conditioning regimen completed", true, "day -1"),
                ],
                Language::Hi).await?;
        }
        self.ship("ship-cord-1", "log.brown", "london-bank", "log.brown", "delhi-centre", &["u-cord-wilson"], "World Courier, LN2 dry shipper", &[]).await?;
        self.run("dr.menon", "delhi-centre", 60, Command::AllocateUnit { unit: id("u-cord-wilson")?, plan: id("plan-aarav")? }).await?;
        self.administer("nurse.priya", "nurse.anil", "delhi-centre", "plan-aarav", "p-aarav", "u-cord-wilson", q(25.0, "mL"), "central venous catheter").await?;
        self.follow_ups("nurse.priya", "delhi-centre", "plan-aarav", "neutrophil engraftment day", &[("1m", 24.0)]).await?;
        Ok(())
    }

    async fn exosomes_for_hair_loss(&mut self) -> Result<(), DemoError> {
        self.collect("dr.nair", "mumbai-lab", "d-msc-01", None, SourceTissue::CordTissue, ProductType::MscExosome, "u-msc01-tissue", "A999326000401", "S4001700", q(15.0, "g"), 48).await?;
        self.step("tech.rao", "mumbai-lab", "step-msc01-exp", ProcessingKind::Expansion, &["u-msc01-tissue"], &[("u-msc01-culture", "S4002700", q(500.0, "mL"), 30)], "Incubator INC-4", &["MEM-2026-0091 alpha-MEM"], &[("passages", "4")]).await?;
        self.step("tech.rao", "mumbai-lab", "step-msc01-exo", ProcessingKind::ExosomeIsolation, &["u-msc01-culture"], &[("u-exo-01a", "S40037A0", q(2.0, "mL"), 180), ("u-exo-01b", "S40037B0", q(2.0, "mL"), 180)], "Ultracentrifuge UC-1, tangential flow filtration", &["TFF-2026-019"], &[("ultracentrifugation", "100,000 g, 70 min")]).await?;
        for unit in ["u-exo-01a", "u-exo-01b"] {
            self.qc("tech.rao", "mumbai-lab", unit, &[
                ("particle count (NTA)", "2.1 x10^10 /mL", ">= 1 x10^10 /mL", true),
                ("modal size (NTA)", "118 nm", "50-200 nm", true),
                ("EV markers", "CD63+, CD81+, TSG101+; calnexin negative", "MISEV2023 markers", true),
                ("sterility", "no growth", "no growth", true),
                ("endotoxin", "< 0.5 EU/mL", "< 1 EU/mL", true),
            ]).await?;
            self.release("qa.mehta", "mumbai-lab", unit).await?;
        }
        self.ship("ship-exo-1", "log.khan", "mumbai-lab", "log.khan", "dubai-clinic", &["u-exo-01a"], "MedCourier Gulf, -80 °C dry ice", &["2026-06-14 03:10-03:25 UTC: -62 °C (limit -65 °C), 15 min"]).await?;
        let unproven = rating(EvidenceStatus::Unproven, "No exosome product is approved anywhere; studies for hair loss are small and conflicting.");
        self.plan("dr.khoury", "dubai-clinic", "plan-noura", "p-noura", ("L65.9", "Nonscarring hair loss, unspecified"), ProductType::MscExosome, "topical after microneedling, scalp", q(2.0, "mL"), 3_500, "USD", unproven, None).await?;
        self.override_unproven("nurse.omar", "md.alsayed", "dubai-clinic", "plan-noura").await?;
        self.eligibility_and_consent("dr.khoury", "nurse.omar", "dubai-clinic", "plan-noura", standard_criteria(&[("scalp", "No scalp infection or keloid history", true, "scalp healthy")]), Language::Ar).await?;
        self.run("dr.khoury", "dubai-clinic", 30, Command::AllocateUnit { unit: id("u-exo-01a")?, plan: id("plan-noura")? }).await?;
        self.administer("nurse.omar", "nurse.fatima", "dubai-clinic", "plan-noura", "p-noura", "u-exo-01a", q(2.0, "mL"), "frontal and vertex scalp").await?;
        self.follow_ups("nurse.omar", "dubai-clinic", "plan-noura", "PGIC", &[("1m", 4.0), ("3m", 3.0)]).await?;
        Ok(())
    }

    async fn prp_for_tendon_injury(&mut self) -> Result<(), DemoError> {
        let unproven = rating(EvidenceStatus::Unproven, "Cell and PRP injections are not approved for tendon injuries; the trials are few, small and at risk of bias.");
        let dose = q(4.0, "mL");
        self.plan("dr.haddad", "dubai-clinic", "plan-omar", "p-omar", ("M77.10", "Lateral epicondylitis, unspecified elbow"), ProductType::Prp, "intratendinous", dose.clone(), 800, "USD", unproven.clone(), None).await?;
        self.override_unproven("nurse.fatima", "md.alsayed", "dubai-clinic", "plan-omar").await?;
        self.eligibility_and_consent("dr.haddad", "nurse.fatima", "dubai-clinic", "plan-omar", standard_criteria(&[("platelets", "Platelet count normal", true, "245 x10^9/L")]), Language::Ar).await?;
        self.follow_ups("nurse.fatima", "dubai-clinic", "plan-omar", "NPRS", &[("baseline", 6.0)]).await?;
        self.collect("nurse.fatima", "dubai-clinic", "p-omar", Some("plan-omar"), SourceTissue::PeripheralBlood, ProductType::Prp, "u-omar-blood", "A999126000103", "S5001100", q(30.0, "mL"), 6).await?;
        self.step("tech.dubai", "dubai-clinic", "step-omar-prp", ProcessingKind::PrpPreparation, &["u-omar-blood"], &[("u-omar-prp", "S5002100", q(4.0, "mL"), 1)], "PRP centrifuge PC-1", &["PRP-KIT-2026-221"], &[("spins", "2"), ("leukocytes", "poor")]).await?;
        self.qc("tech.dubai", "dubai-clinic", "u-omar-prp", &[("platelet concentration", "1,150 x10^9/L", ">= 1,000 x10^9/L", true)]).await?;
        self.release("qa.dubai", "dubai-clinic", "u-omar-prp").await?;
        self.administer("nurse.fatima", "nurse.omar", "dubai-clinic", "plan-omar", "p-omar", "u-omar-prp", dose.clone(), "common extensor origin, right elbow").await?;
        self.follow_ups("nurse.fatima", "dubai-clinic", "plan-omar", "NPRS", &[("1m", 4.0)]).await?;

        // A second course was prepared but the patient did not come: the PRP
        // expired on the shelf, and bedside verification must refuse it.
        self.plan("dr.haddad", "dubai-clinic", "plan-omar-2", "p-omar", ("M77.10", "Lateral epicondylitis, unspecified elbow"), ProductType::Prp, "intratendinous", dose.clone(), 800, "USD", unproven.clone(), None).await?;
        self.override_unproven("nurse.fatima", "md.alsayed", "dubai-clinic", "plan-omar-2").await?;
        self.eligibility_and_consent("dr.haddad", "nurse.fatima", "dubai-clinic", "plan-omar-2", standard_criteria(&[("platelets", "Platelet count normal", true, "251 x10^9/L")]), Language::Ar).await?;
        self.collect("nurse.fatima", "dubai-clinic", "p-omar", Some("plan-omar-2"), SourceTissue::PeripheralBlood, ProductType::Prp, "u-omar-blood-2", "A999126000105", "S5001100", q(30.0, "mL"), 6).await?;
        self.step("tech.dubai", "dubai-clinic", "step-omar-prp-2", ProcessingKind::PrpPreparation, &["u-omar-blood-2"], &[("u-omar-prp-2", "S5002100", q(4.0, "mL"), 1)], "PRP centrifuge PC-1", &["PRP-KIT-2026-305"], &[("spins", "2")]).await?;
        self.qc("tech.dubai", "dubai-clinic", "u-omar-prp-2", &[("platelet concentration", "1,080 x10^9/L", ">= 1,000 x10^9/L", true)]).await?;
        self.release("qa.dubai", "dubai-clinic", "u-omar-prp-2").await?;

        // Not eligible: on anticoagulation, so nothing is collected.
        self.plan("dr.khoury", "dubai-clinic", "plan-sarah", "p-sarah", ("M76.60", "Achilles tendinitis, unspecified leg"), ProductType::Prp, "peritendinous", dose, 800, "USD", unproven, None).await?;
        self.override_unproven("nurse.omar", "md.alsayed", "dubai-clinic", "plan-sarah").await?;
        self.run("dr.khoury", "dubai-clinic", 60, Command::AssessEligibility {
            plan: id("plan-sarah")?,
            assessment: id("plan-sarah-elig-1")?,
            criteria: vec![
                criterion("age", "Age 18 to 75", true, "54"),
                criterion("no_anticoagulation", "No anticoagulation", false, "on apixaban for atrial fibrillation"),
                criterion("no_active_infection", "No active infection", true, "none"),
            ],
            valid_days: 90,
        })
        .await?;
        Ok(())
    }

    async fn in_progress_and_blocked(&mut self) -> Result<(), DemoError> {
        // Fatima's cells are in the lab, awaiting QC and release.
        let unproven = rating(EvidenceStatus::Unproven, "No regulator has approved adipose-derived cells for low back pain; one systematic review found no evidence supporting their use.");
        self.plan("dr.khoury", "dubai-clinic", "plan-fatima", "p-fatima", ("M51.36", "Other intervertebral disc degeneration, lumbar region"), ProductType::AutologousAdipose, "intradiscal", q(50.0, "million cells"), 12_000, "USD", unproven, None).await?;
        self.override_unproven("nurse.fatima", "md.alsayed", "dubai-clinic", "plan-fatima").await?;
        self.eligibility_and_consent("dr.khoury", "nurse.fatima", "dubai-clinic", "plan-fatima", standard_criteria(&[("baseline_pain", "Baseline NPRS at least 4", true, "NPRS 8")]), Language::Ar).await?;
        self.follow_ups("nurse.fatima", "dubai-clinic", "plan-fatima", "NPRS", &[("baseline", 8.0)]).await?;
        self.collect("nurse.fatima", "dubai-clinic", "p-fatima", Some("plan-fatima"), SourceTissue::Adipose, ProductType::AutologousAdipose, "u-fatima-lipo", "A999126000104", "S1001100", q(110.0, "mL"), 48).await?;
        self.ship("ship-fatima-1", "log.khan", "dubai-clinic", "log.khan", "mumbai-lab", &["u-fatima-lipo"], "MedCourier Gulf, temperature-controlled 2-8 °C", &[]).await?;
        self.step("tech.rao", "mumbai-lab", "step-fatima-svf", ProcessingKind::Isolation, &["u-fatima-lipo"], &[("u-fatima-svf", "S1002100", q(10.0, "mL"), 2)], "Biosafety cabinet BSC-3, centrifuge C-12", &["COLL-2026-0412 collagenase"], &[("digestion", "37 °C, 45 min")]).await?;
        self.step("tech.rao", "mumbai-lab", "step-fatima-exp", ProcessingKind::Expansion, &["u-fatima-svf"], &[("u-fatima-msc", "S1003100", q(5.0, "mL"), 365)], "Incubator INC-2", &["MEM-2026-0088 alpha-MEM", "HPL-2026-0031 platelet lysate"], &[("passages", "3")]).await?;
        self.qc("tech.rao", "mumbai-lab", "u-fatima-msc", &[("viability", "88 %", ">= 70 %", true), ("cell count", "51 million", ">= 45 million", true)]).await?;

        // Meera asks for exosomes for hair loss in Delhi, whose policy does not
        // permit unproven treatments: the evidence guard blocks the plan.
        self.plan("dr.sharma", "delhi-centre", "plan-meera", "p-meera", ("L64.9", "Androgenic alopecia, unspecified"), ProductType::MscExosome, "intradermal, scalp", q(2.0, "mL"), 90_000, "INR",
            rating(EvidenceStatus::Unproven, "No exosome product is approved anywhere; studies for hair loss are small and conflicting."), None).await?;
        self.run("dr.sharma", "delhi-centre", 5, Command::RecordRecordViewed { person: id("p-meera")?, view: "evidence summary shown to patient".into() }).await?;
        Ok(())
    }
}
