//! `celltrace import`: a clinic's CSV file of patients, units or answers,
//! checked row by row against the current records and then recorded all
//! together or not at all. Reading the file is `celltrace-import`'s job.

use celltrace_domain::ids::{CommandId, PlanId, SiteId, StaffId, VisitId};
use celltrace_domain::model::{Language, Person, Plan, Site, Staff};
use celltrace_domain::time::Timestamp;
use celltrace_domain::{decide, Actor, Claim, Event, State, Submission};
use celltrace_import::{Kind, Row, RowError};
use celltrace_store::read::Reader;
use celltrace_store::{AtomicError, Database, Engine};
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Import existing records from a CSV file (header row first, UTF-8).
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// What the file holds: patients, units or answers.
    #[arg(value_parser = parse_kind)]
    pub kind: Kind,
    /// The CSV file.
    pub file: PathBuf,
    /// The site the records belong to.
    #[arg(long)]
    pub site: String,
    /// The member of staff recording them (their roles at SITE apply).
    #[arg(long = "as", value_name = "STAFF_ID")]
    pub staff: String,
    /// Check every row and report, but record nothing.
    #[arg(long)]
    pub dry_run: bool,
}

fn parse_kind(text: &str) -> Result<Kind, String> {
    Kind::parse(text).ok_or_else(|| format!("'{text}' is not something celltrace imports; say patients, units or answers"))
}

/// How long each phase took, for the rates printed at the end.
#[derive(Debug, Clone, Copy)]
pub struct Timings {
    /// Rows in the file.
    pub rows: usize,
    /// Reading the file and checking every row.
    pub check: Duration,
    /// The all-or-nothing write (zero on a dry run or when rows were bad).
    pub write: Duration,
}

fn per_second(rows: usize, took: Duration) -> String {
    let seconds = took.as_secs_f64();
    if seconds <= 0.0 {
        return "-".to_owned();
    }
    format!("{:.0}", rows as f64 / seconds)
}

fn now() -> Timestamp {
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    Timestamp(micros)
}

/// A bar on stderr when someone is watching; nothing in scripts and logs.
fn progress(length: u64, message: &'static str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(length);
    if let Ok(style) = ProgressStyle::with_template("{msg:>10} [{bar:40}] {pos}/{len} rows ({per_sec}, {eta} left)") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(message);
    bar
}

fn spinner(message: &'static str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    bar.set_message(message);
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// Runs the import; bad rows are printed and give a failing exit code.
pub async fn run(args: &ImportArgs, database_url: &str, signing_key: &crate::keys::KeySource) -> Result<ExitCode, String> {
    let started = Instant::now();
    let bytes = std::fs::read(&args.file).map_err(|e| format!("cannot read {}: {e}", args.file.display()))?;
    let text = String::from_utf8(bytes)
        .map_err(|e| format!("{} is not UTF-8 text (byte {}); save the spreadsheet as \"CSV UTF-8\"", args.file.display(), e.utf8_error().valid_up_to()))?;
    let parsed = celltrace_import::parse(args.kind, &text);
    drop(text);

    let site = SiteId::parse(&args.site).map_err(|e| e.to_string())?;
    let staff = StaffId::parse(&args.staff).map_err(|e| e.to_string())?;
    let db = Database::open(database_url).await.map_err(|e| e.to_string())?;
    // Only what the rows name is read, row by row (`check`), never the
    // whole database: an import's memory follows the file, not the records.
    let mut state = State { reference: celltrace_domain::ReferenceData::new(crate::reference()?), ..State::default() };
    let reader = db.reader();
    if reader.get::<Site>(site.as_str()).await.map_err(|e| e.to_string())?.is_none() {
        return Err(format!("there is no site '{site}'; name the site the records belong to with --site"));
    }
    if reader.get::<Staff>(staff.as_str()).await.map_err(|e| e.to_string())?.is_none() {
        return Err(format!("there is no staff account '{staff}'; name who records the import with --as"));
    }

    let at = now();
    let mut errors = parsed.errors;
    let mut rows = parsed.rows;
    for row in &mut rows {
        let language = match row.plan_needing_language() {
            Some(plan) => patient_language(reader, plan).await?,
            None => None,
        };
        if let Some(language) = language {
            row.set_patient_language(language);
        }
        // Fresh like the web form's, so a repeated answer is refused as already answered, by name.
        let visit = VisitId::parse(&format!("visit-{}", uuid::Uuid::now_v7())).map_err(|e| e.to_string())?;
        row.replace_visit(visit);
    }
    let (submissions, lines) = submissions(rows, &staff, &site, at)?;
    errors.extend(check(&db, &mut state, &submissions, &lines).await?);
    errors.sort_by_key(|e| e.line);
    let mut timings = Timings { rows: parsed.row_count, check: started.elapsed(), write: Duration::ZERO };

    if !errors.is_empty() {
        report_errors(args, &errors, parsed.row_count);
        print_rates(&timings);
        return Ok(ExitCode::FAILURE);
    }
    if args.dry_run {
        println!("dry run: all {} row(s) of {} would be imported; nothing was recorded", parsed.row_count, args.file.display());
        print_rates(&timings);
        return Ok(ExitCode::SUCCESS);
    }

    let (key, created) = signing_key.load_or_create().map_err(|e| e.to_string())?;
    if let Some(file) = created {
        eprintln!("created the signing key {} (owner-only, kept apart from the database); back it up separately", file.display());
    }
    let engine = Engine::start(db, crate::engine_options(key)?);
    let writing = spinner("recording");
    let write_started = Instant::now();
    let count = submissions.len();
    let outcome = engine.submit_atomic(submissions).await;
    timings.write = write_started.elapsed();
    writing.finish_and_clear();
    match outcome {
        Ok(receipts) => {
            let entries = match (receipts.first(), receipts.last()) {
                (Some(first), Some(last)) => format!("ledger entries {}..{}", first.first_seq, last.last_seq),
                _ => "no ledger entries".to_owned(),
            };
            // Sign the import's entries now rather than at some later write.
            if let Err(e) = engine.checkpoint().await {
                eprintln!("warning: the import is recorded but no checkpoint was signed: {e}");
            }
            println!("imported {count} {} from {} ({entries})", args.kind, args.file.display());
            print_rates(&timings);
            Ok(ExitCode::SUCCESS)
        }
        Err(AtomicError::Rejected { index, rejection }) => {
            // Someone else changed the records between the check and the write.
            let line = lines.get(index).copied().unwrap_or(0);
            let error = RowError::refused(line, rejection);
            report_errors(args, &[error], parsed.row_count);
            print_rates(&timings);
            Ok(ExitCode::FAILURE)
        }
        Err(AtomicError::Store(e)) => Err(format!("{} was not imported; nothing was recorded: {e}", args.file.display())),
    }
}

/// The language of the patient of `plan`, read by id.
async fn patient_language(reader: &Reader, plan: &PlanId) -> Result<Option<Language>, String> {
    let Some(plan) = reader.get::<Plan>(plan.as_str()).await.map_err(|e| e.to_string())? else { return Ok(None) };
    let person = reader.get::<Person>(plan.patient.as_str()).await.map_err(|e| e.to_string())?;
    Ok(person.map(|p| p.language))
}

/// One submission per good row, and each one's line.
fn submissions(rows: Vec<Row>, staff: &StaffId, site: &SiteId, at: Timestamp) -> Result<(Vec<Submission>, Vec<u64>), String> {
    let mut subs = Vec::with_capacity(rows.len());
    let mut lines = Vec::with_capacity(rows.len());
    for row in rows {
        let id = CommandId::parse(&format!("import-{}", uuid::Uuid::now_v7())).map_err(|e| e.to_string())?;
        subs.push(Submission { id, actor: Actor::Staff(staff.clone()), site: site.clone(), at, command: row.command });
        lines.push(row.line);
    }
    Ok((subs, lines))
}

/// Decides every submission in order over `state` as the engine will, and
/// checks their unique values (MRN, DIN, unit code) against each other and
/// the database. Each refusal is reported at its row's line.
async fn check(db: &Database, state: &mut State, subs: &[Submission], lines: &[u64]) -> Result<Vec<RowError>, String> {
    let bar = progress(subs.len() as u64, "checking");
    let mut errors = Vec::new();
    let mut claimed: HashMap<(&'static str, String), u64> = HashMap::new();
    let mut claims: Vec<(Claim, u64)> = Vec::new();
    for (sub, line) in subs.iter().zip(lines.iter().copied()) {
        bar.inc(1);
        db.load_missing(state, sub).await.map_err(|e| e.to_string())?;
        let events = match decide(state, sub) {
            Ok(events) => events,
            Err(rejection) => {
                errors.push(RowError::refused(line, rejection));
                continue;
            }
        };
        let row_claims: Vec<Claim> = events.iter().flat_map(Event::claims).collect();
        if let Some((claim, first)) = row_claims.iter().find_map(|c| claimed.get(&(c.namespace, c.value.clone())).map(|l| (c, *l))) {
            let rejection = celltrace_store::engine::claim_rejection(claim);
            let message = format!("{} (line {first} of this file has it too)", rejection.message);
            errors.push(RowError::refused(line, celltrace_domain::Rejection { message, ..rejection }));
            continue;
        }
        for claim in row_claims {
            claimed.insert((claim.namespace, claim.value.clone()), line);
            claims.push((claim, line));
        }
        for event in &events {
            state.apply(event);
        }
    }
    bar.finish_and_clear();
    let wanted: Vec<(String, String)> = claims.iter().map(|(c, _)| (c.namespace.to_owned(), c.value.clone())).collect();
    let taken = db.taken_claims(&wanted).await.map_err(|e| e.to_string())?;
    for (claim, line) in &claims {
        if taken.contains(&(claim.namespace.to_owned(), claim.value.clone())) {
            errors.push(RowError::refused(*line, celltrace_store::engine::claim_rejection(claim)));
        }
    }
    Ok(errors)
}

fn report_errors(args: &ImportArgs, errors: &[RowError], row_count: usize) {
    for error in errors {
        println!("{}: {error}", args.file.display());
    }
    let mut bad: Vec<u64> = errors.iter().map(|e| e.line).filter(|l| *l > 1).collect();
    bad.dedup();
    let header = errors.iter().any(|e| e.line <= 1);
    println!(
        "{}: {} of {row_count} row(s) are bad{}; nothing was imported{}",
        args.file.display(),
        bad.len(),
        if header { " and the header needs fixing" } else { "" },
        if args.dry_run { " (dry run)" } else { "" },
    );
}

fn print_rates(timings: &Timings) {
    println!("read and checked {} row(s) in {:.2} s ({} rows/s)", timings.rows, timings.check.as_secs_f64(), per_second(timings.rows, timings.check));
    if !timings.write.is_zero() {
        println!("recorded {} row(s) in {:.2} s ({} rows/s)", timings.rows, timings.write.as_secs_f64(), per_second(timings.rows, timings.write));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_rows_per_second() {
        assert_eq!(per_second(1000, Duration::from_millis(500)), "2000");
        assert_eq!(per_second(10, Duration::ZERO), "-");
        assert_eq!(parse_kind("units"), Ok(Kind::Units));
        assert!(parse_kind("staff").is_err());
    }
}
