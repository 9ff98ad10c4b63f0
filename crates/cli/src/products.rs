//! The product description table labels print: read from a CSV file a site
//! provides (ICCBBA's database is licensed, so celltrace ships only an example)
//! and loaded through the command path, so every change is in the ledger.

use celltrace_domain::model::ProductDescription;

/// The example table shipped in `data/`, loaded with the demo.
pub const EXAMPLE: &str = include_str!("../../../data/product-descriptions.example.csv");

/// Reads `code,description` rows (with that header). Every bad row is
/// reported with its line and column; nothing is returned unless all are good.
pub fn parse_csv(text: &str) -> Result<Vec<ProductDescription>, Vec<String>> {
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).flexible(true).from_reader(text.as_bytes());
    let mut errors = Vec::new();
    match reader.headers() {
        Ok(h) if h.iter().collect::<Vec<_>>() == ["code", "description"] => {}
        Ok(h) => errors.push(format!("line 1: the header must be 'code,description', found '{}'", h.iter().collect::<Vec<_>>().join(","))),
        Err(e) => errors.push(format!("line 1: {e}")),
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                errors.push(format!("line {line}: {e}"));
                continue;
            }
        };
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let code = record.get(0).unwrap_or("").to_owned();
        let description = record.get(1).unwrap_or("").to_owned();
        if record.len() != 2 {
            errors.push(format!("line {line}: expected 2 columns (code, description), found {}; quote descriptions that contain commas", record.len()));
            continue;
        }
        if !(code.len() == 5 || code.len() == 8) || !code.chars().all(|c| c.is_ascii_alphanumeric()) {
            errors.push(format!("line {line}, column code: '{code}' is not a 5-character product description code or an 8-character product code"));
            continue;
        }
        if description.is_empty() {
            errors.push(format!("line {line}, column description: empty"));
            continue;
        }
        rows.push(ProductDescription { code, description });
    }
    if rows.is_empty() && errors.is_empty() {
        errors.push("the file has no rows".to_owned());
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_table_reads() {
        let rows = parse_csv(EXAMPLE).expect("example table");
        assert!(rows.iter().any(|r| r.code == "S1003" && r.description.contains("Mesenchymal")));
    }

    #[test]
    fn every_bad_row_is_named_and_nothing_is_returned() {
        let text = "code,description\nS1003,Good row\nS10,Too short\nS2001,\nS3001,\"Commas, quoted\"\nS4001,a,b\n";
        let errors = parse_csv(text).expect_err("bad rows");
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(errors[0].starts_with("line 3, column code"), "{errors:?}");
        assert!(errors[1].starts_with("line 4, column description"), "{errors:?}");
        assert!(errors[2].starts_with("line 6"), "{errors:?}");
        assert!(parse_csv("name,text\nS1003,x\n").is_err());
        assert!(parse_csv("code,description\n").is_err());
    }
}
