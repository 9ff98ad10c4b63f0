//! Positions and names in the TOML data files' error messages, shared by the
//! instrument and schedule loaders so both report line, column and field alike.

/// Byte offset → (line, column), both 1-based.
pub(crate) fn position(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rfind('\n').map_or(before.chars().count(), |nl| {
        before.get(nl + 1..).map_or(0, |s| s.chars().count())
    }) + 1;
    (line, column)
}

/// The parser's message for people; the toml crate gives none when a value
/// is missing at the end of the text (`name =`), so say what is wrong.
pub(crate) fn parse_message(raw: &str) -> String {
    let message = raw.trim();
    if message.is_empty() {
        "a value is missing here: write key = value, e.g. name = \"text\"".to_owned()
    } else {
        message.to_owned()
    }
}

/// The first name between backticks in a serde message (`missing field `x``).
pub(crate) fn backticked(message: &str) -> Option<String> {
    let start = message.find('`')? + 1;
    let rest = message.get(start..)?;
    let end = rest.find('`')?;
    rest.get(..end).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_value_still_gets_a_message() {
        assert!(parse_message("").contains("value is missing"));
        assert_eq!(parse_message(" expected `=` \n"), "expected `=`");
        assert_eq!(position("a\nbc", 3), (2, 2));
        assert_eq!(backticked("missing field `id`").as_deref(), Some("id"));
    }
}
