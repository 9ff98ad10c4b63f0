//! The three plots rendered from a generated registry: SVG content, PNG
//! validity and size, CSV rows, empty and degenerate input.

use std::collections::BTreeMap;
use std::io::Cursor;

use ab_glyph::{Font, FontRef, GlyphId};
use celltrace_outcomes::stats::{
    report, AdverseEvent, GroupKey, PatientRecord, ReportConfig, TimePointStats,
};
use celltrace_outcomes::{Direction, Mcid, MeanCi, Proportion};
use celltrace_plots::{
    change_from_baseline, group_label, group_plots, responders, time_to_first_ae, Options, Plot,
};

const TIME_POINTS: [&str; 4] = ["1m", "3m", "6m", "12m"];

/// A small deterministic cohort (linear congruential numbers, no rand crate).
fn records(n: usize) -> Vec<PatientRecord> {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move |m: u64| {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (x >> 33) % m
    };
    (0..n)
        .map(|i| {
            #[allow(clippy::cast_precision_loss)]
            let baseline = 5.0 + (next(5) as f64);
            let mut follow_ups = BTreeMap::new();
            for (k, tp) in TIME_POINTS.iter().enumerate() {
                // Missing visits grow with time; pain falls a little at each.
                let present = next(10) >= 2 + k as u64;
                #[allow(clippy::cast_precision_loss)]
                let score =
                    (baseline - 1.0 - k as f64 * 0.6 + (next(5) as f64) - 2.0).clamp(0.0, 10.0);
                follow_ups.insert((*tp).to_owned(), present.then_some(score));
            }
            let treated = 1000;
            let ae = next(3) == 0;
            PatientRecord {
                patient: format!("p{i}"),
                group: GroupKey {
                    indication: "M17.11".into(),
                    product_type: "autologous-adipose".into(),
                    site: "Site A".into(),
                },
                baseline: (next(12) != 0).then_some(baseline),
                follow_ups,
                treated_at_day: treated,
                adverse_events: if ae {
                    vec![AdverseEvent {
                        day: treated + 1 + i64::try_from(next(300)).expect("small"),
                        grade: 1 + u8::try_from(next(3)).expect("small"),
                    }]
                } else {
                    vec![]
                },
                last_contact_day: treated + 30 + i64::try_from(next(400)).expect("small"),
            }
        })
        .collect()
}

fn config() -> ReportConfig {
    ReportConfig {
        time_points: TIME_POINTS.iter().map(|s| (*s).to_owned()).collect(),
        mcid: Mcid {
            value: 2.0,
            direction: Direction::LowerIsBetter,
        },
    }
}

/// Checks the PNG signature, the IHDR size and that the whole image decodes.
fn check_png(plot: &Plot) {
    assert_eq!(&plot.png[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(&plot.png[12..16], b"IHDR");
    let w = u32::from_be_bytes(plot.png[16..20].try_into().expect("4 bytes"));
    let h = u32::from_be_bytes(plot.png[20..24].try_into().expect("4 bytes"));
    assert_eq!((w, h), (plot.width, plot.height));
    let mut reader = png::Decoder::new(Cursor::new(&plot.png))
        .read_info()
        .expect("PNG header");
    let mut buf = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buf).expect("PNG decodes");
    assert_eq!((info.width, info.height), (w, h));
    assert_eq!(info.color_type, png::ColorType::Rgb);
    // Not a blank page: some dark pixels (text, lines).
    let dark = buf.chunks(3).filter(|p| p.iter().all(|c| *c < 100)).count();
    assert!(dark > 200, "only {dark} dark pixels");
}

/// The contents of the SVG's `<text>` elements, trimmed.
fn texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            t.split_once('>')
                .and_then(|(_, rest)| rest.split_once("</text>"))
        })
        .map(|(content, _)| content.trim().to_owned())
        .collect()
}

/// Filled circles: the mean markers (an error bar's own circle is hollow).
fn markers(svg: &str) -> usize {
    svg.split("<circle")
        .skip(1)
        .filter(|c| !c.split('>').next().unwrap_or("").contains("fill=\"none\""))
        .count()
}

fn csv_rows(csv: &str) -> Vec<Vec<String>> {
    csv.lines()
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect()
}

fn opt(v: Option<f64>) -> String {
    v.map_or_else(String::new, |v| v.to_string())
}

/// Where `CELLTRACE_PLOTS_OUT` is set, write the PNG there to look at.
fn save(name: &str, plot: &Plot) {
    if let Ok(dir) = std::env::var("CELLTRACE_PLOTS_OUT") {
        std::fs::write(format!("{dir}/plots-{name}.png"), &plot.png).expect("write PNG");
        std::fs::write(format!("{dir}/plots-{name}.svg"), &plot.svg).expect("write SVG");
    }
}

#[test]
fn change_from_baseline_plot() {
    let rep = report(&records(120), &config());
    let tps = &rep.pooled.time_points;
    let plot = change_from_baseline(
        tps,
        "NPRS",
        &Options::new("Change from baseline: all patients"),
    )
    .expect("renders");
    save("change", &plot);
    check_png(&plot);
    assert!(plot.svg.starts_with("<svg"));
    for text in [
        "Change from baseline: all patients",
        "Change in NPRS (points)",
        "Time point (n = patients with baseline and follow-up)",
        "Mean change",
        "95% CI",
    ] {
        assert!(plot.svg.contains(text), "SVG lacks {text:?}");
    }
    for tp in tps {
        let tick = format!("{} (n={})", tp.time_point, tp.n_evaluable);
        assert!(plot.svg.contains(&tick), "SVG lacks tick {tick:?}");
    }
    // One marker per time point with a CI, plus the legend's.
    let points = tps.iter().filter(|t| t.change.is_some()).count();
    assert_eq!(points, 4);
    assert_eq!(markers(&plot.svg), points + 1);
    // One band polygon.
    assert_eq!(plot.svg.matches("<polygon").count(), 1);

    let rows = csv_rows(&plot.csv);
    assert_eq!(rows[0][0], "time_point");
    assert_eq!(rows.len(), tps.len() + 1);
    for (row, tp) in rows[1..].iter().zip(tps) {
        let c = tp.change;
        let expect = [
            tp.time_point.clone(),
            tp.n_treated.to_string(),
            tp.n_followed.to_string(),
            tp.n_missing.to_string(),
            tp.n_evaluable.to_string(),
            opt(c.map(|c| c.mean)),
            opt(c.map(|c| c.sd)),
            opt(c.map(|c| c.lower)),
            opt(c.map(|c| c.upper)),
        ];
        assert_eq!(row, &expect);
        // Exact round trip of the numbers.
        assert_eq!(row[5].parse::<f64>().ok(), c.map(|c| c.mean));
    }
}

#[test]
fn responders_plot() {
    let rep = report(&records(120), &config());
    let tps = &rep.pooled.time_points;
    let plot = responders(tps, &Options::new("Responders: all patients")).expect("renders");
    save("responders", &plot);
    check_png(&plot);
    for text in [
        "Responders: all patients",
        "Responders (% of patients with baseline and follow-up)",
        "Wilson 95% CI",
        "100%",
        "0%",
    ] {
        assert!(plot.svg.contains(text), "SVG lacks {text:?}");
    }
    assert!(
        !texts(&plot.svg).iter().any(|t| t == "110%"),
        "no axis label above 100%"
    );
    for tp in tps {
        let p = tp.responders.expect("evaluable patients");
        let label = format!("{}/{}", p.k, p.n);
        assert!(
            texts(&plot.svg).contains(&label),
            "SVG lacks {label} of {}",
            tp.time_point
        );
    }
    let rows = csv_rows(&plot.csv);
    assert_eq!(
        rows[0].join(","),
        "time_point,n_evaluable,responders,proportion,ci_lower,ci_upper"
    );
    assert_eq!(rows.len(), tps.len() + 1);
    for (row, tp) in rows[1..].iter().zip(tps) {
        let p = tp.responders.expect("present");
        assert_eq!(
            row,
            &[
                tp.time_point.clone(),
                tp.n_evaluable.to_string(),
                p.k.to_string(),
                p.estimate.to_string(),
                p.lower.to_string(),
                p.upper.to_string()
            ]
        );
    }
}

#[test]
fn kaplan_meier_plot() {
    let rep = report(&records(120), &config());
    let km = &rep.pooled.time_to_first_ae;
    assert!(km.n_events > 10);
    let plot = time_to_first_ae(km, Some(430), &Options::new("Time to first adverse event"))
        .expect("renders");
    save("km", &plot);
    check_png(&plot);
    for text in [
        "Time to first adverse event",
        "Days since treatment",
        "Free of adverse events",
        &format!("{} patients, {} with an adverse event", km.n, km.n_events),
    ] {
        assert!(plot.svg.contains(text), "SVG lacks {text:?}");
    }
    // The curve: (0, 1), two vertices per event time, and the tail to day 430.
    let curve = plot
        .svg
        .split("<polyline")
        .skip(1)
        .map(|p| {
            p.split("points=\"")
                .nth(1)
                .and_then(|s| s.split('"').next())
                .unwrap_or("")
        })
        .map(|pts| pts.split_whitespace().count())
        .max()
        .expect("a polyline");
    assert_eq!(curve, 1 + 2 * km.steps.len() + 1);
    assert_eq!(plot.svg.matches("<polygon").count(), 1, "one CI band");

    let rows = csv_rows(&plot.csv);
    assert_eq!(rows.len(), km.steps.len() + 1);
    for (row, s) in rows[1..].iter().zip(&km.steps) {
        assert_eq!(row[0], s.time.to_string());
        assert_eq!(row[1], s.n_at_risk.to_string());
        assert_eq!(row[4].parse::<f64>().ok(), Some(s.survival));
        assert_eq!(row[6], opt(s.lower));
    }
}

#[test]
fn empty_registry_draws_no_data() {
    let rep = report(&[], &config());
    let plots = group_plots(&rep.pooled, "NPRS").expect("renders");
    for (name, plot) in [
        ("empty-change", &plots.change),
        ("empty-responders", &plots.responders),
        ("empty-km", &plots.time_to_first_ae),
    ] {
        save(name, plot);
        check_png(plot);
        assert!(plot.svg.contains("No data"), "{name}");
        assert!(plot.svg.contains("All patients"), "{name}");
    }
    assert!(plots.change.svg.contains("No patients in this group."));
    // CSV: header and one row per (empty) time point; KM has no steps.
    assert_eq!(plots.change.csv.lines().count(), 1 + TIME_POINTS.len());
    assert_eq!(plots.change.csv.lines().nth(1), Some("1m,0,0,0,0,,,,"));
    assert_eq!(plots.time_to_first_ae.csv.lines().count(), 1);
    // No time points at all.
    let none: [TimePointStats; 0] = [];
    assert!(change_from_baseline(&none, "NPRS", &Options::new("x"))
        .expect("renders")
        .svg
        .contains("No data"));
    assert!(responders(&none, &Options::new("x"))
        .expect("renders")
        .svg
        .contains("No data"));
}

fn tp(name: &str, change: Option<MeanCi>, resp: Option<Proportion>) -> TimePointStats {
    TimePointStats {
        time_point: name.to_owned(),
        n_treated: 10,
        n_followed: 8,
        n_missing: 2,
        n_evaluable: change.map_or(1, |c| c.n),
        change,
        responders: resp,
    }
}

#[test]
fn gaps_lone_points_and_bad_numbers_do_not_break() {
    let ci = |mean: f64| {
        Some(MeanCi {
            n: 5,
            mean,
            sd: 1.0,
            lower: mean - 1.0,
            upper: mean + 1.0,
        })
    };
    let rows = [
        tp("1m", ci(-1.0), None),
        tp("3m", None, None),
        tp("6m", ci(-2.0), None),
        tp("12m", ci(-2.5), None),
        tp("24m", ci(f64::NAN), None),
        tp("a,\"b\"", ci(f64::INFINITY), None),
    ];
    let plot = change_from_baseline(&rows, "KOOS pain", &Options::new("Gaps")).expect("renders");
    save("gaps", &plot);
    check_png(&plot);
    // 1m alone (whisker), 6m–12m band; NaN and infinite points left out.
    assert_eq!(markers(&plot.svg), 3 + 1);
    assert_eq!(plot.svg.matches("<polygon").count(), 1);
    assert!(
        plot.csv.contains("\n\"a,\"\"b\"\"\",10,"),
        "CSV quotes the label: {}",
        plot.csv
    );
    // Responders: none evaluable anywhere.
    let plot = responders(&rows, &Options::new("Gaps")).expect("renders");
    assert!(plot.svg.contains("No data"));
    // Sizes are clamped.
    let tiny = Options {
        title: "tiny".into(),
        width: 0,
        height: 1,
    };
    let plot = responders(&rows, &tiny).expect("renders");
    save("tiny", &plot);
    check_png(&plot);
    assert_eq!((plot.width, plot.height), (320, 240));
}

#[test]
fn km_without_events_is_flat_and_with_total_events_ends_at_zero() {
    let none = celltrace_outcomes::kaplan_meier(&[(100, false), (200, false)]);
    let plot = time_to_first_ae(&none, Some(200), &Options::new("No events")).expect("renders");
    check_png(&plot);
    assert!(!plot.svg.contains("No data"));
    assert_eq!(
        plot.svg.matches("<polygon").count(),
        0,
        "no band without events"
    );
    let all = celltrace_outcomes::kaplan_meier(&[(5, true), (9, true)]);
    let plot = time_to_first_ae(&all, None, &Options::new("All events")).expect("renders");
    check_png(&plot);
    // First step has a CI, the last (S = 0) has none: one band up to day 9.
    assert_eq!(plot.svg.matches("<polygon").count(), 1);
}

#[test]
fn labels_and_fonts() {
    assert_eq!(group_label(None), "All patients");
    let g = GroupKey {
        indication: "M17.11".into(),
        product_type: "prp".into(),
        site: "North".into(),
    };
    assert_eq!(group_label(Some(&g)), "M17.11 · prp · North");
    // Every character the plots write has a glyph in the embedded font.
    let font =
        FontRef::try_from_slice(include_bytes!("../fonts/DejaVuSans-subset.ttf")).expect("font");
    for c in "Kaplan–Meier log–log follow-up minus baseline · 95% CI k/n (n=3)".chars() {
        assert_ne!(font.glyph_id(c), GlyphId(0), "no glyph for {c:?}");
    }
}
