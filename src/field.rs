//! A problem at a field path of an input file: the error unit every reader reports, all at once, with its file.

use std::path::{Path, PathBuf};

/// One problem in a scenario file, at a field path such as `node[2].service.mean`.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldError {
    /// Where in the file (`node[2].servers`); empty for the whole file.
    pub field: String,
    /// What is wrong, what was expected and what was given, with a hint where one helps.
    pub message: String,
    /// The file the problem is in, when it is not the file the error is reported for
    /// (a base in an `extends` chain).
    pub file: Option<PathBuf>,
}

impl FieldError {
    /// An error at `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
            file: None,
        }
    }

    /// The same error, placed in `file`.
    pub fn in_file(mut self, file: &Path) -> Self {
        self.file = Some(file.to_path_buf());
        self
    }
}

/// The nearest of `names` to `want` by edit distance, if it is close enough
/// to be a likely misspelling (at most half the longer name's length).
pub fn closest<'a>(want: &str, names: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    names
        .into_iter()
        .map(|n| (strsim::levenshtein(n, want), n))
        .filter(|(d, n)| *d <= want.len().max(n.len()) / 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n)
}
