//! Errors in a scenario file, each located at file:line:column and naming the field and what
//! was expected. Validation works on plain values and records a field *path*; this module finds
//! that path's span in the TOML text, so checks need not carry spans themselves.

use std::fmt;

/// One step of a path into the TOML document: a key or an array index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathSegment {
    Key(String),
    Index(usize),
}

/// A field's path, shown as `call_types[2].outcomes.police.arrest`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldPath(pub Vec<PathSegment>);

impl FieldPath {
    pub fn root() -> Self {
        Self(Vec::new())
    }

    /// This path with a key appended.
    pub fn key(&self, key: &str) -> Self {
        let mut segments = self.0.clone();
        segments.push(PathSegment::Key(key.to_string()));
        Self(segments)
    }

    /// This path with an array index appended.
    pub fn index(&self, index: usize) -> Self {
        let mut segments = self.0.clone();
        segments.push(PathSegment::Index(index));
        Self(segments)
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                PathSegment::Key(key) if i == 0 => write!(f, "{key}")?,
                PathSegment::Key(key) => write!(f, ".{key}")?,
                PathSegment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

/// A place in a file, 1-based.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    pub line: usize,
    pub column: usize,
    /// The source line, for a caret display.
    pub source_line: String,
}

impl Location {
    /// The location of byte `offset` in `text`.
    pub fn at(file: &str, text: &str, offset: usize) -> Self {
        let offset = offset.min(text.len());
        let before = &text[..offset];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
        Self {
            file: file.to_string(),
            line: before.matches('\n').count() + 1,
            column: text[line_start..offset].chars().count() + 1,
            source_line: text[line_start..line_end]
                .trim_end_matches('\r')
                .to_string(),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// One thing wrong with a scenario's content.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    pub location: Option<Location>,
    pub field: String,
    pub expected: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Some(location) => write!(
                f,
                "{location}: {}: expected {}{}",
                self.field,
                self.expected,
                caret(location)
            ),
            None => write!(f, "{}: expected {}", self.field, self.expected),
        }
    }
}

/// The longest stretch of a source line shown under an error; longer lines are cut around the
/// column, so a megabyte-long line neither floods the terminal nor breaks the formatting.
const SHOWN_CHARS: usize = 120;

/// The source line with a caret under the column, rustc style.
fn caret(location: &Location) -> String {
    if location.source_line.is_empty() {
        return String::new();
    }
    let gutter = location.line.to_string().len();
    let chars: Vec<char> = location.source_line.chars().collect();
    // 0-based position of the column within the line.
    let at = location.column.saturating_sub(1);
    let start = if chars.len() > SHOWN_CHARS {
        at.saturating_sub(SHOWN_CHARS / 2)
            .min(chars.len() - SHOWN_CHARS)
    } else {
        0
    };
    let end = (start + SHOWN_CHARS).min(chars.len());
    let before = if start > 0 { "..." } else { "" };
    let after = if end < chars.len() { "..." } else { "" };
    let shown: String = chars[start..end].iter().collect();
    // Spaces built by hand: a width over 65535 in a format string panics.
    let pad = " ".repeat(before.len() + at.saturating_sub(start));
    format!(
        "\n {:gutter$} |\n {} | {before}{shown}{after}\n {:gutter$} | {pad}^",
        "", location.line, "",
    )
}

/// Why a scenario could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("cannot read scenario {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The text is not valid TOML, or does not have the scenario's shape (unknown key, missing
    /// field, wrong type).
    #[error("{}", syntax_message(.location, .message))]
    Syntax {
        location: Option<Location>,
        message: String,
    },
    /// The shape is right but values are not (shares that do not sum to 1, ...).
    #[error("{}", invalid_message(.file, .problems))]
    Invalid {
        file: String,
        problems: Vec<Problem>,
    },
}

fn syntax_message(location: &Option<Location>, message: &str) -> String {
    let message = message.trim_end();
    match location {
        Some(location) => format!("{location}: {message}{}", caret(location)),
        None => message.to_string(),
    }
}

fn invalid_message(file: &str, problems: &[Problem]) -> String {
    let mut out = format!(
        "scenario {file} has {} problem{}:",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    );
    for problem in problems {
        out.push('\n');
        out.push_str(&problem.to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_display_like_toml_access() {
        let path = FieldPath::root()
            .key("call_types")
            .index(2)
            .key("outcomes")
            .key("police");
        assert_eq!(path.to_string(), "call_types[2].outcomes.police");
    }

    #[test]
    fn location_counts_lines_and_columns_from_one() {
        let text = "a = 1\nbb = 22\n";
        let location = Location::at("f.toml", text, text.find("22").unwrap());
        assert_eq!((location.line, location.column), (2, 6));
        assert_eq!(location.source_line, "bb = 22");
        assert_eq!(location.to_string(), "f.toml:2:6");
    }
}
