//! CSV downloads of list pages (`?format=csv`): RFC 4180 quoting, UTF-8 with
//! a byte-order mark so spreadsheet programs read Arabic and Devanagari
//! names, and cells that a spreadsheet would run as formulas made inert.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

/// `?format=csv` on a list page.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    /// `csv` for the download; anything else shows the page.
    #[serde(default)]
    pub format: Option<String>,
}

impl ListQuery {
    /// Whether the CSV download was asked for.
    pub fn wants_csv(&self) -> bool {
        self.format.as_deref() == Some("csv")
    }
}

/// One cell: quoted when it must be, and prefixed with `'` when it starts
/// like a formula (`= + - @`, tab or carriage return), so opening the file
/// cannot run anything.
pub fn cell(text: &str) -> String {
    let inert = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{text}") } else { text.to_owned() };
    if inert.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", inert.replace('"', "\"\""))
    } else {
        inert
    }
}

/// The CSV text of a header and rows.
pub fn to_csv(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = String::from("\u{feff}");
    out.push_str(&header.iter().map(|h| cell(h)).collect::<Vec<_>>().join(","));
    out.push_str("\r\n");
    for row in rows {
        out.push_str(&row.iter().map(|c| cell(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

/// A CSV download named `filename`.
pub fn download(filename: &str, header: &[&str], rows: &[Vec<String>]) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        to_csv(header, rows),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_and_formulas_made_inert() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("-1"), "'-1");
        assert_eq!(cell("ليلى"), "ليلى");
        let text = to_csv(&["id", "name"], &[vec!["p-1".into(), "राजेश, कुमार".into()]]);
        assert_eq!(text, "\u{feff}id,name\r\np-1,\"राजेश, कुमार\"\r\n");
    }
}
