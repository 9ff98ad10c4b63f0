//! The transparency log's part of `verify`: while the walk streams the
//! entries, the tree is recomputed with a compact range; every stored tree
//! head is checked at its size (root and signature against the trusted key),
//! the stored Merkle nodes are compared with the recomputed ones through an
//! order-free digest, and at the end the uncovered tail is measured. A
//! witness's record, when given, is checked against the recomputed root at
//! its size. Memory holds O(log n) hashes and one page of tree heads.

use super::digest::SetDigest;
use crate::engine::{seq_i64, seq_u64};
use crate::tlog::{tree_head_row, StoredTreeHead, TREE_HEAD_COLUMNS};
use crate::{hash32, StoreError};
use celltrace_ledger::merkle::leaf_hash;
use celltrace_ledger::{to_hex, CompactRange, Hash, NoteVerifier, SignedNote, TreeHead, VerifyingKey};
use sqlx::{Any, Row, Transaction};
use std::collections::VecDeque;

/// How long after an entry a tree head must cover it (the engine's cadence).
pub const CADENCE: std::time::Duration = std::time::Duration::from_secs(1);

/// What `verify` allows beyond the cadence before an uncovered entry is a
/// finding: a busy or restarting server, a retried signature, clocks of two
/// servers a little apart.
pub const MARGIN: std::time::Duration = std::time::Duration::from_secs(30);

/// Rows read per query.
const BATCH: i64 = 2000;

/// A witness's record of the log: the tree size it saw and its root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Witnessed {
    /// The tree size the witness last accepted.
    pub size: u64,
    /// Its root hash.
    pub root: Hash,
}

pub(super) struct TreeCheck {
    range: CompactRange,
    trusted: VerifyingKey,
    nodes: SetDigest,
    heads: VecDeque<StoredTreeHead>,
    heads_after: i64,
    heads_done: bool,
    /// The origin of the first tree head; every other must match it.
    origin: Option<String>,
    witnessed: Option<Witnessed>,
    witness_checked: bool,
    /// Tree heads checked.
    pub(super) checked: u64,
    /// The largest size a valid tree head covers.
    pub(super) covered: u64,
}

impl TreeCheck {
    pub(super) fn new(trusted: VerifyingKey, witnessed: Option<Witnessed>) -> TreeCheck {
        TreeCheck {
            range: CompactRange::new(),
            trusted,
            nodes: SetDigest::default(),
            heads: VecDeque::new(),
            heads_after: -1,
            heads_done: false,
            origin: None,
            witnessed,
            witness_checked: false,
            checked: 0,
            covered: 0,
        }
    }

    /// Entries `..=seq` are covered by a valid range checkpoint of the format
    /// before tree heads: a database upgraded from it has no uncovered past.
    pub(super) fn covered_by_checkpoint(&mut self, seq: u64) {
        self.covered = self.covered.max(seq);
    }

    /// The next stored tree head in size order, read a page at a time.
    async fn peek(&mut self, tx: &mut Transaction<'static, Any>) -> Result<Option<u64>, StoreError> {
        if self.heads.is_empty() && !self.heads_done {
            let sql = format!("SELECT {TREE_HEAD_COLUMNS} FROM tree_heads WHERE size > $1 ORDER BY size LIMIT $2");
            let rows = sqlx::query(&sql).bind(self.heads_after).bind(BATCH).fetch_all(&mut **tx).await?;
            self.heads_done = (rows.len() as i64) < BATCH;
            for row in &rows {
                let head = tree_head_row(row)?;
                self.heads_after = seq_i64(head.size)?;
                self.heads.push_back(head);
            }
        }
        Ok(self.heads.front().map(|h| h.size))
    }

    /// Adds the next entry's leaf, then checks the tree heads of this size.
    pub(super) async fn leaf(&mut self, tx: &mut Transaction<'static, Any>, entry_hash: &Hash, findings: &mut Vec<String>) -> Result<(), StoreError> {
        if self.range.size() == 0 {
            // Tree heads of size 0 come before any leaf.
            self.heads_up_to(tx, 0, findings).await?;
        }
        for (id, hash) in self.range.append(leaf_hash(entry_hash)) {
            self.nodes.add(&[&id.level.to_string(), &id.index.to_string(), &to_hex(&hash)]);
        }
        let size = self.range.size();
        self.heads_up_to(tx, size, findings).await?;
        if let Some(w) = self.witnessed {
            if w.size == size {
                self.witness_checked = true;
                if w.root != self.range.root() {
                    findings.push(format!(
                        "the witness saw tree size {} with root {}, but this database's tree at that size has root {}: \
                         the ledger was rewritten or forked after the witness saw it",
                        w.size,
                        to_hex(&w.root),
                        to_hex(&self.range.root())
                    ));
                }
            }
        }
        Ok(())
    }

    async fn heads_up_to(&mut self, tx: &mut Transaction<'static, Any>, size: u64, findings: &mut Vec<String>) -> Result<(), StoreError> {
        while let Some(next) = self.peek(tx).await? {
            if next > size {
                break;
            }
            if let Some(head) = self.heads.pop_front() {
                self.check_head(&head, findings);
            }
        }
        Ok(())
    }

    /// Checks one tree head against the recomputed tree of its size.
    fn check_head(&mut self, stored: &StoredTreeHead, findings: &mut Vec<String>) {
        self.checked += 1;
        let size = stored.size;
        let mut ok = true;
        if stored.root != self.range.root() {
            findings.push(format!(
                "tree head of size {size}: its root {} is not the root of the ledger's first {size} entries ({}): entries were changed after it was signed",
                to_hex(&stored.root),
                to_hex(&self.range.root())
            ));
            ok = false;
        }
        match open_note(&stored.note, &self.trusted) {
            Ok(head) => {
                if head.size() != size || *head.root() != stored.root {
                    findings.push(format!("tree head of size {size}: the signed note says size {} and another root than its row", head.size()));
                    ok = false;
                }
                match &self.origin {
                    None => self.origin = Some(head.origin().to_owned()),
                    Some(origin) if origin != head.origin() => {
                        findings.push(format!("tree head of size {size}: signed for the log '{}', not '{origin}'", head.origin()));
                        ok = false;
                    }
                    Some(_) => {}
                }
            }
            Err(e) => {
                findings.push(format!("tree head of size {size}: {e}"));
                ok = false;
            }
        }
        if ok {
            self.covered = self.covered.max(size);
        }
    }

    /// After the last entry: tree heads beyond the ledger, the stored nodes,
    /// the witness's size, and the uncovered tail. Returns the number of
    /// uncovered entries and the age of the oldest (microseconds).
    pub(super) async fn finish(
        &mut self,
        tx: &mut Transaction<'static, Any>,
        now_micros: i64,
        findings: &mut Vec<String>,
    ) -> Result<(u64, Option<i64>), StoreError> {
        let entries = self.range.size();
        if entries == 0 {
            self.heads_up_to(tx, 0, findings).await?;
        }
        while self.peek(tx).await?.is_some() {
            if let Some(head) = self.heads.pop_front() {
                self.checked += 1;
                findings.push(format!(
                    "tree head of size {}: the ledger holds only {entries} entries: signed entries were removed (the tail was cut off)",
                    head.size
                ));
            }
        }
        if let Some(w) = self.witnessed {
            if !self.witness_checked && w.size > entries {
                findings.push(format!(
                    "the witness saw tree size {} (root {}), but this database holds only {entries} entries: it was rolled back or truncated",
                    w.size,
                    to_hex(&w.root)
                ));
            }
        }
        let stored = stored_nodes(tx).await?;
        if stored != self.nodes {
            findings.push(format!(
                "the stored Merkle tree ({} nodes) differs from the tree over the ledger's entries ({} nodes): proofs served from it would be wrong",
                stored.count(),
                self.nodes.count()
            ));
        }
        let uncovered = entries.saturating_sub(self.covered);
        if uncovered == 0 {
            return Ok((0, None));
        }
        let row = sqlx::query("SELECT recorded_at FROM ledger WHERE seq = $1").bind(seq_i64(self.covered + 1)?).fetch_optional(&mut **tx).await?;
        let age = match row {
            Some(row) => now_micros.saturating_sub(row.try_get::<i64, _>(0)?),
            None => 0,
        };
        let allowed = i64::try_from((CADENCE + MARGIN).as_micros()).unwrap_or(i64::MAX);
        if age > allowed {
            findings.push(format!(
                "{uncovered} entries ({}..{entries}) are covered by no signed tree head, the oldest recorded {}s ago; the log signs within {}s \
                 ({}s allowed): the newest tree heads were deleted or the tail was rewritten",
                self.covered + 1,
                age / 1_000_000,
                CADENCE.as_secs(),
                (CADENCE + MARGIN).as_secs()
            ));
        }
        Ok((uncovered, Some(age)))
    }
}

/// Parses and verifies a stored note with the trusted key, under the key
/// name the note itself gives (the origin): the key decides, not the name.
fn open_note(note: &str, trusted: &VerifyingKey) -> Result<TreeHead, String> {
    let parsed = SignedNote::parse(note).map_err(|e| format!("the signed note is malformed: {e}"))?;
    let body = TreeHead::parse(parsed.text()).map_err(|e| format!("the checkpoint body is malformed: {e}"))?;
    let verifier = NoteVerifier::new(body.origin(), *trusted).map_err(|e| format!("the origin cannot name a key: {e}"))?;
    TreeHead::open(note, &[verifier])
        .map(|v| v.head)
        .map_err(|e| format!("the signature does not verify with the deployment's key ({e}): it was not signed by this deployment"))
}

/// The digest of every stored Merkle node, streamed in key order.
async fn stored_nodes(tx: &mut Transaction<'static, Any>) -> Result<SetDigest, StoreError> {
    let mut digest = SetDigest::default();
    let mut after = (-1i64, -1i64);
    loop {
        let rows = sqlx::query("SELECT level, idx, hash FROM merkle_nodes WHERE (level, idx) > ($1, $2) ORDER BY level, idx LIMIT $3")
            .bind(after.0)
            .bind(after.1)
            .bind(BATCH)
            .fetch_all(&mut **tx)
            .await?;
        for row in &rows {
            let (level, idx): (i64, i64) = (row.try_get(0)?, row.try_get(1)?);
            let hash = hash32(&row.try_get::<Vec<u8>, _>(2)?, "merkle node hash")?;
            digest.add(&[&level.to_string(), &seq_u64(idx)?.to_string(), &to_hex(&hash)]);
            after = (level, idx);
        }
        if (rows.len() as i64) < BATCH {
            break;
        }
    }
    Ok(digest)
}
