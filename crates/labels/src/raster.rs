//! PNG back end: 8-bit greyscale, bars and modules on whole pixels.

use ab_glyph::{point, Font, PxScale};

use crate::layout::{Item, LABEL_MM};
use crate::text::Fonts;
use crate::LabelError;

struct Canvas {
    w: usize,
    h: usize,
    px: Vec<u8>,
}

impl Canvas {
    fn fill(&mut self, x0: i64, y0: i64, x1: i64, y1: i64) {
        let clamp = |v: i64, max: usize| v.clamp(0, max as i64) as usize;
        let (x0, x1) = (clamp(x0, self.w), clamp(x1, self.w));
        let (y0, y1) = (clamp(y0, self.h), clamp(y1, self.h));
        for y in y0..y1 {
            if let Some(row) = self.px.get_mut(y * self.w + x0..y * self.w + x1) {
                row.fill(0);
            }
        }
    }

    fn darken(&mut self, x: i64, y: i64, coverage: f32) {
        if x < 0 || y < 0 || x as usize >= self.w || y as usize >= self.h {
            return;
        }
        if let Some(p) = self.px.get_mut(y as usize * self.w + x as usize) {
            let v = (255.0 * (1.0 - coverage.clamp(0.0, 1.0))).round() as u8;
            *p = (*p).min(v);
        }
    }
}

/// Whole pixels per linear module (≥ 2) and per Data Matrix module (≥ 4).
pub(crate) fn module_px(dpi: u32) -> (u32, u32) {
    let per_mm = f64::from(dpi) / 25.4;
    let linear = ((0.254 * per_mm) + 1e-6).floor().max(2.0) as u32;
    let matrix = ((0.5 * per_mm) + 1e-6).round().max(4.0) as u32;
    (linear, matrix)
}

/// Label size in pixels at `dpi`.
pub(crate) fn size_px(dpi: u32) -> u32 {
    (LABEL_MM * f64::from(dpi) / 25.4).round() as u32
}

pub(crate) fn render(items: &[Item], fonts: &Fonts, dpi: u32) -> Result<Vec<u8>, LabelError> {
    let side = size_px(dpi);
    let k = f64::from(dpi) / 25.4;
    let p = |mm: f64| (mm * k).round() as i64;
    let mut c = Canvas {
        w: side as usize,
        h: side as usize,
        px: vec![255; side as usize * side as usize],
    };
    for item in items {
        match item {
            Item::Fill { x, y, w, h } => c.fill(p(*x), p(*y), p(x + w), p(y + h)),
            Item::Frame { x, y, w, h, line } => {
                let t = p(*line).max(1);
                let (x0, y0, x1, y1) = (p(*x), p(*y), p(x + w), p(y + h));
                c.fill(x0, y0, x1, y0 + t);
                c.fill(x0, y1 - t, x1, y1);
                c.fill(x0, y0, x0 + t, y1);
                c.fill(x1 - t, y0, x1, y1);
            }
            Item::Linear {
                x,
                y,
                height,
                module,
                modules,
                ..
            } => {
                let mpx = (module * k).round().max(1.0) as i64;
                let (x0, y0, y1) = (p(*x), p(*y), p(y + height));
                for (i, bar) in modules.iter().enumerate() {
                    if *bar {
                        let bx = x0 + i as i64 * mpx;
                        c.fill(bx, y0, bx + mpx, y1);
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
                let mpx = (module * k).round().max(1.0) as i64;
                let (x0, y0) = (p(*x), p(*y));
                for (i, dark) in matrix.bits.iter().enumerate() {
                    if *dark && matrix.width > 0 {
                        let (mx, my) = ((i % matrix.width) as i64, (i / matrix.width) as i64);
                        c.fill(
                            x0 + mx * mpx,
                            y0 + my * mpx,
                            x0 + (mx + 1) * mpx,
                            y0 + (my + 1) * mpx,
                        );
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
                let upem = font.units_per_em().unwrap_or(2048.0);
                let em_px = (*size * k) as f32;
                let scale = PxScale::from(em_px * font.height_unscaled() / upem);
                let mut pen = (*x * k) as f32;
                let base = (*baseline * k) as f32;
                let mut prev = None;
                for ch in text.chars() {
                    let id = font.glyph_id(ch);
                    if let Some(pr) = prev {
                        pen += font.kern_unscaled(pr, id) * em_px / upem;
                    }
                    let glyph = id.with_scale_and_position(scale, point(pen, base));
                    if let Some(outlined) = font.outline_glyph(glyph) {
                        let b = outlined.px_bounds();
                        outlined.draw(|gx, gy, cov| {
                            c.darken(
                                b.min.x as i64 + i64::from(gx),
                                b.min.y as i64 + i64::from(gy),
                                cov,
                            );
                        });
                    }
                    pen += font.h_advance_unscaled(id) * em_px / upem;
                    prev = Some(id);
                }
            }
        }
    }
    encode_png(&c, dpi)
}

fn encode_png(c: &Canvas, dpi: u32) -> Result<Vec<u8>, LabelError> {
    let err = |e: png::EncodingError| LabelError::Encoding(format!("PNG: {e}"));
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, c.w as u32, c.h as u32);
        enc.set_color(png::ColorType::Grayscale);
        enc.set_depth(png::BitDepth::Eight);
        let ppm = (f64::from(dpi) / 0.0254).round() as u32;
        enc.set_pixel_dims(Some(png::PixelDimensions {
            xppu: ppm,
            yppu: ppm,
            unit: png::Unit::Meter,
        }));
        let mut writer = enc.write_header().map_err(err)?;
        writer.write_image_data(&c.px).map_err(err)?;
        writer.finish().map_err(err)?;
    }
    Ok(out)
}
