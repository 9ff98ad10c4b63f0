//! Input validation and the ISBT 128 data structures printed on a label.

use isbt128::{
    CollectionDateTime, CompoundMessage, DataStructure, Date, Din, DinStructure,
    ExpirationDateTime, FlagKind, Flags, ProductCode, Time,
};

use crate::{Barcode, LabelData, LabelError};

/// The validated, ISBT 128-encoded form of a [`LabelData`].
#[derive(Debug, Clone)]
pub(crate) struct Encoded {
    pub din: DinStructure,
    pub product: ProductCode,
    pub expires: ExpirationDateTime,
    pub collected: CollectionDateTime,
    pub expires_text: String,
    pub collected_text: String,
    pub dob_text: Option<String>,
}

fn date_time(
    what: &'static str,
    (year, month, day, hour, minute): (i32, u8, u8, u8, u8),
) -> Result<(Date, Time), LabelError> {
    let bad = |reason: &str| LabelError::InvalidDateTime {
        field: what,
        value: format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}"),
        reason: reason.to_string(),
    };
    let y = u16::try_from(year)
        .ok()
        .filter(|y| (2000..=2099).contains(y))
        .ok_or_else(|| bad("the year must be 2000-2099 (ISBT 128 century digit 0)"))?;
    let date = Date::new(y, month, day).ok_or_else(|| bad("no such calendar date"))?;
    let time = Time::new(hour, minute).ok_or_else(|| bad("the time must be 00:00-23:59"))?;
    Ok((date, time))
}

/// Validates every field and builds the data structures.
pub(crate) fn encode(label: &LabelData) -> Result<Encoded, LabelError> {
    let din_chars = label.din.chars().count();
    if din_chars != 13 {
        return Err(LabelError::Din(format!(
            "DIN '{}' must be 13 characters: FIN (5), year (2), sequence (6); it has {din_chars}",
            label.din
        )));
    }
    let din = Din::parse(&label.din)
        .map_err(|e| LabelError::Din(format!("DIN '{}' is not valid: {e}", label.din)))?;
    let flags = Flags::new(&label.flags).map_err(|e| {
        LabelError::Din(format!(
            "DIN flags '{}' must be 2 characters (0-9, A-Z without I, O, Q, Z): {e}",
            label.flags
        ))
    })?;
    let din = DinStructure::new(din, flags).map_err(|e| {
        LabelError::Din(format!(
            "DIN flags '{}' do not fit DIN '{}': {e}",
            label.flags, label.din
        ))
    })?;

    let product = ProductCode::from_content(&label.product_code).map_err(|e| {
        LabelError::ProductCode(format!(
            "product code '{}' must be 8 characters (PDC 5 + type + division 2): {e}",
            label.product_code
        ))
    })?;
    if product.uses_product_divisions() {
        return Err(LabelError::ProductCode(format!(
            "product code '{}' ends in 99 (divisions carried in DS032), which this label does not print",
            label.product_code
        )));
    }

    let (cd, ct) = date_time("collection date and time", label.collected_at)?;
    let (ed, et) = date_time("expiry date and time", label.expires_at)?;
    if (ed, et) <= (cd, ct) {
        return Err(LabelError::InvalidDateTime {
            field: "expiry date and time",
            value: format!("{ed} {et}"),
            reason: format!("must be after the collection date and time {cd} {ct}"),
        });
    }
    let structure_error = |field: &'static str| {
        move |e: isbt128::ParseError| LabelError::InvalidDateTime {
            field,
            value: String::new(),
            reason: e.to_string(),
        }
    };
    let expires =
        ExpirationDateTime::new(ed, Some(et)).map_err(structure_error("expiry date and time"))?;
    let collected = CollectionDateTime::new(cd, Some(ct))
        .map_err(structure_error("collection date and time"))?;

    for (field, value) in [
        ("product description", &label.product_description),
        ("facility", &label.facility),
        ("quantity", &label.quantity),
    ] {
        if value.trim().is_empty() {
            return Err(LabelError::MissingText(field));
        }
    }

    let autologous_type = matches!(product.collection_type(), Some('1' | 'X' | '8'));
    let dob_text = match &label.autologous_patient {
        None if autologous_type => {
            return Err(LabelError::Patient(format!(
                "product code '{}' has collection type '{}' (autologous): the patient's name, date of birth and MRN are required",
                label.product_code,
                product.collection_type().unwrap_or('?')
            )))
        }
        None => None,
        Some(p) => {
            if p.name.trim().is_empty() {
                return Err(LabelError::Patient("the patient's name is empty".into()));
            }
            if p.mrn.trim().is_empty() {
                return Err(LabelError::Patient("the patient's MRN is empty".into()));
            }
            Some(parse_dob(&p.date_of_birth)?)
        }
    };

    Ok(Encoded {
        din,
        product,
        expires,
        collected,
        expires_text: format!("{} {et} UTC", ed.label_text()),
        collected_text: format!("{} {ct} UTC", cd.label_text()),
        dob_text,
    })
}

fn parse_dob(text: &str) -> Result<String, LabelError> {
    let bad = || {
        LabelError::Patient(format!(
            "date of birth '{text}' must be a date written YYYY-MM-DD"
        ))
    };
    let parts: Vec<&str> = text.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return Err(bad());
    };
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return Err(bad());
    }
    let y: u16 = y.parse().map_err(|_| bad())?;
    let m: u8 = m.parse().map_err(|_| bad())?;
    let d: u8 = d.parse().map_err(|_| bad())?;
    let date = Date::new(y, m, d).ok_or_else(bad)?;
    Ok(date.label_text())
}

impl Encoded {
    /// The four linear bar codes, in label order.
    pub fn barcodes(&self) -> Vec<Barcode> {
        let product = DataStructure::ProductCode(self.product.clone());
        let collected = DataStructure::CollectionDateTime(self.collected.clone());
        let expires = DataStructure::ExpirationDateTime(self.expires.clone());
        vec![
            Barcode {
                structure: "001",
                name: "Donation Identification Number",
                data: self.din.encode(),
                text: self.din.eye_readable().plain(),
            },
            Barcode {
                structure: "003",
                name: "Product Code",
                data: product.encode(),
                text: product.content(),
            },
            Barcode {
                structure: "007",
                name: "Collection Date and Time",
                data: collected.encode(),
                text: collected.content(),
            },
            Barcode {
                structure: "005",
                name: "Expiration Date and Time",
                data: expires.encode(),
                text: expires.content(),
            },
        ]
    }

    /// DS023 with the same four structures, undefined order (`bbb` = 000).
    pub fn compound(&self) -> Result<String, LabelError> {
        let members = vec![
            DataStructure::Din(self.din),
            DataStructure::ProductCode(self.product.clone()),
            DataStructure::CollectionDateTime(self.collected.clone()),
            DataStructure::ExpirationDateTime(self.expires.clone()),
        ];
        CompoundMessage::new(0, members)
            .map(|c| c.encode())
            .map_err(|e| LabelError::Encoding(format!("compound message: {e}")))
    }

    /// Flags printed beside the DIN (none for `00` and type-3 flags).
    pub fn printed_flags(&self) -> Option<String> {
        match self.din.flags().kind() {
            FlagKind::NotUsed | FlagKind::Check(_) => None,
            _ => Some(self.din.flags().as_str().to_string()),
        }
    }

    /// Statements the crate adds from the product code and the FIN.
    pub fn required_statements(&self, autologous: bool) -> Vec<String> {
        let mut out = Vec::new();
        let t = self.product.collection_type();
        if autologous || matches!(t, Some('1' | 'X')) {
            out.push("FOR AUTOLOGOUS USE ONLY".to_string());
        }
        if matches!(t, Some('8')) {
            out.push("For autologous use - contains allogeneic material".to_string());
        }
        if matches!(t, Some('X' | '3' | '6' | 'H')) {
            out.push("BIOHAZARD".to_string());
        }
        if self.din.din().fin().is_test_facility() {
            out.push(format!(
                "VALIDATION LABEL: FIN {} is reserved for testing - not for clinical use",
                self.din.din().fin().as_str()
            ));
        }
        out
    }
}
