//! The instruments celltrace ships (`data/instruments`), parsed once, and the
//! names under which their scores enter the registry (`NPRS`, `PGIC`,
//! `KOOS pain`, ...). Every adapter that records answers scores them here.

use crate::{parse_instrument, score, Instrument, Score, ScoreError};
use std::collections::BTreeMap;
use std::sync::OnceLock;

const INSTRUMENT_FILES: [(&str, &str); 3] = [
    ("nprs.toml", include_str!("../../../data/instruments/nprs.toml")),
    ("koos.toml", include_str!("../../../data/instruments/koos.toml")),
    ("pgic.toml", include_str!("../../../data/instruments/pgic.toml")),
];

/// The shipped instruments by id; a file that does not parse is named.
///
/// # Errors
/// The file and the problem, when a shipped file is broken.
pub fn instruments() -> Result<&'static BTreeMap<String, Instrument>, String> {
    static INSTRUMENTS: OnceLock<Result<BTreeMap<String, Instrument>, String>> = OnceLock::new();
    INSTRUMENTS
        .get_or_init(|| {
            INSTRUMENT_FILES
                .iter()
                .map(|(file, text)| parse_instrument(text).map(|i| (i.id.clone(), i)).map_err(|e| format!("data/instruments/{file}: {e}")))
                .collect()
        })
        .as_ref()
        .map_err(Clone::clone)
}

fn milli(score: &Score) -> Option<i64> {
    // Scores are at most a few hundred; thousandths keep three decimals exactly.
    score.value().filter(|v| v.is_finite()).map(|v| (v * 1000.0).round() as i64)
}

/// The registry scores of one set of answers: the total under the upper-case
/// instrument id (`NPRS`, `PGIC`), or one score per subscale (`KOOS pain`,
/// `KOOS sport rec`), in thousandths; `None` where the missing-item rule
/// leaves a score unscored.
///
/// # Errors
/// An answer naming an unknown item or a value that is not an option.
pub fn registry_scores(instrument: &Instrument, answers: &BTreeMap<String, u8>) -> Result<BTreeMap<String, Option<i64>>, ScoreError> {
    let scores = score(instrument, answers)?;
    let mut out = BTreeMap::new();
    if instrument.subscales.is_empty() {
        out.insert(instrument.id.to_uppercase(), milli(&scores.total));
    } else {
        for (id, value) in &scores.subscales {
            out.insert(format!("{} {}", instrument.id.to_uppercase(), id.replace('_', " ")), milli(value));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_instruments_load_and_score_under_registry_names() {
        let all = instruments().expect("instruments parse");
        assert_eq!(all.keys().map(String::as_str).collect::<Vec<_>>(), ["koos", "nprs", "pgic"]);
        let answers = BTreeMap::from([("pain".to_owned(), 7u8)]);
        assert_eq!(registry_scores(&all["nprs"], &answers).expect("scores"), BTreeMap::from([("NPRS".to_owned(), Some(7000))]));
        let koos = &all["koos"];
        let pain: BTreeMap<String, u8> = koos.subscale("pain").expect("pain").items.iter().map(|i| (i.clone(), 2u8)).collect();
        let scores = registry_scores(koos, &pain).expect("scores");
        assert_eq!(scores.get("KOOS pain"), Some(&Some(50_000)), "100 - 2 x 25");
        assert_eq!(scores.get("KOOS symptoms"), Some(&None), "unanswered subscales are not scored, never imputed");
        assert!(registry_scores(&all["nprs"], &BTreeMap::from([("pain".to_owned(), 11u8)])).is_err(), "11 is not an option");
    }
}
