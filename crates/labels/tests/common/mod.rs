//! Sample labels shared by the integration tests.
#![allow(dead_code)]

use celltrace_labels::{LabelData, PatientLine};

/// Autologous MSC with the patient's name in Arabic script.
pub fn autologous_arabic() -> LabelData {
    LabelData {
        din: "A999126000101".into(),
        flags: "00".into(),
        product_code: "S1003100".into(),
        product_description: "Autologous adipose-derived MSC, cryopreserved".into(),
        collected_at: (2026, 3, 2, 9, 30),
        expires_at: (2026, 12, 31, 12, 0),
        facility: "Mumbai Cell Processing Laboratory (FIN A9991)".into(),
        quantity: "5 mL".into(),
        autologous_patient: Some(PatientLine {
            name: "محمد عبد الله".into(),
            date_of_birth: "1971-08-14".into(),
            mrn: "MRN-0042917".into(),
        }),
        warnings: vec![
            "Do not irradiate".into(),
            "Do not use leukoreduction filters".into(),
        ],
    }
}

/// Allogeneic cord blood, type-1 flags.
pub fn allogeneic_cord() -> LabelData {
    LabelData {
        din: "A999226004711".into(),
        flags: "01".into(),
        product_code: "S1182700".into(),
        product_description: "HPC, Cord Blood, cryopreserved".into(),
        collected_at: (2026, 1, 19, 23, 5),
        expires_at: (2036, 1, 19, 23, 59),
        facility: "Pune Public Cord Blood Bank (FIN A9992)".into(),
        quantity: "25 mL, TNC 1.6 x 10^9".into(),
        autologous_patient: None,
        warnings: vec![
            "Do not irradiate".into(),
            "For use by a physician only".into(),
        ],
    }
}

/// A long description and a Latin-script patient with diacritics.
pub fn long_description() -> LabelData {
    LabelData {
        din: "A999326123456".into(),
        flags: "00".into(),
        product_code: "S12951A0".into(),
        product_description: "Autologous bone-marrow-derived mononuclear cells, ex vivo expanded \
            21 days, xeno-free medium, in 10% DMSO, cryopreserved in LN2 vapour phase"
            .into(),
        collected_at: (2025, 12, 31, 0, 0),
        expires_at: (2027, 6, 30, 8, 15),
        facility:
            "Bengaluru Regenerative Medicine Processing Centre, Bannerghatta Road (FIN A9993)"
                .into(),
        quantity: "2 x 1.5 mL (cryovials)".into(),
        autologous_patient: Some(PatientLine {
            name: "Zoë Ñúñez-Müller".into(),
            date_of_birth: "1988-02-29".into(),
            mrn: "BLR/2025/000731".into(),
        }),
        warnings: vec!["For use by a physician only".into()],
    }
}

pub fn all() -> Vec<(&'static str, LabelData)> {
    vec![
        ("autologous_arabic", autologous_arabic()),
        ("allogeneic_cord", allogeneic_cord()),
        ("long_description", long_description()),
    ]
}
