//! The C2SP signed-note and tlog-checkpoint formats: round trips, tampering,
//! keys, cosignatures, strict parsing, and one note pinned byte for byte.

use celltrace_ledger::note::{key_id, SIGNED_AT_EXTENSION};
use celltrace_ledger::{NoteError, NoteSigner, NoteVerifier, SignedNote, SigningKey, TreeHead};
use proptest::prelude::*;

const ORIGIN: &str = "celltrace.example/ledger";

fn signer(seed: u8, name: &str) -> NoteSigner {
    NoteSigner::new(name, SigningKey::from_bytes(&[seed; 32])).expect("valid key name")
}

fn log_key() -> NoteSigner {
    signer(0x42, ORIGIN)
}

fn witness_key() -> NoteSigner {
    signer(0x57, "witness.example/w1")
}

/// The root of the 8 reference leaves of the Merkle test vectors.
fn root8() -> [u8; 32] {
    hex::decode("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")
        .expect("hex")
        .try_into()
        .expect("32 bytes")
}

fn head() -> TreeHead {
    TreeHead::new(ORIGIN, 8, root8()).expect("valid origin").with_signed_at(1_714_564_800_000_000).expect("valid time")
}

/// Signed with `log_key()` and checked with an independent implementation
/// (Python `cryptography`: SHA-256 key id, Ed25519 over the text) when frozen.
const PINNED_NOTE: &str = "celltrace.example/ledger
8
XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=
celltrace-signed-at-micros 1714564800000000

\u{2014} celltrace.example/ledger qA1j4kair1VHvl8P/pB+WyPSDmdG+6iimiYq/ZNQG8x7miC+hA3n4cx+CDEPpfd6kkPcaTlomNIn6qeLPdcEUpoqYQ4=
";

const PINNED_VKEY: &str = "celltrace.example/ledger+a80d63e2+ASFS+NGbeR0kRTJC4V8uq2y3z/p7al7TAJeWDgaYgdsS";

#[test]
fn the_note_format_is_frozen() {
    // Changing this text means published checkpoints and witnesses no longer
    // agree with us: the format is C2SP's, not ours to change.
    assert_eq!(head().sign(&log_key()).to_string(), PINNED_NOTE);
    assert_eq!(log_key().verifier().to_vkey(), PINNED_VKEY);
    assert_eq!(log_key().key_id(), [0xa8, 0x0d, 0x63, 0xe2]);
    let opened = TreeHead::open(PINNED_NOTE, &[NoteVerifier::parse_vkey(PINNED_VKEY).expect("valid vkey")])
        .expect("the pinned note verifies");
    assert_eq!(opened.head, head());
    assert_eq!(opened.head.signed_at(), Some(1_714_564_800_000_000));
    assert_eq!(opened.signed_by, vec![ORIGIN.to_owned()]);
}

#[test]
fn a_signed_tree_head_round_trips() {
    let key = log_key();
    let note = head().sign(&key);
    let message = note.to_string();
    let opened = TreeHead::open(&message, &[key.verifier()]).expect("verifies");
    assert_eq!(opened.head, head());
    assert_eq!(opened.note, note);
    assert_eq!(opened.head.to_note_text(), note.text());
    assert_eq!(SignedNote::parse(&message).expect("parses").to_string(), message);

    let bare = TreeHead::new(ORIGIN, 0, [0; 32]).expect("valid");
    assert_eq!(bare.to_note_text(), format!("{ORIGIN}\n0\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"));
    assert_eq!(TreeHead::parse(&bare.to_note_text()), Ok(bare.clone()));
    assert_eq!(bare.signed_at(), None);

    let extended = bare.with_extension("other-log-extension 7").expect("valid").with_signed_at(0).expect("valid");
    assert_eq!(TreeHead::parse(&extended.to_note_text()), Ok(extended.clone()));
    assert_eq!(extended.extensions(), ["other-log-extension 7", &format!("{SIGNED_AT_EXTENSION} 0")]);
    assert_eq!(extended.signed_at(), Some(0));
}

#[test]
fn changing_any_byte_of_the_text_fails() {
    let key = log_key();
    let message = head().sign(&key).to_string();
    let text_len = head().to_note_text().len();
    for i in 0..text_len {
        let mut bytes = message.clone().into_bytes();
        bytes[i] ^= 0x01;
        let changed = String::from_utf8(bytes).expect("the text is ASCII");
        assert!(TreeHead::open(&changed, &[key.verifier()]).is_err(), "byte {i} changed and still verifies");
    }
}

#[test]
fn a_wrong_key_fails() {
    let message = head().sign(&log_key()).to_string();
    // Another key under another name: its signature line is not there.
    assert_eq!(TreeHead::open(&message, &[witness_key().verifier()]), Err(NoteError::NoKnownSignature));
    // Another key under the same name has another key id: also unknown.
    let impostor = signer(0x01, ORIGIN);
    assert_ne!(impostor.key_id(), log_key().key_id());
    assert_eq!(TreeHead::open(&message, &[impostor.verifier()]), Err(NoteError::NoKnownSignature));
    assert_eq!(TreeHead::open(&message, &[]), Err(NoteError::NoKnownSignature));
}

#[test]
fn a_line_claiming_a_known_key_must_verify() {
    let key = log_key();
    let good = head().sign(&key).to_string();
    // A signature line copied from another note under the same key.
    let other = TreeHead::new(ORIGIN, 9, root8()).expect("valid").sign(&key).to_string();
    let (text, _) = good.split_once("\n\n").expect("blank line");
    let (_, line) = other.split_once("\n\n").expect("blank line");
    let spliced = format!("{text}\n\n{line}");
    let expected = NoteError::BadSignature { name: ORIGIN.to_owned(), key_id: "a80d63e2".to_owned() };
    assert_eq!(TreeHead::open(&spliced, &[key.verifier()]), Err(expected.clone()));
    // Also when a valid signature by a known key is present too.
    let both = format!("{good}{line}");
    assert_eq!(TreeHead::open(&both, &[key.verifier()]), Err(expected));
    // A known key id with a signature of the wrong length.
    let short = format!("{text}\n\n\u{2014} {ORIGIN} qA1j4gAA\n");
    assert!(matches!(TreeHead::open(&short, &[key.verifier()]), Err(NoteError::BadSignature { .. })));
}

#[test]
fn a_cosigned_note_verifies_with_either_key() {
    let (log, witness) = (log_key(), witness_key());
    let mut note = head().sign(&log);
    note.add_signature(&witness).expect("first cosignature");
    assert_eq!(note.add_signature(&witness), Err(NoteError::AlreadySigned { name: witness.name().to_owned() }));
    let message = note.to_string();
    assert_eq!(message.matches('\u{2014}').count(), 2);

    for known in [vec![log.verifier()], vec![witness.verifier()]] {
        let opened = TreeHead::open(&message, &known).expect("verifies with one known key");
        assert_eq!(opened.signed_by, vec![known[0].name().to_owned()]);
    }
    let both = TreeHead::open(&message, &[witness.verifier(), log.verifier()]).expect("verifies");
    assert_eq!(both.signed_by, vec![ORIGIN.to_owned(), witness.name().to_owned()]);

    // A witness cosigns a note it received, keeping the log's line as is.
    let mut received = SignedNote::parse(&head().sign(&log).to_string()).expect("parses");
    received.add_signature(&witness).expect("cosign");
    assert_eq!(received.to_string(), message);
    // Unknown lines (another witness nobody here trusts) are ignored.
    received.add_signature(&signer(0x99, "stranger.example/w9")).expect("cosign");
    let opened = TreeHead::open(&received.to_string(), &[log.verifier()]).expect("unknown lines ignored");
    assert_eq!(opened.note.signatures().len(), 3);
}

#[test]
fn verifier_keys_round_trip_and_are_checked() {
    let v = witness_key().verifier();
    assert_eq!(NoteVerifier::parse_vkey(&v.to_vkey()), Ok(v.clone()));
    assert_eq!(v.key_id(), key_id(v.name(), v.key()));
    let vkey = PINNED_VKEY;
    let bad = |s: &str| NoteVerifier::parse_vkey(s).expect_err(s);
    assert!(matches!(bad("celltrace.example/ledger+a80d63e2"), NoteError::VerifierKey { .. }));
    assert!(matches!(bad(&vkey.replace("a80d63e2", "a80d63e3")), NoteError::VerifierKey { .. }));
    assert!(matches!(bad(&vkey.replace("a80d63e2", "a80d63e")), NoteError::VerifierKey { .. }));
    assert!(matches!(bad(&vkey.replace("a80d63e2", "a80d63eg")), NoteError::VerifierKey { .. }));
    assert!(matches!(bad(&vkey.replace("+ASFS", "+AiFS")), NoteError::VerifierKey { .. }));
    assert!(matches!(bad(&vkey.replace("dsS", "ds")), NoteError::VerifierKey { .. }));
    assert!(matches!(bad(&format!("{vkey}AAAA")), NoteError::VerifierKey { .. }));
    assert!(matches!(bad(&vkey.replace("celltrace.example/ledger", "other")), NoteError::VerifierKey { .. }));
    assert!(matches!(bad(&vkey.replace("celltrace.example/ledger", "")), NoteError::KeyName { .. }));
    assert!(matches!(bad(""), NoteError::VerifierKey { .. }));
    assert!(matches!(NoteSigner::new("has space", SigningKey::from_bytes(&[1; 32])), Err(NoteError::KeyName { .. })));
    assert!(matches!(NoteSigner::new("a+b", SigningKey::from_bytes(&[1; 32])), Err(NoteError::KeyName { .. })));
    assert!(matches!(NoteSigner::new("", SigningKey::from_bytes(&[1; 32])), Err(NoteError::KeyName { .. })));
    // The signer's Debug output does not show the secret key.
    assert_eq!(format!("{:?}", log_key()), r#"NoteSigner { name: "celltrace.example/ledger", key_id: "a80d63e2" }"#);
}

#[test]
fn malformed_notes_are_errors() {
    let key = log_key();
    let good = head().sign(&key).to_string();
    let open = |m: &str| TreeHead::open(m, &[key.verifier()]);
    let (text, line) = good.split_once("\n\n").expect("blank line");

    assert_eq!(open(""), Err(NoteError::NoSignatures));
    assert_eq!(open(&good.replacen("\n\n", "\n", 1)), Err(NoteError::NoSignatures));
    assert_eq!(open(&format!("{text}\n\n")), Err(NoteError::NoSignatures));
    assert_eq!(open(&format!("{good}\n")), Err(NoteError::NoSignatures));
    assert!(matches!(open(good.trim_end_matches('\n')), Err(NoteError::MalformedSignature { line: 1, .. })));
    assert!(matches!(open(&format!("{good}garbage\n")), Err(NoteError::MalformedSignature { line: 2, .. })));
    assert!(matches!(open(&format!("{good}garbage")), Err(NoteError::MalformedSignature { line: 2, .. })));
    assert!(matches!(open(&good.replace('\u{2014}', "-")), Err(NoteError::MalformedSignature { line: 1, .. })));
    assert!(matches!(open(&good.replace("qA1j", "qA1*")), Err(NoteError::MalformedSignature { .. })));
    assert!(matches!(open(&good.replace("YQ4=", "YQ4")), Err(NoteError::MalformedSignature { .. })));
    assert!(matches!(
        open(&format!("{text}\n\n\u{2014} {ORIGIN} qA1j4g==\n")),
        Err(NoteError::MalformedSignature { .. })
    ));
    assert!(matches!(open(&format!("{text}\n\n\u{2014} {ORIGIN}\n")), Err(NoteError::MalformedSignature { .. })));
    assert!(open(&good.replace('\n', "\r\n")).is_err());
    assert!(matches!(
        open(&format!("{text}\n\n{}", line.repeat(101))),
        Err(NoteError::TooManySignatures { count: 101 })
    ));

    // Tree head bodies, each correctly signed, so only the body is at fault.
    let sign = |body: &str| SignedNote::sign(body, &key).expect("valid note text").to_string();
    let line_err = |body: &str| match open(&sign(body)) {
        Err(NoteError::TreeHead { line, .. }) => line,
        other => panic!("{body:?}: {other:?}"),
    };
    let root = "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=";
    assert_eq!(line_err(&format!("\n8\n{root}\n")), 1);
    assert_eq!(line_err(&format!("{ORIGIN}\n")), 2);
    assert_eq!(line_err(&format!("{ORIGIN}\n08\n{root}\n")), 2);
    assert_eq!(line_err(&format!("{ORIGIN}\n+8\n{root}\n")), 2);
    assert_eq!(line_err(&format!("{ORIGIN}\n-1\n{root}\n")), 2);
    assert_eq!(line_err(&format!("{ORIGIN}\n\n{root}\n")), 2);
    assert_eq!(line_err(&format!("{ORIGIN}\n18446744073709551616\n{root}\n")), 2);
    assert_eq!(line_err(&format!("{ORIGIN}\n8\n")), 3);
    assert_eq!(line_err(&format!("{ORIGIN}\n8\nXcnaeacG\n")), 3);
    assert_eq!(line_err(&format!("{ORIGIN}\n8\n{}\n", root.trim_end_matches('='))), 3);
    assert_eq!(line_err(&format!("{ORIGIN}\n8\n{root}\n{SIGNED_AT_EXTENSION} 01\n")), 4);
    assert_eq!(line_err(&format!("{ORIGIN}\n8\n{root}\n{SIGNED_AT_EXTENSION}\n")), 4);
    assert_eq!(line_err(&format!("{ORIGIN}\n8\n{root}\n{SIGNED_AT_EXTENSION} -5\n")), 4);
    assert_eq!(line_err(&format!("{ORIGIN}\n8\n{root}\n{SIGNED_AT_EXTENSION} 9223372036854775808\n")), 4);
    assert_eq!(line_err(&format!("{ORIGIN}\n8\n{root}\nx\n{SIGNED_AT_EXTENSION} 1\n{SIGNED_AT_EXTENSION} 2\n")), 6);
    assert_eq!(TreeHead::parse(&format!("{ORIGIN}\n8\n{root}")), Err(NoteError::NoFinalNewline));
    assert_eq!(
        TreeHead::parse(&format!("{ORIGIN}\n8\n{root}\n\n")),
        Err(NoteError::TreeHead { line: 4, reason: "an extension line must be non-empty, without control characters" })
    );
    assert_eq!(TreeHead::parse(&format!("{ORIGIN}\n8\t\n{root}\n")), Err(NoteError::ControlCharacter { line: 2 }));
    // An extension line is opaque unless it is exactly ours.
    let other = TreeHead::parse(&format!("{ORIGIN}\n8\n{root}\n{SIGNED_AT_EXTENSION}-v2 x\n")).expect("opaque line");
    assert_eq!(other.signed_at(), None);

    assert_eq!(SignedNote::sign("no newline", &key), Err(NoteError::NoFinalNewline));
    assert_eq!(SignedNote::sign("bell\u{7}\n", &key), Err(NoteError::ControlCharacter { line: 1 }));
    assert!(TreeHead::new("", 1, [0; 32]).is_err());
    assert!(TreeHead::new("two\nlines", 1, [0; 32]).is_err());
    assert!(head().with_signed_at(5).is_err());
    assert!(TreeHead::new(ORIGIN, 1, [0; 32]).expect("valid").with_signed_at(-1).is_err());
    assert!(TreeHead::new(ORIGIN, 1, [0; 32]).expect("valid").with_extension("").is_err());
}

proptest! {
    #[test]
    fn parsing_never_panics(input in any::<String>()) {
        let known = [log_key().verifier()];
        let _ = SignedNote::parse(&input);
        let _ = TreeHead::parse(&input);
        let _ = TreeHead::open(&input, &known);
        let _ = NoteVerifier::parse_vkey(&input);
    }

    #[test]
    fn parsing_near_misses_never_panics(
        at in any::<prop::sample::Index>(),
        insert in prop::sample::select(vec!["\n", "\n\n", " ", "+", "\u{2014}", "=", "0", "\u{2014} ", "\r", ""]),
        cut in any::<bool>(),
    ) {
        let message = PINNED_NOTE;
        let mut i = at.index(message.len());
        while !message.is_char_boundary(i) {
            i -= 1;
        }
        let end = if cut { message[i..].char_indices().nth(1).map_or(message.len(), |(j, _)| i + j) } else { i };
        let mutated = format!("{}{insert}{}", &message[..i], &message[end..]);
        let verdict = TreeHead::open(&mutated, &[log_key().verifier()]);
        // Whatever the change, the original still verifies; a different
        // message verifies only if the change was a no-op.
        if verdict.is_ok() {
            prop_assert_eq!(mutated, message);
        }
        let _ = NoteVerifier::parse_vkey(&format!("{}{insert}{}", &PINNED_VKEY[..i.min(PINNED_VKEY.len())], ""));
    }
}
