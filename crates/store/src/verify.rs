//! `verify`: walks the whole ledger, checks every hash, link and checkpoint
//! signature, rebuilds every projection from the events alone, and compares
//! the result with what is stored. Each disagreement is named.

use crate::engine::seq_u64;
use crate::read::{stored_entity, StoredEntity};
use crate::{hash32, Database, StoreError};
use celltrace_domain::{EntityKey, Event, State};
use celltrace_ledger::{ChainVerifier, Checkpoint, Hash, VerifyingKey};
use sqlx::Row;
use std::collections::{BTreeMap, BTreeSet};

/// What `verify` found.
#[derive(Debug, Default)]
pub struct Report {
    /// Entries read.
    pub entries: u64,
    /// Checkpoints checked.
    pub checkpoints: u64,
    /// Entities compared.
    pub entities: u64,
    /// Each disagreement, in words naming the entry or record.
    pub findings: Vec<String>,
}

impl Report {
    /// True when the chain, the checkpoints and the projections all agree.
    pub fn ok(&self) -> bool {
        self.findings.is_empty()
    }
}

/// Most findings listed; past this the report says how many more there were.
const MAX_FINDINGS: usize = 200;

#[derive(Default)]
struct Rebuilt {
    state: State,
    last_seq: BTreeMap<EntityKey, u64>,
    claims: BTreeMap<(String, String), (String, u64)>,
    commands: BTreeMap<String, (u64, u64)>,
    subjects: BTreeSet<(EntityKey, u64)>,
    hashes: Vec<Hash>,
}

/// Verifies the database against the deployment's public key.
pub async fn verify(db: &Database, trusted: &VerifyingKey) -> Result<Report, StoreError> {
    let mut report = Report::default();
    let mut findings = Vec::new();
    let mut rebuilt = Rebuilt::default();
    let mut chain = ChainVerifier::default();
    let mut from = 1u64;
    loop {
        let page = db.entries(from, 5000).await?;
        let Some((last, _)) = page.last() else { break };
        from = last.seq + 1;
        for (e, command_id) in &page {
            report.entries += 1;
            if let Err(fault) = chain.check(e) {
                findings.push(format!("ledger {fault}"));
                // Carry on from this entry so later faults are reported too.
                chain = ChainVerifier::resume(e.seq, e.hash);
            }
            rebuilt.hashes.push(e.hash);
            let event: Event = match serde_json::from_slice(&e.record.payload) {
                Ok(event) => event,
                Err(err) => {
                    findings.push(format!("ledger entry {}: payload is not a readable event ({err})", e.seq));
                    continue;
                }
            };
            if event.kind() != e.record.kind {
                findings.push(format!(
                    "ledger entry {}: kind column says '{}' but the payload is '{}'",
                    e.seq,
                    e.record.kind,
                    event.kind()
                ));
            }
            rebuilt.state.apply(&event);
            for key in event.keys() {
                rebuilt.last_seq.insert(key, e.seq);
            }
            for subject in event.subjects() {
                rebuilt.subjects.insert((subject, e.seq));
            }
            for claim in event.claims() {
                rebuilt.claims.insert((claim.namespace.to_owned(), claim.value), (claim.owner, e.seq));
            }
            let span = rebuilt.commands.entry(command_id.clone()).or_insert((e.seq, e.seq));
            span.1 = e.seq;
        }
    }

    let head = db.head().await?;
    let chain_head = chain.head();
    if head.seq != report.entries || (head.seq > 0 && rebuilt.hashes.last() != Some(&head.hash)) {
        findings.push(format!(
            "ledger head: records entry {} but the ledger ends at entry {} ({} entries present)",
            head.seq, chain_head.seq, report.entries
        ));
    }

    check_checkpoints(db, trusted, &rebuilt.hashes, &mut report, &mut findings).await?;
    compare_entities(db, &rebuilt, &mut report, &mut findings).await?;
    compare_claims(db, &rebuilt, &mut findings).await?;
    compare_commands(db, &rebuilt, &mut findings).await?;
    compare_subjects(db, &rebuilt, &mut findings).await?;

    if findings.len() > MAX_FINDINGS {
        let more = findings.len() - MAX_FINDINGS;
        findings.truncate(MAX_FINDINGS);
        findings.push(format!("... and {more} more findings"));
    }
    report.findings = findings;
    Ok(report)
}

async fn check_checkpoints(
    db: &Database,
    trusted: &VerifyingKey,
    hashes: &[Hash],
    report: &mut Report,
    findings: &mut Vec<String>,
) -> Result<(), StoreError> {
    let rows = sqlx::query("SELECT from_seq, to_seq, to_hash, root, signed_at, public_key, signature FROM checkpoints ORDER BY from_seq")
        .fetch_all(db.pool())
        .await?;
    let mut expected_from = 1u64;
    for row in rows {
        report.checkpoints += 1;
        let from_seq = seq_u64(row.try_get(0)?)?;
        let to_seq = seq_u64(row.try_get(1)?)?;
        let public_key: Vec<u8> = row.try_get(5)?;
        let signature: Vec<u8> = row.try_get(6)?;
        let (Ok(public_key), Ok(signature)) = (<[u8; 32]>::try_from(public_key.as_slice()), <[u8; 64]>::try_from(signature.as_slice())) else {
            findings.push(format!("checkpoint {from_seq}..{to_seq}: key or signature has the wrong length"));
            continue;
        };
        let cp = Checkpoint {
            from_seq,
            to_seq,
            to_hash: hash32(&row.try_get::<Vec<u8>, _>(2)?, "checkpoint hash")?,
            root: hash32(&row.try_get::<Vec<u8>, _>(3)?, "checkpoint root")?,
            signed_at: row.try_get(4)?,
            public_key,
            signature,
        };
        if from_seq != expected_from {
            findings.push(format!("checkpoint {from_seq}..{to_seq}: expected the next checkpoint to start at entry {expected_from}"));
        }
        expected_from = to_seq.saturating_add(1);
        let start = usize::try_from(from_seq.saturating_sub(1)).unwrap_or(usize::MAX);
        let end = usize::try_from(to_seq).unwrap_or(usize::MAX);
        let range = hashes.get(start..end.min(hashes.len())).unwrap_or(&[]);
        if let Err(fault) = cp.verify(trusted, range) {
            findings.push(fault.to_string());
        }
    }
    Ok(())
}

fn json_differences(stored: &str, rebuilt: &str) -> String {
    let (Ok(a), Ok(b)) = (serde_json::from_str::<serde_json::Value>(stored), serde_json::from_str::<serde_json::Value>(rebuilt)) else {
        return "body is not valid JSON".to_owned();
    };
    match (a.as_object(), b.as_object()) {
        (Some(a), Some(b)) => {
            let fields: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            let differing: Vec<&str> = fields.into_iter().filter(|f| a.get(*f) != b.get(*f)).map(|f| f.as_str()).collect();
            if differing.is_empty() {
                "field order or formatting".to_owned()
            } else {
                format!("field(s) {}", differing.join(", "))
            }
        }
        _ => "body".to_owned(),
    }
}

async fn compare_entities(db: &Database, rebuilt: &Rebuilt, report: &mut Report, findings: &mut Vec<String>) -> Result<(), StoreError> {
    let rows = sqlx::query("SELECT kind, id, site, person, status, reference, body, last_seq FROM entities")
        .fetch_all(db.pool())
        .await?;
    let mut stored: BTreeMap<EntityKey, StoredEntity> = BTreeMap::new();
    for row in &rows {
        let e = stored_entity(row)?;
        stored.insert(e.key.clone(), e);
    }
    for key in rebuilt.state.all_keys() {
        report.entities += 1;
        let Some(expected) = rebuilt.state.row(&key) else { continue };
        let expected_seq = rebuilt.last_seq.get(&key).copied().unwrap_or(0);
        match stored.remove(&key) {
            None => findings.push(format!("record {key}: missing from the stored projections")),
            Some(found) => {
                let mut diffs = Vec::new();
                if found.body != expected.body {
                    diffs.push(json_differences(&found.body, &expected.body));
                }
                if found.site != expected.site {
                    diffs.push(format!("site (stored '{}', ledger '{}')", found.site, expected.site));
                }
                if found.status != expected.status {
                    diffs.push(format!("status (stored '{}', ledger '{}')", found.status, expected.status));
                }
                if found.person != expected.person {
                    diffs.push("person".to_owned());
                }
                if found.reference != expected.reference {
                    diffs.push("reference (DIN, product code or MRN)".to_owned());
                }
                if found.last_seq != expected_seq {
                    diffs.push(format!("last change (stored entry {}, ledger entry {expected_seq})", found.last_seq));
                }
                if !diffs.is_empty() {
                    findings.push(format!("record {key}: stored projection differs from the ledger in {}", diffs.join("; ")));
                }
            }
        }
    }
    for key in stored.keys() {
        findings.push(format!("record {key}: stored but no ledger entry created it"));
    }
    Ok(())
}

async fn compare_claims(db: &Database, rebuilt: &Rebuilt, findings: &mut Vec<String>) -> Result<(), StoreError> {
    let rows = sqlx::query("SELECT namespace, value, owner, seq FROM claims").fetch_all(db.pool()).await?;
    let mut stored = BTreeMap::new();
    for r in rows {
        stored.insert((r.try_get::<String, _>(0)?, r.try_get::<String, _>(1)?), (r.try_get::<String, _>(2)?, seq_u64(r.try_get(3)?)?));
    }
    for (key, value) in &rebuilt.claims {
        match stored.remove(key) {
            None => findings.push(format!("claim {} {}: missing (the uniqueness guard is gone)", key.0, key.1)),
            Some(found) if &found != value => findings.push(format!("claim {} {}: stored owner or entry differs from the ledger", key.0, key.1)),
            Some(_) => {}
        }
    }
    for key in stored.keys() {
        findings.push(format!("claim {} {}: stored but no ledger entry made it", key.0, key.1));
    }
    Ok(())
}

async fn compare_commands(db: &Database, rebuilt: &Rebuilt, findings: &mut Vec<String>) -> Result<(), StoreError> {
    let rows = sqlx::query("SELECT command_id, first_seq, last_seq FROM commands").fetch_all(db.pool()).await?;
    let mut stored = BTreeMap::new();
    for r in rows {
        stored.insert(r.try_get::<String, _>(0)?, (seq_u64(r.try_get(1)?)?, seq_u64(r.try_get(2)?)?));
    }
    for (id, span) in &rebuilt.commands {
        match stored.remove(id) {
            None => findings.push(format!("command {id}: its entries exist but the command record is missing")),
            Some(found) if &found != span => findings.push(format!(
                "command {id}: stored as entries {}..{}, the ledger has {}..{}",
                found.0, found.1, span.0, span.1
            )),
            Some(_) => {}
        }
    }
    for id in stored.keys() {
        findings.push(format!("command {id}: recorded but none of its entries exist"));
    }
    Ok(())
}

async fn compare_subjects(db: &Database, rebuilt: &Rebuilt, findings: &mut Vec<String>) -> Result<(), StoreError> {
    let rows = sqlx::query("SELECT kind, id, seq FROM entry_subjects").fetch_all(db.pool()).await?;
    let mut stored = BTreeSet::new();
    for r in rows {
        let kind: String = r.try_get(0)?;
        let Some(kind) = celltrace_domain::EntityKind::parse(&kind) else {
            findings.push(format!("audit index: unknown kind '{kind}'"));
            continue;
        };
        stored.insert((EntityKey { kind, id: r.try_get(1)? }, seq_u64(r.try_get(2)?)?));
    }
    for (key, seq) in rebuilt.subjects.difference(&stored) {
        findings.push(format!("audit index: entry {seq} is missing from the trail of {key}"));
    }
    for (key, seq) in stored.difference(&rebuilt.subjects) {
        findings.push(format!("audit index: entry {seq} is listed in the trail of {key} but does not concern it"));
    }
    Ok(())
}
