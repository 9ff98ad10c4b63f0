//! No text makes the loader panic: arbitrary strings, and the shipped files
//! with random cuts and insertions.

use celltrace_evidence::{EvidenceData, SHIPPED_INDICATIONS, SHIPPED_PRODUCTS, SHIPPED_STATUS};
use proptest::prelude::*;

/// Cuts `len` characters at character `at` and inserts `insert` there.
fn mutate(text: &str, at: usize, len: usize, insert: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let at = at % (chars.len() + 1);
    let end = (at + len).min(chars.len());
    chars[..at].iter().chain(insert.chars().collect::<Vec<_>>().iter()).chain(chars[end..].iter()).collect()
}

fn check(ind: &str, status: &str, prod: &str) {
    if let Err(e) = EvidenceData::parse(ind, status, prod) {
        let text = match e.file {
            celltrace_evidence::DataFile::Indications => ind,
            celltrace_evidence::DataFile::Status => status,
            celltrace_evidence::DataFile::Products => prod,
        };
        assert!(e.line >= 1 && e.line <= text.lines().count() + 1, "{e}");
        assert!(!e.field.is_empty() && !e.message.is_empty(), "{e}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_text_never_panics(a in any::<String>(), b in any::<String>(), c in any::<String>()) {
        check(&a, &b, &c);
        check(&a, SHIPPED_STATUS, SHIPPED_PRODUCTS);
        check(SHIPPED_INDICATIONS, &b, SHIPPED_PRODUCTS);
        check(SHIPPED_INDICATIONS, SHIPPED_STATUS, &c);
    }

    #[test]
    fn tomlish_text_never_panics(a in "(\\[\\[[a-z]{0,10}\\]\\]\n|[a-z_]{1,12} = (\"[^\"\n]{0,20}\"|[0-9]{1,6}|\\[\"[a-z-]{0,12}\"\\])\n|\n){0,30}") {
        check(&a, SHIPPED_STATUS, SHIPPED_PRODUCTS);
        check(SHIPPED_INDICATIONS, &a, SHIPPED_PRODUCTS);
        check(SHIPPED_INDICATIONS, SHIPPED_STATUS, &a);
    }

    #[test]
    fn mutated_shipped_files_never_panic(which in 0..3usize, at in any::<usize>(), len in 0..40usize, insert in "[\\PC\n\"=\\[\\]]{0,8}") {
        let mut files = [SHIPPED_INDICATIONS.to_owned(), SHIPPED_STATUS.to_owned(), SHIPPED_PRODUCTS.to_owned()];
        files[which] = mutate(&files[which], at, len, &insert);
        check(&files[0], &files[1], &files[2]);
    }
}
