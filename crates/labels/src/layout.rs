//! Label layout: one list of positioned items in millimetres (origin at the
//! top-left corner, y downwards) that the PNG, PDF and ZPL back ends draw.

use crate::data::Encoded;
use crate::symbols::{self, Matrix};
use crate::text::{Face, Fonts};
use crate::{LabelData, LabelError};

/// Label width and height in mm.
pub(crate) const LABEL_MM: f64 = 100.0;
const MARGIN: f64 = 3.0;
const GUTTER: f64 = 2.0;
const COL_W: f64 = (LABEL_MM - 2.0 * MARGIN - GUTTER) / 2.0;
const RIGHT_X: f64 = MARGIN + COL_W + GUTTER;
const BOTTOM: f64 = LABEL_MM - MARGIN;
/// Quiet zone on each side of a linear symbol, in modules (ST-001 §6.1: ≥ 10X).
pub(crate) const QUIET_MODULES: f64 = 10.0;

/// One thing to draw.
#[derive(Debug, Clone)]
pub(crate) enum Item {
    /// A filled black rectangle.
    Fill { x: f64, y: f64, w: f64, h: f64 },
    /// A rectangle outline of line width `line`, drawn inside the bounds.
    Frame {
        x: f64,
        y: f64,
        w: f64,
        h: f64,
        line: f64,
    },
    /// A run of text; `size` is the em size in mm, `baseline` the y of the baseline.
    Text {
        x: f64,
        baseline: f64,
        size: f64,
        face: Face,
        text: String,
    },
    /// A Code 128 symbol without quiet zones; `x` is its first bar.
    Linear {
        x: f64,
        y: f64,
        height: f64,
        module: f64,
        modules: Vec<bool>,
        data: String,
    },
    /// A Data Matrix symbol without its quiet zone.
    Matrix {
        x: f64,
        y: f64,
        module: f64,
        matrix: Matrix,
        data: String,
    },
}

/// Module sizes chosen by a back end (in mm) so bars fall on whole pixels or dots.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Modules {
    pub linear: f64,
    pub matrix: f64,
}

struct Builder<'a> {
    fonts: &'a Fonts,
    items: Vec<Item>,
}

impl Builder<'_> {
    fn text(&mut self, x: f64, baseline: f64, size: f64, face: Face, text: &str) -> f64 {
        let text = self.fonts.printable(text);
        let w = self.fonts.width(face, size, &text);
        self.items.push(Item::Text {
            x,
            baseline,
            size,
            face,
            text,
        });
        w
    }

    /// Text shrunk (down to 60 %) so it fits in `max` mm.
    fn text_fit(
        &mut self,
        x: f64,
        baseline: f64,
        size: f64,
        face: Face,
        text: &str,
        max: f64,
    ) -> f64 {
        let printable = self.fonts.printable(text);
        let w = self.fonts.width(face, size, &printable);
        let size = if w > max && w > 0.0 {
            (size * max / w).max(size * 0.6)
        } else {
            size
        };
        self.text(x, baseline, size, face, &printable)
    }

    fn caption(&mut self, x: f64, baseline: f64, text: &str) {
        self.text(x, baseline, 1.8, Face::Sans, text);
    }

    /// A linear symbol in the column starting at `col_x`; returns its first-bar x.
    fn linear(
        &mut self,
        col_x: f64,
        y: f64,
        height: f64,
        module: f64,
        data: &str,
    ) -> Result<f64, LabelError> {
        let modules = symbols::code128(data)?;
        let quiet = QUIET_MODULES * module;
        let width = modules.len() as f64 * module;
        if width + 2.0 * quiet > COL_W + 0.01 {
            return Err(LabelError::DoesNotFit(format!(
                "the bar code for '{data}' ({width:.1} mm plus quiet zones) is wider than the {COL_W} mm column"
            )));
        }
        let x = col_x + quiet;
        self.items.push(Item::Linear {
            x,
            y,
            height,
            module,
            modules,
            data: data.to_string(),
        });
        Ok(x)
    }
}

/// Lays out the whole label.
pub(crate) fn layout(
    label: &LabelData,
    enc: &Encoded,
    fonts: &Fonts,
    modules: Modules,
) -> Result<Vec<Item>, LabelError> {
    let mut b = Builder {
        fonts,
        items: Vec::new(),
    };
    let bars = enc.barcodes();
    let data_of = |n: &str| {
        bars.iter()
            .find(|c| c.structure == n)
            .map(|c| (c.data.clone(), c.text.clone()))
            .ok_or_else(|| LabelError::Encoding(format!("missing DS{n}")))
    };
    let m = modules.linear;

    // Top band: DIN (left), product code and description (right).
    let (din_data, _) = data_of("001")?;
    b.caption(MARGIN, 4.6, "Donation Identification Number (DIN)");
    let x = b.linear(MARGIN, 5.4, 10.0, m, &din_data)?;
    let er = enc.din.eye_readable();
    let main = format!("{} {} {}", er.fin, er.year, er.sequence);
    let flags = enc.printed_flags();
    let k = er.check_character.to_string();
    let avail = MARGIN + COL_W - x;
    let mut size = 4.0;
    let measure = |s: f64| {
        let mut w = fonts.width(Face::Mono, s, &main) + 0.35 * s;
        if let Some(f) = &flags {
            w += fonts.width(Face::Mono, 0.6 * s, f) + 0.35 * s;
        }
        w + fonts.width(Face::Mono, s, &k) + 0.5 * s
    };
    while measure(size) > avail && size > 2.0 {
        size -= 0.1;
    }
    let baseline = 20.2;
    let mut cx = x + b.text(x, baseline, size, Face::Mono, &main) + 0.35 * size;
    if let Some(f) = &flags {
        cx += b.text(cx, baseline, 0.6 * size, Face::Mono, f) + 0.35 * size;
    }
    let pad = 0.22 * size;
    let kw = b.text(cx + pad, baseline, size, Face::Mono, &k);
    b.items.push(Item::Frame {
        x: cx,
        y: baseline - 0.92 * size,
        w: kw + 2.0 * pad,
        h: 1.18 * size,
        line: 0.3,
    });
    b.caption(MARGIN, 24.0, "Check character K in the box");

    let (pc_data, pc_text) = data_of("003")?;
    b.caption(RIGHT_X, 4.6, "Product code");
    let px = b.linear(RIGHT_X, 5.4, 10.0, m, &pc_data)?;
    b.text(px, 18.0, 2.2, Face::Mono, &pc_text);
    let desc = fonts.printable(&label.product_description);
    let width = LABEL_MM - MARGIN - px;
    let (mut dsize, mut lines) = (2.8, fonts.wrap(Face::Bold, 2.8, &desc, width));
    for (size, max_lines) in [(2.3, 4), (2.0, 5)] {
        if lines.len() < max_lines {
            break;
        }
        dsize = size;
        lines = fonts.wrap(Face::Bold, dsize, &desc, width);
    }
    if lines.len() > 5 {
        return Err(LabelError::DoesNotFit(format!(
            "the product description ({} characters) does not fit in five lines of {width:.0} mm",
            label.product_description.chars().count()
        )));
    }
    let mut y = 21.0;
    for line in &lines {
        b.text(px, y, dsize, Face::Bold, line);
        y += dsize * 1.15;
    }
    b.items.push(Item::Fill {
        x: MARGIN,
        y: 33.0,
        w: LABEL_MM - 2.0 * MARGIN,
        h: 0.3,
    });

    // Middle band: collection (left) and expiry (right) date and time.
    for (col, n, caption, text, size) in [
        (
            MARGIN,
            "007",
            "Collection date and time (UTC)",
            format!("COLL {}", enc.collected_text),
            2.8,
        ),
        (
            RIGHT_X,
            "005",
            "Expiration date and time (UTC)",
            format!("EXP {}", enc.expires_text),
            3.0,
        ),
    ] {
        let (data, content) = data_of(n)?;
        b.caption(col, 35.8, caption);
        let x = b.linear(col, 36.6, 8.0, m, &data)?;
        b.text(x, 47.2, 2.0, Face::Mono, &content);
        b.text_fit(x, 51.0, size, Face::Bold, &text, col + COL_W - x);
    }
    b.items.push(Item::Fill {
        x: MARGIN,
        y: 52.4,
        w: LABEL_MM - 2.0 * MARGIN,
        h: 0.3,
    });

    // Lower band: Data Matrix (right), text (left, then full width below it).
    let compound = enc.compound()?;
    let matrix = symbols::data_matrix(&compound)?;
    let dm = modules.matrix;
    let side = matrix.width as f64 * dm;
    let dm_x = LABEL_MM - MARGIN - 2.0 * dm - side;
    let dm_y = 54.0 + 2.0 * dm;
    let dm_bottom = dm_y + side + 2.0 * dm;
    b.items.push(Item::Matrix {
        x: dm_x,
        y: dm_y,
        module: dm,
        matrix,
        data: compound,
    });
    let narrow = dm_x - 2.0 * dm - MARGIN - 1.0;
    let full = LABEL_MM - 2.0 * MARGIN;
    let width_at = |baseline: f64, size: f64| {
        if baseline - size < dm_bottom {
            narrow
        } else {
            full
        }
    };

    // `y` is the top of the next line; a line's baseline sits 0.95 em below it.
    let mut y = 54.4;
    let para = |b: &mut Builder<'_>,
                y: &mut f64,
                size: f64,
                face: Face,
                text: &str,
                max_lines: usize,
                what: &str| {
        let lines = fonts.wrap(
            face,
            size,
            &fonts.printable(text),
            width_at(*y + size, size),
        );
        if lines.len() > max_lines {
            return Err(LabelError::DoesNotFit(format!(
                "the {what} does not fit in {max_lines} line(s)"
            )));
        }
        for line in lines {
            let baseline = *y + 0.95 * size;
            if baseline + 0.25 * size > BOTTOM {
                return Err(LabelError::DoesNotFit(format!(
                    "the label text runs past the bottom edge at the {what}; shorten the statements"
                )));
            }
            b.text(MARGIN, baseline, size, face, &line);
            *y += size * 1.2;
        }
        *y += 0.4;
        Ok(())
    };
    para(
        &mut b,
        &mut y,
        2.5,
        Face::Sans,
        &format!("Facility: {}", label.facility),
        2,
        "facility",
    )?;
    para(
        &mut b,
        &mut y,
        2.8,
        Face::Bold,
        &format!("Quantity: {}", label.quantity),
        1,
        "quantity",
    )?;

    let autologous = label.autologous_patient.is_some();
    let mut statements = enc.required_statements(autologous);
    if let (Some(p), Some(dob)) = (&label.autologous_patient, &enc.dob_text) {
        y += 0.6;
        let top = y;
        statements.retain(|s| s != "FOR AUTOLOGOUS USE ONLY");
        para(
            &mut b,
            &mut y,
            3.2,
            Face::Bold,
            "FOR AUTOLOGOUS USE ONLY",
            1,
            "autologous statement",
        )?;
        let name = if fonts.covers(&p.name) {
            format!("Patient: {}", p.name.trim())
        } else {
            "Patient: name in a script this label cannot print - check the MRN".to_string()
        };
        para(&mut b, &mut y, 2.7, Face::Bold, &name, 2, "patient name")?;
        para(
            &mut b,
            &mut y,
            2.6,
            Face::Sans,
            &format!("DOB: {dob} | MRN: {}", p.mrn.trim()),
            1,
            "date of birth and MRN",
        )?;
        b.items.push(Item::Frame {
            x: MARGIN - 0.8,
            y: top - 0.8,
            w: narrow + 1.6,
            h: y - top + 0.6,
            line: 0.35,
        });
        y += 1.2;
    }
    statements.extend(
        label
            .warnings
            .iter()
            .filter(|w| !w.trim().is_empty())
            .cloned(),
    );
    for s in &statements {
        para(&mut b, &mut y, 2.4, Face::Bold, s, 3, "statement")?;
    }
    Ok(b.items)
}
