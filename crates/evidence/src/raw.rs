//! The files' shapes as written, with the position of every value kept so
//! that the checks can name the line.

use serde::Deserialize;
use toml::Spanned;

pub(crate) type Text = Spanned<String>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawIndications {
    pub version: Text,
    #[serde(default)]
    pub indication: Vec<RawIndication>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawIndication {
    pub id: Text,
    pub name: Text,
    pub group: Text,
    pub icd10: Option<Spanned<Vec<Text>>>,
    pub code_source: Option<Text>,
    pub note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStatus {
    pub version: Text,
    #[serde(default)]
    pub default: Vec<RawDefault>,
    #[serde(default)]
    pub row: Vec<RawRow>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDefault {
    pub product_type: Option<Text>,
    pub group: Option<Text>,
    pub status: Text,
    pub summary: Text,
    pub sources: Spanned<Vec<Text>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRow {
    pub indication: Text,
    pub product_type: Text,
    pub status: Text,
    pub summary: Text,
    pub sources: Spanned<Vec<Text>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawProducts {
    pub version: Text,
    #[serde(default)]
    pub product: Vec<RawProduct>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawProduct {
    pub name: Text,
    pub proper_name: Option<String>,
    pub regulator: Text,
    pub year_approved: Spanned<i64>,
    pub approval_date_reported: Option<String>,
    pub kind: Option<String>,
    pub cell_source: Option<String>,
    pub catalogue_type: Option<Text>,
    pub indications: Spanned<Vec<Text>>,
    #[serde(default)]
    pub indication_ids: Vec<Text>,
    pub status: Text,
    pub source: Text,
    #[serde(default)]
    pub additional_sources: Vec<String>,
    pub notes: Option<String>,
}
