//! Registry plots for celltrace: change from baseline, responder proportions
//! and time to first adverse event, drawn from `celltrace_outcomes::stats`
//! with plotters, each as SVG text, PNG bytes and the CSV of what is drawn.
//!
//! Pure: no I/O. Text in the PNG uses the embedded DejaVu subsets
//! (`fonts/LICENSE`); the SVG names `sans-serif` and leaves fonts to the
//! browser. Empty input draws a "No data" plot instead of failing.
#![forbid(unsafe_code)]

use std::fmt::Write as _;
use std::sync::OnceLock;

use celltrace_outcomes::stats::{GroupKey, GroupReport, KaplanMeier, KmStep, TimePointStats};
use plotters::coord::ranged1d::SegmentedCoord;
use plotters::coord::types::RangedCoordi32;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{register_font, FontStyle};

static SANS: &[u8] = include_bytes!("../fonts/DejaVuSans-subset.ttf");
static SANS_BOLD: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold-subset.ttf");

/// The family every text element names: registered with the embedded fonts
/// for the PNG, and a generic family the browser resolves in the SVG.
const FAMILY: &str = "sans-serif";

/// Default size in pixels (both formats).
pub const DEFAULT_WIDTH: u32 = 800;
/// Default height in pixels.
pub const DEFAULT_HEIGHT: u32 = 500;

// Sizes are clamped: plotters' layout needs some room, and a huge request
// would allocate width × height × 3 bytes for the PNG.
const MIN_WIDTH: u32 = 320;
const MIN_HEIGHT: u32 = 240;
const MAX_SIDE: u32 = 4000;

const LINE: RGBColor = RGBColor(0x1f, 0x5f, 0xa8);
const BAND: RGBColor = RGBColor(0x1f, 0x5f, 0xa8);
const BAR: RGBColor = RGBColor(0x7a, 0xa6, 0xd6);
const GRID: RGBColor = RGBColor(0xe4, 0xe4, 0xe4);
const MUTED: RGBColor = RGBColor(0x55, 0x55, 0x55);

/// One rendered plot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plot {
    /// SVG document (for embedding in a page).
    pub svg: String,
    /// PNG file bytes (RGB, 8 bits per channel).
    pub png: Vec<u8>,
    /// The plotted numbers as CSV (header line, then one row per input row).
    pub csv: String,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

/// Title and size of a plot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Title drawn above the plot.
    pub title: String,
    /// Width in pixels (clamped to 320–4000).
    pub width: u32,
    /// Height in pixels (clamped to 240–4000).
    pub height: u32,
}

impl Options {
    /// `title` at the default size (800 × 500).
    #[must_use]
    pub fn new(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            width: DEFAULT_WIDTH,
            height: DEFAULT_HEIGHT,
        }
    }
}

/// Why a plot could not be rendered (never because of the data).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlotError {
    /// The embedded fonts could not be registered.
    #[error("font: {0}")]
    Font(String),
    /// plotters refused to draw.
    #[error("drawing: {0}")]
    Draw(String),
    /// PNG encoding failed.
    #[error("PNG: {0}")]
    Png(String),
}

/// Register the embedded fonts with plotters once per process.
fn fonts() -> Result<(), PlotError> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            register_font(FAMILY, FontStyle::Normal, SANS)
                .map_err(|_| "embedded DejaVu Sans is not a valid font".to_owned())?;
            register_font(FAMILY, FontStyle::Bold, SANS_BOLD)
                .map_err(|_| "embedded DejaVu Sans Bold is not a valid font".to_owned())
        })
        .clone()
        .map_err(PlotError::Font)
}

/// Label of a group for titles: `indication · product type · site`, or
/// `All patients` for the pooled cohort.
#[must_use]
pub fn group_label(group: Option<&GroupKey>) -> String {
    group.map_or_else(
        || "All patients".to_owned(),
        |g| format!("{} · {} · {}", g.indication, g.product_type, g.site),
    )
}

// ---------------------------------------------------------------------------
// Rendering to both formats

type DrawResult = Result<(), String>;

fn de<E: std::error::Error + Send + Sync>(e: DrawingAreaErrorKind<E>) -> String {
    e.to_string()
}

/// A plot that can draw itself on any plotters backend.
trait Figure {
    fn title(&self) -> &str;
    fn subtitle(&self) -> String;
    /// `Some(message)` when there is nothing to draw.
    fn empty(&self) -> Option<String>;
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult;
    fn csv(&self) -> String;
}

/// The largest size up to `size` at which `text` fits in `width` pixels
/// (down to 8 px), so narrow plots shrink their titles instead of clipping.
fn fitting<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    size: u32,
    width: u32,
) -> u32 {
    let mut size = size;
    while size > 8 {
        let font = TextStyle::from((FAMILY, f64::from(size)).into_font());
        match area.estimate_text_size(text, &font) {
            Ok((w, _)) if w > width => size -= 1,
            _ => break,
        }
    }
    size
}

fn draw_page<DB: DrawingBackend, F: Figure>(root: &DrawingArea<DB, Shift>, fig: &F) -> DrawResult {
    root.fill(&WHITE).map_err(de)?;
    let area = root.margin(8, 4, 4, 4);
    let room = area.dim_in_pixel().0.saturating_sub(16);
    let title = fitting(&area, fig.title(), 22, room);
    let area = area
        .titled(
            fig.title(),
            (FAMILY, title).into_font().style(FontStyle::Bold),
        )
        .map_err(de)?;
    let subtitle = fig.subtitle();
    let size = fitting(&area, &subtitle, 14, room);
    let area = area
        .titled(&subtitle, (FAMILY, size).into_font().color(&MUTED))
        .map_err(de)?;
    if let Some(message) = fig.empty() {
        let (w, h) = area.dim_in_pixel();
        let (cx, cy) = (
            i32::try_from(w / 2).unwrap_or(0),
            i32::try_from(h / 2).unwrap_or(0),
        );
        area.draw(&Rectangle::new(
            [
                (20, 10),
                (
                    i32::try_from(w).unwrap_or(0) - 20,
                    i32::try_from(h).unwrap_or(0) - 20,
                ),
            ],
            ShapeStyle::from(&GRID).stroke_width(2),
        ))
        .map_err(de)?;
        let style = TextStyle::from((FAMILY, 28).into_font().style(FontStyle::Bold))
            .color(&MUTED)
            .pos(Pos::new(HPos::Center, VPos::Bottom));
        area.draw(&Text::new("No data", (cx, cy - 4), style))
            .map_err(de)?;
        let size = fitting(&area, &message, 15, w.saturating_sub(56));
        let style = TextStyle::from((FAMILY, size).into_font())
            .color(&MUTED)
            .pos(Pos::new(HPos::Center, VPos::Top));
        area.draw(&Text::new(message, (cx, cy + 8), style))
            .map_err(de)?;
    } else {
        fig.draw(&area)?;
    }
    root.present().map_err(de)
}

fn render<F: Figure>(fig: &F, opts: &Options) -> Result<Plot, PlotError> {
    fonts()?;
    let width = opts.width.clamp(MIN_WIDTH, MAX_SIDE);
    let height = opts.height.clamp(MIN_HEIGHT, MAX_SIDE);

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        draw_page(&root, fig).map_err(PlotError::Draw)?;
    }

    // Both sides are at most 4000, so this cannot overflow usize.
    let len = (width as usize) * (height as usize) * 3;
    let mut rgb = vec![0u8; len];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area();
        draw_page(&root, fig).map_err(PlotError::Draw)?;
    }
    let png = encode_png(&rgb, width, height)?;

    Ok(Plot {
        svg,
        png,
        csv: fig.csv(),
        width,
        height,
    })
}

fn encode_png(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>, PlotError> {
    let err = |e: png::EncodingError| PlotError::Png(e.to_string());
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, width, height);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header().map_err(err)?;
        writer.write_image_data(rgb).map_err(err)?;
        writer.finish().map_err(err)?;
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// CSV

/// A CSV field: quoted when it holds a comma, quote or line break (RFC 4180).
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// A number as Rust prints it (shortest text that reads back exactly); empty when absent.
fn num(v: Option<f64>) -> String {
    v.map_or_else(String::new, |v| v.to_string())
}

// ---------------------------------------------------------------------------
// Shared axis helpers

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

/// `[lo, hi]` widened by 8 % on each side, never empty.
fn padded(lo: f64, hi: f64) -> (f64, f64) {
    let span = (hi - lo).abs().max(1e-9);
    let pad = (span * 0.08).max(0.5);
    (lo - pad, hi + pad)
}

fn index(i: usize) -> i32 {
    i32::try_from(i).unwrap_or(i32::MAX)
}

/// Runs of consecutive indices for which `defined` holds.
fn runs(defined: &[bool]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, &d) in defined.iter().chain(std::iter::once(&false)).enumerate() {
        match (d, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// One segment per time point. (plotters makes `0..k` into k + 1 segments.)
fn slots(n: usize) -> SegmentedCoord<RangedCoordi32> {
    (0..index(n.max(1)) - 1).into_segmented()
}

fn tick_label(tp: &TimePointStats, n: usize) -> String {
    format!("{} (n={n})", tp.time_point)
}

// ---------------------------------------------------------------------------
// (a) Change from baseline

struct ChangeFigure<'a> {
    title: &'a str,
    score: &'a str,
    rows: &'a [TimePointStats],
}

impl ChangeFigure<'_> {
    /// `(mean, lower, upper)` of each time point, where all are finite.
    fn values(&self) -> Vec<Option<(f64, f64, f64)>> {
        self.rows
            .iter()
            .map(|tp| {
                tp.change
                    .and_then(|c| Some((finite(c.mean)?, finite(c.lower)?, finite(c.upper)?)))
            })
            .collect()
    }
}

impl Figure for ChangeFigure<'_> {
    fn title(&self) -> &str {
        self.title
    }

    fn subtitle(&self) -> String {
        format!(
            "Mean change in {} from baseline (follow-up minus baseline) with 95% CI; n = patients with both",
            self.score
        )
    }

    fn empty(&self) -> Option<String> {
        if self.rows.iter().all(|tp| tp.n_treated == 0) {
            Some("No patients in this group.".to_owned())
        } else if self.values().iter().all(Option::is_none) {
            Some(
                "No time point has 2 or more patients with both a baseline and a follow-up score."
                    .to_owned(),
            )
        } else {
            None
        }
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult {
        let values = self.values();
        let (lo, hi) = values
            .iter()
            .flatten()
            .fold((0.0_f64, 0.0_f64), |(lo, hi), &(_, l, u)| {
                (lo.min(l), hi.max(u))
            });
        let (y0, y1) = padded(lo, hi);
        let n = self.rows.len();
        let labels: Vec<String> = self
            .rows
            .iter()
            .map(|tp| tick_label(tp, tp.n_evaluable))
            .collect();

        let mut chart = ChartBuilder::on(area)
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(slots(n), y0..y1)
            .map_err(de)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID)
            .x_labels(n)
            .x_label_formatter(&|v| segment_label(v, &labels))
            .x_desc("Time point (n = patients with baseline and follow-up)")
            .y_desc(format!("Change in {} (points)", self.score))
            .label_style((FAMILY, 13))
            .axis_desc_style((FAMILY, 15))
            .draw()
            .map_err(de)?;

        // Zero line: no change.
        chart
            .draw_series(LineSeries::new(
                [(SegmentValue::Exact(0), 0.0), (SegmentValue::Last, 0.0)],
                ShapeStyle::from(&MUTED).stroke_width(1),
            ))
            .map_err(de)?;

        let defined: Vec<bool> = values.iter().map(Option::is_some).collect();
        let at = |i: usize| SegmentValue::CenterOf(index(i));
        let mut band_labelled = false;
        for (s, e) in runs(&defined) {
            let run: Vec<(usize, (f64, f64, f64))> =
                (s..e).filter_map(|i| values[i].map(|v| (i, v))).collect();
            if run.len() >= 2 {
                let mut poly: Vec<(SegmentValue<i32>, f64)> =
                    run.iter().map(|&(i, (_, _, u))| (at(i), u)).collect();
                poly.extend(run.iter().rev().map(|&(i, (_, l, _))| (at(i), l)));
                let series = chart
                    .draw_series(std::iter::once(Polygon::new(poly, BAND.mix(0.18).filled())))
                    .map_err(de)?;
                if !band_labelled {
                    series.label("95% CI").legend(|(x, y)| {
                        Rectangle::new([(x, y - 6), (x + 18, y + 6)], BAND.mix(0.18).filled())
                    });
                    band_labelled = true;
                }
                chart
                    .draw_series(LineSeries::new(
                        run.iter().map(|&(i, (m, _, _))| (at(i), m)),
                        ShapeStyle::from(&LINE).stroke_width(2),
                    ))
                    .map_err(de)?;
            } else {
                // A lone point has no band to join: show its CI as a whisker.
                chart
                    .draw_series(run.iter().map(|&(i, (m, l, u))| {
                        ErrorBar::new_vertical(
                            at(i),
                            l,
                            m,
                            u,
                            ShapeStyle::from(&LINE).stroke_width(2),
                            12,
                        )
                    }))
                    .map_err(de)?;
            }
        }
        chart
            .draw_series(
                values.iter().enumerate().filter_map(|(i, v)| {
                    v.map(|(m, _, _)| Circle::new((at(i), m), 5, LINE.filled()))
                }),
            )
            .map_err(de)?
            .label("Mean change")
            .legend(|(x, y)| Circle::new((x + 9, y), 5, LINE.filled()));
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.9))
            .border_style(GRID)
            .label_font((FAMILY, 13))
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(de)
    }

    fn csv(&self) -> String {
        let mut out = String::from("time_point,n_treated,n_followed,n_missing,n_evaluable,mean_change,sd,ci_lower,ci_upper\n");
        for tp in self.rows {
            let c = tp.change;
            let _ = writeln!(
                out,
                "{},{},{},{},{},{},{},{},{}",
                field(&tp.time_point),
                tp.n_treated,
                tp.n_followed,
                tp.n_missing,
                tp.n_evaluable,
                num(c.map(|c| c.mean)),
                num(c.map(|c| c.sd)),
                num(c.map(|c| c.lower)),
                num(c.map(|c| c.upper)),
            );
        }
        out
    }
}

fn segment_label(v: &SegmentValue<i32>, labels: &[String]) -> String {
    match v {
        SegmentValue::CenterOf(i) => usize::try_from(*i)
            .ok()
            .and_then(|i| labels.get(i))
            .cloned()
            .unwrap_or_default(),
        _ => String::new(),
    }
}

/// Mean change from baseline per time point with its 95 % CI band
/// (`TimePointStats::change`). `score` names the score for the axis, e.g.
/// `NPRS`. Time points without a CI (n < 2) are left out of the line and the
/// band, which break there.
///
/// # Errors
/// [`PlotError`] only if fonts, drawing or PNG encoding fail, never for data.
pub fn change_from_baseline(
    time_points: &[TimePointStats],
    score: &str,
    opts: &Options,
) -> Result<Plot, PlotError> {
    render(
        &ChangeFigure {
            title: &opts.title,
            score,
            rows: time_points,
        },
        opts,
    )
}

// ---------------------------------------------------------------------------
// (b) Responders

struct ResponderFigure<'a> {
    title: &'a str,
    rows: &'a [TimePointStats],
}

impl Figure for ResponderFigure<'_> {
    fn title(&self) -> &str {
        self.title
    }

    fn subtitle(&self) -> String {
        "Patients whose improvement reaches the MCID, with Wilson 95% CI; k/n above each bar"
            .to_owned()
    }

    fn empty(&self) -> Option<String> {
        if self.rows.iter().all(|tp| tp.n_treated == 0) {
            Some("No patients in this group.".to_owned())
        } else if self.rows.iter().all(|tp| tp.responders.is_none()) {
            Some("No patient has both a baseline and a follow-up score.".to_owned())
        } else {
            None
        }
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult {
        let n = self.rows.len();
        let labels: Vec<String> = self.rows.iter().map(|tp| tp.time_point.clone()).collect();
        // Room above 100 % for the k/n labels.
        let mut chart = ChartBuilder::on(area)
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(slots(n), 0.0..1.12)
            .map_err(de)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID)
            .x_labels(n)
            .x_label_formatter(&|v| segment_label(v, &labels))
            .y_labels(8)
            .y_label_formatter(&|v| {
                if *v <= 1.0 + 1e-9 {
                    format!("{:.0}%", v * 100.0)
                } else {
                    String::new()
                }
            })
            .x_desc("Time point")
            .y_desc("Responders (% of patients with baseline and follow-up)")
            .label_style((FAMILY, 13))
            .axis_desc_style((FAMILY, 15))
            .draw()
            .map_err(de)?;

        let shown: Vec<(usize, f64, f64, f64, usize, usize)> = self
            .rows
            .iter()
            .enumerate()
            .filter_map(|(i, tp)| {
                let p = tp.responders?;
                Some((
                    i,
                    finite(p.estimate)?,
                    finite(p.lower)?,
                    finite(p.upper)?,
                    p.k,
                    p.n,
                ))
            })
            .collect();
        chart
            .draw_series(shown.iter().map(|&(i, p, _, _, _, _)| {
                let mut bar = Rectangle::new(
                    [
                        (SegmentValue::Exact(index(i)), 0.0),
                        (SegmentValue::Exact(index(i) + 1), p),
                    ],
                    BAR.filled(),
                );
                bar.set_margin(0, 0, 22, 22);
                bar
            }))
            .map_err(de)?
            .label("Responders")
            .legend(|(x, y)| Rectangle::new([(x, y - 6), (x + 18, y + 6)], BAR.filled()));
        chart
            .draw_series(shown.iter().map(|&(i, p, l, u, _, _)| {
                ErrorBar::new_vertical(
                    SegmentValue::CenterOf(index(i)),
                    l,
                    p,
                    u,
                    ShapeStyle::from(&BLACK).stroke_width(2),
                    14,
                )
            }))
            .map_err(de)?
            .label("Wilson 95% CI")
            .legend(|(x, y)| {
                PathElement::new([(x + 9, y - 7), (x + 9, y + 7)], BLACK.stroke_width(2))
            });
        let style =
            TextStyle::from((FAMILY, 13).into_font()).pos(Pos::new(HPos::Center, VPos::Bottom));
        chart
            .draw_series(shown.iter().map(|&(i, _, _, u, k, n)| {
                Text::new(
                    format!("{k}/{n}"),
                    (SegmentValue::CenterOf(index(i)), u + 0.015),
                    style.clone(),
                )
            }))
            .map_err(de)?;
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.9))
            .border_style(GRID)
            .label_font((FAMILY, 13))
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(de)
    }

    fn csv(&self) -> String {
        let mut out =
            String::from("time_point,n_evaluable,responders,proportion,ci_lower,ci_upper\n");
        for tp in self.rows {
            let p = tp.responders;
            let _ = writeln!(
                out,
                "{},{},{},{},{},{}",
                field(&tp.time_point),
                tp.n_evaluable,
                p.map_or_else(String::new, |p| p.k.to_string()),
                num(p.map(|p| p.estimate)),
                num(p.map(|p| p.lower)),
                num(p.map(|p| p.upper)),
            );
        }
        out
    }
}

/// Responder proportion per time point (`TimePointStats::responders`) as bars
/// with Wilson 95 % CI error bars and `k/n` labels.
///
/// # Errors
/// [`PlotError`] only if fonts, drawing or PNG encoding fail, never for data.
pub fn responders(time_points: &[TimePointStats], opts: &Options) -> Result<Plot, PlotError> {
    render(
        &ResponderFigure {
            title: &opts.title,
            rows: time_points,
        },
        opts,
    )
}

// ---------------------------------------------------------------------------
// (c) Kaplan–Meier time to first adverse event

struct KmFigure<'a> {
    title: &'a str,
    km: &'a KaplanMeier,
    follow_up_end: Option<i64>,
}

impl KmFigure<'_> {
    fn steps(&self) -> impl Iterator<Item = &KmStep> {
        self.km.steps.iter().filter(|s| s.survival.is_finite())
    }

    /// Where the curve ends: the last event, or `follow_up_end` when later.
    /// (The estimate only has event times; the last censoring time is not in it.)
    fn end(&self) -> f64 {
        let last = self.steps().map(|s| s.time).max().unwrap_or(0);
        #[allow(clippy::cast_precision_loss)]
        let end = self.follow_up_end.unwrap_or(last).max(last).max(0) as f64;
        end
    }

    fn step_points(&self) -> Vec<(f64, f64)> {
        let mut pts = vec![(0.0, 1.0)];
        let mut s_prev = 1.0;
        for st in self.steps() {
            #[allow(clippy::cast_precision_loss)]
            let t = st.time.max(0) as f64;
            pts.push((t, s_prev));
            pts.push((t, st.survival));
            s_prev = st.survival;
        }
        let end = self.end();
        if pts.last().is_some_and(|&(t, _)| end > t) {
            pts.push((end, s_prev));
        }
        pts
    }
}

impl Figure for KmFigure<'_> {
    fn title(&self) -> &str {
        self.title
    }

    fn subtitle(&self) -> String {
        format!(
            "Kaplan–Meier, 95% CI (Greenwood, log–log); {} patients, {} with an adverse event",
            self.km.n, self.km.n_events
        )
    }

    fn empty(&self) -> Option<String> {
        (self.km.n == 0)
            .then(|| "No patients with a treatment and a later contact or event.".to_owned())
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult {
        let end = self.end();
        let x1 = (end * 1.04).max(10.0);
        let mut chart = ChartBuilder::on(area)
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(0.0..x1, 0.0..1.04)
            .map_err(de)?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID)
            .x_labels(10)
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_labels(6)
            .y_label_formatter(&|v| {
                if *v <= 1.0 + 1e-9 {
                    format!("{:.0}%", v * 100.0)
                } else {
                    String::new()
                }
            })
            .x_desc("Days since treatment")
            .y_desc("Free of adverse events")
            .label_style((FAMILY, 13))
            .axis_desc_style((FAMILY, 15))
            .draw()
            .map_err(de)?;

        // CI band: each step's interval holds until the next event time (or
        // the curve's end). Intervals stop once survival reaches 0.
        let steps: Vec<&KmStep> = self.steps().collect();
        let ci: Vec<Option<(f64, f64)>> = steps
            .iter()
            .map(|s| Some((finite(s.lower?)?, finite(s.upper?)?)))
            .collect();
        let defined: Vec<bool> = ci.iter().map(Option::is_some).collect();
        let mut band_labelled = false;
        for (s, e) in runs(&defined) {
            let mut upper = Vec::new();
            let mut lower = Vec::new();
            for k in s..e {
                let Some((l, u)) = ci[k] else { continue };
                #[allow(clippy::cast_precision_loss)]
                let t0 = steps[k].time.max(0) as f64;
                #[allow(clippy::cast_precision_loss)]
                let t1 = steps
                    .get(k + 1)
                    .map_or(end, |n| n.time.max(0) as f64)
                    .max(t0);
                upper.extend([(t0, u), (t1, u)]);
                lower.extend([(t0, l), (t1, l)]);
            }
            lower.reverse();
            upper.extend(lower);
            let series = chart
                .draw_series(std::iter::once(Polygon::new(
                    upper,
                    BAND.mix(0.18).filled(),
                )))
                .map_err(de)?;
            if !band_labelled {
                series.label("95% CI").legend(|(x, y)| {
                    Rectangle::new([(x, y - 6), (x + 18, y + 6)], BAND.mix(0.18).filled())
                });
                band_labelled = true;
            }
        }
        chart
            .draw_series(LineSeries::new(
                self.step_points(),
                ShapeStyle::from(&LINE).stroke_width(2),
            ))
            .map_err(de)?
            .label("Event-free (Kaplan–Meier)")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], LINE.stroke_width(2)));
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.9))
            .border_style(GRID)
            .label_font((FAMILY, 13))
            .position(SeriesLabelPosition::LowerLeft)
            .draw()
            .map_err(de)
    }

    fn csv(&self) -> String {
        let mut out = String::from(
            "time_days,n_at_risk,n_events,n_censored,survival,std_err,ci_lower,ci_upper\n",
        );
        for s in &self.km.steps {
            let _ = writeln!(
                out,
                "{},{},{},{},{},{},{},{}",
                s.time,
                s.n_at_risk,
                s.n_events,
                s.n_censored,
                s.survival,
                num(s.std_err),
                num(s.lower),
                num(s.upper),
            );
        }
        out
    }
}

/// Kaplan–Meier curve of time to first adverse event as a step function from
/// (0, 100 %), with its log–log 95 % CI band (Greenwood variance).
///
/// `KaplanMeier` holds only event times, so the curve ends at the last event
/// unless `follow_up_end` (days since treatment, e.g. the longest follow-up)
/// is given and later. No events: a flat line at 100 % up to `follow_up_end`.
///
/// # Errors
/// [`PlotError`] only if fonts, drawing or PNG encoding fail, never for data.
pub fn time_to_first_ae(
    km: &KaplanMeier,
    follow_up_end: Option<i64>,
    opts: &Options,
) -> Result<Plot, PlotError> {
    render(
        &KmFigure {
            title: &opts.title,
            km,
            follow_up_end,
        },
        opts,
    )
}

// ---------------------------------------------------------------------------
// All three for a group

/// The three plots of one group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupPlots {
    /// Change from baseline over time.
    pub change: Plot,
    /// Responder proportions.
    pub responders: Plot,
    /// Time to first adverse event.
    pub time_to_first_ae: Plot,
}

/// The three plots of `group` at the default size, titled with the group's
/// label. `score` names the analysed score (e.g. `NPRS`).
///
/// These show the full statistics, small cells included: they are for staff
/// pages, not for publication (see `stats::public_export`).
///
/// # Errors
/// [`PlotError`] only if fonts, drawing or PNG encoding fail, never for data.
pub fn group_plots(group: &GroupReport, score: &str) -> Result<GroupPlots, PlotError> {
    let label = group_label(group.group.as_ref());
    Ok(GroupPlots {
        change: change_from_baseline(
            &group.time_points,
            score,
            &Options::new(format!("Change from baseline: {label}")),
        )?,
        responders: responders(
            &group.time_points,
            &Options::new(format!("Responders: {label}")),
        )?,
        time_to_first_ae: time_to_first_ae(
            &group.time_to_first_ae,
            None,
            &Options::new(format!("Time to first adverse event: {label}")),
        )?,
    })
}
