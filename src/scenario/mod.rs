//! Reading scenario files: raw serde structures, then validation into runnable models, with every error's file and field path.

pub mod domain;
pub mod network;
pub mod reform;

use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

/// One problem in a scenario file, at a field path such as `node[2].service.mean`.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldError {
    /// Where in the file (`node[2].servers`); empty for the whole file.
    pub field: String,
    /// What is wrong, what was expected and what was given, with a hint where one helps.
    pub message: String,
}

impl FieldError {
    /// An error at `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
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
        write!(
            f,
            "{}: {n} error{} found",
            self.path.display(),
            if n == 1 { "" } else { "s" }
        )?;
        for e in self.errors {
            if e.field.is_empty() {
                write!(f, "\n  {}: {}", self.path.display(), e.message)?;
            } else {
                write!(f, "\n  {}: {}: {}", self.path.display(), e.field, e.message)?;
            }
        }
        Ok(())
    }
}

/// Reads a file into a string.
pub(crate) fn read(path: &Path) -> Result<String, ScenarioError> {
    std::fs::read_to_string(path).map_err(|source| ScenarioError::Io {
        path: path.to_owned(),
        source,
    })
}

/// Parses TOML text into a table, mapping syntax errors to [`ScenarioError::Syntax`].
pub(crate) fn parse_table(path: &Path, text: &str) -> Result<toml::Table, ScenarioError> {
    text.parse::<toml::Table>()
        .map_err(|e| ScenarioError::Syntax {
            path: path.to_owned(),
            message: e.to_string().trim().replace('\n', " ").replace("  ", " "),
        })
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
                e.into_inner().to_string().replace('\n', " "),
            ));
            None
        }
    }
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
