//! Zebra ZPL II back end at 8 dots/mm (203 dpi): printer-native Code 128
//! (`^BC`) and Data Matrix (`^BX`), text in the scalable font 0 (`^A0`).

use std::fmt::Write as _;

use crate::layout::{Item, LABEL_MM};

/// Dots per mm of the target printer.
pub(crate) const DOTS_PER_MM: f64 = 8.0;

fn d(mm: f64) -> i64 {
    (mm * DOTS_PER_MM).round() as i64
}

/// Field data for `^FH_`: `^`, `~`, `_` and every non-ASCII byte (UTF-8,
/// with `^CI28`) written as `_XX` hex escapes.
pub(crate) fn escape_text(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii() && !c.is_ascii_control() && !matches!(c, '^' | '~' | '_') {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                let _ = write!(out, "_{b:02X}");
            }
        }
    }
    out
}

/// `^BC` field data in "no selected mode": subset B start (`>:`), runs of
/// four or more digits in subset C (`>5` … `>6`), and `>` written as its
/// invocation code `>0` (value 30, `>` in subset B).
pub(crate) fn code128_field(data: &str) -> String {
    let mut out = String::from(">:");
    let chars: Vec<char> = data.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let run = chars[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if run >= 4 {
            let mut j = i;
            if run % 2 == 1 {
                out.push(chars[i]);
                j += 1;
            }
            out.push_str(">5");
            out.extend(&chars[j..i + run]);
            i += run;
            if i < chars.len() {
                out.push_str(">6");
            }
            continue;
        }
        match chars[i] {
            '>' => out.push_str(">0"),
            '^' => out.push_str("><"),
            '~' => out.push_str(">="),
            c => out.push(c),
        }
        i += 1;
    }
    out
}

pub(crate) fn render(items: &[Item]) -> String {
    let side = d(LABEL_MM);
    let mut z = String::new();
    let _ = writeln!(z, "^XA\n^CI28\n^PW{side}\n^LL{side}\n^LH0,0");
    for item in items {
        match item {
            Item::Fill { x, y, w, h } => {
                let (w, h) = (d(*w).max(1), d(*h).max(1));
                let _ = writeln!(z, "^FO{},{}^GB{w},{h},{}^FS", d(*x), d(*y), w.min(h));
            }
            Item::Frame { x, y, w, h, line } => {
                let _ = writeln!(
                    z,
                    "^FO{},{}^GB{},{},{}^FS",
                    d(*x),
                    d(*y),
                    d(*w),
                    d(*h),
                    d(*line).max(1)
                );
            }
            Item::Text {
                x,
                baseline,
                size,
                text,
                ..
            } => {
                // ^FO is the top of the character cell; font 0 cell ≈ em size.
                let h = d(*size).max(10);
                let top = d(baseline - 0.8 * size);
                let _ = writeln!(
                    z,
                    "^FO{},{}^A0N,{h},{h}^FH_^FD{}^FS",
                    d(*x),
                    top,
                    escape_text(text)
                );
            }
            Item::Linear {
                x, y, height, data, ..
            } => {
                let _ = writeln!(z, "^FX ISBT 128 {data}^FS");
                let _ = writeln!(
                    z,
                    "^FO{},{}^BY2^BCN,{},N,N,N,N^FD{}^FS",
                    d(*x),
                    d(*y),
                    d(*height),
                    code128_field(data)
                );
            }
            Item::Matrix {
                x, y, module, data, ..
            } => {
                let _ = writeln!(
                    z,
                    "^FO{},{}^BXN,{},200^FD{data}^FS",
                    d(*x),
                    d(*y),
                    d(*module).max(2)
                );
            }
        }
    }
    z.push_str("^XZ\n");
    z
}
