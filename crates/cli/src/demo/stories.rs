//! The demo's worksheet: who does what, where, in each story. Each helper
//! takes the columns of one row (who, where, what); named structs for each
//! would hide the data the reader came to see.
#![allow(clippy::too_many_arguments)]

use super::{id, portal_code, Demo, DemoError, DAY, DEMO_PASSWORD, DEMO_PORTAL_PATIENTS, HOUR, MINUTE};
use celltrace_domain::command::{Command, NewUnit};
use celltrace_domain::model::*;
use celltrace_domain::time::{Date, Timestamp};
use celltrace_store::Secret;
use std::collections::BTreeSet;

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

/// A QC row: test, result, specification, outcome.
type Qc<'a> = (&'a str, &'a str, &'a str, QcOutcome);
const IN: QcOutcome = QcOutcome::InSpecification;
const PENDING: QcOutcome = QcOutcome::Pending;

impl Demo<'_> {
    pub(super) fn sites_and_staff(&mut self) -> Result<(), DemoError> {
        let sites = [
            ("dubai-clinic", "Gulf Regenerative Clinic, Dubai", SiteKind::Clinic, "AE", vec![], "A9991"),
            ("delhi-centre", "Delhi Haematology & Regenerative Centre", SiteKind::Clinic, "IN", vec!["FACT".to_owned()], "A9992"),
            ("mumbai-lab", "Mumbai Cell Processing Laboratory", SiteKind::ProcessingLab, "IN", vec!["FACT".to_owned(), "AABB".to_owned()], "A9993"),
            ("london-bank", "London Cord Blood Bank", SiteKind::CordBloodBank, "GB", vec!["FACT-NetCord".to_owned(), "JACIE".to_owned()], "A9994"),
        ];
        for (site, name, kind, country, accreditations, fin) in sites {
            self.run("system", site, 1, Command::RegisterSite { site: id(site)?, name: name.into(), kind, country: country.into(), accreditations, fin: fin.into() })?;
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
            self.run("system", &site, 1, Command::RegisterStaff { staff: id(username)?, name: name.into(), username: username.into(), memberships })?;
            // Every demo account signs in with DEMO_PASSWORD, each with its own salted hash.
            let hash = celltrace_web::auth::hash_password(DEMO_PASSWORD).map_err(DemoError::Id)?;
            let secret = Secret::Password { staff: id(username)?, hash, end_sessions: false };
            self.run_with_secret("system", &site, 0, Command::SetPassword { staff: id(username)?, change: PasswordChange::Initial }, secret)?;
        }
        self.run("md.alsayed", "dubai-clinic", 60, Command::SetSitePolicy { allows_unproven: true })?;
        let entries = crate::products::parse_csv(crate::products::EXAMPLE).map_err(|e| DemoError::Id(e.join("; ")))?;
        self.run("admin", "dubai-clinic", 5, Command::LoadProductCatalogue { entries, source: "data/product-descriptions.example.csv".into() })?;
        Ok(())
    }

    pub(super) fn people(&mut self) -> Result<(), DemoError> {
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
                contact: format!("{person}@example.org"),
            })?;
        }
        // Three patients, one per portal language, are handed a one-time portal code.
        for (patient, language) in DEMO_PORTAL_PATIENTS {
            let (nurse, site) = if patient == "p-rajesh" { ("nurse.priya", "delhi-centre") } else { ("nurse.fatima", "dubai-clinic") };
            let secret = Secret::PortalCode {
                person: id(patient)?,
                code_hash: celltrace_store::portal::code_hash(&portal_code(patient)),
                issued_by: id(nurse)?,
                language: language.to_owned(),
                expires_at: self.now.0 + 7 * DAY,
            };
            self.run_with_secret(nurse, site, 2, Command::GrantPortalAccess { person: id(patient)? }, secret)?;
        }
        Ok(())
    }

    /// A plan the rules rate with the shipped evidence data; `expect` is
    /// what the story assumes, checked so the demo cannot drift from the data.
    fn plan(&mut self, physician: &str, site: &str, plan: &str, patient: &str, icd10: &str, product_type: ProductType, route: &str, dose: Quantity, cost: i64, currency: &str, expect: EvidenceStatus, trial: Option<Trial>) -> Result<(), DemoError> {
        let rules = self.engine.reference().get().ok_or_else(|| DemoError::Id("no reference data".into()))?.evidence(None).map_err(DemoError::Id)?;
        let rated = rules.rate(icd10, product_type).map_err(DemoError::Id)?;
        if rated.rating.status != expect {
            return Err(DemoError::Id(format!("plan {plan}: the demo expects {expect:?} but the evidence data says {:?}", rated.rating.status)));
        }
        self.run(physician, site, 30, Command::CreatePlan {
            plan: id(plan)?,
            patient: id(patient)?,
            indication: icd10.into(),
            product_type,
            route: route.into(),
            sessions: 1,
            dose,
            cost_quote: Money { minor: cost * 100, currency: currency.into() },
            trial,
        })
    }

    /// Warning signed by the patient, then the medical director's override.
    fn override_unproven(&mut self, staff: &str, director: &str, site: &str, plan: &str) -> Result<(), DemoError> {
        self.run(staff, site, 20, Command::AcknowledgeEvidenceWarning { plan: id(plan)? })?;
        let signature = self.own(director, SignatureMeaning::EvidenceOverride)?;
        let reason = "The patient read the evidence summary in their language, signed the warning, and asked to proceed; site policy permits it.".into();
        self.run(director, site, 60, Command::OverrideEvidenceBlock { plan: id(plan)?, signature, reason })
    }

    fn eligibility_and_consent(&mut self, physician: &str, witness: &str, site: &str, plan: &str, criteria: Vec<Criterion>, language: Language) -> Result<(), DemoError> {
        self.run(physician, site, 60, Command::AssessEligibility { plan: id(plan)?, assessment: id(&format!("{plan}-elig-1"))?, criteria, valid_days: 180 })?;
        let consent = Command::RecordConsent {
            plan: id(plan)?,
            consent: id(&format!("{plan}-consent-1"))?,
            template: celltrace_i18n::CONSENT_TEMPLATE.into(),
            template_version: celltrace_i18n::CONSENT_VERSION.into(),
            language,
            witness: Some(self.own(witness, SignatureMeaning::ConsentWitness)?),
        };
        self.cosigned(physician, witness, site, 30, SignatureMeaning::ConsentWitness, consent)
    }

    fn collect(&mut self, nurse: &str, site: &str, person: &str, plan: Option<&str>, tissue: SourceTissue, product_type: ProductType, unit: &str, din: &str, code: &str, quantity: Quantity, shelf_hours: i64) -> Result<(), DemoError> {
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
    }

    fn step(&mut self, tech: &str, site: &str, step: &str, kind: ProcessingKind, inputs: &[&str], outputs: &[(&str, &str, Quantity, i64)], equipment: &str, lots: &[&str], parameters: &[(&str, &str)]) -> Result<(), DemoError> {
        let now = self.clock;
        self.run(tech, site, 120, Command::RecordProcessingStep {
            step: id(step)?,
            kind,
            inputs: inputs.iter().map(|u| id(u)).collect::<Result<_, _>>()?,
            outputs: outputs
                .iter()
                .map(|(unit, code, quantity, shelf_days)| Ok(NewUnit { unit: id(unit)?, product_code: (*code).into(), quantity: quantity.clone(), expires_at: Timestamp(now.0 + shelf_days * DAY) }))
                .collect::<Result<_, DemoError>>()?,
            equipment: equipment.into(),
            reagent_lots: lots.iter().map(|l| (*l).to_owned()).collect(),
            parameters: parameters.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        })
    }

    fn qc(&mut self, tech: &str, site: &str, unit: &str, results: &[Qc]) -> Result<(), DemoError> {
        for (test, value, specification, outcome) in results {
            self.run(tech, site, 45, Command::RecordQcResult { unit: id(unit)?, test: (*test).into(), value: (*value).into(), specification: (*specification).into(), outcome: *outcome })?;
        }
        Ok(())
    }

    /// A sterility culture sampled now, read after its 14 days.
    fn sterility(&mut self, tech: &str, site: &str, unit: &str) -> Result<(), DemoError> {
        self.qc(tech, site, unit, &[("sterility", "sample sent for culture", "no growth", PENDING)])?;
        self.wait_days(14);
        self.qc(tech, site, unit, &[("sterility", "no growth at 14 days", "no growth", IN)])
    }

    fn release(&mut self, qa: &str, site: &str, unit: &str) -> Result<(), DemoError> {
        let signature = self.own(qa, SignatureMeaning::Release)?;
        self.run(qa, site, 60, Command::ReleaseUnit { unit: id(unit)?, signature })
    }

    fn store(&mut self, tech: &str, site: &str, unit: &str, freezer: &str, position: &str) -> Result<(), DemoError> {
        self.run(tech, site, 15, Command::StoreUnit { unit: id(unit)?, location: StorageLocation { freezer: freezer.into(), rack: "R2".into(), r#box: "B07".into(), position: position.into() } })
    }

    fn ship(&mut self, shipment: &str, sender: &str, from: &str, receiver: &str, to: &str, units: &[&str], courier: &str, excursions: &[&str]) -> Result<(), DemoError> {
        let signature = self.own(sender, SignatureMeaning::CustodyTransfer)?;
        self.run(sender, from, 60, Command::DispatchShipment {
            shipment: id(shipment)?,
            to_site: id(to)?,
            units: units.iter().map(|u| id(u)).collect::<Result<_, _>>()?,
            courier: courier.into(),
            signature,
        })?;
        let signature = self.own(receiver, SignatureMeaning::CustodyTransfer)?;
        self.run(receiver, to, 20 * 60, Command::ReceiveShipment {
            shipment: id(shipment)?,
            condition_ok: true,
            temperature_log: TemperatureLog::Read { excursions: excursions.iter().map(|e| (*e).to_owned()).collect() },
            signature,
        })
    }

    fn administer(&mut self, nurse: &str, witness: &str, site: &str, plan: &str, patient: &str, unit: &str, dose: Quantity, body_site: &str) -> Result<(), DemoError> {
        let command = Command::AdministerUnit {
            administration: id(&format!("adm-{unit}"))?,
            unit: id(unit)?,
            patient: id(patient)?,
            plan: id(plan)?,
            dose,
            body_site: body_site.into(),
            witness: self.own(witness, SignatureMeaning::AdministrationWitness)?,
        };
        self.cosigned(nurse, witness, site, 120, SignatureMeaning::AdministrationWitness, command)?;
        self.administered.entry(plan.to_owned()).or_insert(self.clock);
        Ok(())
    }

    /// Scores recorded by staff at their time points; those still in the future are left out.
    fn follow_ups(&mut self, nurse: &str, site: &str, plan: &str, product_type: ProductType, instrument: &str, scores: &[(&str, f64)]) -> Result<(), DemoError> {
        for (time_point, score) in scores {
            let Some(at) = self.follow_up_time(plan, product_type, time_point)? else { continue };
            self.clock = self.clock.max(at);
            self.run(nurse, site, 0, Command::RecordFollowUp {
                plan: id(plan)?,
                visit: id(&format!("{plan}-{time_point}"))?,
                time_point: (*time_point).into(),
                instrument: instrument.into(),
                score_milli: Some((score * 1000.0).round() as i64),
                notes: String::new(),
            })?;
        }
        Ok(())
    }

    pub(super) fn adipose_for_back_pain(&mut self) -> Result<(), DemoError> {
        use EvidenceStatus::Unproven;
        self.story(205);
        let dose = q(50.0, "million cells");
        let adipose = ProductType::AutologousAdipose;
        self.plan("dr.haddad", "dubai-clinic", "plan-layla", "p-layla", "M51.36", adipose, "intradiscal", dose.clone(), 12_000, "USD", Unproven, None)?;
        self.override_unproven("nurse.fatima", "md.alsayed", "dubai-clinic", "plan-layla")?;
        self.follow_ups("nurse.fatima", "dubai-clinic", "plan-layla", adipose, "NPRS", &[("baseline", 7.0)])?;
        self.eligibility_and_consent("dr.haddad", "nurse.fatima", "dubai-clinic", "plan-layla",
            standard_criteria(&[("baseline_pain", "Baseline NPRS at least 4", true, "NPRS 7"), ("imaging", "MRI confirms disc degeneration", true, "L4-L5 Pfirrmann grade III")]),
            Language::Ar)?;
        self.collect("nurse.fatima", "dubai-clinic", "p-layla", Some("plan-layla"), SourceTissue::Adipose, adipose, "u-layla-lipo", "A999126000101", "S1001100", q(120.0, "mL"), 48)?;
        self.ship("ship-layla-1", "log.khan", "dubai-clinic", "log.khan", "mumbai-lab", &["u-layla-lipo"], "MedCourier Gulf, temperature-controlled 2-8 °C", &[])?;
        self.step("tech.rao", "mumbai-lab", "step-layla-svf", ProcessingKind::Isolation, &["u-layla-lipo"], &[("u-layla-svf", "S1002100", q(10.0, "mL"), 2)], "Biosafety cabinet BSC-3, centrifuge C-12", &["COLL-2026-0412 collagenase"], &[("digestion", "37 °C, 45 min")])?;
        self.wait_days(21);
        self.step("tech.rao", "mumbai-lab", "step-layla-exp", ProcessingKind::Expansion, &["u-layla-svf"], &[("u-layla-msc", "S1003100", q(5.0, "mL"), 365)], "Incubator INC-2", &["MEM-2026-0088 alpha-MEM", "HPL-2026-0031 platelet lysate"], &[("passages", "3"), ("harvest confluence", "85 %")])?;
        self.step("tech.rao", "mumbai-lab", "step-layla-cryo", ProcessingKind::Cryopreservation, &["u-layla-msc"], &[], "Controlled-rate freezer CRF-1", &["CRYO-2026-0150 DMSO 10 %"], &[("profile", "-1 °C/min to -80 °C")])?;
        self.qc("tech.rao", "mumbai-lab", "u-layla-msc", &[
            ("viability", "92 %", ">= 70 %", IN),
            ("cell count", "52 million", ">= 45 million", IN),
            ("endotoxin", "< 0.5 EU/mL", "< 5 EU/kg", IN),
            ("mycoplasma (PCR)", "not detected", "not detected", IN),
            ("identity (ISCT markers)", "CD73+ CD90+ CD105+ >= 95 %; CD45- CD34- <= 2 %", "ISCT 2006 criteria", IN),
        ])?;
        self.sterility("tech.rao", "mumbai-lab", "u-layla-msc")?;
        self.release("qa.mehta", "mumbai-lab", "u-layla-msc")?;
        self.store("tech.rao", "mumbai-lab", "u-layla-msc", "LN2 tank T-1", "A4")?;
        self.ship("ship-layla-2", "log.khan", "mumbai-lab", "log.khan", "dubai-clinic", &["u-layla-msc"], "CryoPort dry shipper", &[])?;
        self.administer("nurse.fatima", "nurse.omar", "dubai-clinic", "plan-layla", "p-layla", "u-layla-msc", dose.clone(), "L4-L5 disc")?;
        self.follow_ups("nurse.fatima", "dubai-clinic", "plan-layla", adipose, "NPRS", &[("1m", 6.0), ("3m", 4.0)])?;

        // A second patient withdraws consent after collection: everything downstream stops.
        self.story(200);
        self.plan("dr.haddad", "dubai-clinic", "plan-james", "p-james", "M54.50", adipose, "intradiscal", dose, 12_000, "USD", Unproven, None)?;
        self.override_unproven("nurse.fatima", "md.alsayed", "dubai-clinic", "plan-james")?;
        self.eligibility_and_consent("dr.haddad", "nurse.omar", "dubai-clinic", "plan-james", standard_criteria(&[("baseline_pain", "Baseline NPRS at least 4", true, "NPRS 6")]), Language::En)?;
        self.collect("nurse.omar", "dubai-clinic", "p-james", Some("plan-james"), SourceTissue::Adipose, adipose, "u-james-lipo", "A999126000102", "S1001100", q(100.0, "mL"), 48)?;
        self.run("nurse.omar", "dubai-clinic", 600, Command::WithdrawConsent { plan: id("plan-james")?, reason: "Patient decided against treatment after reading the evidence summary.".into() })?;
        self.run("qa.dubai", "dubai-clinic", 60, Command::DiscardUnit { unit: id("u-james-lipo")?, reason: "Consent withdrawn; destroyed per SOP-DSP-04.".into() })
    }

    pub(super) fn bone_marrow_for_knee_oa(&mut self) -> Result<(), DemoError> {
        let trial = Trial { registration: "NCT09990001".into(), ethics_approval: "IEC-DHRC-2026-014 (fictional)".into() };
        let marrow = ProductType::AutologousBoneMarrow;
        for (start, patient, plan, unit, din, nurse, witness, score) in [
            (175, "p-rajesh", "plan-rajesh", "u-rajesh-bma", "A999226000201", "nurse.priya", "nurse.anil", [("baseline", 38.0), ("1m", 45.0), ("3m", 52.0)]),
            (185, "p-sunita", "plan-sunita", "u-sunita-bma", "A999226000202", "nurse.anil", "nurse.priya", [("baseline", 42.0), ("1m", 44.0), ("3m", 41.0)]),
        ] {
            self.story(start);
            let dose = q(5.0, "mL");
            self.plan("dr.sharma", "delhi-centre", plan, patient, "M17.11", marrow, "intra-articular", dose.clone(), 250_000, "INR", EvidenceStatus::Unproven, Some(trial.clone()))?;
            self.follow_ups(nurse, "delhi-centre", plan, marrow, "KOOS pain", &score[..1])?;
            self.eligibility_and_consent("dr.sharma", nurse, "delhi-centre", plan,
                standard_criteria(&[("kellgren_lawrence", "Kellgren-Lawrence grade 2 to 3", true, "grade 3 on X-ray"), ("bmi", "BMI under 35", true, "BMI 29")]),
                Language::Hi)?;
            self.collect(nurse, "delhi-centre", patient, Some(plan), SourceTissue::BoneMarrow, marrow, unit, din, "S2001100", q(60.0, "mL"), 24)?;
            let concentrate = format!("{unit}-bmac");
            self.point_of_care(unit, &concentrate)?;
            self.administer(nurse, witness, "delhi-centre", plan, patient, &concentrate, dose, "right knee")?;
            self.follow_ups(nurse, "delhi-centre", plan, marrow, "KOOS pain", &score[1..])?;
            // The patient answers the 3-month impression of change in the portal, in Hindi.
            if let Some(at) = self.follow_up_time(plan, marrow, "3m")? {
                self.clock = self.clock.max(at);
                let answers = std::collections::BTreeMap::from([("change".to_owned(), if patient == "p-rajesh" { 3 } else { 4 })]);
                self.run(&format!("patient:{patient}"), "delhi-centre", 60, Command::AnswerQuestionnaire {
                    plan: id(plan)?,
                    visit: id(&format!("{plan}-3m-pgic"))?,
                    time_point: "3m".into(),
                    instrument: "pgic".into(),
                    answers,
                    language: Language::Hi,
                })?;
            }
            if patient == "p-rajesh" {
                // The adverse event of the demo: a painful effusion two days after the injection.
                let given = self.administered.get(plan).copied().unwrap_or(self.clock);
                let onset = Timestamp(given.0 + 2 * DAY);
                self.clock = self.clock.max(Timestamp(onset.0 + 5 * HOUR));
                self.run("dr.sharma", "delhi-centre", 0, Command::ReportAdverseEvent {
                    adverse_event: id("ae-rajesh-1")?,
                    patient: id("p-rajesh")?,
                    plan: Some(id("plan-rajesh")?),
                    unit: Some(id("u-rajesh-bma-bmac")?),
                    term: "Joint effusion".into(),
                    grade: 2,
                    onset: onset.date(),
                    seriousness: BTreeSet::new(),
                    relatedness: Relatedness::Probable,
                    action: "Aspiration and NSAIDs; activity modified".into(),
                    outcome: "Recovering".into(),
                    description: "Swelling and pain of the right knee two days after intra-articular BMAC injection; aspirate clear, culture negative.".into(),
                })?;
                self.run("md.iyer", "delhi-centre", 24 * 60, Command::ReviewAdverseEvent { adverse_event: id("ae-rajesh-1")?, note: "Expected reaction listed in the trial protocol; not serious; report in the annual safety report.".into() })?;
            }
        }
        Ok(())
    }

    /// Bedside concentration of bone marrow (point of care): the sterility
    /// culture cannot be read before the injection, so the unit is released
    /// exceptionally, by QA with the physician, the patient informed.
    fn point_of_care(&mut self, unit: &str, concentrate: &str) -> Result<(), DemoError> {
        self.step("tech.delhi", "delhi-centre", &format!("step-{concentrate}"), ProcessingKind::Isolation, &[unit], &[(concentrate, "S2002100", q(6.0, "mL"), 1)], "Point-of-care centrifuge PoC-2", &["KIT-BMAC-2026-077"], &[("spin", "12 min")])?;
        self.qc("tech.delhi", "delhi-centre", concentrate, &[("nucleated cell count", "1.9 x10^9", ">= 1.0 x10^9", IN), ("sterility", "sample sent for culture", "no growth", PENDING)])?;
        let release = Command::ExceptionalRelease {
            unit: id(concentrate)?,
            qa: self.own("qa.delhi", SignatureMeaning::ExceptionalRelease)?,
            physician: self.own("dr.sharma", SignatureMeaning::ExceptionalRelease)?,
            justification: "Point-of-care product given within the hour; sterility culture result follows (trial protocol section 8.2).".into(),
            patient_informed: true,
        };
        self.cosigned("qa.delhi", "dr.sharma", "delhi-centre", 30, SignatureMeaning::ExceptionalRelease, release)
    }

    pub(super) fn cord_blood_for_blood_disorder(&mut self) -> Result<(), DemoError> {
        self.story(180);
        for (donor, unit, din, position) in [("d-cord-wilson", "u-cord-wilson", "A999426000301", "C3"), ("d-cord-ahmed", "u-cord-ahmed", "A999426000302", "C4")] {
            self.collect("nurse.evans", "london-bank", donor, None, SourceTissue::CordBlood, ProductType::CordBloodHpc, &format!("{unit}-raw"), din, "S3001V00", q(110.0, "mL"), 48)?;
            self.step("tech.smith", "london-bank", &format!("step-{unit}"), ProcessingKind::Isolation, &[&format!("{unit}-raw")], &[(unit, "S3002V00", q(25.0, "mL"), 3650)], "Sepax 2 cell processor", &["CS-490-2026-12 kit", "DMSO-2026-007"], &[("method", "volume reduction, red cell depletion")])?;
            self.step("tech.smith", "london-bank", &format!("step-{unit}-cryo"), ProcessingKind::Cryopreservation, &[unit], &[], "Controlled-rate freezer CRF-LB2", &["DMSO-2026-007"], &[("profile", "-1 °C/min")])?;
            self.qc("tech.smith", "london-bank", unit, &[
                ("total nucleated cells", "1.6 x10^9", ">= 1.25 x10^9", IN),
                ("CD34+ cells", "5.1 x10^6", ">= 1.25 x10^6", IN),
                ("viability (CD34+)", "94 %", ">= 85 %", IN),
                ("ABO/RhD", "O RhD positive", "recorded", IN),
                ("HLA typing", "A*02:01, B*44:02, DRB1*04:01 (high resolution)", "recorded", IN),
                ("maternal infectious disease markers", "HIV-1/2, HBV, HCV, HTLV, syphilis negative; CMV IgG positive", "21 CFR 1271 subpart C", IN),
            ])?;
            self.store("tech.smith", "london-bank", unit, "LN2 vapour tank V-3", position)?;
        }
        self.wait_days(14);
        for unit in ["u-cord-wilson", "u-cord-ahmed"] {
            self.qc("tech.smith", "london-bank", unit, &[("sterility", "no growth at 14 days", "no growth", IN)])?;
            self.release("qa.jones", "london-bank", unit)?;
        }
        self.wait_days(20);
        for (patient, plan, icd10) in [("p-aarav", "plan-aarav", "D61.9"), ("p-vikram", "plan-vikram", "D57.1")] {
            self.plan("dr.menon", "delhi-centre", plan, patient, icd10, ProductType::CordBloodHpc, "intravenous infusion", q(25.0, "mL"), 3_500_000, "INR", EvidenceStatus::Approved, None)?;
            self.eligibility_and_consent("dr.menon", "nurse.priya", "delhi-centre", plan,
                vec![
                    criterion("hla_match", "HLA match 6/8 or better", true, "7/8"),
                    criterion("no_active_infection", "No active infection", true, "cultures negative"),
                    criterion("organ_function", "Adequate organ function", true, "creatinine, bilirubin, LVEF normal"),
                    criterion("conditioning", "Conditioning regimen completed", true, "day -1"),
                ],
                Language::Hi)?;
        }
        // Delhi asks the bank for the matched unit; the bank allocates it and ships it.
        self.run("dr.menon", "delhi-centre", 60, Command::RequestUnit { unit: id("u-cord-wilson")?, plan: id("plan-aarav")? })?;
        self.run("qa.jones", "london-bank", 6 * 60, Command::AllocateUnit { unit: id("u-cord-wilson")?, plan: id("plan-aarav")? })?;
        self.ship("ship-cord-1", "log.brown", "london-bank", "log.brown", "delhi-centre", &["u-cord-wilson"], "World Courier, LN2 dry shipper", &[])?;
        self.administer("nurse.priya", "nurse.anil", "delhi-centre", "plan-aarav", "p-aarav", "u-cord-wilson", q(25.0, "mL"), "central venous catheter")?;
        self.follow_ups("nurse.priya", "delhi-centre", "plan-aarav", ProductType::CordBloodHpc, "neutrophil engraftment day", &[("1m", 24.0)])
    }

    pub(super) fn exosomes_for_hair_loss(&mut self) -> Result<(), DemoError> {
        self.story(170);
        self.collect("dr.nair", "mumbai-lab", "d-msc-01", None, SourceTissue::CordTissue, ProductType::MscExosome, "u-msc01-tissue", "A999326000401", "S4001700", q(15.0, "g"), 48)?;
        self.wait_days(1);
        self.step("tech.rao", "mumbai-lab", "step-msc01-exp", ProcessingKind::Expansion, &["u-msc01-tissue"], &[("u-msc01-culture", "S4002700", q(500.0, "mL"), 30)], "Incubator INC-4", &["MEM-2026-0091 alpha-MEM"], &[("passages", "4")])?;
        self.wait_days(20);
        self.step("tech.rao", "mumbai-lab", "step-msc01-exo", ProcessingKind::ExosomeIsolation, &["u-msc01-culture"], &[("u-exo-01a", "S40037A0", q(2.0, "mL"), 180), ("u-exo-01b", "S40037B0", q(2.0, "mL"), 180)], "Ultracentrifuge UC-1, tangential flow filtration", &["TFF-2026-019"], &[("ultracentrifugation", "100,000 g, 70 min")])?;
        for unit in ["u-exo-01a", "u-exo-01b"] {
            self.qc("tech.rao", "mumbai-lab", unit, &[
                ("particle count (NTA)", "2.1 x10^10 /mL", ">= 1 x10^10 /mL", IN),
                ("modal size (NTA)", "118 nm", "50-200 nm", IN),
                ("EV markers", "CD63+, CD81+, TSG101+; calnexin negative", "MISEV2023 markers", IN),
                ("endotoxin", "< 0.5 EU/mL", "< 1 EU/mL", IN),
                ("sterility", "sample sent for culture", "no growth", PENDING),
            ])?;
        }
        self.wait_days(14);
        for unit in ["u-exo-01a", "u-exo-01b"] {
            self.qc("tech.rao", "mumbai-lab", unit, &[("sterility", "no growth at 14 days", "no growth", IN)])?;
            self.release("qa.mehta", "mumbai-lab", unit)?;
        }
        self.ship("ship-exo-1", "log.khan", "mumbai-lab", "log.khan", "dubai-clinic", &["u-exo-01a"], "MedCourier Gulf, -80 °C dry ice", &["-62 °C (limit -65 °C) for 15 min during transit"])?;
        let exosome = ProductType::MscExosome;
        self.plan("dr.khoury", "dubai-clinic", "plan-noura", "p-noura", "L65.9", exosome, "topical after microneedling, scalp", q(2.0, "mL"), 3_500, "USD", EvidenceStatus::Unproven, None)?;
        self.override_unproven("nurse.omar", "md.alsayed", "dubai-clinic", "plan-noura")?;
        self.eligibility_and_consent("dr.khoury", "nurse.omar", "dubai-clinic", "plan-noura", standard_criteria(&[("scalp", "No scalp infection or keloid history", true, "scalp healthy")]), Language::Ar)?;
        self.run("dr.khoury", "dubai-clinic", 30, Command::AllocateUnit { unit: id("u-exo-01a")?, plan: id("plan-noura")? })?;
        self.administer("nurse.omar", "nurse.fatima", "dubai-clinic", "plan-noura", "p-noura", "u-exo-01a", q(2.0, "mL"), "frontal and vertex scalp")?;
        self.follow_ups("nurse.omar", "dubai-clinic", "plan-noura", exosome, "PGIC", &[("1m", 4.0), ("3m", 3.0)])
    }

    pub(super) fn prp_for_tendon_injury(&mut self) -> Result<(), DemoError> {
        use EvidenceStatus::Unproven;
        self.story(120);
        let dose = q(4.0, "mL");
        let prp = ProductType::Prp;
        self.plan("dr.haddad", "dubai-clinic", "plan-omar", "p-omar", "M77.10", prp, "intratendinous", dose.clone(), 800, "USD", Unproven, None)?;
        self.override_unproven("nurse.fatima", "md.alsayed", "dubai-clinic", "plan-omar")?;
        self.eligibility_and_consent("dr.haddad", "nurse.fatima", "dubai-clinic", "plan-omar", standard_criteria(&[("platelets", "Platelet count normal", true, "245 x10^9/L")]), Language::Ar)?;
        self.follow_ups("nurse.fatima", "dubai-clinic", "plan-omar", prp, "NPRS", &[("baseline", 6.0)])?;
        self.collect("nurse.fatima", "dubai-clinic", "p-omar", Some("plan-omar"), SourceTissue::PeripheralBlood, prp, "u-omar-blood", "A999126000103", "S5001100", q(30.0, "mL"), 6)?;
        self.step("tech.dubai", "dubai-clinic", "step-omar-prp", ProcessingKind::PrpPreparation, &["u-omar-blood"], &[("u-omar-prp", "S5002100", q(4.0, "mL"), 1)], "PRP centrifuge PC-1", &["PRP-KIT-2026-221"], &[("spins", "2"), ("leukocytes", "poor")])?;
        self.qc("tech.dubai", "dubai-clinic", "u-omar-prp", &[("platelet concentration", "1,150 x10^9/L", ">= 1,000 x10^9/L", IN)])?;
        self.release("qa.dubai", "dubai-clinic", "u-omar-prp")?;
        self.administer("nurse.fatima", "nurse.omar", "dubai-clinic", "plan-omar", "p-omar", "u-omar-prp", dose.clone(), "common extensor origin, right elbow")?;
        self.follow_ups("nurse.fatima", "dubai-clinic", "plan-omar", prp, "NPRS", &[("1m", 4.0)])?;

        // A second course was prepared but the patient did not come: the PRP
        // expired on the shelf, and bedside verification must refuse it.
        self.story(60);
        self.plan("dr.haddad", "dubai-clinic", "plan-omar-2", "p-omar", "M77.10", prp, "intratendinous", dose.clone(), 800, "USD", Unproven, None)?;
        self.override_unproven("nurse.fatima", "md.alsayed", "dubai-clinic", "plan-omar-2")?;
        self.eligibility_and_consent("dr.haddad", "nurse.fatima", "dubai-clinic", "plan-omar-2", standard_criteria(&[("platelets", "Platelet count normal", true, "251 x10^9/L")]), Language::Ar)?;
        self.collect("nurse.fatima", "dubai-clinic", "p-omar", Some("plan-omar-2"), SourceTissue::PeripheralBlood, prp, "u-omar-blood-2", "A999126000105", "S5001100", q(30.0, "mL"), 6)?;
        self.step("tech.dubai", "dubai-clinic", "step-omar-prp-2", ProcessingKind::PrpPreparation, &["u-omar-blood-2"], &[("u-omar-prp-2", "S5002100", q(4.0, "mL"), 1)], "PRP centrifuge PC-1", &["PRP-KIT-2026-305"], &[("spins", "2")])?;
        self.qc("tech.dubai", "dubai-clinic", "u-omar-prp-2", &[("platelet concentration", "1,080 x10^9/L", ">= 1,000 x10^9/L", IN)])?;
        self.release("qa.dubai", "dubai-clinic", "u-omar-prp-2")?;

        // Not eligible: on anticoagulation, so nothing is collected.
        self.story(45);
        self.plan("dr.khoury", "dubai-clinic", "plan-sarah", "p-sarah", "M76.60", prp, "peritendinous", dose, 800, "USD", Unproven, None)?;
        self.override_unproven("nurse.omar", "md.alsayed", "dubai-clinic", "plan-sarah")?;
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
    }

    pub(super) fn in_progress_and_blocked(&mut self) -> Result<(), DemoError> {
        use EvidenceStatus::Unproven;
        // Fatima's cells are in the lab: QC done, the sterility culture read; awaiting QA's release.
        self.story(40);
        let adipose = ProductType::AutologousAdipose;
        self.plan("dr.khoury", "dubai-clinic", "plan-fatima", "p-fatima", "M51.36", adipose, "intradiscal", q(50.0, "million cells"), 12_000, "USD", Unproven, None)?;
        self.override_unproven("nurse.fatima", "md.alsayed", "dubai-clinic", "plan-fatima")?;
        self.eligibility_and_consent("dr.khoury", "nurse.fatima", "dubai-clinic", "plan-fatima", standard_criteria(&[("baseline_pain", "Baseline NPRS at least 4", true, "NPRS 8")]), Language::Ar)?;
        self.follow_ups("nurse.fatima", "dubai-clinic", "plan-fatima", adipose, "NPRS", &[("baseline", 8.0)])?;
        self.collect("nurse.fatima", "dubai-clinic", "p-fatima", Some("plan-fatima"), SourceTissue::Adipose, adipose, "u-fatima-lipo", "A999126000104", "S1001100", q(110.0, "mL"), 48)?;
        self.ship("ship-fatima-1", "log.khan", "dubai-clinic", "log.khan", "mumbai-lab", &["u-fatima-lipo"], "MedCourier Gulf, temperature-controlled 2-8 °C", &[])?;
        self.step("tech.rao", "mumbai-lab", "step-fatima-svf", ProcessingKind::Isolation, &["u-fatima-lipo"], &[("u-fatima-svf", "S1002100", q(10.0, "mL"), 2)], "Biosafety cabinet BSC-3, centrifuge C-12", &["COLL-2026-0412 collagenase"], &[("digestion", "37 °C, 45 min")])?;
        self.wait_days(21);
        self.step("tech.rao", "mumbai-lab", "step-fatima-exp", ProcessingKind::Expansion, &["u-fatima-svf"], &[("u-fatima-msc", "S1003100", q(5.0, "mL"), 365)], "Incubator INC-2", &["MEM-2026-0088 alpha-MEM", "HPL-2026-0031 platelet lysate"], &[("passages", "3")])?;
        self.qc("tech.rao", "mumbai-lab", "u-fatima-msc", &[("viability", "88 %", ">= 70 %", IN), ("cell count", "51 million", ">= 45 million", IN)])?;
        self.sterility("tech.rao", "mumbai-lab", "u-fatima-msc")?;

        // Meera asks for exosomes for hair loss in Delhi, whose policy does not
        // permit unproven treatments: the evidence guard blocks the plan.
        self.story(10);
        self.plan("dr.sharma", "delhi-centre", "plan-meera", "p-meera", "L64.9", ProductType::MscExosome, "intradermal, scalp", q(2.0, "mL"), 90_000, "INR", Unproven, None)?;
        self.run("dr.sharma", "delhi-centre", 5, Command::RecordRecordViewed { person: id("p-meera")?, view: "evidence summary shown to patient".into(), via_unit: None })
    }
}
