//! Scoring a set of answers against an [`Instrument`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::instrument::{Instrument, Item, ScoringKind};

/// Why a score was not computed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum NotScored {
    /// Fewer items answered than the missing-item rule requires.
    TooFewAnswered {
        /// Items answered.
        answered: usize,
        /// Items the rule requires.
        required: usize,
        /// Items in the (sub)scale.
        items: usize,
    },
    /// The instrument defines no total score (KOOS subscales are reported separately).
    NoTotalDefined,
}

/// One score: a value, or the reason there is none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Score {
    /// Computed.
    Scored {
        /// The score.
        value: f64,
        /// Items answered.
        answered: usize,
        /// Items in the (sub)scale.
        items: usize,
    },
    /// Not computed, with the reason.
    NotScored(NotScored),
}

impl Score {
    /// The value, when scored.
    #[must_use]
    pub fn value(&self) -> Option<f64> {
        match self {
            Score::Scored { value, .. } => Some(*value),
            Score::NotScored(_) => None,
        }
    }
}

/// Scores of one completed questionnaire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    /// Instrument id.
    pub instrument: String,
    /// Instrument version.
    pub version: String,
    /// Total score (for KOOS: not scored, no total defined).
    pub total: Score,
    /// Score of each subscale, by subscale id.
    pub subscales: BTreeMap<String, Score>,
}

/// Answers that cannot belong to the instrument.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScoreError {
    /// An answer names an item the instrument does not have.
    #[error("instrument `{instrument}` has no item `{item}`")]
    UnknownItem {
        /// Instrument id.
        instrument: String,
        /// The unknown item id.
        item: String,
    },
    /// An answer's value is not one of the item's options.
    #[error("item `{item}`: {value} is not an option (allowed: {allowed:?})")]
    NotAnOption {
        /// Item id.
        item: String,
        /// The value given.
        value: u8,
        /// The option values of the item.
        allowed: Vec<u8>,
    },
}

/// Answered values of `item_ids`, in order, skipping unanswered items.
fn answered<'a>(
    answers: &'a BTreeMap<String, u8>,
    item_ids: impl Iterator<Item = &'a str>,
) -> Vec<u8> {
    item_ids.filter_map(|id| answers.get(id).copied()).collect()
}

/// KOOS rule (2012): a subscale is scored when at least half of its items are
/// answered; score = 100 − 25 × mean of the answered items.
fn koos(answers: &BTreeMap<String, u8>, items: &[String]) -> Score {
    let values = answered(answers, items.iter().map(String::as_str));
    let n = items.len();
    let required = n.div_ceil(2);
    if values.len() < required || values.is_empty() {
        return Score::NotScored(NotScored::TooFewAnswered {
            answered: values.len(),
            required: required.max(1),
            items: n,
        });
    }
    let sum: f64 = values.iter().map(|&v| f64::from(v)).sum();
    #[allow(clippy::cast_precision_loss)]
    let mean = sum / values.len() as f64;
    Score::Scored {
        value: 100.0 - 25.0 * mean,
        answered: values.len(),
        items: n,
    }
}

/// ODI-shaped: sum of answered values ÷ sum of their items' maximum × 100.
fn sum_as_percent(answers: &BTreeMap<String, u8>, items: &[&Item], min_answered: usize) -> Score {
    let mut sum = 0.0;
    let mut max = 0.0;
    let mut count = 0usize;
    for item in items {
        if let Some(&v) = answers.get(&item.id) {
            sum += f64::from(v);
            max += f64::from(item.max_value());
            count += 1;
        }
    }
    let required = min_answered.clamp(1, items.len().max(1));
    if count < required || max <= 0.0 {
        return Score::NotScored(NotScored::TooFewAnswered {
            answered: count,
            required,
            items: items.len(),
        });
    }
    Score::Scored {
        value: sum / max * 100.0,
        answered: count,
        items: items.len(),
    }
}

fn single(answers: &BTreeMap<String, u8>, item: Option<&Item>) -> Score {
    match item.and_then(|i| answers.get(&i.id)) {
        Some(&v) => Score::Scored {
            value: f64::from(v),
            answered: 1,
            items: 1,
        },
        None => Score::NotScored(NotScored::TooFewAnswered {
            answered: 0,
            required: 1,
            items: 1,
        }),
    }
}

/// Check that every answer names an item of the instrument and one of its options.
///
/// # Errors
/// The first offending answer, in item-id order.
pub fn validate_answers(
    instrument: &Instrument,
    answers: &BTreeMap<String, u8>,
) -> Result<(), ScoreError> {
    for (id, &value) in answers {
        let Some(item) = instrument.item(id) else {
            return Err(ScoreError::UnknownItem {
                instrument: instrument.id.clone(),
                item: id.clone(),
            });
        };
        if !item.allows(value) {
            return Err(ScoreError::NotAnOption {
                item: id.clone(),
                value,
                allowed: item.options.iter().map(|o| o.value).collect(),
            });
        }
    }
    Ok(())
}

/// Score `answers` (item id → option value; unanswered items are absent).
///
/// Missing items are never imputed: each scoring kind applies its own rule
/// and reports [`NotScored::TooFewAnswered`] when the rule is not met.
///
/// # Errors
/// [`ScoreError`] when an answer names an unknown item or a value that is not
/// one of the item's options.
pub fn score(
    instrument: &Instrument,
    answers: &BTreeMap<String, u8>,
) -> Result<Scores, ScoreError> {
    validate_answers(instrument, answers)?;
    let resolve = |ids: &[String]| -> Vec<&Item> {
        ids.iter().filter_map(|id| instrument.item(id)).collect()
    };
    let mut subscales = BTreeMap::new();
    let total = match instrument.scoring {
        ScoringKind::SingleItem | ScoringKind::GlobalChange => {
            single(answers, instrument.items.first())
        }
        ScoringKind::KoosSubscale => {
            for s in &instrument.subscales {
                subscales.insert(s.id.clone(), koos(answers, &s.items));
            }
            Score::NotScored(NotScored::NoTotalDefined)
        }
        ScoringKind::SumAsPercent => {
            for s in &instrument.subscales {
                subscales.insert(s.id.clone(), sum_as_percent(answers, &resolve(&s.items), 1));
            }
            let all: Vec<&Item> = instrument.items.iter().collect();
            sum_as_percent(answers, &all, instrument.min_answered)
        }
    };
    Ok(Scores {
        instrument: instrument.id.clone(),
        version: instrument.version.clone(),
        total,
        subscales,
    })
}
