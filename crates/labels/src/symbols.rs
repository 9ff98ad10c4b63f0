//! Bar-code symbols: Code 128 modules (via `barcoders`) and Data Matrix
//! ECC 200 bitmaps (via `datamatrix`).

use barcoders::sym::code128::Code128;
use datamatrix::{DataMatrix, SymbolList};

use crate::LabelError;

/// Chooses Code 128 subsets for `data` in `barcoders`' notation: start in
/// subset B and switch to subset C for runs of four or more digits (ST-001
/// §6.1 requires that the switch to C be allowed).
pub(crate) fn code128_plan(data: &str) -> Result<String, LabelError> {
    if data.is_empty() || !data.chars().all(|c| (' '..='~').contains(&c)) {
        return Err(LabelError::Encoding(format!(
            "Code 128 data '{data}' must be non-empty printable ASCII"
        )));
    }
    let chars: Vec<char> = data.chars().collect();
    let mut out = String::from('Ɓ');
    let mut i = 0;
    let mut in_c = false;
    while i < chars.len() {
        let run = chars[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if !in_c && run >= 4 {
            // An odd digit stays in subset B so subset C gets pairs.
            if run % 2 == 1 {
                out.push(chars[i]);
                i += 1;
            }
            out.push('Ć');
            in_c = true;
            continue;
        }
        if in_c {
            if run >= 2 {
                out.push(chars[i]);
                out.push(chars[i + 1]);
                i += 2;
                continue;
            }
            out.push('Ɓ');
            in_c = false;
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    Ok(out)
}

/// Code 128 modules (`true` = bar), start to stop, no quiet zones.
pub(crate) fn code128(data: &str) -> Result<Vec<bool>, LabelError> {
    let plan = code128_plan(data)?;
    let code = Code128::new(&plan)
        .map_err(|e| LabelError::Encoding(format!("Code 128 for '{data}': {e}")))?;
    Ok(code.encode().into_iter().map(|b| b == 1).collect())
}

/// A Data Matrix symbol: `width` × `height` modules, row-major, `true` = dark.
#[derive(Debug, Clone)]
pub(crate) struct Matrix {
    pub width: usize,
    pub height: usize,
    pub bits: Vec<bool>,
}

/// Data Matrix ECC 200 (square symbols only) for `data`.
pub(crate) fn data_matrix(data: &str) -> Result<Matrix, LabelError> {
    let code = DataMatrix::encode(data.as_bytes(), SymbolList::default().enforce_square())
        .map_err(|e| LabelError::Encoding(format!("Data Matrix for '{data}': {e:?}")))?;
    let bitmap = code.bitmap();
    Ok(Matrix {
        width: bitmap.width(),
        height: bitmap.height(),
        bits: bitmap.bits().to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_switches_to_c_for_digit_runs() {
        assert_eq!(
            code128_plan("=A99912600010100").unwrap(),
            "Ɓ=AĆ99912600010100"
        );
        assert_eq!(code128_plan("&>0263651200").unwrap(), "Ɓ&>Ć0263651200");
        assert_eq!(code128_plan("=<S1003100").unwrap(), "Ɓ=<S1Ć003100");
        assert_eq!(
            code128_plan("=<S12954A0").unwrap(),
            "Ɓ=<S1Ć2954Ɓ A0".replace(' ', "")
        );
        assert!(code128_plan("").is_err());
        assert!(code128_plan("é").is_err());
    }

    #[test]
    fn code128_has_start_and_stop() {
        let m = code128("=A99912600010100").unwrap();
        // start B = 11010010000, stop = 1100011101011
        let s: String = m.iter().map(|&b| if b { '1' } else { '0' }).collect();
        assert!(s.starts_with("11010010000"), "{s}");
        assert!(s.ends_with("1100011101011"), "{s}");
    }

    #[test]
    fn data_matrix_is_square() {
        let m = data_matrix("=+02000=A99912600010100=<S1003100").unwrap();
        assert_eq!(m.width, m.height);
        assert_eq!(m.bits.len(), m.width * m.height);
    }
}
