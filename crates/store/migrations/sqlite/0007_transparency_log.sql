-- The transparency log over the ledger (RFC 9162). Leaf i is entry seq i + 1;
-- its input is the entry's chain hash.
--
-- merkle_nodes: the hash of every perfect subtree, written in the same
-- transaction as the entries that complete it: node (level, idx) covers
-- leaves [idx * 2^level, (idx + 1) * 2^level); level 0 holds the leaf hashes.
-- Any root or proof is O(log n) primary-key lookups here.
CREATE TABLE merkle_nodes (
    level INTEGER NOT NULL,
    idx   INTEGER NOT NULL,
    hash  BLOB    NOT NULL,
    PRIMARY KEY (level, idx)
) STRICT, WITHOUT ROWID;

-- Signed tree heads: one C2SP tlog-checkpoint signed note per covered size.
-- They replace the range checkpoints, which stay as they are and are still
-- verified, but are no longer written.
CREATE TABLE tree_heads (
    size      INTEGER PRIMARY KEY,
    root      BLOB    NOT NULL,
    signed_at INTEGER NOT NULL,
    note      TEXT    NOT NULL
) STRICT;
