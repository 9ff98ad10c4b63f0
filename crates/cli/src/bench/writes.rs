//! `celltrace bench writes`: durable events per second through the whole command
//! path (decide, chain, projections, claims, one transaction per batch), with
//! one and with many concurrent submitters, beside a raw SQLite baseline that
//! writes the same rows (ledger entry, projection, read-model index entries
//! and searchable name, claim, command record, audit index, the Merkle nodes
//! the entry completes, the count) with the same durability and batch size,
//! but no domain and no chaining. Figures, not assertions: machines differ,
//! ratios travel.

use celltrace_domain::command::{Actor, Command, Submission};
use celltrace_domain::ids::{CommandId, PersonId, SiteId, StaffId};
use celltrace_domain::model::{Language, Membership, Person, PersonKind, Role, Sex, SiteKind};
use celltrace_domain::time::{Date, Timestamp};
use celltrace_ledger::SigningKey;
use celltrace_store::{Database, Engine};
use std::time::{Duration, Instant};

/// Options of `celltrace bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Commands in the concurrent run (the single-submitter run uses a tenth).
    #[arg(long, default_value_t = 40_000)]
    pub commands: usize,
    /// Concurrent submitters.
    #[arg(long, default_value_t = 64)]
    pub submitters: usize,
}

struct Run {
    label: String,
    events: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
    mean_batch: f64,
}

impl Run {
    fn rate(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
    fn percentile(&self, p: f64) -> Option<f64> {
        if self.latencies.is_empty() {
            return None;
        }
        let mut sorted = self.latencies.clone();
        sorted.sort();
        let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
        sorted.get(index).map(|d| d.as_secs_f64() * 1000.0)
    }
}

fn bench_err(e: impl std::fmt::Display) -> String {
    format!("bench: {e}")
}

fn id<T: std::str::FromStr>(text: &str) -> Result<T, String>
where
    T::Err: std::fmt::Display,
{
    text.parse().map_err(|e: T::Err| bench_err(e))
}

fn register(n: usize, at: Timestamp) -> Result<Submission, String> {
    Ok(Submission {
        id: id::<CommandId>(&format!("bench-{n}"))?,
        actor: Actor::Staff(id::<StaffId>("bench-nurse")?),
        site: id::<SiteId>("bench-site")?,
        at,
        command: Command::RegisterPerson {
            person: id::<PersonId>(&format!("bench-p-{n}"))?,
            kind: PersonKind::Patient,
            mrn: format!("MRN-{n:08}"),
            name: format!("Benchmark Patient {n}"),
            date_of_birth: Date::new(1980, 1, 1).ok_or("bench: date")?,
            sex: Sex::Other,
            language: Language::En,
            contact: "bench@example.org".into(),
        },
    })
}

async fn setup(path: &std::path::Path) -> Result<Engine, String> {
    let db = Database::open(&path.display().to_string()).await.map_err(bench_err)?;
    let engine = Engine::start(db, crate::engine_options(SigningKey::from_bytes(&[42; 32]))?);
    let at = Timestamp(celltrace_web::now_micros());
    let site = Submission {
        id: id("bench-setup-1")?,
        actor: Actor::System("bench".into()),
        site: id("bench-site")?,
        at,
        command: Command::RegisterSite {
            site: id("bench-site")?,
            name: "Benchmark clinic".into(),
            kind: SiteKind::Clinic,
            country: "GB".into(),
            accreditations: vec![],
            fin: "B0001".into(),
        },
    };
    engine.submit(site).await.map_err(bench_err)?;
    let staff = Submission {
        id: id("bench-setup-2")?,
        actor: Actor::System("bench".into()),
        site: id("bench-site")?,
        at,
        command: Command::RegisterStaff {
            staff: id("bench-nurse")?,
            name: "Benchmark Nurse".into(),
            username: "bench-nurse".into(),
            memberships: vec![Membership { site: id("bench-site")?, roles: [Role::Nurse].into_iter().collect() }],
        },
    };
    engine.submit(staff).await.map_err(bench_err)?;
    Ok(engine)
}

async fn engine_run(engine: &Engine, first: usize, count: usize, submitters: usize) -> Result<Run, String> {
    let at = Timestamp(celltrace_web::now_micros());
    let before = engine.stats();
    let start = Instant::now();
    let mut tasks = Vec::new();
    for s in 0..submitters {
        let engine = engine.clone();
        let mine: Vec<usize> = (first..first + count).skip(s).step_by(submitters).collect();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(mine.len());
            let mut events = 0;
            for n in mine {
                let submission = register(n, at)?;
                let t = Instant::now();
                let receipt = engine.submit(submission).await.map_err(bench_err)?;
                latencies.push(t.elapsed());
                events += receipt.events.len();
            }
            Ok::<_, String>((events, latencies))
        }));
    }
    let mut events = 0;
    let mut latencies = Vec::new();
    for task in tasks {
        let (e, l) = task.await.map_err(bench_err)??;
        events += e;
        latencies.extend(l);
    }
    let elapsed = start.elapsed();
    let after = engine.stats();
    let batches = after.batches.saturating_sub(before.batches).max(1);
    let mean_batch = after.submissions.saturating_sub(before.submissions) as f64 / batches as f64;
    Ok(Run {
        label: format!("celltrace, {submitters} submitter{}", if submitters == 1 { "" } else { "s" }),
        events,
        elapsed,
        latencies,
        mean_batch,
    })
}

/// The same rows the engine writes for a register-person command, with the
/// same batch size and durability, straight through SQLite's C API (prepared
/// statements, no async driver), minus the domain (no decide, no projection
/// built from state) and the ledger (no hashing): the fastest this machine
/// writes these rows, and so the limit the command path is measured against.
async fn raw_run(path: &std::path::Path, count: usize, batch: usize) -> Result<Run, String> {
    // The schema comes from the real migrations.
    let db = Database::open(&path.display().to_string()).await.map_err(bench_err)?;
    db.close().await;
    let path = path.to_owned();
    // Made before the clock starts: building them is not SQLite's work.
    let people = (0..count).map(baseline_person).collect::<Result<Vec<Person>, String>>()?;
    tokio::task::spawn_blocking(move || raw_writes(&path, &people, batch)).await.map_err(bench_err)?.map_err(bench_err)
}

/// The person `register(n)` records, as the baseline indexes it.
fn baseline_person(n: usize) -> Result<Person, String> {
    match register(n, Timestamp(0))?.command {
        Command::RegisterPerson { person, kind, mrn, name, date_of_birth, sex, language, contact } => {
            Ok(Person { id: person, site: id("bench-site")?, kind, mrn, name, date_of_birth, sex, language, contact })
        }
        _ => Err("bench: register() makes a RegisterPerson".into()),
    }
}

fn raw_writes(path: &std::path::Path, people: &[Person], batch: usize) -> rusqlite::Result<Run> {
    let count = people.len();
    let conn = rusqlite::Connection::open(path)?;
    for (name, value) in celltrace_store::SQLITE_SETTINGS {
        conn.pragma_update(None, name, value)?;
    }
    let payload = vec![b'x'; 330];
    let body = "x".repeat(300);
    // Hashes look like SHA-256 output (uniformly random), as the ledger's do,
    // but cost nothing to make: the baseline does no chaining.
    let hash = |n: usize| {
        let mut x = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..32)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect::<Vec<u8>>()
    };
    let batch = batch.max(1);
    let mut tree = celltrace_ledger::CompactRange::new();
    let start = Instant::now();
    let mut latencies = Vec::with_capacity(count);
    let mut n = 0usize;
    while n < count {
        let t = Instant::now();
        let rows = n..(n + batch).min(count);
        let size = rows.len();
        conn.execute_batch("BEGIN IMMEDIATE")?;
        conn.execute("UPDATE ledger_head SET seq = seq WHERE id = 1", [])?;
        for r in rows.clone() {
            let seq = r as i64 + 1;
            let prev = if seq == 1 { None } else { Some(seq - 1) };
            conn.prepare_cached(
                "INSERT INTO ledger (seq, prev_seq, recorded_at, actor, site, kind, payload, prev_hash, hash, command_id) VALUES (?1, ?2, 0, 'staff:bench-nurse', 'bench-site', 'person_registered', ?3, ?4, ?5, ?6)",
            )?
            .execute(rusqlite::params![seq, prev, payload, hash(r), hash(r + 1), format!("bench-{r}")])?;
            conn.prepare_cached(
                "INSERT INTO entities (kind, id, site, person, status, reference, body, last_seq) VALUES ('person', ?1, 'bench-site', ?1, 'patient', ?2, ?3, ?4) \
                 ON CONFLICT (kind, id) DO UPDATE SET body = excluded.body",
            )?
            .execute(rusqlite::params![format!("bench-p-{r}"), format!("MRN-{r:08}"), body, seq])?;
            conn.prepare_cached("INSERT INTO claims (namespace, value, owner, seq) VALUES ('mrn', ?1, ?2, ?3)")?
                .execute(rusqlite::params![format!("bench-site/MRN-{r:08}"), format!("bench-p-{r}"), seq])?;
            conn.prepare_cached("INSERT INTO commands (command_id, first_seq, last_seq) VALUES (?1, ?2, ?2)")?
                .execute(rusqlite::params![format!("bench-{r}"), seq])?;
            conn.prepare_cached("INSERT INTO entry_subjects (kind, id, seq) VALUES ('person', ?1, ?2)")?
                .execute(rusqlite::params![format!("bench-p-{r}"), seq])?;
            // The read model's rows for the same person: its index entries and its searchable name.
            let person = &people[r];
            for e in celltrace_domain::index::person(person) {
                conn.prepare_cached("INSERT INTO entity_index (name, value, sort, kind, id) VALUES (?1, ?2, ?3, 'person', ?4)")?
                    .execute(rusqlite::params![e.index.as_str(), e.value, e.sort, person.id.as_str()])?;
            }
            conn.prepare_cached("INSERT INTO person_names (id, site, kind, name_key) VALUES (?1, 'bench-site', 'patient', ?2)")?
                .execute(rusqlite::params![person.id.as_str(), celltrace_domain::index::name_key(&person.name)])?;
            // The transparency log's nodes this entry completes.
            let leaf = celltrace_ledger::merkle::leaf_hash(&hash(r + 1));
            for (node, value) in tree.append(leaf) {
                conn.prepare_cached("INSERT INTO merkle_nodes (level, idx, hash) VALUES (?1, ?2, ?3)")?
                    .execute(rusqlite::params![i64::from(node.level), node.index as i64, value.to_vec()])?;
            }
        }
        conn.prepare_cached("INSERT INTO entity_counts (kind, count) VALUES ('person', ?1) ON CONFLICT (kind) DO UPDATE SET count = entity_counts.count + excluded.count")?
            .execute(rusqlite::params![size as i64])?;
        let last = n + size;
        conn.execute("UPDATE ledger_head SET seq = ?1, hash = ?2 WHERE id = 1", rusqlite::params![last as i64, hash(last)])?;
        conn.execute_batch("COMMIT")?;
        latencies.extend(std::iter::repeat_n(t.elapsed(), size));
        n = last;
    }
    Ok(Run { label: format!("raw SQLite, batch {batch}"), events: count, elapsed: start.elapsed(), latencies, mean_batch: batch as f64 })
}

fn peak_memory_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn print_run(run: &Run) {
    let ms = |v: Option<f64>| v.map(|x| format!("{x:.2}")).unwrap_or_else(|| "-".into());
    println!(
        "{:<28} {:>8} {:>12.0} {:>9} {:>9} {:>10.1}",
        run.label,
        run.events,
        run.rate(),
        ms(run.percentile(0.50)),
        ms(run.percentile(0.99)),
        run.mean_batch
    );
}

/// Runs the benchmark and prints its table.
pub async fn run(args: BenchArgs) -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("celltrace-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(bench_err)?;
    let result = run_in(&dir, &args).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn run_in(dir: &std::path::Path, args: &BenchArgs) -> Result<(), String> {
    let submitters = args.submitters.max(1);
    let single_count = (args.commands / 10).max(100);
    println!("celltrace bench: register-person commands (1 event each) on SQLite, WAL, synchronous=FULL (fsync per commit)");
    println!("{:<28} {:>8} {:>12} {:>9} {:>9} {:>10}", "run", "events", "events/s", "p50 ms", "p99 ms", "mean batch");

    let engine = setup(&dir.join("engine.db")).await?;
    let single = engine_run(&engine, 0, single_count, 1).await?;
    print_run(&single);
    let many = engine_run(&engine, single_count, args.commands, submitters).await?;
    print_run(&many);
    // The runs above paid for the transparency log as it runs in service: a
    // Merkle node write per entry and its parents, and a signed tree head at
    // most 1 s or 1,024 entries after any entry.
    let heads = sqlx::query("SELECT COUNT(*) FROM tree_heads").fetch_one(engine.database().pool()).await.map_err(bench_err)?;
    let heads: i64 = sqlx::Row::try_get(&heads, 0).map_err(bench_err)?;
    let entries = engine.database().reader().head().await.map_err(bench_err)?.seq;
    println!("(tree heads signed during the celltrace runs: {heads}, over {entries} entries; cadence 1 s or 1,024 entries)");

    let raw_single = raw_run(&dir.join("raw1.db"), single_count, 1).await?;
    print_run(&raw_single);
    let raw_many = raw_run(&dir.join("raw2.db"), args.commands, many.mean_batch.round() as usize).await?;
    print_run(&raw_many);

    println!("ratio celltrace / raw SQLite, 1 submitter:  {:.2}", single.rate() / raw_single.rate().max(1e-9));
    println!("ratio celltrace / raw SQLite, {submitters} submitters: {:.2}", many.rate() / raw_many.rate().max(1e-9));
    if let Some(mib) = peak_memory_mib() {
        println!("peak memory (VmHWM): {mib:.1} MiB");
    }
    Ok(())
}
