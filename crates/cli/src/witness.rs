//! `celltrace witness URL --state FILE --public-key KEY`: an independent record of
//! the log. It fetches the deployment's newest signed tree head, checks its
//! signature with the deployment's public key, checks that it extends the
//! tree head kept in FILE (a consistency proof from the server, verified
//! here), and only then replaces FILE, atomically. A fork (another root for
//! a size already seen, or a proof that fails), a rollback or a truncation (a
//! smaller size) fails loudly with both tree heads printed as evidence, and
//! FILE is left as it was. `verify --witness-state FILE` reads the same file.
//!
//! This module owns the state file's format: the signed note exactly as
//! served (C2SP `signed-note`), so any other tooling can read it too.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use bytes::Bytes;
use celltrace_ledger::{verify_consistency, Hash, NoteVerifier, SignedNote, TreeHead};
use http_body_util::{BodyExt, Empty};
use hyper::Request;
use hyper_util::rt::TokioIo;
use std::path::Path;

/// How a witness run ended.
#[derive(Debug)]
pub enum Outcome {
    /// FILE held nothing; the tree head is now recorded.
    First(TreeHead),
    /// The log has not grown since the recorded tree head.
    Unchanged(TreeHead),
    /// The log grew consistently from `old` to `new`, now recorded.
    Extended {
        /// The recorded tree head before.
        old: TreeHead,
        /// The one recorded now.
        new: TreeHead,
    },
}

/// Why a witness run failed.
#[derive(Debug, thiserror::Error)]
pub enum WitnessError {
    /// The log showed something it must never show: a fork, a rollback, a
    /// failed proof, a bad signature. The message holds the evidence.
    #[error("{0}")]
    Evidence(String),
    /// The check could not be made (network, files, a malformed key).
    #[error("{0}")]
    Failed(String),
}

/// The verifier for `key`: a note verifier key (`name+id+base64`), a hex
/// Ed25519 public key, or a file holding either. A hex key is named after
/// the log's origin (what celltrace signs with).
pub fn verifier(key: &str, origin: &str) -> Result<NoteVerifier, WitnessError> {
    let text = match std::fs::read_to_string(key) {
        Ok(content) => content.trim().to_owned(),
        Err(_) => key.trim().to_owned(),
    };
    if text.contains('+') {
        let v = NoteVerifier::parse_vkey(&text).map_err(|e| WitnessError::Failed(format!("--public-key: {e}")))?;
        if v.name() != origin {
            return Err(WitnessError::Evidence(format!(
                "the tree head is from the log '{origin}', but the key given is for '{}': this is not the log you meant to witness",
                v.name()
            )));
        }
        return Ok(v);
    }
    let public = crate::keys::parse_public(&text).map_err(|e| WitnessError::Failed(format!("--public-key: {e}")))?;
    NoteVerifier::new(origin, public).map_err(|e| WitnessError::Failed(format!("the log's origin '{origin}' cannot name a key: {e}")))
}

/// Parses a signed tree head and checks its signature with `key`.
pub fn open(note: &str, key: &str, what: &str) -> Result<TreeHead, WitnessError> {
    let parsed = SignedNote::parse(note).map_err(|e| WitnessError::Evidence(format!("{what} is not a signed note: {e}")))?;
    let body = TreeHead::parse(parsed.text()).map_err(|e| WitnessError::Evidence(format!("{what} is not a checkpoint: {e}")))?;
    let v = verifier(key, body.origin())?;
    TreeHead::open(note, &[v])
        .map(|t| t.head)
        .map_err(|e| WitnessError::Evidence(format!("{what}: {e}\n--- {what} ---\n{note}")))
}

fn evidence(kind: &str, old_note: &str, new_note: &str) -> WitnessError {
    WitnessError::Evidence(format!(
        "{kind}\n--- tree head recorded by this witness ---\n{}\n--- tree head the log serves now ---\n{}",
        old_note.trim_end(),
        new_note.trim_end()
    ))
}

/// GETs `url` (http://) and returns the body; any status but 200 is an error.
async fn get(url: &str) -> Result<String, WitnessError> {
    let failed = |e: String| WitnessError::Failed(format!("GET {url}: {e}"));
    let uri: hyper::Uri = url.parse().map_err(|e| failed(format!("not a URL: {e}")))?;
    if uri.scheme_str() != Some("http") {
        return Err(failed("only http:// is spoken here; reach an https:// deployment through a local TLS proxy (e.g. stunnel)".into()));
    }
    let host = uri.host().ok_or_else(|| failed("no host".into()))?.to_owned();
    let port = uri.port_u16().unwrap_or(80);
    let stream = tokio::net::TcpStream::connect((host.as_str(), port)).await.map_err(|e| failed(e.to_string()))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|e| failed(e.to_string()))?;
    tokio::spawn(connection);
    let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
    let request = Request::builder()
        .uri(path)
        .header("host", format!("{host}:{port}"))
        .body(Empty::<Bytes>::new())
        .map_err(|e| failed(e.to_string()))?;
    let response = tokio::time::timeout(std::time::Duration::from_secs(30), sender.send_request(request))
        .await
        .map_err(|_| failed("no answer within 30 s".into()))?
        .map_err(|e| failed(e.to_string()))?;
    let status = response.status();
    let body = response.into_body().collect().await.map_err(|e| failed(e.to_string()))?.to_bytes();
    let body = String::from_utf8_lossy(&body).into_owned();
    if status != hyper::StatusCode::OK {
        return Err(failed(format!("answered {status}: {}", body.trim())));
    }
    Ok(body)
}

fn hash_of(text: &serde_json::Value, what: &str) -> Result<Hash, WitnessError> {
    let s = text.as_str().ok_or_else(|| WitnessError::Failed(format!("the proof's {what} is not a string")))?;
    let bytes = BASE64.decode(s).map_err(|_| WitnessError::Failed(format!("the proof's {what} is not base64")))?;
    bytes.try_into().map_err(|_| WitnessError::Failed(format!("the proof's {what} is not 32 bytes")))
}

/// Writes `content` to `path` through a temporary file in the same
/// directory, synced, then renamed: a crash leaves the old state or the new.
pub fn write_atomically(path: &Path, content: &str) -> Result<(), WitnessError> {
    use std::io::Write as _;
    let failed = |e: std::io::Error| WitnessError::Failed(format!("cannot write the witness state {}: {e}", path.display()));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "witness".into());
    let temp = path.with_file_name(format!(".{name}.tmp"));
    let mut file = std::fs::File::create(&temp).map_err(failed)?;
    file.write_all(content.as_bytes()).map_err(failed)?;
    file.sync_all().map_err(failed)?;
    drop(file);
    std::fs::rename(&temp, path).map_err(failed)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        // Makes the rename itself durable; not every platform can open a directory.
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// One witness run against the deployment at `base` (e.g. `http://host:8080`).
pub async fn run(base: &str, state: &Path, key: &str) -> Result<Outcome, WitnessError> {
    let base = base.trim_end_matches('/');
    let new_note = get(&format!("{base}/api/ledger/checkpoint")).await?;
    let new = open(&new_note, key, "the served tree head")?;
    let old_note = match std::fs::read_to_string(state) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(WitnessError::Failed(format!("cannot read the witness state {}: {e}", state.display()))),
    };
    let Some(old_note) = old_note else {
        write_atomically(state, &new_note)?;
        return Ok(Outcome::First(new));
    };
    let old = open(&old_note, key, "the recorded tree head")?;
    if old.origin() != new.origin() {
        return Err(evidence(&format!("the log's origin changed from '{}' to '{}'", old.origin(), new.origin()), &old_note, &new_note));
    }
    if new.size() < old.size() {
        return Err(evidence(
            &format!("ROLLBACK: the log now serves tree size {} after this witness saw size {}: entries were removed or the database was restored from an older copy", new.size(), old.size()),
            &old_note,
            &new_note,
        ));
    }
    if new.size() == old.size() {
        if new.root() != old.root() {
            return Err(evidence(&format!("FORK: two different roots for tree size {}: the log was rewritten", new.size()), &old_note, &new_note));
        }
        return Ok(Outcome::Unchanged(new));
    }
    let body = get(&format!("{base}/api/ledger/proof/consistency?from={}&to={}", old.size(), new.size())).await?;
    let json: serde_json::Value = serde_json::from_str(&body).map_err(|e| WitnessError::Failed(format!("the consistency proof is not JSON: {e}")))?;
    let hashes = json["hashes"]
        .as_array()
        .ok_or_else(|| WitnessError::Failed("the consistency proof has no 'hashes' list".into()))?
        .iter()
        .map(|h| hash_of(h, "hash"))
        .collect::<Result<Vec<Hash>, _>>()?;
    if let Err(e) = verify_consistency(old.size(), new.size(), old.root(), new.root(), &hashes) {
        return Err(evidence(
            &format!("FORK: the log's tree of size {} does not extend the tree of size {} this witness saw ({e}): entries before {} were changed", new.size(), old.size(), old.size()),
            &old_note,
            &new_note,
        ));
    }
    write_atomically(state, &new_note)?;
    Ok(Outcome::Extended { old, new })
}

/// The tree size and root a witness state file records, its signature
/// checked with `key` (for `verify --witness-state`).
pub fn recorded(state: &Path, key: &str) -> Result<TreeHead, WitnessError> {
    let note = std::fs::read_to_string(state).map_err(|e| WitnessError::Failed(format!("cannot read the witness state {}: {e}", state.display())))?;
    open(&note, key, "the witness's tree head")
}
