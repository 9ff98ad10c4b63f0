//! The aggregate export that may be published: every cell under five
//! patients is suppressed (numbers withheld), per analysed score, as JSON
//! or as CSV.

use crate::Analysis;
use celltrace_outcomes::stats::{public_export, Cell};

/// The export as JSON.
pub fn json(analyses: &[Analysis]) -> serde_json::Value {
    let analyses: Vec<serde_json::Value> = analyses
        .iter()
        .map(|a| serde_json::json!({ "instrument": a.instrument, "mcid": a.mcid, "rows": public_export(&a.report) }))
        .collect();
    serde_json::json!({ "suppression": "cells with fewer than 5 patients are withheld", "analyses": analyses })
}

/// The export as CSV: one line per instrument, group and time point.
pub fn csv(analyses: &[Analysis]) -> String {
    let mut out = String::from("instrument,indication,product_type,site,time_point,n_treated,n_followed,n_missing,mean_change,change_lower,change_upper,responders,responders_n,responders_lower,responders_upper\n");
    let field = |text: &str| if text.contains([',', '"', '\n']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text.to_owned() };
    for a in analyses {
        for row in public_export(&a.report) {
            let (indication, product, site) = match &row.group {
                Some(g) => (g.indication.clone(), g.product_type.clone(), g.site.clone()),
                None => ("all".into(), "all".into(), "all".into()),
            };
            let treated = match row.n_treated {
                Cell::Shown(n) => n.to_string(),
                Cell::Suppressed => "suppressed".into(),
            };
            for (point, cell) in &row.time_points {
                let numbers = match cell {
                    Cell::Suppressed => vec!["suppressed".to_owned(); 9],
                    Cell::Shown(t) => {
                        let opt = |v: Option<f64>| v.map(|x| format!("{x:.6}")).unwrap_or_default();
                        vec![
                            t.n_followed.to_string(),
                            t.n_missing.to_string(),
                            opt(t.change.map(|c| c.mean)),
                            opt(t.change.map(|c| c.lower)),
                            opt(t.change.map(|c| c.upper)),
                            t.responders.as_ref().map(|p| p.k.to_string()).unwrap_or_default(),
                            t.responders.as_ref().map(|p| p.n.to_string()).unwrap_or_default(),
                            opt(t.responders.as_ref().map(|p| p.lower)),
                            opt(t.responders.as_ref().map(|p| p.upper)),
                        ]
                    }
                };
                let line: Vec<String> = [a.instrument.to_owned(), indication.clone(), product.clone(), site.clone(), point.clone(), treated.clone()]
                    .into_iter()
                    .chain(numbers)
                    .map(|f| field(&f))
                    .collect();
                out.push_str(&line.join(","));
                out.push('\n');
            }
        }
    }
    out
}
