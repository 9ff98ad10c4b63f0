//! Signed tree heads in the C2SP formats: `signed-note` (a text followed by a
//! blank line and one or more signature lines) with Ed25519 keys, verifier
//! keys in the standard `vkey` text form, and `tlog-checkpoint` bodies
//! ([`TreeHead`]). This module owns the exact bytes celltrace signs and
//! publishes for a tree size, and the strict parsing of what others send back
//! (cosigned notes, published keys). Parsing never panics: every malformed
//! input is a [`NoteError`].
//!
//! A signed note looks like this (the signature line starts with U+2014 EM
//! DASH and a space; its base64 holds the 4-byte key id, then the signature):
//!
//! ```text
//! celltrace.example/ledger
//! 5
//! <base64 root hash>
//! celltrace-signed-at-micros 1714564800000000
//!
//! — celltrace.example/ledger <base64(key id || Ed25519 signature)>
//! ```
//!
//! The Ed25519 signature covers the text: every byte up to and including the
//! newline before the blank line. The key id is the first 4 bytes of
//! SHA-256(key name || 0x0A || 0x01 || 32-byte public key).

use crate::Hash;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use std::fmt;

/// Signature type byte of Ed25519 keys in the signed-note format.
pub const ED25519_TYPE: u8 = 0x01;

/// At most this many signature lines are accepted on one note.
pub const MAX_SIGNATURES: usize = 100;

/// celltrace's checkpoint extension line recording when the log signed the
/// tree head: `celltrace-signed-at-micros <microseconds since the Unix epoch,
/// UTC, decimal, no leading zeros>`. Optional; at most one per checkpoint.
/// Other software treats it as an opaque extension line, as C2SP requires.
pub const SIGNED_AT_EXTENSION: &str = "celltrace-signed-at-micros";

/// What starts every signature line: U+2014 EM DASH and a space.
const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// A signed-note key id: 4 bytes binding a key name to a public key.
pub type KeyId = [u8; 4];

/// What is wrong with a note, a signature, a key or a tree head.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    /// The note text does not end with a newline.
    #[error("the note text must end with a newline")]
    NoFinalNewline,
    /// The note text holds an ASCII control character other than newline.
    #[error("line {line} of the note text holds a control character")]
    ControlCharacter {
        /// Line of the text, from 1.
        line: usize,
    },
    /// No blank line followed by signature lines.
    #[error("the note has no signatures: expected a blank line, then signature lines")]
    NoSignatures,
    /// A signature line is malformed.
    #[error("signature line {line}: {reason}")]
    MalformedSignature {
        /// Signature line, from 1.
        line: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// More than [`MAX_SIGNATURES`] signature lines.
    #[error("the note carries {count} signature lines; at most {MAX_SIGNATURES} are accepted")]
    TooManySignatures {
        /// Lines found.
        count: usize,
    },
    /// A key name is empty or holds a space, a `+` or a control character.
    #[error("invalid key name {name:?}: it must be non-empty, without spaces, '+' or control characters")]
    KeyName {
        /// The name.
        name: String,
    },
    /// A verifier key string is malformed.
    #[error("malformed verifier key: {reason}")]
    VerifierKey {
        /// What is wrong.
        reason: &'static str,
    },
    /// No signature line is from a known key.
    #[error("the note carries no signature from a known key")]
    NoKnownSignature,
    /// A signature line names a known key but does not verify.
    #[error(
        "the signature by {name} (key id {key_id}) does not verify: the note was altered or not signed by that key"
    )]
    BadSignature {
        /// Key name.
        name: String,
        /// Key id, hex.
        key_id: String,
    },
    /// The note already carries a signature by this key.
    #[error("the note already carries a signature by {name}")]
    AlreadySigned {
        /// Key name.
        name: String,
    },
    /// The text is not a valid checkpoint body.
    #[error("checkpoint line {line}: {reason}")]
    TreeHead {
        /// Line of the body, from 1.
        line: usize,
        /// What is wrong.
        reason: &'static str,
    },
}

/// The signed-note key id of an Ed25519 key under a name.
pub fn key_id(name: &str, key: &VerifyingKey) -> KeyId {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', ED25519_TYPE]);
    h.update(key.as_bytes());
    let digest = h.finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

fn check_key_name(name: &str) -> Result<(), NoteError> {
    if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c.is_control() || c == '+') {
        return Err(NoteError::KeyName { name: name.to_owned() });
    }
    Ok(())
}

/// A note text: ends with a newline, no control characters but newlines.
fn check_text(text: &str) -> Result<(), NoteError> {
    if !text.ends_with('\n') {
        return Err(NoteError::NoFinalNewline);
    }
    match text.split('\n').position(|line| line.chars().any(|c| c < ' ')) {
        Some(i) => Err(NoteError::ControlCharacter { line: i + 1 }),
        None => Ok(()),
    }
}

/// A key that can check signatures on notes: a name and an Ed25519 public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    id: KeyId,
    key: VerifyingKey,
}

impl NoteVerifier {
    /// The verifier for `key` under `name` (for a log, usually its origin).
    pub fn new(name: &str, key: VerifyingKey) -> Result<NoteVerifier, NoteError> {
        check_key_name(name)?;
        Ok(NoteVerifier { name: name.to_owned(), id: key_id(name, &key), key })
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key id.
    pub fn key_id(&self) -> KeyId {
        self.id
    }

    /// The public key.
    pub fn key(&self) -> &VerifyingKey {
        &self.key
    }

    /// The standard text form operators publish:
    /// `<name>+<key id, 8 hex digits>+<base64(0x01 || public key)>`.
    pub fn to_vkey(&self) -> String {
        let mut typed = Vec::with_capacity(33);
        typed.push(ED25519_TYPE);
        typed.extend_from_slice(self.key.as_bytes());
        format!("{}+{}+{}", self.name, hex::encode(self.id), BASE64.encode(typed))
    }

    /// Parses the text form of [`NoteVerifier::to_vkey`], checking that the key
    /// id matches the name and key.
    pub fn parse_vkey(vkey: &str) -> Result<NoteVerifier, NoteError> {
        let bad = |reason| NoteError::VerifierKey { reason };
        // The name holds no '+', the id is hex; base64 may hold '+'.
        let mut parts = vkey.splitn(3, '+');
        let (Some(name), Some(id_hex), Some(key_b64)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad("expected <name>+<key id>+<key>"));
        };
        check_key_name(name)?;
        if id_hex.len() != 8 || !id_hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad("the key id is not 8 hex digits"));
        }
        let mut id = [0u8; 4];
        hex::decode_to_slice(id_hex, &mut id).map_err(|_| bad("the key id is not 8 hex digits"))?;
        let typed = BASE64.decode(key_b64).map_err(|_| bad("the key is not valid base64"))?;
        let raw: [u8; 32] = match typed.split_first() {
            Some((&ED25519_TYPE, raw)) => raw.try_into().map_err(|_| bad("an Ed25519 key must be 32 bytes"))?,
            Some(_) => return Err(bad("not an Ed25519 key (type byte is not 0x01)")),
            None => return Err(bad("the key is empty")),
        };
        let key = VerifyingKey::from_bytes(&raw).map_err(|_| bad("not a valid Ed25519 public key"))?;
        let verifier = NoteVerifier::new(name, key)?;
        if verifier.id != id {
            return Err(bad("the key id does not match the name and key"));
        }
        Ok(verifier)
    }
}

/// A key that signs notes: a name and an Ed25519 signing key.
#[derive(Clone)]
pub struct NoteSigner {
    name: String,
    id: KeyId,
    key: SigningKey,
}

impl fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the secret key.
        f.debug_struct("NoteSigner").field("name", &self.name).field("key_id", &hex::encode(self.id)).finish()
    }
}

impl NoteSigner {
    /// The signer for `key` under `name`.
    pub fn new(name: &str, key: SigningKey) -> Result<NoteSigner, NoteError> {
        check_key_name(name)?;
        Ok(NoteSigner { name: name.to_owned(), id: key_id(name, &key.verifying_key()), key })
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key id.
    pub fn key_id(&self) -> KeyId {
        self.id
    }

    /// The matching verifier, to publish.
    pub fn verifier(&self) -> NoteVerifier {
        NoteVerifier { name: self.name.clone(), id: self.id, key: self.key.verifying_key() }
    }

    /// The signature of a (valid) note text.
    fn sign_text(&self, text: &str) -> NoteSignature {
        let signature = self.key.sign(text.as_bytes());
        NoteSignature { name: self.name.clone(), key_id: self.id, signature: signature.to_bytes().to_vec() }
    }
}

/// One signature line of a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    name: String,
    key_id: KeyId,
    signature: Vec<u8>,
}

impl NoteSignature {
    /// The key name on the line.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key id on the line.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The signature bytes after the key id (64 for Ed25519; other key types
    /// may differ).
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    fn parse(line: &str, number: usize) -> Result<NoteSignature, NoteError> {
        let bad = |reason| NoteError::MalformedSignature { line: number, reason };
        let rest = line.strip_prefix(SIGNATURE_PREFIX).ok_or(bad("does not start with an em dash and a space"))?;
        let (name, encoded) = rest.split_once(' ').ok_or(bad("no space between the key name and the signature"))?;
        check_key_name(name).map_err(|_| bad("invalid key name"))?;
        let bytes = BASE64.decode(encoded).map_err(|_| bad("the signature is not valid base64"))?;
        match bytes.split_first_chunk::<4>() {
            Some((key_id, signature)) if !signature.is_empty() => {
                Ok(NoteSignature { name: name.to_owned(), key_id: *key_id, signature: signature.to_vec() })
            }
            _ => Err(bad("too short for a key id and a signature")),
        }
    }
}

impl fmt::Display for NoteSignature {
    /// The signature line, newline included.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut bytes = self.key_id.to_vec();
        bytes.extend_from_slice(&self.signature);
        writeln!(f, "{SIGNATURE_PREFIX}{} {}", self.name, BASE64.encode(bytes))
    }
}

/// A note text with one or more signature lines. `Display` gives the full
/// message: the text, a blank line, the signature lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedNote {
    text: String,
    signatures: Vec<NoteSignature>,
}

impl SignedNote {
    /// Signs `text`, which must end with a newline and hold no control
    /// characters other than newlines.
    pub fn sign(text: &str, signer: &NoteSigner) -> Result<SignedNote, NoteError> {
        check_text(text)?;
        Ok(SignedNote { text: text.to_owned(), signatures: vec![signer.sign_text(text)] })
    }

    /// Adds another signature line, e.g. a witness's cosignature. Existing
    /// lines are kept as they are (they are not checked here).
    pub fn add_signature(&mut self, signer: &NoteSigner) -> Result<(), NoteError> {
        if self.signatures.iter().any(|s| s.name == signer.name && s.key_id == signer.id) {
            return Err(NoteError::AlreadySigned { name: signer.name.clone() });
        }
        if self.signatures.len() >= MAX_SIGNATURES {
            return Err(NoteError::TooManySignatures { count: self.signatures.len() + 1 });
        }
        self.signatures.push(signer.sign_text(&self.text));
        Ok(())
    }

    /// Splits a message into text and signature lines, checking their syntax
    /// only; see [`SignedNote::verify`] and [`SignedNote::open`].
    pub fn parse(message: &str) -> Result<SignedNote, NoteError> {
        // Signature lines are never empty, so the last blank line ends the text.
        let split = message.rfind("\n\n").ok_or(NoteError::NoSignatures)?;
        let (text, block) = (&message[..=split], &message[split + 2..]);
        check_text(text)?;
        if block.is_empty() {
            return Err(NoteError::NoSignatures);
        }
        let lines: Vec<&str> = block.split('\n').collect();
        // A block ending in a newline splits into the lines and one empty tail.
        let (tail, lines) = lines.split_last().ok_or(NoteError::NoSignatures)?;
        if !tail.is_empty() {
            return Err(NoteError::MalformedSignature { line: lines.len() + 1, reason: "does not end with a newline" });
        }
        if lines.len() > MAX_SIGNATURES {
            return Err(NoteError::TooManySignatures { count: lines.len() });
        }
        let signatures =
            lines.iter().enumerate().map(|(i, line)| NoteSignature::parse(line, i + 1)).collect::<Result<_, _>>()?;
        Ok(SignedNote { text: text.to_owned(), signatures })
    }

    /// Checks the signatures against the known keys and returns the keys that
    /// signed, in line order. Lines from unknown keys (name and key id not both
    /// known) are ignored, as the spec requires; a line from a known key that
    /// does not verify is an error, and at least one known key must have
    /// signed.
    pub fn verify<'k>(&self, known: &'k [NoteVerifier]) -> Result<Vec<&'k NoteVerifier>, NoteError> {
        let mut signed_by: Vec<&NoteVerifier> = Vec::new();
        for line in &self.signatures {
            let Some(verifier) = known.iter().find(|k| k.name == line.name && k.id == line.key_id) else {
                continue;
            };
            let bad = || NoteError::BadSignature { name: line.name.clone(), key_id: hex::encode(line.key_id) };
            let bytes: [u8; 64] = line.signature.as_slice().try_into().map_err(|_| bad())?;
            verifier.key.verify_strict(self.text.as_bytes(), &Signature::from_bytes(&bytes)).map_err(|_| bad())?;
            if !signed_by.contains(&verifier) {
                signed_by.push(verifier);
            }
        }
        if signed_by.is_empty() {
            return Err(NoteError::NoKnownSignature);
        }
        Ok(signed_by)
    }

    /// Parses and verifies a message: the note and the known keys that signed it.
    pub fn open<'k>(
        message: &str,
        known: &'k [NoteVerifier],
    ) -> Result<(SignedNote, Vec<&'k NoteVerifier>), NoteError> {
        let note = SignedNote::parse(message)?;
        let signed_by = note.verify(known)?;
        Ok((note, signed_by))
    }

    /// The signed text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The signature lines, in order.
    pub fn signatures(&self) -> &[NoteSignature] {
        &self.signatures
    }
}

impl fmt::Display for SignedNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.text)?;
        self.signatures.iter().try_for_each(|s| write!(f, "{s}"))
    }
}

/// A decimal without sign or leading zeros ("0" itself is fine).
fn parse_decimal(s: &str) -> Option<u64> {
    let canonical = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    if canonical {
        s.parse().ok()
    } else {
        None
    }
}

/// The value of a `celltrace-signed-at-micros` line, `None` if it is another
/// extension, `Some(Err)` if it is ours but malformed.
fn signed_at_value(line: &str) -> Option<Result<i64, ()>> {
    let rest = line.strip_prefix(SIGNED_AT_EXTENSION)?;
    if rest.is_empty() {
        return Some(Err(()));
    }
    let value = rest.strip_prefix(' ')?;
    Some(parse_decimal(value).and_then(|v| i64::try_from(v).ok()).ok_or(()))
}

/// A tree head in the C2SP `tlog-checkpoint` format: origin, tree size, root
/// hash, then optional extension lines, each line ending in a newline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeHead {
    origin: String,
    size: u64,
    root: Hash,
    extensions: Vec<String>,
}

/// A tree head whose note carries a valid signature from at least one known key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedTreeHead {
    /// The tree head.
    pub head: TreeHead,
    /// The note as received, with all its signature lines (to cosign or store).
    pub note: SignedNote,
    /// Names of the known keys whose signatures verified, in line order.
    pub signed_by: Vec<String>,
}

impl TreeHead {
    /// A tree head without extension lines. The origin is the log's unique
    /// name (for celltrace, e.g. `clinic.example/celltrace-ledger`); it must be
    /// a non-empty line without control characters.
    pub fn new(origin: &str, size: u64, root: Hash) -> Result<TreeHead, NoteError> {
        if origin.is_empty() || origin.chars().any(char::is_control) {
            return Err(NoteError::TreeHead {
                line: 1,
                reason: "the origin must be a non-empty line without control characters",
            });
        }
        Ok(TreeHead { origin: origin.to_owned(), size, root, extensions: Vec::new() })
    }

    /// Adds an extension line (non-empty, no control characters). A
    /// [`SIGNED_AT_EXTENSION`] line must be well formed and appear once.
    pub fn with_extension(mut self, line: &str) -> Result<TreeHead, NoteError> {
        let number = 4 + self.extensions.len();
        let bad = |reason| NoteError::TreeHead { line: number, reason };
        if line.is_empty() || line.chars().any(char::is_control) {
            return Err(bad("an extension line must be non-empty, without control characters"));
        }
        if let Some(value) = signed_at_value(line) {
            value.map_err(|()| bad("malformed celltrace-signed-at-micros line"))?;
            if self.signed_at().is_some() {
                return Err(bad("a second celltrace-signed-at-micros line"));
            }
        }
        self.extensions.push(line.to_owned());
        Ok(self)
    }

    /// Adds the [`SIGNED_AT_EXTENSION`] line: signed at `micros` since the
    /// Unix epoch (not negative).
    pub fn with_signed_at(self, micros: i64) -> Result<TreeHead, NoteError> {
        self.with_extension(&format!("{SIGNED_AT_EXTENSION} {micros}"))
    }

    /// The log's origin line.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The tree size.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The root hash of the tree of that size.
    pub fn root(&self) -> &Hash {
        &self.root
    }

    /// The extension lines, in order, without their newlines.
    pub fn extensions(&self) -> &[String] {
        &self.extensions
    }

    /// When the log signed this head, microseconds since the Unix epoch, if
    /// the [`SIGNED_AT_EXTENSION`] line is present.
    pub fn signed_at(&self) -> Option<i64> {
        self.extensions.iter().find_map(|line| signed_at_value(line)?.ok())
    }

    /// The checkpoint body: `<origin>\n<size>\n<base64 root>\n` and one line
    /// per extension.
    pub fn to_note_text(&self) -> String {
        let mut text = format!("{}\n{}\n{}\n", self.origin, self.size, BASE64.encode(self.root));
        for line in &self.extensions {
            text.push_str(line);
            text.push('\n');
        }
        text
    }

    /// Parses a checkpoint body strictly: a non-empty origin, a decimal size
    /// without leading zeros, the base64 of exactly 32 bytes, non-empty
    /// extension lines, every line ending in a newline.
    pub fn parse(text: &str) -> Result<TreeHead, NoteError> {
        check_text(text)?;
        let bad = |line, reason| NoteError::TreeHead { line, reason };
        let body = text.strip_suffix('\n').ok_or(NoteError::NoFinalNewline)?;
        let mut lines = body.split('\n');
        let origin = lines.next().unwrap_or_default();
        if origin.is_empty() {
            return Err(bad(1, "the origin line is empty"));
        }
        let size = lines.next().ok_or(bad(2, "the tree size line is missing"))?;
        let size = parse_decimal(size).ok_or(bad(2, "the tree size is not a decimal number without leading zeros"))?;
        let root = lines.next().ok_or(bad(3, "the root hash line is missing"))?;
        let root = BASE64.decode(root).map_err(|_| bad(3, "the root hash is not valid base64"))?;
        let root: Hash = root.try_into().map_err(|_| bad(3, "the root hash is not 32 bytes"))?;
        let mut head = TreeHead::new(origin, size, root)?;
        for line in lines {
            head = head.with_extension(line)?;
        }
        Ok(head)
    }

    /// Signs the checkpoint body with the log's key.
    pub fn sign(&self, signer: &NoteSigner) -> SignedNote {
        let text = self.to_note_text();
        let signatures = vec![signer.sign_text(&text)];
        SignedNote { text, signatures }
    }

    /// Parses and verifies a signed checkpoint: at least one known key must
    /// have signed it. The caller still checks that the origin is the log it
    /// expects, and that the head is consistent with what it saw before.
    pub fn open(message: &str, known: &[NoteVerifier]) -> Result<VerifiedTreeHead, NoteError> {
        let (note, signed_by) = SignedNote::open(message, known)?;
        let signed_by = signed_by.into_iter().map(|v| v.name.clone()).collect();
        let head = TreeHead::parse(note.text())?;
        Ok(VerifiedTreeHead { head, note, signed_by })
    }
}
