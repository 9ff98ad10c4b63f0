//! Follow-up questionnaire schedules: which instruments a patient is asked at
//! which time point, each time point's answer window, and the state of every
//! time point × instrument on a given day. Dates are plain day numbers.

use crate::toml_text::{backticked, parse_message, position};
use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};
use toml::Spanned;

/// A calendar day as a number of days since a fixed epoch (e.g. 1970-01-01).
///
/// Only differences and order matter here, so any epoch works as long as
/// every argument uses the same one.
pub type Day = i64;

/// Largest offset or window accepted from a file: 100 years. Bounds the day
/// arithmetic far from overflow and catches typos such as `offset_days = 3650000`.
pub const MAX_DAYS: u32 = 36_500;

/// When a time point's window lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Timing {
    /// Before treatment: the window opens when the plan is created and closes
    /// on the day of the first administration (inclusive). With no
    /// administration yet, the window is open.
    Baseline,
    /// After treatment: target = first administration + `offset_days`; the
    /// window is `[target − window_before_days, target + window_after_days]`,
    /// both ends inclusive.
    FollowUp {
        /// Days from the first administration to the target day.
        offset_days: u32,
        /// Days the window opens before the target.
        window_before_days: u32,
        /// Days the window stays open after the target.
        window_after_days: u32,
    },
}

/// One time point of a schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimePoint {
    /// Identifier, e.g. `baseline`, `3m` (the key of the registry's follow-ups).
    pub id: String,
    /// Where the window lies.
    pub timing: Timing,
    /// Instrument ids asked at this time point, in asking order.
    pub instruments: Vec<String>,
}

/// A validated schedule: time points in time order, with ids unique, at most
/// one baseline (first), and follow-up windows that neither overlap nor open
/// before the administration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Schedule {
    time_points: Vec<TimePoint>,
}

impl Schedule {
    /// The time points, in time order.
    #[must_use]
    pub fn time_points(&self) -> &[TimePoint] {
        &self.time_points
    }

    /// The time point with this id.
    #[must_use]
    pub fn time_point(&self, id: &str) -> Option<&TimePoint> {
        self.time_points.iter().find(|t| t.id == id)
    }

    /// Every instrument id the schedule asks for, once each (so a caller can
    /// check them against the instruments it has loaded).
    #[must_use]
    pub fn instruments(&self) -> BTreeSet<&str> {
        self.time_points
            .iter()
            .flat_map(|t| t.instruments.iter().map(String::as_str))
            .collect()
    }

    /// Ids of the follow-up time points, in order (the registry's
    /// `ReportConfig::time_points`).
    #[must_use]
    pub fn follow_up_ids(&self) -> Vec<String> {
        self.time_points
            .iter()
            .filter(|t| matches!(t.timing, Timing::FollowUp { .. }))
            .map(|t| t.id.clone())
            .collect()
    }
}

fn follow_up(id: &str, offset: u32, window: u32, instruments: &[&str]) -> TimePoint {
    TimePoint {
        id: id.to_owned(),
        timing: Timing::FollowUp {
            offset_days: offset,
            window_before_days: window,
            window_after_days: window,
        },
        instruments: instruments.iter().map(|s| (*s).to_owned()).collect(),
    }
}

impl Default for Schedule {
    /// Baseline, 1, 3, 6 and 12 months: the time points most cell-therapy
    /// studies in the reference notes use (1/3/6/12 months). Windows widen with
    /// distance from treatment (±7, ±14, ±30, ±30 days) and do not overlap;
    /// they are celltrace's choice, not taken from a guideline. NPRS is asked
    /// at every time point (it applies to every indication); PGIC only at
    /// follow-ups, since it rates change since treatment.
    fn default() -> Self {
        let both: &[&str] = &["nprs", "pgic"];
        Self {
            time_points: vec![
                TimePoint {
                    id: "baseline".to_owned(),
                    timing: Timing::Baseline,
                    instruments: vec!["nprs".to_owned()],
                },
                follow_up("1m", 30, 7, both),
                follow_up("3m", 91, 14, both),
                follow_up("6m", 182, 30, both),
                follow_up("12m", 365, 30, both),
            ],
        }
    }
}

// ---------------------------------------------------------------------------
// State on a day

/// State of one time point × instrument on a day.
///
/// The first four are ordered: as `today` advances (all else equal) a state
/// never moves back. `Completed` depends only on the answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VisitState {
    /// The window has not opened (or, for a follow-up, there is no
    /// administration yet, so no date is known).
    Upcoming,
    /// The window is open and the target day has not passed
    /// (`opens ≤ today ≤ target`). A baseline is due from plan creation until
    /// the administration day, or indefinitely while there is none.
    Due,
    /// The target day has passed but the window is still open
    /// (`target < today ≤ closes`): still answerable, should be chased.
    /// A baseline is never overdue (its target is its closing day).
    Overdue,
    /// The window has closed without an answer (`today > closes`).
    Missed,
    /// Answered (whatever the day: the caller decides which answers count).
    Completed,
}

/// One row of [`status`]: a time point × instrument, its dates and its state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimePointStatus {
    /// Time point id.
    pub time_point: String,
    /// Instrument id.
    pub instrument: String,
    /// State on `today`.
    pub state: VisitState,
    /// First day an answer is in the window; `None` when not yet known.
    pub opens: Option<Day>,
    /// Target day (follow-up) or the administration day (baseline); `None`
    /// when not yet known.
    pub target: Option<Day>,
    /// Last day an answer is in the window (inclusive); `None` while open-ended.
    pub closes: Option<Day>,
}

/// The window `(opens, target, closes)` of a time point, where known.
fn window(
    timing: Timing,
    anchor: Option<Day>,
    plan_created: Day,
) -> (Option<Day>, Option<Day>, Option<Day>) {
    match (timing, anchor) {
        // No administration yet: baseline open since plan creation, no end.
        (Timing::Baseline, None) => (Some(plan_created), None, None),
        // An administration recorded before the plan (inconsistent data)
        // gives a one-day window on the administration day rather than an
        // empty one, so the states keep their order.
        (Timing::Baseline, Some(a)) => (Some(plan_created.min(a)), Some(a), Some(a)),
        (Timing::FollowUp { .. }, None) => (None, None, None),
        (
            Timing::FollowUp {
                offset_days,
                window_before_days,
                window_after_days,
            },
            Some(a),
        ) => {
            let target = a.saturating_add(i64::from(offset_days));
            (
                Some(target.saturating_sub(i64::from(window_before_days))),
                Some(target),
                Some(target.saturating_add(i64::from(window_after_days))),
            )
        }
    }
}

fn state_on(
    today: Day,
    opens: Option<Day>,
    target: Option<Day>,
    closes: Option<Day>,
) -> VisitState {
    let Some(opens) = opens else {
        return VisitState::Upcoming;
    };
    if today < opens {
        VisitState::Upcoming
    } else if closes.is_some_and(|c| today > c) {
        VisitState::Missed
    } else if target.is_some_and(|t| today > t) {
        VisitState::Overdue
    } else {
        VisitState::Due
    }
}

/// State of every time point × instrument of `schedule` on `today`, in
/// schedule order (instruments in each time point's order).
///
/// - `anchor`: day of the first administration, `None` if none yet;
/// - `plan_created`: day the treatment plan was created (opens the baseline);
/// - `answered`: `(time point id, instrument id)` pairs already answered;
///   a listed pair is [`VisitState::Completed`] whatever the day.
///
/// Window ends are inclusive; see [`VisitState`] for each state's rule.
#[must_use]
pub fn status<T: AsRef<str>, I: AsRef<str>>(
    schedule: &Schedule,
    anchor: Option<Day>,
    plan_created: Day,
    today: Day,
    answered: &[(T, I)],
) -> Vec<TimePointStatus> {
    let done: BTreeSet<(&str, &str)> = answered
        .iter()
        .map(|(t, i)| (t.as_ref(), i.as_ref()))
        .collect();
    let mut out = Vec::new();
    for tp in &schedule.time_points {
        let (opens, target, closes) = window(tp.timing, anchor, plan_created);
        let open_state = state_on(today, opens, target, closes);
        for instrument in &tp.instruments {
            let state = if done.contains(&(tp.id.as_str(), instrument.as_str())) {
                VisitState::Completed
            } else {
                open_state
            };
            out.push(TimePointStatus {
                time_point: tp.id.clone(),
                instrument: instrument.clone(),
                state,
                opens,
                target,
                closes,
            });
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Loading from TOML

/// Why a schedule file was refused: where (line, column, field path) and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ScheduleError {
    /// 1-based line of the offending text (1 when the file as a whole is at fault).
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// Field path, e.g. `time_point[2].window_after_days`.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ScheduleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}, field `{}`: {}",
            self.line, self.column, self.field, self.message
        )
    }
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum RawKind {
    Baseline,
    FollowUp,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTimePoint {
    id: Spanned<String>,
    kind: Option<Spanned<RawKind>>,
    offset_days: Option<Spanned<i64>>,
    window_before_days: Option<Spanned<i64>>,
    window_after_days: Option<Spanned<i64>>,
    instruments: Spanned<Vec<Spanned<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSchedule {
    time_point: Spanned<Vec<Spanned<RawTimePoint>>>,
}

fn err_at(
    text: &str,
    offset: usize,
    field: impl Into<String>,
    message: impl Into<String>,
) -> ScheduleError {
    let (line, column) = position(text, offset);
    ScheduleError {
        line,
        column,
        field: field.into(),
        message: message.into(),
    }
}

fn syntax_error(text: &str, e: serde_path_to_error::Error<toml::de::Error>) -> ScheduleError {
    // `Spanned` fields add a private segment to the path; drop it.
    let path = e
        .path()
        .to_string()
        .replace(".$__serde_spanned_private_value", "")
        .replace("$__serde_spanned_private_value", "");
    let inner = e.into_inner();
    let offset = inner.span().map_or(0, |s| s.start);
    let message = parse_message(inner.message());
    // serde names a missing or unknown key in the message while the path
    // points at its table: join them so the field is exact.
    let named = backticked(&message).filter(|_| {
        message.starts_with("missing field")
            || message.starts_with("unknown field")
            || message.starts_with("duplicate key")
    });
    let path = if path == "." { String::new() } else { path };
    let field = match (path.is_empty(), named) {
        (true, Some(k)) => k,
        (false, Some(k)) if !path.ends_with(&k) => format!("{path}.{k}"),
        (true, None) => "(file)".to_owned(),
        (false, _) => path,
    };
    err_at(text, offset, field, message)
}

fn days(text: &str, raw: &Spanned<i64>, field: String) -> Result<u32, ScheduleError> {
    let v = *raw.get_ref();
    u32::try_from(v)
        .ok()
        .filter(|d| *d <= MAX_DAYS)
        .ok_or_else(|| {
            err_at(
                text,
                raw.span().start,
                field,
                format!("must be a whole number of days from 0 to {MAX_DAYS}, not {v}"),
            )
        })
}

fn convert_time_point(
    text: &str,
    i: usize,
    raw: &Spanned<RawTimePoint>,
) -> Result<TimePoint, ScheduleError> {
    let tp = raw.get_ref();
    let f = |name: &str| format!("time_point[{i}].{name}");
    let id = tp.id.get_ref().trim();
    if id.is_empty() || id.chars().any(char::is_whitespace) {
        return Err(err_at(
            text,
            tp.id.span().start,
            f("id"),
            "must be a non-empty id without spaces",
        ));
    }
    let kind = tp.kind.as_ref().map_or(RawKind::FollowUp, |k| *k.get_ref());
    let numbers = [
        ("offset_days", &tp.offset_days),
        ("window_before_days", &tp.window_before_days),
        ("window_after_days", &tp.window_after_days),
    ];
    let timing = match kind {
        RawKind::Baseline => {
            // The baseline window comes from the plan and the administration;
            // numbers here would be silently ignored, so they are refused.
            if let Some((name, Some(v))) = numbers.iter().find(|(_, v)| v.is_some()) {
                return Err(err_at(
                    text,
                    v.span().start,
                    f(name),
                    "a baseline's window runs from plan creation to the first administration; remove this field",
                ));
            }
            Timing::Baseline
        }
        RawKind::FollowUp => {
            let mut got = [0u32; 3];
            for (slot, (name, v)) in got.iter_mut().zip(numbers.iter()) {
                let Some(v) = v else {
                    return Err(err_at(
                        text,
                        raw.span().start,
                        f(name),
                        format!("missing field `{name}` (required for a follow-up time point)"),
                    ));
                };
                *slot = days(text, v, f(name))?;
            }
            let [offset_days, window_before_days, window_after_days] = got;
            if window_before_days > offset_days {
                let at = tp.window_before_days.as_ref().map_or(0, |v| v.span().start);
                return Err(err_at(
                    text,
                    at,
                    f("window_before_days"),
                    format!(
                        "window opens {window_before_days} days before a target {offset_days} days after treatment, i.e. before treatment"
                    ),
                ));
            }
            Timing::FollowUp {
                offset_days,
                window_before_days,
                window_after_days,
            }
        }
    };
    if tp.instruments.get_ref().is_empty() {
        return Err(err_at(
            text,
            tp.instruments.span().start,
            f("instruments"),
            "must name at least one instrument",
        ));
    }
    let mut seen = BTreeSet::new();
    let mut instruments = Vec::with_capacity(tp.instruments.get_ref().len());
    for (j, ins) in tp.instruments.get_ref().iter().enumerate() {
        let name = ins.get_ref().trim();
        if name.is_empty() {
            return Err(err_at(
                text,
                ins.span().start,
                format!("time_point[{i}].instruments[{j}]"),
                "must not be empty",
            ));
        }
        if !seen.insert(name) {
            return Err(err_at(
                text,
                ins.span().start,
                format!("time_point[{i}].instruments[{j}]"),
                format!("instrument `{name}` is listed twice"),
            ));
        }
        instruments.push(name.to_owned());
    }
    Ok(TimePoint {
        id: id.to_owned(),
        timing,
        instruments,
    })
}

/// Parse and validate a schedule written in TOML:
///
/// ```toml
/// [[time_point]]
/// id = "baseline"
/// kind = "baseline"            # optional; default "follow_up"
/// instruments = ["nprs"]
///
/// [[time_point]]
/// id = "3m"
/// offset_days = 91             # follow-ups: all three numbers required
/// window_before_days = 14
/// window_after_days = 14
/// instruments = ["nprs", "pgic"]
/// ```
///
/// # Errors
/// [`ScheduleError`] naming the line, column and field path when the text is
/// not TOML, a field is missing, unknown or of the wrong type, a number is
/// out of range, an id or instrument repeats, a baseline is not first, the
/// follow-ups are not in time order, or two windows share a day (an answer
/// on that day would belong to two time points).
pub fn parse_schedule(text: &str) -> Result<Schedule, ScheduleError> {
    let raw: RawSchedule = serde_path_to_error::deserialize(toml::Deserializer::new(text))
        .map_err(|e| syntax_error(text, e))?;
    let list = raw.time_point.get_ref();
    if list.is_empty() {
        return Err(err_at(
            text,
            raw.time_point.span().start,
            "time_point",
            "a schedule needs at least one time point",
        ));
    }
    let mut time_points: Vec<TimePoint> = Vec::with_capacity(list.len());
    let mut ids = BTreeSet::new();
    for (i, r) in list.iter().enumerate() {
        let tp = convert_time_point(text, i, r)?;
        let at = r.span().start;
        if !ids.insert(tp.id.clone()) {
            return Err(err_at(
                text,
                r.get_ref().id.span().start,
                format!("time_point[{i}].id"),
                format!("time point `{}` appears twice", tp.id),
            ));
        }
        match (tp.timing, time_points.last().map(|p| p.timing)) {
            (Timing::Baseline, Some(_)) => {
                return Err(err_at(
                    text,
                    r.get_ref().kind.as_ref().map_or(at, |k| k.span().start),
                    format!("time_point[{i}].kind"),
                    "the baseline must be the first time point (and there is only one)",
                ));
            }
            (
                Timing::FollowUp {
                    offset_days,
                    window_before_days,
                    ..
                },
                Some(Timing::FollowUp {
                    offset_days: prev_offset,
                    window_after_days: prev_after,
                    ..
                }),
            ) => {
                if offset_days <= prev_offset {
                    return Err(err_at(
                        text,
                        r.get_ref().offset_days.as_ref().map_or(at, |v| v.span().start),
                        format!("time_point[{i}].offset_days"),
                        format!("time points must be in time order: {offset_days} is not after the previous {prev_offset}"),
                    ));
                }
                // Windows as offsets from the administration, both ends inclusive.
                let opens = i64::from(offset_days) - i64::from(window_before_days);
                let prev_closes = i64::from(prev_offset) + i64::from(prev_after);
                if opens <= prev_closes {
                    return Err(err_at(
                        text,
                        r.get_ref().window_before_days.as_ref().map_or(at, |v| v.span().start),
                        format!("time_point[{i}].window_before_days"),
                        format!(
                            "window opens on day {opens} after treatment, but the previous time point's window is open until day {prev_closes}"
                        ),
                    ));
                }
            }
            _ => {}
        }
        time_points.push(tp);
    }
    Ok(Schedule { time_points })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const NONE: &[(&str, &str)] = &[];

    fn state(rows: &[TimePointStatus], tp: &str, ins: &str) -> VisitState {
        rows.iter()
            .find(|r| r.time_point == tp && r.instrument == ins)
            .map(|r| r.state)
            .expect("row present")
    }

    #[test]
    fn default_schedule_shape() {
        let s = Schedule::default();
        let ids: Vec<&str> = s.time_points().iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, ["baseline", "1m", "3m", "6m", "12m"]);
        assert_eq!(s.follow_up_ids(), ["1m", "3m", "6m", "12m"]);
        assert_eq!(
            s.instruments().into_iter().collect::<Vec<_>>(),
            ["nprs", "pgic"]
        );
        assert_eq!(
            s.time_point("3m").map(|t| t.timing),
            Some(Timing::FollowUp {
                offset_days: 91,
                window_before_days: 14,
                window_after_days: 14
            })
        );
        // The default passes the same checks as a file would.
        let text = schedule_to_toml(&s);
        assert_eq!(parse_schedule(&text).expect("default reparses"), s);
    }

    /// Writes a schedule back as TOML (test helper: the proptest builds files with it).
    fn schedule_to_toml(s: &Schedule) -> String {
        let mut out = String::new();
        for tp in s.time_points() {
            out.push_str("[[time_point]]\n");
            out.push_str(&format!("id = \"{}\"\n", tp.id));
            match tp.timing {
                Timing::Baseline => out.push_str("kind = \"baseline\"\n"),
                Timing::FollowUp {
                    offset_days,
                    window_before_days,
                    window_after_days,
                } => out.push_str(&format!(
                    "offset_days = {offset_days}\nwindow_before_days = {window_before_days}\nwindow_after_days = {window_after_days}\n"
                )),
            }
            let ins: Vec<String> = tp.instruments.iter().map(|i| format!("\"{i}\"")).collect();
            out.push_str(&format!("instruments = [{}]\n\n", ins.join(", ")));
        }
        out
    }

    #[test]
    fn baseline_before_and_without_administration() {
        let s = Schedule::default();
        // Plan created on day 100, nothing administered: baseline due, open-ended.
        let rows = status(&s, None, 100, 150, NONE);
        let b = rows
            .iter()
            .find(|r| r.time_point == "baseline")
            .expect("baseline");
        assert_eq!(
            (b.state, b.opens, b.target, b.closes),
            (VisitState::Due, Some(100), None, None)
        );
        // Follow-ups have no dates yet.
        assert!(rows
            .iter()
            .filter(|r| r.time_point != "baseline")
            .all(|r| r.state == VisitState::Upcoming && r.opens.is_none()));
        assert_eq!(
            state(&status(&s, None, 100, 99, NONE), "baseline", "nprs"),
            VisitState::Upcoming
        );
        // Administered on day 120: due up to and including day 120, then missed.
        assert_eq!(
            state(&status(&s, Some(120), 100, 120, NONE), "baseline", "nprs"),
            VisitState::Due
        );
        assert_eq!(
            state(&status(&s, Some(120), 100, 121, NONE), "baseline", "nprs"),
            VisitState::Missed
        );
        assert_eq!(
            state(
                &status(&s, Some(120), 100, 400, &[("baseline", "nprs")]),
                "baseline",
                "nprs"
            ),
            VisitState::Completed
        );
    }

    #[test]
    fn follow_up_window_edges() {
        let s = Schedule::default();
        let at = |today| state(&status(&s, Some(1000), 900, today, NONE), "1m", "pgic");
        // 1m: target 1030, window 1023..=1037.
        assert_eq!(at(1022), VisitState::Upcoming);
        assert_eq!(at(1023), VisitState::Due);
        assert_eq!(at(1030), VisitState::Due);
        assert_eq!(at(1031), VisitState::Overdue);
        assert_eq!(at(1037), VisitState::Overdue);
        assert_eq!(at(1038), VisitState::Missed);
        let rows = status(
            &s,
            Some(1000),
            900,
            1031,
            &[("1m".to_owned(), "nprs".to_owned())],
        );
        assert_eq!(state(&rows, "1m", "nprs"), VisitState::Completed);
        assert_eq!(state(&rows, "1m", "pgic"), VisitState::Overdue);
        let r = rows.iter().find(|r| r.time_point == "12m").expect("12m");
        assert_eq!(
            (r.opens, r.target, r.closes),
            (Some(1335), Some(1365), Some(1395))
        );
        // One row per time point × instrument, in schedule order.
        assert_eq!(rows.len(), 1 + 4 * 2);
        assert_eq!(rows[0].time_point, "baseline");
        assert_eq!(
            (rows[1].time_point.as_str(), rows[1].instrument.as_str()),
            ("1m", "nprs")
        );
    }

    #[test]
    fn administration_before_plan_still_orders() {
        let s = Schedule::default();
        let at = |today| state(&status(&s, Some(50), 100, today, NONE), "baseline", "nprs");
        assert_eq!(at(49), VisitState::Upcoming);
        assert_eq!(at(50), VisitState::Due);
        assert_eq!(at(51), VisitState::Missed);
    }

    #[test]
    fn extreme_days_do_not_overflow() {
        let s = Schedule::default();
        for (anchor, today) in [
            (i64::MAX, i64::MIN),
            (i64::MIN, i64::MAX),
            (i64::MAX, i64::MAX),
        ] {
            let rows = status(&s, Some(anchor), i64::MIN, today, NONE);
            assert_eq!(rows.len(), 9);
        }
    }

    const GOOD: &str = r#"
[[time_point]]
id = "baseline"
kind = "baseline"
instruments = ["koos"]

[[time_point]]
id = "6w"
offset_days = 42
window_before_days = 7
window_after_days = 14
instruments = ["koos", "pgic"]

[[time_point]]
id = "24m"
offset_days = 730
window_before_days = 60
window_after_days = 60
instruments = ["koos"]
"#;

    #[test]
    fn parses_a_protocol_schedule() {
        let s = parse_schedule(GOOD).expect("valid");
        assert_eq!(s.time_points().len(), 3);
        assert_eq!(s.time_points()[0].timing, Timing::Baseline);
        assert_eq!(
            s.time_points()[1].timing,
            Timing::FollowUp {
                offset_days: 42,
                window_before_days: 7,
                window_after_days: 14
            }
        );
        assert_eq!(s.time_points()[1].instruments, ["koos", "pgic"]);
        // A schedule without a baseline is allowed (e.g. follow-up-only protocols).
        let only = parse_schedule("[[time_point]]\nid=\"3m\"\noffset_days=91\nwindow_before_days=14\nwindow_after_days=14\ninstruments=[\"nprs\"]\n")
            .expect("valid");
        assert_eq!(only.follow_up_ids(), ["3m"]);
    }

    fn err(text: &str) -> ScheduleError {
        parse_schedule(text).expect_err("must be refused")
    }

    #[test]
    fn errors_name_line_and_field() {
        let e = err(&GOOD.replace(
            "window_after_days = 14",
            "window_after_days = \"two weeks\"",
        ));
        assert_eq!(
            (e.line, e.field.as_str()),
            (11, "time_point[1].window_after_days"),
            "{e}"
        );

        let e = err(&GOOD.replace("window_after_days = 14", "window_afterdays = 14"));
        assert_eq!(e.field, "time_point[1].window_afterdays", "{e}");
        assert!(e.message.starts_with("unknown field"), "{e}");

        let e = err(&GOOD.replace("window_after_days = 14\n", ""));
        assert_eq!(e.field, "time_point[1].window_after_days", "{e}");
        assert!(e.message.contains("missing field"), "{e}");

        let e = err(&GOOD.replace("offset_days = 42", "offset_days = -42"));
        assert_eq!(
            (e.line, e.field.as_str()),
            (9, "time_point[1].offset_days"),
            "{e}"
        );

        let e = err(&GOOD.replace("window_before_days = 7", "window_before_days = 50"));
        assert_eq!(
            (e.line, e.column, e.field.as_str()),
            (10, 22, "time_point[1].window_before_days"),
            "{e}"
        );
        assert!(e.message.contains("before treatment"), "{e}");

        let e = err(&GOOD.replace(
            "kind = \"baseline\"\n",
            "kind = \"baseline\"\noffset_days = 0\n",
        ));
        assert_eq!(
            (e.line, e.field.as_str()),
            (5, "time_point[0].offset_days"),
            "{e}"
        );

        let e = err(&GOOD.replace("kind = \"baseline\"", "kind = \"pre\""));
        assert_eq!((e.line, e.field.as_str()), (4, "time_point[0].kind"), "{e}");

        let e = err(&GOOD.replace("id = \"24m\"", "id = \"6w\""));
        assert_eq!((e.line, e.field.as_str()), (15, "time_point[2].id"), "{e}");

        let e = err(&GOOD.replace(
            "offset_days = 730\nwindow_before_days = 60",
            "offset_days = 40\nwindow_before_days = 10",
        ));
        assert_eq!(
            (e.line, e.field.as_str()),
            (16, "time_point[2].offset_days"),
            "{e}"
        );

        // 24m window opening on day 50 overlaps 6w's (closes day 56).
        let e = err(&GOOD.replace("window_before_days = 60", "window_before_days = 680"));
        assert_eq!(
            (e.line, e.field.as_str()),
            (17, "time_point[2].window_before_days"),
            "{e}"
        );
        assert!(e.message.contains("day 56"), "{e}");

        let e = err(&GOOD.replace("[\"koos\", \"pgic\"]", "[\"koos\", \"koos\"]"));
        assert_eq!(
            (e.line, e.field.as_str()),
            (12, "time_point[1].instruments[1]"),
            "{e}"
        );

        let e = err(&GOOD.replace("[\"koos\", \"pgic\"]", "[]"));
        assert_eq!(e.field, "time_point[1].instruments", "{e}");

        let e = err(&format!(
            "{GOOD}\n[[time_point]]\nid=\"b2\"\nkind=\"baseline\"\ninstruments=[\"x\"]\n"
        ));
        assert_eq!(
            (e.line, e.field.as_str()),
            (23, "time_point[3].kind"),
            "{e}"
        );

        let e = err("time_point = []");
        assert_eq!(e.field, "time_point", "{e}");
        let e = err("[[time_point]\nid=1");
        assert_eq!(e.line, 1, "{e}");
        let e = err("");
        assert_eq!(e.field, "time_point", "{e}");
        assert!(
            e.to_string()
                .starts_with("line 1, column 1, field `time_point`"),
            "{e}"
        );
    }

    fn arb_schedule() -> impl Strategy<Value = Schedule> {
        // Follow-ups as (gap after the previous window, before, after, instruments).
        (
            any::<bool>(),
            proptest::collection::vec((1u32..60, 0u32..40, 0u32..40, 1usize..3), 0..5),
        )
            .prop_map(|(with_baseline, fus)| {
                let mut tps = Vec::new();
                if with_baseline {
                    tps.push(TimePoint {
                        id: "baseline".into(),
                        timing: Timing::Baseline,
                        instruments: vec!["a".into()],
                    });
                }
                let mut prev_close = 0u32;
                for (k, (gap, before, after, n)) in fus.into_iter().enumerate() {
                    let offset = prev_close + gap + before;
                    prev_close = offset + after;
                    tps.push(TimePoint {
                        id: format!("t{k}"),
                        timing: Timing::FollowUp {
                            offset_days: offset,
                            window_before_days: before,
                            window_after_days: after,
                        },
                        instruments: ["a", "b", "c"]
                            .iter()
                            .take(n)
                            .map(|s| (*s).to_owned())
                            .collect(),
                    });
                }
                if tps.is_empty() {
                    tps.push(follow_up("only", 10, 2, &["a"]));
                }
                Schedule { time_points: tps }
            })
    }

    proptest! {
        #[test]
        fn states_only_move_forward(
            s in arb_schedule(),
            anchor in proptest::option::of(-500i64..500),
            plan in -600i64..600,
            start in -700i64..1500,
            mask in any::<u16>(),
        ) {
            // Generated schedules are valid files too.
            prop_assert_eq!(&parse_schedule(&schedule_to_toml(&s)).expect("valid"), &s);
            let pairs: Vec<(String, String)> = s
                .time_points()
                .iter()
                .flat_map(|t| t.instruments.iter().map(move |i| (t.id.clone(), i.clone())))
                .collect();
            let answered: Vec<(String, String)> = pairs
                .iter()
                .enumerate()
                .filter(|(k, _)| mask & (1 << (k % 16)) != 0)
                .map(|(_, p)| p.clone())
                .collect();
            let mut prev = status(&s, anchor, plan, start, &answered);
            for today in start + 1..start + 400 {
                let now = status(&s, anchor, plan, today, &answered);
                prop_assert_eq!(now.len(), pairs.len());
                for (p, n) in prev.iter().zip(&now) {
                    let done = answered.contains(&(n.time_point.clone(), n.instrument.clone()));
                    if done {
                        prop_assert_eq!(n.state, VisitState::Completed);
                    } else {
                        prop_assert!(n.state != VisitState::Completed);
                        prop_assert!(p.state <= n.state, "{:?} -> {:?} on {} for {:?}", p.state, n.state, today, n);
                    }
                    // Dates do not depend on today.
                    prop_assert_eq!((p.opens, p.target, p.closes), (n.opens, n.target, n.closes));
                    // Due/overdue only inside the window; missed only after it.
                    match n.state {
                        VisitState::Due | VisitState::Overdue => {
                            prop_assert!(n.opens.is_some_and(|o| o <= today));
                            prop_assert!(n.closes.is_none_or(|c| today <= c));
                        }
                        VisitState::Missed => prop_assert!(n.closes.is_some_and(|c| today > c)),
                        _ => {}
                    }
                }
                prev = now;
            }
        }
    }
}
