//! The demo dataset: four sites, staff of every role, and patients and donors
//! whose paths cover the catalogue (adipose cells for back pain, bone marrow
//! cells for knee osteoarthritis in a trial, donor cord blood for a blood
//! disorder, exosomes with microneedling for hair loss, PRP for a tendon
//! injury), including a plan the evidence guard blocks and an adverse event.
//!
//! Every step is a command submitted through the engine, as the member of
//! staff who would do it, under the same rules as the web and the API: the
//! rules rate the plans, second signers record their signing grants, results
//! wait for their incubation and follow-ups fall in their windows. Each story
//! keeps its own clock; the steps of all stories are then submitted in time
//! order, as if they had happened over the months before now.
//!
//! Names, MRNs, DINs and the trial registration are fictional.

mod stories;

use celltrace_domain::command::{Actor, Command, Submission};
use celltrace_domain::ids::*;
use celltrace_domain::model::*;
use celltrace_domain::time::Timestamp;
use celltrace_domain::TimePointWindow;
use celltrace_store::{Engine, Secret, SubmitError};
use std::collections::BTreeMap;

/// Password of every demo account (shown on the demo login page only).
pub const DEMO_PASSWORD: &str = "celltrace-demo";

/// Demo patients with portal passwords, and the language each reads in.
pub const DEMO_PORTAL_PATIENTS: [(&str, &str); 3] = [("p-layla", "ar"), ("p-james", "en"), ("p-rajesh", "hi")];

/// The demo's first site: its presence means the demo is loaded.
pub const MARKER_SITE: &str = "dubai-clinic";

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

const DAY: i64 = Timestamp::DAY;
const HOUR: i64 = DAY / 24;
const MINUTE: i64 = HOUR / 60;

fn id<T: std::str::FromStr<Err = IdError>>(text: &str) -> Result<T, DemoError> {
    text.parse().map_err(|e: IdError| DemoError::Id(e.to_string()))
}

/// Loads the dataset through `engine`, timed as if it happened over the
/// months before `now`. Returns false when it was already loaded.
pub async fn load(engine: &Engine, now: Timestamp) -> Result<bool, DemoError> {
    if engine.database().reader().get::<Site>(MARKER_SITE).await?.is_some() {
        return Ok(false);
    }
    let mut demo = Demo { engine, now, clock: now, counter: 0, queue: Vec::new(), administered: BTreeMap::new() };
    demo.story(210);
    demo.sites_and_staff()?;
    demo.people()?;
    demo.adipose_for_back_pain()?;
    demo.bone_marrow_for_knee_oa()?;
    demo.cord_blood_for_blood_disorder()?;
    demo.exosomes_for_hair_loss()?;
    demo.prp_for_tendon_injury()?;
    demo.in_progress_and_blocked()?;
    demo.flush().await?;
    portal_passwords(engine, now).await?;
    engine.checkpoint().await?;
    engine.database().set_setting("demo", "loaded").await?;
    Ok(true)
}

/// The three portal patients activate their one-time codes with the demo password.
async fn portal_passwords(engine: &Engine, now: Timestamp) -> Result<(), DemoError> {
    let db = engine.database();
    for (patient, _) in DEMO_PORTAL_PATIENTS {
        let hash = celltrace_web::auth::hash_password(DEMO_PASSWORD).map_err(DemoError::Id)?;
        if !db.redeem_portal_code(&id(patient)?, &portal_code(patient), &hash, now.0).await? {
            return Err(DemoError::Id(format!("the demo portal code of {patient} did not work")));
        }
    }
    let listed: Vec<String> = DEMO_PORTAL_PATIENTS.iter().map(|(p, l)| format!("{p}:{l}")).collect();
    db.set_setting("demo_portal_patients", &listed.join(",")).await?;
    Ok(())
}

/// The one-time portal code a demo patient is handed (fictional, like the rest).
fn portal_code(patient: &str) -> String {
    format!("DEMO{}", patient.trim_start_matches("p-").to_uppercase())
}

/// One step waiting for its turn.
struct Queued {
    at: Timestamp,
    order: u32,
    submission: Submission,
    secret: Option<Secret>,
}

pub(super) struct Demo<'e> {
    engine: &'e Engine,
    /// The real time the demo is loaded at; nothing happens after it.
    now: Timestamp,
    /// The current story's clock.
    clock: Timestamp,
    counter: u32,
    queue: Vec<Queued>,
    /// When each plan's first administration happened (follow-ups count from it).
    administered: BTreeMap<String, Timestamp>,
}

impl Demo<'_> {
    /// Starts a story `days` days before now.
    fn story(&mut self, days: i64) {
        self.clock = Timestamp(self.now.0 - days * DAY);
    }

    /// Lets `days` pass in the current story.
    fn wait_days(&mut self, days: i64) {
        self.clock = Timestamp(self.clock.0 + days * DAY);
    }

    fn enqueue(&mut self, actor: &str, site: &str, command: Command, secret: Option<Secret>) -> Result<(), DemoError> {
        self.counter += 1;
        let actor = match actor.strip_prefix("patient:") {
            Some(patient) => Actor::Patient(id(patient)?),
            None if actor == "system" => Actor::System("demo".into()),
            None => Actor::Staff(id(actor)?),
        };
        let submission = Submission { id: id(&format!("demo-{:04}", self.counter))?, actor, site: id(site)?, at: self.clock, command };
        self.queue.push(Queued { at: self.clock, order: self.counter, submission, secret });
        Ok(())
    }

    /// One step as `actor` at `site`, `minutes` after the story's previous one.
    fn run(&mut self, actor: &str, site: &str, minutes: i64, command: Command) -> Result<(), DemoError> {
        self.clock = Timestamp(self.clock.0 + minutes * MINUTE);
        self.enqueue(actor, site, command, None)
    }

    /// A step carrying a secret (a password hash, a portal code hash).
    fn run_with_secret(&mut self, actor: &str, site: &str, minutes: i64, command: Command, secret: Secret) -> Result<(), DemoError> {
        self.clock = Timestamp(self.clock.0 + minutes * MINUTE);
        self.enqueue(actor, site, command, Some(secret))
    }

    /// A step `submitter` signs with a second person, `signer`, who first
    /// records the signing grant for exactly this command (in the web, they
    /// re-enter their password in the same form).
    fn cosigned(&mut self, submitter: &str, signer: &str, site: &str, minutes: i64, meaning: SignatureMeaning, mut command: Command) -> Result<(), DemoError> {
        self.clock = Timestamp(self.clock.0 + minutes * MINUTE);
        let grant: SigningGrantId = id(&format!("demo-grant-{:04}", self.counter + 1))?;
        let command_digest = command.signing_digest(&id(submitter)?, &id(site)?);
        self.enqueue(signer, site, Command::IssueSigningGrant { grant: grant.clone(), meaning, submitter: id(submitter)?, command_digest, method: AuthenticationMethod::Password }, None)?;
        if !command.attach_grant(&id(signer)?, meaning, grant) {
            return Err(DemoError::Id(format!("{} does not ask {signer} to sign", command.name())));
        }
        self.clock = Timestamp(self.clock.0 + MINUTE);
        self.enqueue(submitter, site, command, None)
    }

    fn own(&self, signer: &str, meaning: SignatureMeaning) -> Result<SignatureRequest, DemoError> {
        Ok(SignatureRequest::own(id(signer)?, meaning))
    }

    /// When a follow-up at `time_point` of `plan` is recorded: before
    /// treatment for the baseline, else the middle of its window after the
    /// first administration. `None` when that is still in the future.
    fn follow_up_time(&self, plan: &str, product_type: ProductType, time_point: &str) -> Result<Option<Timestamp>, DemoError> {
        let window = self
            .engine
            .reference()
            .get()
            .and_then(|r| r.time_point(product_type, time_point))
            .ok_or_else(|| DemoError::Id(format!("time point {time_point} is not in the schedule of {}", product_type.code())))?;
        let at = match window {
            TimePointWindow::Baseline => Timestamp(self.clock.0 + 10 * MINUTE),
            TimePointWindow::AfterTreatment { opens, closes } => {
                let given = self.administered.get(plan).ok_or_else(|| DemoError::Id(format!("{plan} has no administration before {time_point}")))?;
                Timestamp(given.0 + (opens + closes) / 2 * DAY + 10 * HOUR)
            }
        };
        Ok((at < self.now).then_some(at))
    }

    /// Submits every queued step in time order (each story's own order kept).
    async fn flush(&mut self) -> Result<(), DemoError> {
        let mut queue = std::mem::take(&mut self.queue);
        queue.sort_by_key(|q| (q.at, q.order));
        if let Some(late) = queue.iter().find(|q| q.at > self.now) {
            return Err(DemoError::Id(format!("demo step {} would happen after now", late.submission.command.name())));
        }
        for Queued { submission, secret, .. } in queue {
            let step = format!("{} #{} by {}", submission.command.name(), submission.id, submission.actor.ledger_name());
            let outcome = match secret {
                Some(secret) => self.engine.submit_with_secret(submission, secret).await,
                None => self.engine.submit(submission).await,
            };
            outcome.map_err(|source| DemoError::Step { step, source })?;
        }
        Ok(())
    }
}
