//! Behaviour of the public API: bar-code data, compound message, ZPL, PDF,
//! PNG, errors and "never panics".
mod common;

use celltrace_labels::{
    barcodes, compound_message, png_side_px, render_pdf, render_png, render_zpl, statements,
    LabelData, LabelError, PatientLine,
};
use isbt128::DataStructure;
use proptest::prelude::*;

#[test]
fn barcodes_parse_back_into_the_same_values() {
    let label = common::autologous_arabic();
    let codes = barcodes(&label).unwrap();
    let data: Vec<&str> = codes.iter().map(|c| c.data.as_str()).collect();
    assert_eq!(
        data,
        [
            "=A99912600010100",
            "=<S1003100",
            "&*0260610930",
            "&>0263651200"
        ]
    );
    for c in &codes {
        let s = isbt128::parse(&c.data).unwrap();
        assert_eq!(s.number(), c.structure);
        assert_eq!(s.encode(), c.data);
        match s {
            DataStructure::Din(d) => {
                assert_eq!(d.din().to_string(), label.din);
                assert_eq!(d.flags().as_str(), label.flags);
                assert_eq!(c.text, "A9991 26 000101 Q");
            }
            DataStructure::ProductCode(p) => assert_eq!(p.content(), label.product_code),
            DataStructure::CollectionDateTime(t) => {
                assert_eq!(t.date().to_string(), "2026-03-02");
                assert_eq!(t.time().unwrap().to_string(), "09:30");
            }
            DataStructure::ExpirationDateTime(t) => {
                assert_eq!(t.date().to_string(), "2026-12-31");
                assert_eq!(t.time().unwrap().to_string(), "12:00");
            }
            other => panic!("unexpected structure {}", other.number()),
        }
    }
}

#[test]
fn compound_message_is_ds023_with_the_four_structures() {
    for (_, label) in common::all() {
        let msg = compound_message(&label).unwrap();
        let DataStructure::CompoundMessage(c) = isbt128::parse(&msg).unwrap() else {
            panic!("not DS023: {msg}");
        };
        assert_eq!(c.message(), 0);
        let members: Vec<String> = c.structures().iter().map(|s| s.encode()).collect();
        let linear: Vec<String> = barcodes(&label)
            .unwrap()
            .into_iter()
            .map(|b| b.data)
            .collect();
        assert_eq!(members, linear);
        assert_eq!(msg, format!("=+04000{}", linear.concat()));
    }
}

/// Decodes ZPL `^BC` field data in "no selected mode" back to the characters encoded.
fn zpl_bc_text(field: &str) -> String {
    let mut out = String::new();
    let mut chars = field.chars();
    while let Some(c) = chars.next() {
        if c == '>' {
            match chars.next() {
                Some('0') => out.push('>'),
                Some('<') => out.push('^'),
                Some('=') => out.push('~'),
                _ => {} // start / code-set switches
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn zpl_has_one_code128_per_structure_and_the_data_matrix() {
    for (_, label) in common::all() {
        let zpl = render_zpl(&label).unwrap();
        assert!(zpl.starts_with("^XA\n") && zpl.trim_end().ends_with("^XZ"));
        let bc: Vec<String> = zpl
            .lines()
            .filter(|l| l.contains("^BC"))
            .map(|l| {
                let fd = l.split("^FD").nth(1).unwrap();
                zpl_bc_text(fd.trim_end_matches("^FS"))
            })
            .collect();
        let codes = barcodes(&label).unwrap();
        assert_eq!(bc.len(), codes.len());
        for c in &codes {
            assert!(zpl.contains(&c.data), "ZPL lacks {}", c.data);
            assert!(bc.contains(&c.data), "no ^BC encodes {}: {bc:?}", c.data);
        }
        let dm = compound_message(&label).unwrap();
        assert!(zpl.contains(&format!("^FD{dm}^FS")));
        assert_eq!(zpl.matches("^BX").count(), 1);
        // Text is escaped: no raw caret or tilde inside field data.
        for l in zpl.lines().filter(|l| l.contains("^A0")) {
            let fd = l.split("^FD").nth(1).unwrap().trim_end_matches("^FS");
            assert!(!fd.contains('^') && !fd.contains('~'), "{l}");
        }
    }
    // "10^9" in the quantity is written with a hex escape.
    assert!(render_zpl(&common::allogeneic_cord())
        .unwrap()
        .contains("10_5E9"));
}

#[test]
fn pdf_has_one_page() {
    let pdf = render_pdf(&common::long_description()).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let text = String::from_utf8_lossy(&pdf);
    assert_eq!(text.matches("/Type /Page ").count(), 1);
    assert!(text.contains("/Count 1"));
    assert!(text.trim_end().ends_with("%%EOF"));
}

#[test]
fn png_has_the_size_for_the_dpi() {
    for dpi in [200, 300, 600] {
        let png_bytes = render_png(&common::allogeneic_cord(), dpi).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
        let reader = decoder.read_info().unwrap();
        let info = reader.info();
        let side = (100.0 * f64::from(dpi) / 25.4).round() as u32;
        assert_eq!((info.width, info.height), (side, side));
        assert_eq!(png_side_px(dpi), side);
    }
    assert_eq!(png_side_px(300), 1181);
    assert!(matches!(
        render_png(&common::allogeneic_cord(), 72),
        Err(LabelError::Dpi(72))
    ));
}

#[test]
fn statements_follow_the_product_and_fin() {
    let s = statements(&common::autologous_arabic()).unwrap();
    assert_eq!(s[0], "FOR AUTOLOGOUS USE ONLY");
    assert!(s[1].starts_with("VALIDATION LABEL: FIN A9991"));
    assert_eq!(
        &s[2..],
        ["Do not irradiate", "Do not use leukoreduction filters"]
    );
    let s = statements(&common::allogeneic_cord()).unwrap();
    assert!(!s.iter().any(|x| x.contains("AUTOLOGOUS")));
}

#[test]
fn errors_are_for_people() {
    let mut l = common::allogeneic_cord();
    l.din = "A99".into();
    assert_eq!(
        barcodes(&l).unwrap_err().to_string(),
        "DIN 'A99' must be 13 characters: FIN (5), year (2), sequence (6); it has 3"
    );
    let mut l = common::allogeneic_cord();
    l.product_code = "S11827".into();
    assert!(barcodes(&l)
        .unwrap_err()
        .to_string()
        .starts_with("product code 'S11827' must be 8 characters"));
    let mut l = common::allogeneic_cord();
    l.expires_at = l.collected_at;
    assert!(barcodes(&l)
        .unwrap_err()
        .to_string()
        .contains("must be after the collection"));
    let mut l = common::allogeneic_cord();
    l.collected_at = (2026, 2, 30, 10, 0);
    assert!(barcodes(&l)
        .unwrap_err()
        .to_string()
        .contains("no such calendar date"));
    // Collection type 1 (for autologous use only) needs the patient.
    let mut l = common::allogeneic_cord();
    l.product_code = "S1182100".into();
    assert!(matches!(barcodes(&l), Err(LabelError::Patient(_))));
    let mut l = common::autologous_arabic();
    l.autologous_patient = Some(PatientLine {
        name: "A".into(),
        date_of_birth: "14/08/1971".into(),
        mrn: "1".into(),
    });
    assert!(barcodes(&l).unwrap_err().to_string().contains("YYYY-MM-DD"));
    let mut l = common::allogeneic_cord();
    l.warnings = vec!["Keep frozen".repeat(10); 12];
    assert!(matches!(
        render_png(&l, 300),
        Err(LabelError::DoesNotFit(_))
    ));
}

#[test]
fn devanagari_name_renders() {
    let mut l = common::autologous_arabic();
    if let Some(p) = &mut l.autologous_patient {
        p.name = "प्रिया शर्मा".into();
    }
    assert!(render_png(&l, 300).is_ok());
    assert!(render_pdf(&l).is_ok());
    assert!(render_zpl(&l).is_ok());
}

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), "\\PC{0,40}", "[A-Z0-9]{0,16}"]
}

prop_compose! {
    fn any_label()(
        din in prop_oneof![any_text(), Just("A999126000101".to_string())],
        flags in prop_oneof![any_text(), Just("00".to_string())],
        product_code in prop_oneof![any_text(), Just("S1003100".to_string())],
        product_description in any_text(),
        collected_at in (any::<i32>(), any::<u8>(), any::<u8>(), any::<u8>(), any::<u8>()),
        expires_at in prop_oneof![
            (any::<i32>(), any::<u8>(), any::<u8>(), any::<u8>(), any::<u8>()),
            Just((2027, 1, 1, 0, 0)),
        ],
        facility in any_text(),
        quantity in any_text(),
        patient in proptest::option::of((any_text(), any_text(), any_text())),
        warnings in proptest::collection::vec(any_text(), 0..4),
    ) -> LabelData {
        LabelData {
            din, flags, product_code, product_description, collected_at, expires_at,
            facility, quantity,
            autologous_patient: patient.map(|(name, date_of_birth, mrn)| PatientLine { name, date_of_birth, mrn }),
            warnings,
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_fields_never_panic(label in any_label()) {
        let _ = barcodes(&label);
        let _ = compound_message(&label);
        let _ = statements(&label);
        let _ = render_zpl(&label);
        let _ = render_pdf(&label);
        let _ = render_png(&label, 200);
    }

    #[test]
    fn random_text_on_a_valid_label_never_panics(
        description in any_text(), facility in any_text(), quantity in any_text(),
        name in any_text(), mrn in any_text(), warnings in proptest::collection::vec(any_text(), 0..4),
    ) {
        let mut l = common::autologous_arabic();
        l.product_description = description;
        l.facility = facility;
        l.quantity = quantity;
        l.autologous_patient = Some(PatientLine { name, date_of_birth: "1971-08-14".into(), mrn });
        l.warnings = warnings;
        let _ = render_zpl(&l);
        let _ = render_pdf(&l);
        let _ = render_png(&l, 200);
    }
}
