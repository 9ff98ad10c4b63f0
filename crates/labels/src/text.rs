//! The embedded fonts (DejaVu subsets, see `fonts/LICENSE`): coverage,
//! measuring and line wrapping.

use ab_glyph::{Font, FontRef, GlyphId};

use crate::LabelError;

static SANS: &[u8] = include_bytes!("../fonts/DejaVuSans-subset.ttf");
static SANS_BOLD: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold-subset.ttf");
static MONO_BOLD: &[u8] = include_bytes!("../fonts/DejaVuSansMono-Bold-subset.ttf");

/// Which embedded face a text run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Face {
    Sans,
    Bold,
    /// For the DIN and codes: `0`/`O` and `1`/`I` are distinct.
    Mono,
}

/// The three parsed faces.
pub(crate) struct Fonts {
    sans: FontRef<'static>,
    bold: FontRef<'static>,
    mono: FontRef<'static>,
}

impl Fonts {
    pub fn load() -> Result<Self, LabelError> {
        let f = |bytes: &'static [u8]| {
            FontRef::try_from_slice(bytes)
                .map_err(|e| LabelError::Encoding(format!("embedded font: {e}")))
        };
        Ok(Self {
            sans: f(SANS)?,
            bold: f(SANS_BOLD)?,
            mono: f(MONO_BOLD)?,
        })
    }

    pub fn face(&self, face: Face) -> &FontRef<'static> {
        match face {
            Face::Sans => &self.sans,
            Face::Bold => &self.bold,
            Face::Mono => &self.mono,
        }
    }

    /// Whether every character of `text` has a glyph in all faces.
    pub fn covers(&self, text: &str) -> bool {
        text.chars().all(|c| {
            [&self.sans, &self.bold, &self.mono]
                .iter()
                .all(|f| f.glyph_id(c) != GlyphId(0))
        })
    }

    /// `text` with control characters turned into spaces and characters the
    /// fonts lack turned into `?`.
    pub fn printable(&self, text: &str) -> String {
        text.chars()
            .map(|c| {
                if c.is_control() {
                    ' '
                } else if self.covers(c.encode_utf8(&mut [0; 4])) {
                    c
                } else {
                    '?'
                }
            })
            .collect()
    }

    /// Width of `text` in mm at an em size of `size` mm.
    pub fn width(&self, face: Face, size: f64, text: &str) -> f64 {
        let font = self.face(face);
        let upem = f64::from(font.units_per_em().unwrap_or(2048.0));
        let mut w = 0.0_f64;
        let mut prev: Option<GlyphId> = None;
        for c in text.chars() {
            let id = font.glyph_id(c);
            if let Some(p) = prev {
                w += f64::from(font.kern_unscaled(p, id));
            }
            w += f64::from(font.h_advance_unscaled(id));
            prev = Some(id);
        }
        w * size / upem
    }

    /// Greedy word wrap of `text` into lines no wider than `max` mm. Words
    /// longer than a line are broken between characters.
    pub fn wrap(&self, face: Face, size: f64, text: &str, max: f64) -> Vec<String> {
        let mut lines = Vec::new();
        let mut line = String::new();
        for word in text.split_whitespace() {
            let candidate = if line.is_empty() {
                word.to_string()
            } else {
                format!("{line} {word}")
            };
            if self.width(face, size, &candidate) <= max {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            // Break an over-long word.
            for c in word.chars() {
                let mut next = line.clone();
                next.push(c);
                if !line.is_empty() && self.width(face, size, &next) > max {
                    lines.push(std::mem::take(&mut line));
                    line.push(c);
                } else {
                    line = next;
                }
            }
        }
        if !line.is_empty() {
            lines.push(line);
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coverage_and_wrapping() {
        let f = Fonts::load().unwrap();
        assert!(f.covers("Zoë Müller 0O1I"));
        assert!(!f.covers("محمد"));
        assert!(!f.covers("प्रिया"));
        assert_eq!(f.printable("a\tbé\u{0645}"), "a bé?");
        let lines = f.wrap(Face::Sans, 3.0, "one two three four five six seven", 20.0);
        assert!(lines.len() > 1);
        for l in &lines {
            assert!(f.width(Face::Sans, 3.0, l) <= 20.0, "{l}");
        }
        assert_eq!(lines.join(" "), "one two three four five six seven");
    }
}
