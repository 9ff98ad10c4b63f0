//! PDF back end: one page, everything drawn as vector paths (glyph outlines
//! from the embedded font, so any text the font covers needs no PDF font).

use std::fmt::Write as _;

use ab_glyph::{Font, OutlineCurve, Point};

use crate::layout::{Item, LABEL_MM};
use crate::text::Fonts;
use crate::LabelError;

const PT_PER_MM: f64 = 72.0 / 25.4;

fn pt(mm: f64) -> f64 {
    mm * PT_PER_MM
}

/// PDF y (from the bottom) for a layout y (from the top), in points.
fn fy(mm: f64) -> f64 {
    pt(LABEL_MM - mm)
}

fn rect(out: &mut String, x: f64, y: f64, w: f64, h: f64) {
    let _ = writeln!(
        out,
        "{:.3} {:.3} {:.3} {:.3} re f",
        pt(x),
        fy(y + h),
        pt(w),
        pt(h)
    );
}

pub(crate) fn render(items: &[Item], fonts: &Fonts, title: &str) -> Result<Vec<u8>, LabelError> {
    let mut content = String::from("0 g 0 G\n");
    for item in items {
        match item {
            Item::Fill { x, y, w, h } => rect(&mut content, *x, *y, *w, *h),
            Item::Frame { x, y, w, h, line } => {
                let _ = writeln!(
                    content,
                    "{:.3} w {:.3} {:.3} {:.3} {:.3} re S",
                    pt(*line),
                    pt(x + line / 2.0),
                    fy(y + h - line / 2.0),
                    pt(w - line),
                    pt(h - line)
                );
            }
            Item::Linear {
                x,
                y,
                height,
                module,
                modules,
                ..
            } => {
                let mut i = 0;
                while i < modules.len() {
                    if modules[i] {
                        let run = modules[i..].iter().take_while(|b| **b).count();
                        rect(
                            &mut content,
                            x + i as f64 * module,
                            *y,
                            run as f64 * module,
                            *height,
                        );
                        i += run;
                    } else {
                        i += 1;
                    }
                }
            }
            Item::Matrix {
                x,
                y,
                module,
                matrix,
                ..
            } => {
                for row in 0..matrix.height {
                    let bits = matrix
                        .bits
                        .get(row * matrix.width..(row + 1) * matrix.width)
                        .unwrap_or(&[]);
                    let mut i = 0;
                    while i < bits.len() {
                        if bits[i] {
                            let run = bits[i..].iter().take_while(|b| **b).count();
                            rect(
                                &mut content,
                                x + i as f64 * module,
                                y + row as f64 * module,
                                run as f64 * module,
                                *module,
                            );
                            i += run;
                        } else {
                            i += 1;
                        }
                    }
                }
            }
            Item::Text {
                x,
                baseline,
                size,
                face,
                text,
            } => {
                let font = fonts.face(*face);
                let upem = f64::from(font.units_per_em().unwrap_or(2048.0));
                let s = pt(*size) / upem;
                let mut pen = pt(*x);
                let base = fy(*baseline);
                let mut prev = None;
                for ch in text.chars() {
                    let id = font.glyph_id(ch);
                    if let Some(p) = prev {
                        pen += f64::from(font.kern_unscaled(p, id)) * s;
                    }
                    if let Some(outline) = font.outline(id) {
                        let tx = |p: Point| (pen + f64::from(p.x) * s, base + f64::from(p.y) * s);
                        let mut last: Option<Point> = None;
                        for curve in &outline.curves {
                            let (start, end) = match curve {
                                OutlineCurve::Line(a, b) => (*a, *b),
                                OutlineCurve::Quad(a, _, c) => (*a, *c),
                                OutlineCurve::Cubic(a, _, _, d) => (*a, *d),
                            };
                            if last != Some(start) {
                                let (sx, sy) = tx(start);
                                let _ = writeln!(content, "{sx:.3} {sy:.3} m");
                            }
                            match curve {
                                OutlineCurve::Line(_, b) => {
                                    let (bx, by) = tx(*b);
                                    let _ = writeln!(content, "{bx:.3} {by:.3} l");
                                }
                                OutlineCurve::Quad(a, b, c) => {
                                    // Quadratic to cubic: control points 2/3 of the way to b.
                                    let c1 = Point {
                                        x: a.x + 2.0 / 3.0 * (b.x - a.x),
                                        y: a.y + 2.0 / 3.0 * (b.y - a.y),
                                    };
                                    let c2 = Point {
                                        x: c.x + 2.0 / 3.0 * (b.x - c.x),
                                        y: c.y + 2.0 / 3.0 * (b.y - c.y),
                                    };
                                    let ((x1, y1), (x2, y2), (x3, y3)) = (tx(c1), tx(c2), tx(*c));
                                    let _ = writeln!(
                                        content,
                                        "{x1:.3} {y1:.3} {x2:.3} {y2:.3} {x3:.3} {y3:.3} c"
                                    );
                                }
                                OutlineCurve::Cubic(_, b, c, d) => {
                                    let ((x1, y1), (x2, y2), (x3, y3)) = (tx(*b), tx(*c), tx(*d));
                                    let _ = writeln!(
                                        content,
                                        "{x1:.3} {y1:.3} {x2:.3} {y2:.3} {x3:.3} {y3:.3} c"
                                    );
                                }
                            }
                            last = Some(end);
                        }
                        if last.is_some() {
                            content.push_str("f\n");
                        }
                    }
                    pen += f64::from(font.h_advance_unscaled(id)) * s;
                    prev = Some(id);
                }
            }
        }
    }
    Ok(document(&content, title))
}

/// PDF string literal with `(`, `)` and `\` escaped and non-ASCII dropped.
fn pdf_string(text: &str) -> String {
    let mut s = String::from("(");
    for c in text.chars().filter(|c| (' '..='~').contains(c)) {
        if matches!(c, '(' | ')' | '\\') {
            s.push('\\');
        }
        s.push(c);
    }
    s.push(')');
    s
}

fn document(content: &str, title: &str) -> Vec<u8> {
    let side = pt(LABEL_MM);
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        format!("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {side:.3} {side:.3}] /Resources << >> /Contents 4 0 R >>"),
        format!("<< /Length {} >>\nstream\n{content}endstream", content.len()),
        format!("<< /Title {} /Producer (celltrace-labels) >>", pdf_string(title)),
    ];
    let mut out = String::from("%PDF-1.4\n");
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        let _ = write!(out, "{} 0 obj\n{body}\nendobj\n", i + 1);
    }
    let xref = out.len();
    let _ = write!(out, "xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for o in offsets {
        let _ = writeln!(out, "{o:010} 00000 n ");
    }
    let _ = write!(
        out,
        "trailer\n<< /Size {} /Root 1 0 R /Info 5 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    );
    out.into_bytes()
}
