//! Temperature logs from shipping data loggers: read the CSV a logger exports
//! (`time,temperature_c`, one reading per line) and find the excursions
//! outside the shipment's limits. Every bad line is reported; none is skipped.

/// One run of readings outside the limits.
#[derive(Debug, Clone, PartialEq)]
pub struct Excursion {
    /// First reading outside.
    pub from: String,
    /// Last reading outside.
    pub to: String,
    /// The reading furthest outside, in °C.
    pub extreme: f64,
    /// Readings in the run.
    pub readings: usize,
}

impl std::fmt::Display for Excursion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} to {}: reached {:.1} °C ({} reading{})", self.from, self.to, self.extreme, self.readings, if self.readings == 1 { "" } else { "s" })
    }
}

/// Reads a logger CSV and returns the excursions outside `[min, max]` °C,
/// or every line that could not be read (with its number and what is wrong).
pub fn excursions(csv: &str, min: f64, max: f64) -> Result<Vec<Excursion>, Vec<String>> {
    if min.partial_cmp(&max) != Some(std::cmp::Ordering::Less) {
        return Err(vec![format!("the lower limit ({min} °C) must be below the upper limit ({max} °C)")]);
    }
    let mut errors = Vec::new();
    let mut readings = Vec::new();
    for (index, line) in csv.lines().enumerate() {
        let n = index + 1;
        let line = line.trim();
        // A first line whose second column is not a number is the header.
        let header = n == 1 && line.split(',').nth(1).is_some_and(|v| v.trim().parse::<f64>().is_err());
        if line.is_empty() || header {
            continue;
        }
        let mut parts = line.split(',').map(str::trim);
        let (Some(time), Some(value), None) = (parts.next(), parts.next(), parts.next()) else {
            errors.push(format!("line {n}: expected 2 columns (time, temperature in °C)"));
            continue;
        };
        match value.parse::<f64>() {
            Ok(t) if t.is_finite() && time.len() >= 4 => readings.push((time.to_owned(), t)),
            Ok(_) if time.len() < 4 => errors.push(format!("line {n}, column time: '{time}' is not a time")),
            _ => errors.push(format!("line {n}, column temperature: '{value}' is not a number")),
        }
    }
    if readings.is_empty() && errors.is_empty() {
        errors.push("the log has no readings".to_owned());
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut found: Vec<Excursion> = Vec::new();
    let mut open = false;
    for (time, t) in readings {
        let outside = t < min || t > max;
        if !outside {
            open = false;
            continue;
        }
        let distance = |x: f64| if x < min { min - x } else { x - max };
        match found.last_mut() {
            Some(run) if open => {
                run.to = time;
                run.readings += 1;
                if distance(t) > distance(run.extreme) {
                    run.extreme = t;
                }
            }
            _ => found.push(Excursion { from: time.clone(), to: time, extreme: t, readings: 1 }),
        }
        open = true;
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn runs_outside_the_limits_are_excursions() {
        let csv = "time,temperature_c\n2026-06-14T03:00Z,-70.1\n2026-06-14T03:10Z,-62.0\n2026-06-14T03:20Z,-60.5\n2026-06-14T03:30Z,-71\n2026-06-14T04:00Z,-50\n";
        let found = excursions(csv, -80.0, -65.0).expect("readable");
        assert_eq!(found.len(), 2);
        assert_eq!((found[0].from.as_str(), found[0].to.as_str(), found[0].extreme, found[0].readings), ("2026-06-14T03:10Z", "2026-06-14T03:20Z", -60.5, 2));
        assert_eq!(found[1].to_string(), "2026-06-14T04:00Z to 2026-06-14T04:00Z: reached -50.0 °C (1 reading)");
        assert!(excursions("t,x\n2026-01-01T00:00Z,-70\n", -80.0, -65.0).expect("ok").is_empty());
    }

    #[test]
    fn every_bad_line_is_named() {
        let errors = excursions("time,temperature_c\n2026-01-01,abc\n2026,-70,extra\n\n2026-01-02,-70\nx,5\n", -80.0, -65.0).expect_err("bad");
        assert_eq!(errors, [
            "line 2, column temperature: 'abc' is not a number",
            "line 3: expected 2 columns (time, temperature in °C)",
            "line 6, column time: 'x' is not a time",
        ]);
        assert!(excursions("", -80.0, -65.0).is_err());
        assert!(excursions("2026-01-01,1", 8.0, 2.0).is_err());
    }

    proptest! {
        #[test]
        fn never_panics(text in ".{0,300}", a in -100.0f64..50.0, b in -100.0f64..50.0) {
            let _ = excursions(&text, a, b);
        }
    }
}
