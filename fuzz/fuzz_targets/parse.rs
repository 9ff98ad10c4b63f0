//! Fuzz target: every parser must never panic, and whatever parses must
//! encode back to exactly the same text and parse again to the same value.
#![no_main]

use isbt128::{
    check_character, parse, parse_content, parse_keyed_din, parse_scan, verify, BasicUdiDi,
    SecProductIdentification, SecText, StructureId,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(ds) = parse(s) {
        let encoded = ds.encode();
        assert_eq!(encoded, s, "parse round trip");
        assert_eq!(parse(&encoded).as_ref(), Ok(&ds));
        let _ = ds.fields();
        let _ = ds.eye_readable();
        let _ = ds.check_character();
        assert_eq!(ds.number(), ds.id().number());
    }
    match parse_scan(s) {
        Ok(scan) => assert_eq!(scan.encode(), s, "scan round trip"),
        Err(e) => {
            let _ = e.to_string();
            assert!(e.position() <= s.len());
        }
    }
    for id in StructureId::ALL {
        if let Ok(ds) = parse_content(*id, s) {
            assert_eq!(ds.content(), s, "content round trip");
            assert_eq!(ds.id(), *id);
        }
    }
    if let Ok(k) = parse_keyed_din(s) {
        assert_eq!(k.to_string(), s);
    }
    if let Ok(b) = BasicUdiDi::parse(s) {
        assert_eq!(b.to_string(), s);
    }
    if let Ok(t) = SecText::parse(s) {
        assert_eq!(t.to_string(), s);
    }
    if let Ok(p) = SecProductIdentification::parse(s) {
        assert_eq!(p.to_string(), s);
    }
    if let Ok(k) = check_character(s) {
        assert!(verify(&format!("{s}{k}")).is_ok());
    }
});
