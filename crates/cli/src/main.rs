//! `celltrace`: serve, demo, verify, backup, migrate, checkpoint, witness, token, bench.

use celltrace::config::{Config, Overrides};
use celltrace::{bench, demo, evidence, import, isbt, keys, label, products, witness};
use celltrace_domain::time::Timestamp;
use celltrace_store::{verify, Database, Engine};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

mod stop;

/// celltrace: vein-to-vein tracking, evidence guard and outcomes registry for
/// cell-based therapies, on a tamper-evident ledger.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// SQLite file or postgres:// URL [env: CELLTRACE_DATABASE_URL] [default: celltrace.db]
    #[arg(long, global = true)]
    database_url: Option<String>,
    /// Checkpoint signing key file [env: CELLTRACE_SIGNING_KEY_FILE, or the key itself in CELLTRACE_SIGNING_KEY]
    /// [default: $CREDENTIALS_DIRECTORY/celltrace-signing-key, else ~/.local/share/celltrace/DBNAME.key]
    #[arg(long, visible_alias = "key", global = true)]
    signing_key: Option<PathBuf>,
    /// TOML configuration file [env: CELLTRACE_CONFIG] [default: ./celltrace.toml if present]
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the HTTP server.
    Serve {
        /// Address to listen on [env: CELLTRACE_LISTEN] [default: 127.0.0.1:8080]
        #[arg(long)]
        listen: Option<String>,
        /// Load the demo dataset first (skipped if already loaded).
        #[arg(long)]
        demo: bool,
        /// Start even though the signing key file is in the database's directory (not recommended).
        #[arg(long)]
        allow_key_beside_database: bool,
    },
    /// Load the demo dataset.
    Demo,
    /// Check every ledger hash, the Merkle tree, every signed tree head and the uncovered tail, and rebuild the projections; exit 0 only if all agree.
    Verify {
        /// Verify with this public key (hex) instead of the signing key file, e.g. on a backup.
        #[arg(long)]
        public_key: Option<String>,
        /// Also check the database against a witness's state file: its tree at the witnessed size must have the witnessed root.
        #[arg(long)]
        witness_state: Option<PathBuf>,
    },
    /// Witness a deployment: fetch its signed tree head, check it extends the one in the state file, record it. Fails on a fork or rollback.
    Witness {
        /// The deployment's address, e.g. http://clinic.example:8080
        url: String,
        /// The file holding the last tree head this witness accepted (created on the first run).
        #[arg(long)]
        state: PathBuf,
        /// The deployment's public key: a note verifier key (name+id+key), hex, or a file holding either.
        #[arg(long = "public-key", value_name = "KEY")]
        key: String,
    },
    /// Write a consistent copy of the database to a new SQLite file.
    Backup {
        /// Where to write the copy (must not exist).
        path: PathBuf,
    },
    /// Create or update the database schema.
    Migrate,
    /// Sign a tree head over the whole ledger now (the server does so within a second of every entry).
    Checkpoint,
    /// API tokens for scripts and integrations.
    Token {
        #[command(subcommand)]
        action: TokenCmd,
    },
    /// Print the public half of the signing key (give it to inspectors and witnesses).
    PublicKey {
        /// Print it as a C2SP note verifier key (name+id+key), named after this deployment's log origin.
        #[arg(long)]
        vkey: bool,
    },
    /// Measure the command path (writes) or the read side (reads) against their limits.
    Bench {
        /// What to measure.
        #[command(subcommand)]
        what: bench::BenchCmd,
    },
    /// Import patients, units or questionnaire answers from a CSV file: every row is checked, then all are recorded or none.
    Import(import::ImportArgs),
    /// Write the ISBT 128 label of a unit as PNG, PDF and/or ZPL.
    Label {
        /// Unit id, DIN, or DIN followed by the product code (for divided products).
        unit: String,
        /// Write a PNG image here.
        #[arg(long)]
        png: Option<PathBuf>,
        /// Write a PDF here.
        #[arg(long)]
        pdf: Option<PathBuf>,
        /// Write ZPL II for thermal printers here.
        #[arg(long)]
        zpl: Option<PathBuf>,
        /// PNG resolution.
        #[arg(long, default_value_t = 300)]
        dpi: u32,
    },
    /// The outcomes and safety registry.
    Registry {
        #[command(subcommand)]
        action: RegistryCmd,
    },
    /// The evidence guard's data: rate an indication and product type, or load new data files.
    Evidence {
        #[command(subcommand)]
        action: EvidenceCmd,
    },
    /// The product description table that labels print.
    Products {
        #[command(subcommand)]
        action: ProductsCmd,
    },
    /// ISBT 128 tools: parse what a scanner typed, compute check characters.
    Isbt {
        #[command(subcommand)]
        action: IsbtCmd,
    },
}

#[derive(Subcommand)]
enum RegistryCmd {
    /// Print the registry statistics of the whole database.
    Report {
        /// Output format.
        #[arg(long, value_parser = ["json"], default_value = "json")]
        format: String,
    },
}

#[derive(Subcommand)]
enum EvidenceCmd {
    /// Print one JSON object: the status (approved, investigational, unproven, research-only), the rule applied and the sources.
    Check {
        /// ICD-10-CM code, e.g. M54.50.
        #[arg(long)]
        indication: String,
        /// Product type, e.g. cord-blood-hpc, msc-exosome, autologous-adipose.
        #[arg(long)]
        product: String,
        /// A directory with indications.toml, status.toml and approved_products.toml (default: the shipped data).
        #[arg(long)]
        data: Option<PathBuf>,
    },
    /// Check a directory of evidence data files and record them in the ledger as the data in force.
    Load {
        /// Directory with indications.toml, status.toml and approved_products.toml.
        dir: PathBuf,
    },
}

#[derive(Subcommand)]
enum ProductsCmd {
    /// Replace the table with a CSV file (columns: code,description); recorded in the ledger.
    Load {
        /// The CSV file.
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum IsbtCmd {
    /// Print one JSON object: {"valid": true, "structure": "001", "fields": {...}} or {"valid": false, "error": "..."}.
    Parse {
        /// The scanned or keyed text.
        text: String,
        /// Read TEXT as the data content (no data identifier) of this structure, e.g. 003.
        #[arg(long)]
        structure: Option<String>,
    },
    /// Print the ISO/IEC 7064 MOD 37-2 check character of CHARS.
    Check {
        /// Characters 0-9 and A-Z, e.g. a 13-character DIN.
        chars: String,
    },
}

#[derive(Subcommand)]
enum TokenCmd {
    /// Issue a token to a member of staff (a ledger event); it is printed once and recorded only as a hash.
    Create {
        /// Staff id the token acts as.
        #[arg(long)]
        staff: String,
        /// What the token is for.
        #[arg(long, default_value = "api")]
        label: String,
        /// Days until it stops working (no expiry when absent).
        #[arg(long)]
        expires_days: Option<u32>,
    },
    /// Revoke a token by its id (tok-...); it stops working at once on every server.
    Revoke {
        /// The token's id, as `token list` shows it.
        token: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// List a member of staff's tokens (never the tokens themselves).
    List {
        /// Staff id.
        #[arg(long)]
        staff: String,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("CELLTRACE_LOG").unwrap_or_else(|_| "info,sqlx=warn".into()))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(run(cli));
    // Bounded: a task abandoned by a timed-out stop must not hold the exit.
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    match outcome {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The site a command-line load is recorded at: the first by name (the
/// operator's installation), or an error saying what to do first.
async fn first_site(db: &Database, what: &str) -> Result<celltrace_domain::ids::SiteId, String> {
    let sites = db.reader().sites().await.map_err(|e| e.to_string())?;
    sites.into_iter().next().map(|s| s.id).ok_or_else(|| format!("register a site before {what}"))
}

async fn open(config: &Config) -> Result<Database, String> {
    Database::open(&config.database_url).await.map_err(|e| e.to_string())
}

async fn start_engine(config: &Config, db: Database) -> Result<Engine, String> {
    let key = load_or_create_key(config)?;
    let mut options = celltrace::engine_options(key)?;
    options.origin = celltrace_store::tlog::origin_for(&config.public_url);
    Ok(Engine::start(db, options))
}

/// The signing key, created in the default place on first use. A key left
/// beside the database by an older celltrace is not silently replaced by a
/// new one (its checkpoints would no longer verify): the operator is told to move it.
fn load_or_create_key(config: &Config) -> Result<celltrace_ledger::SigningKey, String> {
    if let keys::KeySource::File { path, default: true } = &config.signing_key {
        let old = config.sqlite_file().map(|db| db.with_file_name("celltrace.key"));
        if let Some(old) = old.filter(|old| !path.exists() && old.exists()) {
            return Err(format!(
                "the signing key {} sits beside the database; move it to {} (mkdir -p {} && mv {} {}), or name it with --signing-key",
                old.display(),
                path.display(),
                path.parent().map_or_else(String::new, |d| d.display().to_string()),
                old.display(),
                path.display()
            ));
        }
    }
    let (key, created) = config.signing_key.load_or_create().map_err(|e| e.to_string())?;
    if let Some(file) = created {
        eprintln!("created the signing key {} (owner-only, kept apart from the database); back it up separately from the database", file.display());
    }
    Ok(key)
}

fn now() -> Timestamp {
    Timestamp(celltrace_web::now_micros())
}

async fn run(cli: Cli) -> Result<ExitCode, String> {
    // The codec needs no configuration or database.
    match &cli.command {
        Cmd::Isbt { action: IsbtCmd::Parse { text, structure } } => {
            println!("{}", isbt::parse(text, structure.as_deref()));
            return Ok(ExitCode::SUCCESS);
        }
        Cmd::Evidence { action: EvidenceCmd::Check { indication, product, data } } => {
            let data = match data {
                Some(dir) => evidence::EvidenceFiles::read(dir)?.parse()?,
                None => celltrace_evidence::EvidenceData::shipped().map_err(|e| e.to_string())?,
            };
            let rating = evidence::check(&data, indication, product)?;
            println!("{}", serde_json::to_string_pretty(&rating).map_err(|e| e.to_string())?);
            return Ok(ExitCode::SUCCESS);
        }
        Cmd::Isbt { action: IsbtCmd::Check { chars } } => {
            let k = isbt::check(chars)?;
            println!("{k}");
            return Ok(ExitCode::SUCCESS);
        }
        _ => {}
    }
    let listen = match &cli.command {
        Cmd::Serve { listen, .. } => listen.clone(),
        _ => None,
    };
    let overrides = Overrides { config_file: cli.config, database_url: cli.database_url, listen, signing_key: cli.signing_key };
    let config = Config::load(&overrides, |k| std::env::var(k).ok()).map_err(|e| e.to_string())?;
    match cli.command {
        Cmd::Serve { demo, allow_key_beside_database, .. } => {
            if !allow_key_beside_database {
                config.signing_key.check_apart_from(config.sqlite_file().as_deref())?;
            }
            // Held until the process ends: a second server on this SQLite file is refused.
            let _lock = match config.sqlite_file() {
                Some(file) => Some(celltrace_store::files::lock_server(&file).map_err(|e| e.to_string())?),
                None => None,
            };
            let db = open(&config).await?;
            let engine = start_engine(&config, db.clone()).await?;
            if demo {
                load_demo(&engine).await?;
            }
            let listener = tokio::net::TcpListener::bind(&config.listen)
                .await
                .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
            let address = listener.local_addr().map_err(|e| e.to_string())?;
            println!("celltrace is serving {} on http://{address}/ (public address {})", db.display_url(), config.public_url);
            let mut web = celltrace_web::WebConfig::new(&config.public_url);
            web.limits = config.limits.clone();
            web.ready_uncovered_limit = config.ready_uncovered_limit;
            web.verifying_key = config.signing_key.load().ok().map(|k| k.verifying_key());
            let limits = web.limits.clone();
            let app = celltrace_web::router(celltrace_web::AppState { engine: engine.clone(), reference: celltrace::reference()?, config: std::sync::Arc::new(web), registry: Default::default() });
            let (asked, stop_asked) = tokio::sync::oneshot::channel();
            let stop = async move {
                stop::signal().await;
                let _ = asked.send(std::time::Instant::now());
            };
            let stopped = celltrace_web::serve::serve(listener, app, &limits, config.stop_timeout, stop).await.map_err(|e| e.to_string())?;
            let deadline = stop_asked.await.unwrap_or_else(|_| std::time::Instant::now()) + config.stop_timeout;
            Ok(stop::finish(&engine, &db, stopped, deadline, config.stop_timeout).await)
        }
        Cmd::Demo => {
            let db = open(&config).await?;
            let engine = start_engine(&config, db).await?;
            load_demo(&engine).await?;
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Verify { public_key, witness_state } => {
            // The database first: a mistyped path is the likelier mistake, and is named as such.
            let db = Database::connect_read_only(&config.database_url).await.map_err(|e| e.to_string())?;
            let trusted = match public_key {
                Some(hex) => keys::parse_public(&hex).map_err(|e| e.to_string())?,
                None => config.signing_key.load()
                    .map_err(|e| format!("{e}\n(verify needs the deployment's key file, or its public key with --public-key)"))?
                    .verifying_key(),
            };
            let witnessed = match &witness_state {
                Some(path) => {
                    let head = witness::recorded(path, &hex::encode(trusted.to_bytes())).map_err(|e| e.to_string())?;
                    Some(verify::tree::Witnessed { size: head.size(), root: *head.root() })
                }
                None => None,
            };
            let report = verify::verify_with(&db, &trusted, witnessed).await.map_err(|e| e.to_string())?;
            for finding in &report.findings {
                println!("FAIL {finding}");
            }
            let age = report.oldest_uncovered_age_micros.map_or(String::new(), |a| format!(", the oldest recorded {:.1}s ago", a as f64 / 1e6));
            println!(
                "{}: {} entries, {} signed tree heads (newest covers {}), {} uncovered{age}, {} records checked; {} findings",
                if report.ok() { "OK" } else { "FAILED" },
                report.entries,
                report.tree_heads,
                report.covered,
                report.uncovered,
                report.entities,
                report.findings.len()
            );
            if let Some(w) = witnessed {
                println!("checked against the witness's tree head of size {}", w.size);
            }
            Ok(if report.ok() { ExitCode::SUCCESS } else { ExitCode::from(2) })
        }
        Cmd::Backup { path } => {
            // The path is checked first: a mistyped one creates nothing.
            let db = Database::connect_read_only(&config.database_url).await.map_err(|e| e.to_string())?;
            // A tree head over everything first, so the copy has no uncovered tail.
            match config.signing_key.load() {
                Ok(key) => {
                    let writer = Database::connect(&config.database_url).await.map_err(|e| e.to_string())?;
                    let origin = celltrace_store::tlog::log_origin(&writer, &celltrace_store::tlog::origin_for(&config.public_url)).await.map_err(|e| e.to_string())?;
                    let signer = celltrace_ledger::NoteSigner::new(&origin, key).map_err(|e| e.to_string())?;
                    let signed = celltrace_store::tlog::sign_tree_head(&writer, &signer).await;
                    writer.close().await;
                    signed.map_err(|e| format!("no backup was written: signing a tree head failed: {e}"))?;
                }
                Err(e) => eprintln!("warning: no tree head was signed before the copy ({e}); its newest entries may be uncovered"),
            }
            celltrace_store::backup::backup(&db, &path).await.map_err(|e| e.to_string())?;
            println!("backup written to {}; check it with: celltrace verify --database-url {}", path.display(), path.display());
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Migrate => {
            let db = open(&config).await?;
            println!("schema of {} is up to date", db.display_url());
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Checkpoint => {
            let db = open(&config).await?;
            let engine = start_engine(&config, db).await?;
            match engine.checkpoint().await.map_err(|e| e.to_string())? {
                Some(head) => print!("{}", head.note),
                None => println!("the ledger is empty: there is nothing to sign"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Token { action: TokenCmd::List { staff } } => {
            let db = Database::connect_read_only(&config.database_url).await.map_err(|e| e.to_string())?;
            for line in celltrace::tokens::list(&db, &staff).await? {
                println!("{line}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Token { action: TokenCmd::Create { staff, label, expires_days } } => {
            let engine = start_engine(&config, open(&config).await?).await?;
            let (id, token) = celltrace::tokens::create(&engine, &staff, &label, expires_days).await?;
            eprintln!("issued API token {id} to {staff}; it is shown once:");
            println!("{token}");
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Token { action: TokenCmd::Revoke { token, reason } } => {
            let engine = start_engine(&config, open(&config).await?).await?;
            celltrace::tokens::revoke(&engine, &token, &reason).await?;
            println!("revoked {token}");
            Ok(ExitCode::SUCCESS)
        }
        Cmd::PublicKey { vkey } => {
            let key = config.signing_key.load().map_err(|e| e.to_string())?;
            if vkey {
                let proposed = celltrace_store::tlog::origin_for(&config.public_url);
                // The log's established origin, if its database exists (never creating one to ask).
                let origin = match Database::connect_read_only(&config.database_url).await {
                    Ok(db) => celltrace_store::tlog::log_origin(&db, &proposed).await.unwrap_or(proposed),
                    Err(_) => proposed,
                };
                let verifier = celltrace_ledger::NoteVerifier::new(&origin, key.verifying_key()).map_err(|e| e.to_string())?;
                println!("{}", verifier.to_vkey());
            } else {
                println!("{}", hex::encode(key.verifying_key().to_bytes()));
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Witness { url, state, key } => match witness::run(&url, &state, &key).await {
            Ok(witness::Outcome::First(head)) => {
                println!("recorded the first tree head of {}: size {} (trusted on first use; check it with the deployment)", head.origin(), head.size());
                Ok(ExitCode::SUCCESS)
            }
            Ok(witness::Outcome::Unchanged(head)) => {
                println!("OK: {} still at size {}, same root", head.origin(), head.size());
                Ok(ExitCode::SUCCESS)
            }
            Ok(witness::Outcome::Extended { old, new }) => {
                println!("OK: {} grew from size {} to {}; the consistency proof holds; recorded", new.origin(), old.size(), new.size());
                Ok(ExitCode::SUCCESS)
            }
            Err(witness::WitnessError::Evidence(evidence)) => {
                eprintln!("WITNESS ALARM: {evidence}");
                Ok(ExitCode::from(3))
            }
            Err(witness::WitnessError::Failed(message)) => Err(message),
        },
        Cmd::Bench { what } => bench::run(what).await.map(|_| ExitCode::SUCCESS),
        Cmd::Import(args) => import::run(&args, &config.database_url, &config.signing_key).await,
        Cmd::Isbt { .. } => Ok(ExitCode::SUCCESS),
        Cmd::Registry { action: RegistryCmd::Report { format: _ } } => {
            let db = Database::connect_read_only(&config.database_url).await.map_err(|e| e.to_string())?;
            let analyses = celltrace_web::staff::registry::read_registry(db.reader()).await.map_err(|e| e.to_string())?;
            let out = serde_json::json!({ "generated_at": now().date().to_string(), "analyses": analyses });
            println!("{}", serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?);
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Label { unit, png, pdf, zpl, dpi } => {
            if png.is_none() && pdf.is_none() && zpl.is_none() {
                return Err("say where to write the label: --png FILE, --pdf FILE and/or --zpl FILE".into());
            }
            let db = Database::connect_read_only(&config.database_url).await.map_err(|e| e.to_string())?;
            let unit = label::find_unit(&db, &unit).await?;
            let data = label::label_data(&db, &unit).await?;
            let write = |path: &PathBuf, bytes: &[u8]| std::fs::write(path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()));
            if let Some(path) = &png {
                write(path, &celltrace_labels::render_png(&data, dpi).map_err(|e| e.to_string())?)?;
            }
            if let Some(path) = &pdf {
                write(path, &celltrace_labels::render_pdf(&data).map_err(|e| e.to_string())?)?;
            }
            if let Some(path) = &zpl {
                write(path, celltrace_labels::render_zpl(&data).map_err(|e| e.to_string())?.as_bytes())?;
            }
            println!("label of unit {} (DIN {}, product {}) written", unit.id, unit.din, unit.product_code);
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Evidence { action: EvidenceCmd::Check { .. } } => Ok(ExitCode::SUCCESS),
        Cmd::Evidence { action: EvidenceCmd::Load { dir } } => {
            let files = evidence::EvidenceFiles::read(&dir)?;
            let data = files.parse().map_err(|e| format!("{} was not loaded; nothing changed: {e}", dir.display()))?;
            let db = open(&config).await?;
            let engine = start_engine(&config, db.clone()).await?;
            let site = first_site(&db, "loading evidence data").await?;
            let version = data.version().to_owned();
            let submission = celltrace_domain::Submission {
                id: celltrace_domain::ids::CommandId::parse(&uuid::Uuid::now_v7().to_string()).map_err(|e| e.to_string())?,
                actor: celltrace_domain::Actor::System("cli".into()),
                site,
                at: now(),
                command: celltrace_domain::Command::LoadEvidenceData {
                    version: version.clone(),
                    indications: files.indications,
                    status: files.status,
                    approved_products: files.approved_products,
                    source: dir.display().to_string(),
                },
            };
            engine.submit(submission).await.map_err(|e| e.to_string())?;
            println!("evidence data version {version} from {} is now in force; new plans are rated with it", dir.display());
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Products { action: ProductsCmd::Load { file } } => {
            let text = std::fs::read_to_string(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            let entries = products::parse_csv(&text).map_err(|errors| {
                format!("{} was not loaded; nothing changed:\n  {}", file.display(), errors.join("\n  "))
            })?;
            let db = open(&config).await?;
            let engine = start_engine(&config, db.clone()).await?;
            let site = first_site(&db, "loading the product table").await?;
            let count = entries.len();
            let submission = celltrace_domain::Submission {
                id: celltrace_domain::ids::CommandId::parse(&uuid::Uuid::now_v7().to_string()).map_err(|e| e.to_string())?,
                actor: celltrace_domain::Actor::System("cli".into()),
                site,
                at: now(),
                command: celltrace_domain::Command::LoadProductCatalogue { entries, source: file.display().to_string() },
            };
            engine.submit(submission).await.map_err(|e| e.to_string())?;
            println!("loaded {count} product descriptions from {}", file.display());
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn load_demo(engine: &Engine) -> Result<(), String> {
    match demo::load(engine, now()).await {
        Ok(true) => {
            println!("demo dataset loaded (every demo account's password is '{}')", demo::DEMO_PASSWORD);
            Ok(())
        }
        Ok(false) => {
            println!("demo dataset already present");
            Ok(())
        }
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    /// Two options with one name (a global flag and a subcommand's) only
    /// fail when that subcommand runs; clap's own check finds them all now.
    #[test]
    fn the_command_line_has_no_clashing_options() {
        Cli::command().debug_assert();
    }
}
