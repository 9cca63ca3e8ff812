//! Finding and reading spec files: the only I/O of this crate.

use crate::diagnostic::{Code, Diagnostic, Span};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{path}: no such file or directory")]
    NotFound { path: PathBuf },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A spec file's text. Files that are not UTF-8 are turned into a diagnostic instead.
#[derive(Clone, Debug)]
pub struct Source {
    pub path: String,
    pub text: String,
}

/// Expands paths: files are taken as given; directories are walked (sorted, recursively)
/// for `*.yaml` and `*.yml`.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, LoadError> {
    let mut out = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => LoadError::NotFound { path: path.clone() },
            _ => LoadError::Io {
                path: path.clone(),
                source: e,
            },
        })?;
        if meta.is_dir() {
            walk(path, &mut out)?;
        } else {
            out.push(path.clone());
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), LoadError> {
    let io = |e| LoadError::Io {
        path: dir.to_path_buf(),
        source: e,
    };
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(io)?;
    entries.sort();
    for path in entries {
        if path.is_dir() {
            walk(&path, out)?;
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        ) {
            out.push(path);
        }
    }
    Ok(())
}

/// Reads files. Oversized or non-UTF-8 files become diagnostics, not I/O errors, so one
/// bad file does not hide the findings in the others.
pub fn read_sources(paths: &[PathBuf]) -> Result<(Vec<Source>, Vec<Diagnostic>), LoadError> {
    let mut sources = Vec::new();
    let mut diags = Vec::new();
    for path in paths {
        let name = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| LoadError::Io {
            path: path.clone(),
            source: e,
        })?;
        if bytes.len() > crate::yaml::MAX_FILE_BYTES {
            // Reported without decoding it.
            diags.push(crate::yaml::too_large(&name, bytes.len()));
            continue;
        }
        match String::from_utf8(bytes) {
            Ok(text) => sources.push(Source { path: name, text }),
            Err(e) => {
                let offset = e.utf8_error().valid_up_to();
                let valid = &e.as_bytes()[..offset];
                let line = valid.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
                let line_start = valid
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map(|i| i + 1)
                    .unwrap_or(0);
                let column = String::from_utf8_lossy(&valid[line_start..])
                    .chars()
                    .count() as u64
                    + 1;
                diags.push(
                    Diagnostic::new(
                        &name,
                        Span {
                            line,
                            column,
                            offset,
                            len: 0,
                        },
                        Code::YamlSyntax,
                        "the file is not valid UTF-8",
                    )
                    .help("save the spec as UTF-8 text"),
                );
            }
        }
    }
    Ok((sources, diags))
}
