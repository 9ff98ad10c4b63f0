//! `celltrace bench reads`: for each dataset size, generates (or reuses) a
//! bank of N cord-blood units through the command path, starts a real
//! `celltrace serve` on it, and measures p50/p99 of the reads staff,
//! patients and programs make, with 1, 16 and 64 concurrent clients, beside
//! two limits measured in the same run: the bare HTTP round trip
//! (`/healthz`) and the store query that produces the same answer, timed in
//! process. Then the server's peak memory, and a summary comparing each size
//! with the first. The output format is stable: progress is measured by it.

use super::dataset::{self, PASSWORD, SITE};
use super::load::{self, Call, Measured};
use celltrace_domain::command::{Actor, Command, Submission};
use celltrace_domain::ids::PersonId;
use celltrace_domain::model::{PasswordChange, PersonKind, UnitStatus};
use celltrace_domain::time::Timestamp;
use celltrace_store::read::{Reader, UnitFilter};
use celltrace_store::{Database, Engine, Secret};
use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Options of `celltrace bench reads`.
#[derive(Debug, clap::Args)]
pub struct ReadArgs {
    /// Dataset sizes in units, comma-separated; the first is the reference the others are compared with.
    #[arg(long, value_delimiter = ',', default_value = "10000,100000,1000000")]
    pub units: Vec<usize>,
    /// Where the datasets are kept between runs (they take minutes to make at 1M).
    #[arg(long, default_value = "bench-data")]
    pub dir: PathBuf,
    /// Concurrent clients of each measurement, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,16,64")]
    pub clients: Vec<usize>,
    /// Requests per measurement with one client (more clients send five times as many).
    #[arg(long, default_value_t = 200)]
    pub requests: usize,
}

/// The token the bench's programs read FHIR with.
const TOKEN: &str = "bench-token-0123456789abcdef0123456789abcdef";
/// The portal's one-time code for the bench patient.
const PORTAL_CODE: &str = "BENCH-CODE-2026";

fn err(e: impl std::fmt::Display) -> String {
    format!("bench reads: {e}")
}

fn id<T: std::str::FromStr>(text: &str) -> Result<T, String>
where
    T::Err: std::fmt::Display,
{
    text.parse().map_err(|e: T::Err| err(e))
}

fn now() -> Timestamp {
    Timestamp(celltrace_web::now_micros())
}

fn system(n: usize, command: Command) -> Result<Submission, String> {
    Ok(Submission { id: id(&format!("bench-access-{}-{n}", now().0))?, actor: Actor::System("bench".into()), site: id(SITE)?, at: now(), command })
}

/// Passwords for the staff, an API token, and portal access for patient p-0.
async fn grant_access(engine: &Engine) -> Result<(), String> {
    let hash = celltrace_web::auth::hash_password(PASSWORD).map_err(err)?;
    for (n, (staff, _)) in dataset::STAFF.iter().enumerate() {
        let set = system(n, Command::SetPassword { staff: id(staff)?, change: PasswordChange::Initial })?;
        engine.submit_with_secret(set, Secret::Password { staff: id(staff)?, hash: hash.clone(), end_sessions: false }).await.map_err(err)?;
    }
    let token_hash = celltrace_store::read::token_hash(TOKEN);
    let token = system(100, Command::IssueApiToken { token: id(&format!("tok-{}", &token_hash[..16]))?, staff: id("bench.doctor")?, label: "bench".into(), token_hash, expires_at: None })?;
    engine.submit(token).await.map_err(err)?;
    let patient: PersonId = id(&dataset::patient(0))?;
    // A clinician hands the code over: the rules want a member of staff.
    let mut grant = system(101, Command::GrantPortalAccess { person: patient.clone() })?;
    grant.actor = Actor::Staff(id("bench.nurse")?);
    let secret = Secret::PortalCode {
        person: patient.clone(),
        code_hash: celltrace_store::portal::code_hash(PORTAL_CODE),
        issued_by: id("bench.nurse")?,
        language: "en".into(),
        expires_at: now().0 + 3600 * 1_000_000,
    };
    engine.submit_with_secret(grant, secret).await.map_err(err)?;
    let redeemed = engine.database().redeem_portal_code(&patient, PORTAL_CODE, &hash, now().0).await.map_err(err)?;
    if !redeemed {
        return Err(err("the bench patient's portal code was refused"));
    }
    Ok(())
}

/// The dataset of `units` units at `path`, made if it is not there yet.
async fn dataset(path: &Path, key: &Path, units: usize) -> Result<(), String> {
    let url = path.display().to_string();
    if path.exists() {
        let db = Database::open(&url).await.map_err(err)?;
        let made = db.setting("bench_units").await.map_err(err)?;
        db.close().await;
        if made.as_deref() == Some(units.to_string().as_str()) {
            println!("dataset {}: {units} units (reused)", path.display());
            return Ok(());
        }
        std::fs::remove_file(path).map_err(err)?;
    }
    let started = Instant::now();
    let db = Database::open(&url).await.map_err(err)?;
    let (signing, _) = crate::keys::load_or_create(key).map_err(err)?;
    let engine = Engine::start(db.clone(), crate::engine_options(signing)?);
    // Collected a year ago, so every follow-up of a treated patient is in the past.
    let base = Timestamp(now().0 - 400 * Timestamp::DAY);
    dataset::generate(&engine, base, 0, units).await?;
    grant_access(&engine).await?;
    engine.checkpoint().await.map_err(err)?;
    db.set_setting("bench_units", &units.to_string()).await.map_err(err)?;
    drop(engine);
    db.close().await;
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    println!("dataset {}: {units} units made in {:.0} s ({:.0} MiB)", path.display(), started.elapsed().as_secs_f64(), size as f64 / 1048576.0);
    Ok(())
}

/// A running `celltrace serve` on the dataset.
struct Server {
    child: std::process::Child,
    addr: SocketAddr,
}

impl Server {
    async fn start(db: &Path, key: &Path) -> Result<Server, String> {
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_err(err)?.port();
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let exe = std::env::current_exe().map_err(err)?;
        let child = std::process::Command::new(exe)
            .args(["serve", "--listen", &addr.to_string(), "--database-url"])
            .arg(db)
            .arg("--signing-key")
            .arg(key)
            .env("CELLTRACE_LOG", "error")
            .env("CELLTRACE_MAX_CONCURRENT_REQUESTS", "1024")
            .stdout(std::process::Stdio::null())
            .spawn()
            .map_err(err)?;
        let server = Server { child, addr };
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Ok(answer) = load::once(addr, &Call::get("/healthz", &[])).await {
                if answer.status == 200 {
                    return Ok(server);
                }
            }
            if Instant::now() > deadline {
                return Err(err("the server did not answer /healthz within 2 minutes"));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The server's peak resident memory so far (VmHWM), in MiB.
    fn peak_mib(&self) -> Option<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let kib: f64 = status.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib / 1024.0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn cookie_of(answer: &load::Answer, name: &str) -> Option<String> {
    answer.cookies.iter().find_map(|c| c.split(';').next()?.strip_prefix(&format!("{name}=")).map(str::to_owned)).filter(|v| !v.is_empty())
}

fn csrf_in(html: &str) -> Option<String> {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker)? + marker.len();
    html.get(start..start + 64).map(str::to_owned)
}

/// Signs in at a sign-in form and returns the session cookie header.
async fn sign_in(addr: SocketAddr, form: &str, cookie: &str, fields: &[(&str, &str)]) -> Result<String, String> {
    let page = load::once(addr, &Call::get(form, &[])).await?;
    let login_csrf = cookie_of(&page, "ct_login_csrf").ok_or_else(|| err(format!("{form} set no sign-in cookie")))?;
    let csrf = csrf_in(&page.body).ok_or_else(|| err(format!("{form} has no CSRF token")))?;
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    let answer = load::once(addr, &Call::post_form(form, &[("cookie".into(), format!("ct_login_csrf={login_csrf}"))], &all)).await?;
    let session = cookie_of(&answer, cookie).ok_or_else(|| err(format!("signing in at {form} failed ({}): {}", answer.status, answer.body.chars().take(300).collect::<String>())))?;
    Ok(format!("{cookie}={session}"))
}

/// One read the benchmark measures.
struct Read {
    name: &'static str,
    calls: Vec<Call>,
    expect: u16,
}

/// Spread samples over the whole range, so reads touch old and new records alike.
fn sample(count: usize, every: usize, units: usize) -> Vec<usize> {
    let slots = (units / every).max(1);
    (0..count.min(slots)).map(|i| i * slots / count.min(slots) * every).collect()
}

async fn reads(addr: SocketAddr, units: usize) -> Result<Vec<Read>, String> {
    let staff = |user: &'static str| async move { sign_in(addr, "/login", "ct_session", &[("username", user), ("password", PASSWORD)]).await };
    let (nurse, tech, doctor, auditor) = (staff("bench.nurse").await?, staff("bench.tech").await?, staff("bench.doctor").await?, staff("bench.auditor").await?);
    let patient_session = sign_in(addr, "/portal/login", "ct_portal", &[("patient_number", &dataset::patient(0)), ("password", PASSWORD)]).await?;
    let cookie = |c: &str| vec![("cookie".to_owned(), c.to_owned())];
    let bearer = vec![("authorization".to_owned(), format!("Bearer {TOKEN}"))];
    let bedside_page = load::once(addr, &Call::get("/bedside", &cookie(&nurse))).await?;
    let csrf = csrf_in(&bedside_page.body).ok_or_else(|| err("the bedside page has no CSRF token"))?;
    let units_sample = sample(200, 1, units);
    let treated = sample(50, dataset::TREATED_EVERY, units);
    let wristband = |n: usize| {
        let mrn = format!("PT-{n:08}");
        format!("&#01{:02}{mrn}", mrn.len())
    };
    Ok(vec![
        Read { name: "healthz (bare HTTP)", calls: vec![Call::get("/healthz", &[])], expect: 200 },
        Read {
            name: "bedside POST /bedside",
            calls: treated
                .iter()
                .map(|n| Call::post_form("/bedside", &cookie(&nurse), &[("csrf", &csrf), ("wristband", &wristband(*n)), ("unit_scan", &format!("={}00", dataset::din(*n)))]))
                .collect(),
            expect: 200,
        },
        Read { name: "unit page", calls: units_sample.iter().map(|n| Call::get(format!("/units/{}", dataset::unit(*n)), &cookie(&tech))).collect(), expect: 200 },
        Read { name: "FHIR read Patient", calls: treated.iter().map(|n| Call::get(format!("/fhir/Patient/{}", dataset::patient(*n)), &bearer)).collect(), expect: 200 },
        Read { name: "lookback by donor", calls: units_sample.iter().map(|n| Call::get(format!("/lookback?by=donor&q={}", dataset::donor(*n)), &cookie(&auditor))).collect(), expect: 200 },
        Read { name: "registry page", calls: vec![Call::get("/registry", &cookie(&doctor))], expect: 200 },
        Read { name: "portal home", calls: vec![Call::get("/portal", &cookie(&patient_session))], expect: 200 },
        Read { name: "patients list", calls: vec![Call::get("/patients?kind=donor", &cookie(&doctor))], expect: 200 },
        Read {
            name: "patient search by name",
            calls: ["Amelia", "فاطمة", "प्रिया", "Sharma"].iter().map(|q| Call::get(format!("/patients?kind=donor&q={}", load::form_encode(q)), &cookie(&doctor))).collect(),
            expect: 200,
        },
        Read { name: "unit search by DIN", calls: units_sample.iter().map(|n| Call::get(format!("/units?q={}", dataset::din(*n)), &cookie(&tech))).collect(), expect: 200 },
        Read {
            name: "FHIR BDP?identifier=DIN",
            calls: units_sample.iter().map(|n| Call::get(format!("/fhir/BiologicallyDerivedProduct?identifier={}", dataset::din(*n)), &bearer)).collect(),
            expect: 200,
        },
    ])
}

/// p50 in ms of `query` run `times` times.
async fn time_query<F, Fut>(times: usize, mut query: F) -> Result<f64, String>
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = Result<(), celltrace_store::StoreError>>,
{
    let mut latencies = Vec::with_capacity(times);
    for i in 0..times {
        let t = Instant::now();
        query(i).await.map_err(err)?;
        latencies.push(t.elapsed());
    }
    Ok(Measured { latencies, elapsed: Duration::from_secs(1), unexpected: 0 }.percentile_ms(0.5))
}

/// The store queries that produce each read's answer, timed in process.
async fn store_queries(reader: &Reader, units: usize) -> Result<BTreeMap<&'static str, f64>, String> {
    let site: celltrace_domain::ids::SiteId = id(SITE)?;
    let units_sample = sample(200, 1, units);
    let treated = sample(50, dataset::TREATED_EVERY, units);
    let unit = |i: usize| dataset::unit(units_sample[i % units_sample.len()]);
    let mut out = BTreeMap::new();
    out.insert("bedside POST /bedside", time_query(100, |i| {
        let n = treated[i % treated.len()];
        async move {
            reader.resolve_scan(SITE, &format!("={}00", dataset::din(n))).await.map_err(|e| celltrace_store::StoreError::Invalid(e.to_string()))?;
            let person = reader.person_by_mrn(SITE, &format!("PT-{n:08}")).await?;
            if let Some(p) = person {
                reader.plans_of(&p.id).await?;
            }
            Ok(())
        }
    }).await?);
    out.insert("unit page", time_query(100, |i| {
        let u = unit(i);
        async move {
            if let Some(unit) = reader.get::<celltrace_domain::model::Unit>(&u).await? {
                reader.lineage_of(&unit).await?;
                reader.shipments_of(&unit.id).await?;
            }
            Ok(())
        }
    }).await?);
    out.insert("FHIR read Patient", time_query(100, |i| {
        let p = dataset::patient(treated[i % treated.len()]);
        async move { reader.get::<celltrace_domain::model::Person>(&p).await.map(|_| ()) }
    }).await?);
    out.insert("lookback by donor", time_query(100, |i| {
        let d = dataset::donor(units_sample[i % units_sample.len()]);
        async move {
            let from = reader.units_from(&d.parse().map_err(|e: celltrace_domain::ids::IdError| celltrace_store::StoreError::Invalid(e.to_string()))?).await?;
            let ids: Vec<_> = from.iter().map(|u| u.id.clone()).collect();
            let below = reader.descendants_of(&ids).await?;
            let all: Vec<_> = ids.into_iter().chain(below.into_iter().map(|u| u.id)).collect();
            reader.plans_given(&all).await.map(|_| ())
        }
    }).await?);
    out.insert("registry page", time_query(100, |_| async move { reader.generation("registry").await.map(|_| ()) }).await?);
    out.insert("portal home", time_query(100, |_| async move {
        let p: PersonId = dataset::patient(0).parse().map_err(|e: celltrace_domain::ids::IdError| celltrace_store::StoreError::Invalid(e.to_string()))?;
        let plans = reader.plans_of(&p).await?;
        reader.units_from(&p).await?;
        for plan in &plans {
            reader.units_for_plan(plan.id.as_str()).await?;
        }
        reader.adverse_events_of(std::slice::from_ref(&p)).await.map(|_| ())
    }).await?);
    out.insert("patients list", time_query(100, |_| { let site = site.clone(); async move { reader.people(&site, PersonKind::Donor, "", None, 100).await.map(|_| ()) } }).await?);
    out.insert("patient search by name", time_query(100, |i| {
        let site = site.clone();
        let q = ["Amelia", "فاطمة", "प्रिया", "Sharma"][i % 4];
        async move { reader.people(&site, PersonKind::Donor, q, None, 100).await.map(|_| ()) }
    }).await?);
    out.insert("unit search by DIN", time_query(100, |i| {
        let site = site.clone();
        let filter = UnitFilter { status: None::<UnitStatus>, product_type: None, text: dataset::din(units_sample[i % units_sample.len()]) };
        async move { reader.units(&site, &filter, None, 100).await.map(|_| ()) }
    }).await?);
    out.insert("FHIR BDP?identifier=DIN", time_query(100, |i| {
        let din = dataset::din(units_sample[i % units_sample.len()]);
        async move { reader.units_by_din(&din).await.map(|_| ()) }
    }).await?);
    Ok(out)
}

/// One size's figures: (read, clients) → p50, p99; store query p50; peak memory.
struct SizeRun {
    units: usize,
    figures: BTreeMap<(&'static str, usize), (f64, f64)>,
    store: BTreeMap<&'static str, f64>,
    peak_mib: Option<f64>,
}

async fn measure(args: &ReadArgs, units: usize, reference: Option<&SizeRun>) -> Result<SizeRun, String> {
    let db_path = args.dir.join(format!("reads-{units}.db"));
    // The key in a directory of its own: serve refuses one beside the database.
    let key = args.dir.join("keys").join("bench.key");
    std::fs::create_dir_all(args.dir.join("keys")).map_err(err)?;
    dataset(&db_path, &key, units).await?;
    let server = Server::start(&db_path, &key).await?;
    let reads = reads(server.addr, units).await?;
    let reader_db = Database::connect(&db_path.display().to_string()).await.map_err(err)?;
    let store = store_queries(reader_db.reader(), units).await?;
    reader_db.close().await;
    println!();
    println!("celltrace bench reads: {units} units at one site (SQLite, release build expected)");
    println!("{:<26} {:>7} {:>9} {:>9} {:>9} {:>12} {:>11} {:>7}", "read", "clients", "p50 ms", "p99 ms", "req/s", "store p50 ms", "ref p50 ms", "ratio");
    let mut figures = BTreeMap::new();
    for read in &reads {
        let calls = Arc::new(read.calls.clone());
        // Warm the caches (and the registry's computation) before measuring.
        load::run(server.addr, calls.clone(), 4, 40, read.expect).await?;
        for &clients in &args.clients {
            let total = if clients == 1 { args.requests } else { args.requests * 5 };
            let m = load::run(server.addr, calls.clone(), clients, total, read.expect).await?;
            if m.unexpected > 0 {
                return Err(err(format!("{}: {} of {} answers were not {}", read.name, m.unexpected, total, read.expect)));
            }
            let (p50, p99) = (m.percentile_ms(0.5), m.percentile_ms(0.99));
            figures.insert((read.name, clients), (p50, p99));
            let store_p50 = store.get(read.name).map(|v| format!("{v:.3}")).unwrap_or_else(|| "-".into());
            let (ref_p50, ratio) = match reference.and_then(|r| r.figures.get(&(read.name, clients))) {
                Some((r, _)) => (format!("{r:.2}"), format!("{:.2}", p50 / r.max(1e-9))),
                None => ("-".into(), "-".into()),
            };
            println!("{:<26} {:>7} {:>9.2} {:>9.2} {:>9.0} {:>12} {:>11} {:>7}", read.name, clients, p50, p99, m.rate(), store_p50, ref_p50, ratio);
        }
    }
    let peak_mib = server.peak_mib();
    if let Some(mib) = peak_mib {
        println!("server peak memory (VmHWM): {mib:.1} MiB");
    }
    Ok(SizeRun { units, figures, store, peak_mib })
}

/// Runs the read benchmark and prints its tables.
pub async fn run(args: ReadArgs) -> Result<(), String> {
    std::fs::create_dir_all(&args.dir).map_err(err)?;
    let mut runs: Vec<SizeRun> = Vec::new();
    for &units in &args.units {
        let run = measure(&args, units, runs.first()).await?;
        runs.push(run);
    }
    let Some(first) = runs.first() else { return Ok(()) };
    let clients = args.clients.first().copied().unwrap_or(1);
    println!();
    println!("summary: p50 ms with {clients} client(s) per dataset size (ratio to {} units)", first.units);
    print!("| read |");
    for r in &runs {
        print!(" {} units |", r.units);
    }
    println!(" ratio |");
    print!("|---|");
    for _ in &runs {
        print!("---|");
    }
    println!("---|");
    let names: Vec<&'static str> = first.figures.keys().map(|(n, _)| *n).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
    for name in names {
        print!("| {name} |");
        for r in &runs {
            match r.figures.get(&(name, clients)) {
                Some((p50, _)) => print!(" {p50:.2} |"),
                None => print!(" - |"),
            }
        }
        let ratio = match (first.figures.get(&(name, clients)), runs.last().and_then(|l| l.figures.get(&(name, clients)))) {
            (Some((a, _)), Some((b, _))) => format!("{:.2}", b / a.max(1e-9)),
            _ => "-".into(),
        };
        println!(" {ratio} |");
    }
    for r in &runs {
        let bedside = r.figures.get(&("bedside POST /bedside", 16)).map(|(_, p99)| format!("{p99:.2}")).unwrap_or_else(|| "-".into());
        let peak = r.peak_mib.map(|m| format!("{m:.1}")).unwrap_or_else(|| "-".into());
        println!("{} units: bedside p99 with 16 clients {bedside} ms; server peak memory {peak} MiB; store queries measured: {}", r.units, r.store.len());
    }
    Ok(())
}
