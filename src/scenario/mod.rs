//! Reading scenario files: raw serde structures, then validation into runnable models, with every error's file and field path.

pub mod domain;
pub mod init;
pub mod limits;
pub mod network;
pub mod path;
pub mod reference;
pub mod reform;

use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

pub use crate::field::FieldError;

/// How a file came to be read, which decides what its errors may show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Named by the user on the command line: errors may quote its lines.
    Named,
    /// Referenced from another file (`extends`, a sweep's `base`): it must be
    /// a `.toml` file, and its errors give a place, never its content.
    Referenced,
}

/// Why a scenario file could not be used: the boundary error of the `scenario` layer.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("{}: cannot read the file: {source}; check the path and permissions", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not valid TOML.
    #[error("{}: not valid TOML: {message}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The parser's message, with line and column.
        message: String,
    },
    /// The file may not be read: not a regular file, too large, not UTF-8, or
    /// a referenced file without the `.toml` extension.
    #[error("{}: {why}", path.display())]
    Refused {
        /// The file.
        path: PathBuf,
        /// Why, with what to do instead.
        why: String,
    },
    /// The file is valid TOML but describes an invalid model; every problem found is listed.
    #[error("{}", Invalid { path, errors })]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Every problem found.
        errors: Vec<FieldError>,
    },
}

/// Formats the errors of an invalid file, one per line.
struct Invalid<'a> {
    path: &'a Path,
    errors: &'a [FieldError],
}

impl fmt::Display for Invalid<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.errors.len();
        let mut files: Vec<&Path> = self
            .errors
            .iter()
            .map(|e| e.file.as_deref().unwrap_or(self.path))
            .collect();
        files.sort();
        files.dedup();
        write!(
            f,
            "{}: {n} error{} found",
            self.path.display(),
            if n == 1 { "" } else { "s" }
        )?;
        if files.len() > 1 || files.first().is_some_and(|p| *p != self.path) {
            write!(
                f,
                " in {} file{}",
                files.len(),
                if files.len() == 1 { "" } else { "s" }
            )?;
        }
        for e in self.errors {
            let file = e.file.as_deref().unwrap_or(self.path).display();
            if e.field.is_empty() {
                write!(f, "\n  {file}: {}", e.message)?;
            } else {
                write!(f, "\n  {file}: {}: {}", e.field, e.message)?;
            }
        }
        Ok(())
    }
}

/// Reads a scenario, network or sweep file: a regular file (not a device,
/// FIFO or folder) of at most [`limits::MAX_FILE_BYTES`], and with the
/// `.toml` extension when it is referenced from another file.
pub(crate) fn read(path: &Path, origin: Origin) -> Result<String, ScenarioError> {
    read_capped(path, origin == Origin::Referenced, "toml")
}

/// Reads a regular file of at most [`limits::MAX_FILE_BYTES`], requiring
/// the extension `ext` when `need_ext`.
pub fn read_capped(path: &Path, need_ext: bool, ext: &str) -> Result<String, ScenarioError> {
    use std::io::Read;
    let refuse = |why: String| ScenarioError::Refused {
        path: path.to_owned(),
        why,
    };
    if need_ext && path.extension().and_then(|e| e.to_str()) != Some(ext) {
        return Err(refuse(format!(
            "a referenced file must be a .{ext} file; name the {ext} file itself"
        )));
    }
    let io = |source| ScenarioError::Io {
        path: path.to_owned(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        return Err(refuse(
            "not a regular file (a folder, device or pipe); name a file".into(),
        ));
    }
    if meta.len() > limits::MAX_FILE_BYTES {
        return Err(refuse(format!(
            "{} bytes is over the limit of {} MiB for an input file",
            meta.len(),
            limits::MAX_FILE_BYTES >> 20
        )));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .map_err(io)?
        .take(limits::MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > limits::MAX_FILE_BYTES {
        return Err(refuse(format!(
            "grew past the limit of {} MiB while it was read",
            limits::MAX_FILE_BYTES >> 20
        )));
    }
    String::from_utf8(bytes).map_err(|e| {
        refuse(format!(
            "not UTF-8 text (bad bytes at byte {}); save it as UTF-8",
            e.utf8_error().valid_up_to()
        ))
    })
}

/// Parses TOML text into a table, mapping syntax errors to
/// [`ScenarioError::Syntax`]: with the offending line when the user named
/// a `.toml` file, else only the line, column and reason (no content of a
/// file the user did not name is ever shown).
pub(crate) fn parse_table(
    path: &Path,
    text: &str,
    origin: Origin,
) -> Result<toml::Table, ScenarioError> {
    text.parse::<toml::Table>().map_err(|e| {
        let quotable =
            origin == Origin::Named && path.extension().and_then(|x| x.to_str()) == Some("toml");
        let message = if quotable {
            e.to_string().trim().replace('\n', " ").replace("  ", " ")
        } else {
            let (line, col) = e.span().map_or((0, 0), |s| line_col(text, s.start));
            format!("at line {line}, column {col}: {}", e.message())
        };
        ScenarioError::Syntax {
            path: path.to_owned(),
            message,
        }
    })
}

/// The 1-based line and column (in characters) of byte `at` of `text`.
fn line_col(text: &str, at: usize) -> (usize, usize) {
    let before = text.get(..at.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// Masks the values a message quotes (`` `x` `` or `"x"`) before its first
/// "expected", keeping what the schema expects: errors about a file the user
/// did not name must not echo its content.
pub(crate) fn redact(message: &str) -> String {
    let (head, tail) = match message.find("expected") {
        Some(i) => message.split_at(i),
        None => (message, ""),
    };
    let mut out = String::with_capacity(message.len());
    let mut quote: Option<char> = None;
    for c in head.chars() {
        match quote {
            Some(q) if c == q => {
                out.push('…');
                out.push(c);
                quote = None;
            }
            Some(_) => {}
            None => {
                out.push(c);
                if c == '`' || c == '"' {
                    quote = Some(c);
                }
            }
        }
    }
    if quote.is_some() {
        out.push('…');
    }
    out.push_str(tail);
    out
}

/// The keys of `required` that the table `value` lacks (none when it is not a table).
pub(crate) fn missing_keys<'a>(value: &toml::Value, required: &[&'a str]) -> Vec<&'a str> {
    match value.as_table() {
        Some(t) => required
            .iter()
            .copied()
            .filter(|k| !t.contains_key(*k))
            .collect(),
        None => Vec::new(),
    }
}

/// Deserialises `value` as `T`, recording a type error with its full field path under `prefix`.
pub(crate) fn typed<T: DeserializeOwned>(
    prefix: &str,
    value: toml::Value,
    errors: &mut Vec<FieldError>,
) -> Option<T> {
    match serde_path_to_error::deserialize::<_, T>(value) {
        Ok(v) => Some(v),
        Err(e) => {
            let inner = e.path().to_string();
            let field = match (prefix.is_empty(), inner == ".") {
                (_, true) => prefix.to_string(),
                (true, false) => inner,
                (false, false) => format!("{prefix}.{inner}"),
            };
            errors.push(FieldError::new(
                field,
                compact_numbers(&e.into_inner().to_string().replace('\n', " ")),
            ));
            None
        }
    }
}

/// Rewrites the very long numbers a message quotes (serde prints 1e300 with
/// 300 digits) in scientific notation.
fn compact_numbers(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut token = String::new();
    let flush = |token: &mut String, out: &mut String| {
        if token.len() > 24
            && let Ok(x) = token.parse::<f64>()
        {
            out.push_str(&format!("{x:e}"));
        } else {
            out.push_str(token);
        }
        token.clear();
    };
    for c in message.chars() {
        if c.is_ascii_digit() || (c == '.' && !token.is_empty()) || (c == '-' && token.is_empty()) {
            token.push(c);
        } else {
            flush(&mut token, &mut out);
            out.push(c);
        }
    }
    flush(&mut token, &mut out);
    out
}

/// Deserialises the array of tables at `key` entry by entry, so that an error
/// in one entry does not hide the errors of the others.
pub(crate) fn typed_array<T: DeserializeOwned>(
    table: &mut toml::Table,
    key: &str,
    errors: &mut Vec<FieldError>,
) -> Vec<Option<T>> {
    match table.remove(key) {
        None => Vec::new(),
        Some(toml::Value::Array(items)) => items
            .into_iter()
            .enumerate()
            .map(|(i, v)| typed(&format!("{key}[{i}]"), v, errors))
            .collect(),
        Some(other) => {
            errors.push(FieldError::new(
                key,
                format!(
                    "expected an array of tables (`[[{key}]]`), found a {}",
                    other.type_str()
                ),
            ));
            Vec::new()
        }
    }
}
