//! Questionnaire instruments described as data (TOML) and their loader.
//!
//! An instrument file names its items, their answer options (each with the
//! number that scoring uses), the subscales, the scoring kind, the minimal
//! clinically important difference and the licence note. See the crate
//! README for the file format; `data/instruments/*.toml` holds the shipped
//! instruments.

use crate::toml_text::{backticked, parse_message, position};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};
use toml::Spanned;

/// How an instrument's answers become scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScoringKind {
    /// One item; its option value is the score (e.g. NPRS 0–10).
    SingleItem,
    /// KOOS-style: every subscale is `100 − 25 × mean(answered items)`,
    /// scored only when at least half of its items are answered. No total.
    KoosSubscale,
    /// ODI-shaped: `sum ÷ (sum of the answered items' maximum values) × 100`.
    SumAsPercent,
    /// A single global-change item (e.g. 1–7); the option value is the score.
    GlobalChange,
}

/// Which way of change counts as improvement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Larger scores are better (e.g. KOOS, 100 = no problems).
    HigherIsBetter,
    /// Smaller scores are better (e.g. pain 0–10, disability 0–100).
    LowerIsBetter,
}

/// Minimal clinically important difference of a score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Mcid {
    /// Size of the change, in score points (always positive).
    pub value: f64,
    /// Which direction of change is an improvement.
    pub direction: Direction,
}

impl Mcid {
    /// Improvement of `follow_up` over `baseline` in score points: positive when
    /// the patient got better, whatever the instrument's direction.
    #[must_use]
    pub fn improvement(&self, baseline: f64, follow_up: f64) -> f64 {
        match self.direction {
            Direction::HigherIsBetter => follow_up - baseline,
            Direction::LowerIsBetter => baseline - follow_up,
        }
    }

    /// Whether a change from `baseline` to `follow_up` reaches the MCID.
    #[must_use]
    pub fn is_responder(&self, baseline: f64, follow_up: f64) -> bool {
        self.improvement(baseline, follow_up) >= self.value
    }
}

/// One answer option of an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerOption {
    /// The number that scoring uses.
    pub value: u8,
    /// Label in English.
    pub label: String,
    /// Label in Arabic, when translated.
    pub label_ar: Option<String>,
    /// Label in Hindi, when translated.
    pub label_hi: Option<String>,
}

/// One question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    /// Identifier unique within the instrument (the answer key).
    pub id: String,
    /// Text in English.
    pub text: String,
    /// Text in Arabic, when translated.
    pub text_ar: Option<String>,
    /// Text in Hindi, when translated.
    pub text_hi: Option<String>,
    /// LOINC code of the item, when known.
    pub loinc: Option<String>,
    /// Allowed answers, in display order, with distinct values.
    pub options: Vec<AnswerOption>,
}

impl Item {
    /// Largest option value of the item.
    #[must_use]
    pub fn max_value(&self) -> u8 {
        self.options.iter().map(|o| o.value).max().unwrap_or(0)
    }

    /// Whether `value` is one of the item's options.
    #[must_use]
    pub fn allows(&self, value: u8) -> bool {
        self.options.iter().any(|o| o.value == value)
    }
}

/// A separately scored group of items.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subscale {
    /// Identifier unique within the instrument.
    pub id: String,
    /// Name in English.
    pub name: String,
    /// Item ids, each one of the instrument's items.
    pub items: Vec<String>,
    /// LOINC code of the subscale score, when known.
    pub loinc: Option<String>,
    /// MCID of the subscale score, when one is chosen.
    pub mcid: Option<Mcid>,
}

/// A questionnaire instrument, validated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Instrument {
    /// Identifier (e.g. `nprs`, `koos`).
    pub id: String,
    /// Name in English.
    pub name: String,
    /// Version of the instrument (or of this definition of it).
    pub version: String,
    /// How answers are scored.
    pub scoring: ScoringKind,
    /// LOINC code of the panel, when known.
    pub loinc_panel: Option<String>,
    /// LOINC code of the total score, when known.
    pub loinc_score: Option<String>,
    /// MCID of the total score, when one is chosen.
    pub mcid: Option<Mcid>,
    /// Least number of answered items for a `sum_as_percent` score (at least 1).
    pub min_answered: usize,
    /// Copyright and licence status, and where the MCID comes from.
    pub licence: String,
    /// Items in display order.
    pub items: Vec<Item>,
    /// Subscales in display order (may be empty).
    pub subscales: Vec<Subscale>,
}

impl Instrument {
    /// The item with this id.
    #[must_use]
    pub fn item(&self, id: &str) -> Option<&Item> {
        self.items.iter().find(|i| i.id == id)
    }

    /// The subscale with this id.
    #[must_use]
    pub fn subscale(&self, id: &str) -> Option<&Subscale> {
        self.subscales.iter().find(|s| s.id == id)
    }
}

/// Why an instrument file was refused: where (line, column, field path) and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct InstrumentError {
    /// 1-based line of the offending text (1 when the file as a whole is at fault).
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// Field path, e.g. `items[3].options[0].value` or `scoring`.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for InstrumentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}, field `{}`: {}",
            self.line, self.column, self.field, self.message
        )
    }
}

// ---------------------------------------------------------------------------
// Raw file shape

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMcid {
    value: Spanned<f64>,
    direction: Direction,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOption {
    value: Spanned<u8>,
    label: String,
    label_ar: Option<String>,
    label_hi: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawItem {
    id: Spanned<String>,
    text: Spanned<String>,
    text_ar: Option<String>,
    text_hi: Option<String>,
    loinc: Option<String>,
    options: Option<Spanned<Vec<RawOption>>>,
    option_set: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSubscale {
    id: Spanned<String>,
    name: String,
    items: Spanned<Vec<Spanned<String>>>,
    loinc: Option<String>,
    mcid: Option<Spanned<RawMcid>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInstrument {
    id: Spanned<String>,
    name: String,
    version: String,
    scoring: Spanned<ScoringKind>,
    loinc_panel: Option<String>,
    loinc_score: Option<String>,
    licence: Spanned<String>,
    mcid: Option<Spanned<RawMcid>>,
    min_answered: Option<Spanned<usize>>,
    #[serde(default)]
    option_sets: BTreeMap<String, Spanned<Vec<RawOption>>>,
    items: Spanned<Vec<RawItem>>,
    #[serde(default)]
    subscales: Vec<RawSubscale>,
}

fn err_at(
    text: &str,
    offset: usize,
    field: impl Into<String>,
    message: impl Into<String>,
) -> InstrumentError {
    let (line, column) = position(text, offset);
    InstrumentError {
        line,
        column,
        field: field.into(),
        message: message.into(),
    }
}

/// The key written before `offset` on the same line (`key = value`), if any.
fn key_before(text: &str, offset: usize) -> Option<String> {
    let offset = offset.min(text.len());
    let before = text.get(..offset)?;
    let line_start = before.rfind('\n').map_or(0, |p| p + 1);
    let line = before.get(line_start..)?;
    let eq = line.rfind('=')?;
    let head = line.get(..eq)?.trim_end();
    let key: String = head
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-' || *c == '.')
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    (!key.is_empty()).then_some(key)
}

/// The `[table]` / `[[array]]` header governing `offset`, if any.
fn table_before(text: &str, offset: usize) -> Option<String> {
    let before = text.get(..offset.min(text.len()))?;
    before.lines().rev().find_map(|l| {
        let l = l.trim();
        l.starts_with('[')
            .then(|| {
                l.trim_start_matches('[')
                    .trim_end_matches(']')
                    .trim()
                    .to_owned()
            })
            .filter(|t| !t.is_empty())
    })
}

fn convert_mcid(text: &str, raw: &Spanned<RawMcid>, field: &str) -> Result<Mcid, InstrumentError> {
    let inner = raw.get_ref();
    let v = *inner.value.get_ref();
    if !(v.is_finite() && v > 0.0) {
        return Err(err_at(
            text,
            inner.value.span().start,
            format!("{field}.value"),
            "MCID must be a positive finite number",
        ));
    }
    Ok(Mcid {
        value: v,
        direction: inner.direction,
    })
}

fn convert_options(
    text: &str,
    raw: &[RawOption],
    field: &str,
) -> Result<Vec<AnswerOption>, InstrumentError> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(raw.len());
    for (i, o) in raw.iter().enumerate() {
        let v = *o.value.get_ref();
        if !seen.insert(v) {
            return Err(err_at(
                text,
                o.value.span().start,
                format!("{field}[{i}].value"),
                format!("option value {v} appears twice"),
            ));
        }
        out.push(AnswerOption {
            value: v,
            label: o.label.clone(),
            label_ar: o.label_ar.clone(),
            label_hi: o.label_hi.clone(),
        });
    }
    Ok(out)
}

/// Parse and validate an instrument definition written in TOML.
///
/// # Errors
/// [`InstrumentError`] naming the line, column and field path when the text is
/// not TOML, a field is missing, unknown or of the wrong type, or the
/// definition is inconsistent (duplicate ids, a subscale naming an unknown
/// item, an item without options, a scoring kind that does not fit the items).
pub fn parse_instrument(text: &str) -> Result<Instrument, InstrumentError> {
    let raw: RawInstrument = serde_path_to_error::deserialize(toml::Deserializer::new(text))
        .map_err(|e| {
            // `Spanned` fields add a private segment to the path; drop it.
            let path = e
                .path()
                .to_string()
                .replace(".$__serde_spanned_private_value", "")
                .replace("$__serde_spanned_private_value", "");
            let path = if path.is_empty() {
                ".".to_owned()
            } else {
                path
            };
            let inner = e.into_inner();
            let offset = inner.span().map_or(0, |s| s.start);
            let message = parse_message(inner.message());
            // serde names a missing/unknown key in the message; the path then
            // points at its table.
            let named = backticked(&message).filter(|_| {
                message.starts_with("missing field")
                    || message.starts_with("unknown field")
                    || message.starts_with("duplicate key")
            });
            let field = match (path.as_str(), named) {
                (".", Some(k)) => k,
                (p, Some(k)) if !p.ends_with(&k) => format!("{p}.{k}"),
                (".", None) => key_before(text, offset)
                    .or_else(|| table_before(text, offset))
                    .unwrap_or_else(|| "(file)".to_owned()),
                (p, _) => p.to_owned(),
            };
            let field = if field.trim().is_empty() {
                "(file)".to_owned()
            } else {
                field
            };
            err_at(text, offset, field, message)
        })?;

    let id = raw.id.get_ref().trim();
    if id.is_empty() {
        return Err(err_at(text, raw.id.span().start, "id", "must not be empty"));
    }
    if raw.licence.get_ref().trim().is_empty() {
        return Err(err_at(
            text,
            raw.licence.span().start,
            "licence",
            "must state the instrument's copyright and licence status",
        ));
    }

    let mut option_sets = BTreeMap::new();
    for (name, set) in &raw.option_sets {
        let field = format!("option_sets.{name}");
        if set.get_ref().is_empty() {
            return Err(err_at(text, set.span().start, field, "option set is empty"));
        }
        option_sets.insert(name.clone(), convert_options(text, set.get_ref(), &field)?);
    }

    if raw.items.get_ref().is_empty() {
        return Err(err_at(
            text,
            raw.items.span().start,
            "items",
            "instrument has no items",
        ));
    }
    let mut item_ids = BTreeSet::new();
    let mut items = Vec::with_capacity(raw.items.get_ref().len());
    for (i, ri) in raw.items.get_ref().iter().enumerate() {
        let iid = ri.id.get_ref().trim().to_owned();
        if iid.is_empty() {
            return Err(err_at(
                text,
                ri.id.span().start,
                format!("items[{i}].id"),
                "must not be empty",
            ));
        }
        if !item_ids.insert(iid.clone()) {
            return Err(err_at(
                text,
                ri.id.span().start,
                format!("items[{i}].id"),
                format!("item id `{iid}` appears twice"),
            ));
        }
        if ri.text.get_ref().trim().is_empty() {
            return Err(err_at(
                text,
                ri.text.span().start,
                format!("items[{i}].text"),
                "must not be empty",
            ));
        }
        let options = match (&ri.options, &ri.option_set) {
            (Some(_), Some(set)) => {
                return Err(err_at(
                    text,
                    set.span().start,
                    format!("items[{i}].option_set"),
                    "give either `options` or `option_set`, not both",
                ))
            }
            (Some(opts), None) => {
                if opts.get_ref().is_empty() {
                    return Err(err_at(
                        text,
                        opts.span().start,
                        format!("items[{i}].options"),
                        "item has no options",
                    ));
                }
                convert_options(text, opts.get_ref(), &format!("items[{i}].options"))?
            }
            (None, Some(set)) => match option_sets.get(set.get_ref()) {
                Some(o) => Vec::clone(o),
                None => {
                    return Err(err_at(
                        text,
                        set.span().start,
                        format!("items[{i}].option_set"),
                        format!("no option set named `{}`", set.get_ref()),
                    ))
                }
            },
            (None, None) => {
                return Err(err_at(
                    text,
                    ri.id.span().start,
                    format!("items[{i}].options"),
                    "item has neither `options` nor `option_set`",
                ))
            }
        };
        items.push(Item {
            id: iid,
            text: ri.text.get_ref().clone(),
            text_ar: ri.text_ar.clone(),
            text_hi: ri.text_hi.clone(),
            loinc: ri.loinc.clone(),
            options,
        });
    }

    let mut subscale_ids = BTreeSet::new();
    let mut subscales = Vec::with_capacity(raw.subscales.len());
    for (s, rs) in raw.subscales.iter().enumerate() {
        let sid = rs.id.get_ref().trim().to_owned();
        if sid.is_empty() {
            return Err(err_at(
                text,
                rs.id.span().start,
                format!("subscales[{s}].id"),
                "must not be empty",
            ));
        }
        if !subscale_ids.insert(sid.clone()) {
            return Err(err_at(
                text,
                rs.id.span().start,
                format!("subscales[{s}].id"),
                format!("subscale id `{sid}` appears twice"),
            ));
        }
        if rs.items.get_ref().is_empty() {
            return Err(err_at(
                text,
                rs.items.span().start,
                format!("subscales[{s}].items"),
                "subscale has no items",
            ));
        }
        let mut members = BTreeSet::new();
        for (k, it) in rs.items.get_ref().iter().enumerate() {
            let name = it.get_ref();
            if !item_ids.contains(name) {
                return Err(err_at(
                    text,
                    it.span().start,
                    format!("subscales[{s}].items[{k}]"),
                    format!("no item with id `{name}`"),
                ));
            }
            if !members.insert(name.clone()) {
                return Err(err_at(
                    text,
                    it.span().start,
                    format!("subscales[{s}].items[{k}]"),
                    format!("item `{name}` listed twice"),
                ));
            }
        }
        let mcid = match &rs.mcid {
            Some(m) => Some(convert_mcid(text, m, &format!("subscales[{s}].mcid"))?),
            None => None,
        };
        subscales.push(Subscale {
            id: sid,
            name: rs.name.clone(),
            items: rs
                .items
                .get_ref()
                .iter()
                .map(|i| i.get_ref().clone())
                .collect(),
            loinc: rs.loinc.clone(),
            mcid,
        });
    }

    let scoring = *raw.scoring.get_ref();
    let scoring_at = raw.scoring.span().start;
    match scoring {
        ScoringKind::SingleItem | ScoringKind::GlobalChange => {
            if items.len() != 1 {
                return Err(err_at(
                    text,
                    scoring_at,
                    "scoring",
                    format!("{scoring:?} needs exactly one item, found {}", items.len()),
                ));
            }
        }
        ScoringKind::KoosSubscale => {
            if subscales.is_empty() {
                return Err(err_at(
                    text,
                    scoring_at,
                    "scoring",
                    "koos_subscale needs at least one subscale",
                ));
            }
            for (i, item) in items.iter().enumerate() {
                if item.options.iter().any(|o| o.value > 4) {
                    return Err(err_at(
                        text,
                        raw.items
                            .get_ref()
                            .get(i)
                            .map_or(scoring_at, |r| r.id.span().start),
                        format!("items[{i}].options"),
                        "koos_subscale items are scored 0–4",
                    ));
                }
            }
        }
        ScoringKind::SumAsPercent => {
            for (i, item) in items.iter().enumerate() {
                if item.max_value() == 0 {
                    return Err(err_at(
                        text,
                        raw.items
                            .get_ref()
                            .get(i)
                            .map_or(scoring_at, |r| r.id.span().start),
                        format!("items[{i}].options"),
                        "sum_as_percent needs a positive maximum value per item",
                    ));
                }
            }
        }
    }

    let min_answered = match &raw.min_answered {
        Some(m) => {
            let v = *m.get_ref();
            if v == 0 || v > items.len() {
                return Err(err_at(
                    text,
                    m.span().start,
                    "min_answered",
                    format!(
                        "must be between 1 and the number of items ({})",
                        items.len()
                    ),
                ));
            }
            v
        }
        None => 1,
    };

    let mcid = match &raw.mcid {
        Some(m) => Some(convert_mcid(text, m, "mcid")?),
        None => None,
    };

    Ok(Instrument {
        id: id.to_owned(),
        name: raw.name,
        version: raw.version,
        scoring,
        loinc_panel: raw.loinc_panel,
        loinc_score: raw.loinc_score,
        mcid,
        min_answered,
        licence: raw.licence.into_inner(),
        items,
        subscales,
    })
}
