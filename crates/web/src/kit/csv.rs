//! CSV downloads of list pages (`?format=csv`): RFC 4180 quoting, UTF-8 with
//! a byte-order mark so spreadsheet programs read Arabic and Devanagari
//! names, and cells that a spreadsheet would run as formulas made inert.
//! Long lists are streamed a page at a time ([`stream`]), never built whole
//! in memory.

use crate::error::AppError;
use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures_util::{Stream, StreamExt};
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

/// The CSV lines of `rows`, each ending in CRLF.
pub fn lines(rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    for row in rows {
        out.push_str(&row.iter().map(|c| cell(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

/// The byte-order mark and the header line.
fn head(header: &[&str]) -> String {
    let columns: Vec<String> = header.iter().map(|h| (*h).to_owned()).collect();
    format!("\u{feff}{}", lines(&[columns]))
}

/// The CSV text of a header and rows.
pub fn to_csv(header: &[&str], rows: &[Vec<String>]) -> String {
    head(header) + &lines(rows)
}

fn headers(filename: &str) -> [(header::HeaderName, String); 3] {
    [
        (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
        (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")),
        (header::CACHE_CONTROL, "no-store".to_owned()),
    ]
}

/// A CSV download named `filename`.
pub fn download(filename: &str, header: &[&str], rows: &[Vec<String>]) -> Response {
    (headers(filename), to_csv(header, rows)).into_response()
}

/// A CSV download named `filename` whose rows arrive a page at a time from
/// `pages`, each read only when the client has taken the one before. The
/// caller reads the first page before answering, so a failure there is an
/// ordinary error page; a failure later is logged and ends the transfer
/// with an error, so the client sees a failed download, never a file that
/// looks complete.
pub fn stream<S>(filename: &str, header: &[&str], pages: S) -> Response
where
    S: Stream<Item = Result<Vec<Vec<String>>, AppError>> + Send + 'static,
{
    let first = futures_util::stream::once(std::future::ready(Ok::<Bytes, std::io::Error>(Bytes::from(head(header)))));
    let rest = pages.map(|page| match page {
        Ok(rows) => Ok(Bytes::from(lines(&rows))),
        Err(error) => {
            tracing::error!(status = error.status().as_u16(), code = error.code(), "a CSV download stopped part way");
            Err(std::io::Error::other(error.message().to_owned()))
        }
    });
    (headers(filename), Body::from_stream(first.chain(rest))).into_response()
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
