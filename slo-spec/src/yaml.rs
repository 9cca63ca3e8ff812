//! A YAML tree that keeps the source span of every node, so that semantic checks can
//! point at the exact key or value. Built on serde-saphyr's `Spanned<T>`.

use crate::diagnostic::{Code, Diagnostic, Span};
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{Location, Spanned};
use std::fmt;

/// Spec files larger than this are rejected before parsing: a service's SLOs fit in a
/// few kilobytes, and the bound keeps memory and time small on hostile input.
pub const MAX_FILE_BYTES: usize = 1024 * 1024;

/// Documents per file. Sloth allows several services in one multi-document file.
const MAX_DOCUMENTS: usize = 64;
/// Nesting depth; specs need about six levels.
const MAX_DEPTH: usize = 32;

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Key, Node)>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub value: Value,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Key {
    pub name: String,
    pub span: Span,
}

impl Node {
    /// What kind of node this is, in the words of an error message.
    pub fn kind(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) | Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

/// One document of a file.
pub struct Document {
    pub root: Node,
}

/// E018 for a file of `len` bytes, over [`MAX_FILE_BYTES`].
pub fn too_large(file: &str, len: usize) -> Diagnostic {
    Diagnostic::new(
        file,
        Span::START,
        Code::FileTooLarge,
        format!("spec file is {len} bytes; the limit is {MAX_FILE_BYTES} bytes"),
    )
    .help("split the file into one file per service")
}

/// Parses `src` into documents. A syntax error is returned as a diagnostic at its position;
/// the parser's budget bounds aliases, depth and node counts, so alias bombs and deep
/// nesting fail fast instead of exhausting memory.
pub fn parse(file: &str, src: &str) -> Result<Vec<Document>, Diagnostic> {
    if src.len() > MAX_FILE_BYTES {
        return Err(too_large(file, src.len()));
    }
    let options = serde_saphyr::options! {
        with_snippet: false,
        budget: serde_saphyr::budget! {
            max_documents: MAX_DOCUMENTS,
            max_depth: MAX_DEPTH,
            max_nodes: 100_000,
            max_aliases: 1_000,
        },
    };
    let docs: Vec<Spanned<RawValue>> = serde_saphyr::from_str_multiple_with_options(src, options)
        .map_err(|e| {
        let span = e
            .location()
            .map(|l| span_of(src, &l))
            .unwrap_or(Span::START);
        Diagnostic::new(file, span, Code::YamlSyntax, yaml_message(&e))
            .help("fix the YAML syntax at this position")
    })?;
    Ok(docs
        .into_iter()
        .map(|d| Document {
            root: convert(src, d),
        })
        .filter(|d| d.root.value != Value::Null)
        .collect())
}

/// serde-saphyr prefixes its messages with the position, which our diagnostics carry
/// separately.
fn yaml_message(e: &serde_saphyr::Error) -> String {
    let text = e.without_snippet().to_string();
    let text = text.strip_prefix("error: ").unwrap_or(&text);
    let text = match text.strip_prefix("line ") {
        Some(rest) => match rest.find(": ") {
            Some(i) if rest[..i].contains("column") => &rest[i + 2..],
            _ => text,
        },
        None => text,
    };
    let mut first = text.lines().next().unwrap_or("invalid YAML").trim();
    if let Some(i) = first.rfind(" at line ") {
        if first[i + 9..]
            .bytes()
            .all(|b| b.is_ascii_digit() || b", column".contains(&b))
        {
            first = &first[..i];
        }
    }
    format!("invalid YAML: {first}")
}

fn span_of(src: &str, loc: &Location) -> Span {
    let s = loc.span();
    let offset = s
        .byte_offset()
        .map(|o| o as usize)
        .unwrap_or_else(|| char_to_byte(src, s.offset() as usize));
    let len = s.byte_len().map(|l| l as usize).unwrap_or(0);
    let offset = offset.min(src.len());
    Span {
        line: loc.line().max(1),
        column: loc.column().max(1),
        offset,
        len: len.min(src.len() - offset),
    }
}

fn char_to_byte(src: &str, chars: usize) -> usize {
    src.char_indices()
        .nth(chars)
        .map(|(i, _)| i)
        .unwrap_or(src.len())
}

fn convert(src: &str, raw: Spanned<RawValue>) -> Node {
    let span = span_of(src, &raw.referenced);
    let value = match raw.value {
        RawValue::Null => Value::Null,
        RawValue::Bool(b) => Value::Bool(b),
        RawValue::Int(i) => Value::Int(i),
        RawValue::Float(f) => Value::Float(f),
        RawValue::Str(s) => Value::Str(s),
        RawValue::Seq(items) => Value::Seq(items.into_iter().map(|n| convert(src, n)).collect()),
        RawValue::Map(entries) => Value::Map(
            entries
                .into_iter()
                .map(|(k, v)| {
                    (
                        Key {
                            span: span_of(src, &k.referenced),
                            name: k.value,
                        },
                        convert(src, v),
                    )
                })
                .collect(),
        ),
    };
    Node { value, span }
}

/// What serde-saphyr hands us; converted into [`Node`] with our own span type.
enum RawValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Spanned<RawValue>>),
    Map(Vec<(Spanned<String>, Spanned<RawValue>)>),
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = RawValue;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a YAML node")
    }
    fn visit_unit<E>(self) -> Result<RawValue, E> {
        Ok(RawValue::Null)
    }
    fn visit_none<E>(self) -> Result<RawValue, E> {
        Ok(RawValue::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<RawValue, E> {
        Ok(RawValue::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<RawValue, E> {
        Ok(RawValue::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<RawValue, E> {
        Ok(match i64::try_from(v) {
            Ok(i) => RawValue::Int(i),
            Err(_) => RawValue::Float(v as f64),
        })
    }
    fn visit_i128<E>(self, v: i128) -> Result<RawValue, E> {
        Ok(RawValue::Float(v as f64))
    }
    fn visit_u128<E>(self, v: u128) -> Result<RawValue, E> {
        Ok(RawValue::Float(v as f64))
    }
    fn visit_f64<E>(self, v: f64) -> Result<RawValue, E> {
        Ok(RawValue::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<RawValue, E> {
        Ok(RawValue::Str(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<RawValue, E> {
        Ok(RawValue::Str(v))
    }
    fn visit_bytes<E: serde::de::Error>(self, _: &[u8]) -> Result<RawValue, E> {
        Err(E::custom("binary values are not allowed in a spec"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawValue, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(RawValue::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawValue, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key()? {
            let value = map.next_value()?;
            entries.push((key, value));
        }
        Ok(RawValue::Map(entries))
    }
}

impl<'de> Deserialize<'de> for RawValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<RawValue, D::Error> {
        d.deserialize_any(RawVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(src: &str, expected: &str) {
        let got = match parse("t.yaml", src) {
            Ok(docs) => format!("{} document(s)", docs.len()),
            Err(d) => d.to_string(),
        };
        assert_eq!(got, expected);
    }

    #[test]
    fn parses_and_reports() {
        check("a: 1\n", "1 document(s)");
        check("", "0 document(s)");
        check("---\na: 1\n---\nb: 2\n", "2 document(s)");
        check(
            "a: [1, 2\nb: c",
            "t.yaml:2:2: error[E001]: invalid YAML: illegal placement of ':' indicator",
        );
        check(
            "a: 1\na: 2\n",
            "t.yaml:2:1: error[E001]: invalid YAML: duplicate mapping key: a, set DuplicateKeyPolicy in Options if acceptable",
        );
    }

    #[test]
    fn alias_bomb_is_bounded() {
        let mut src = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            src.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let err = parse("t.yaml", &src)
            .err()
            .expect("alias bomb must be refused");
        assert_eq!(err.code, Code::YamlSyntax);
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let src = format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(parse("t.yaml", &src).is_err());
        let src = "a:\n".to_string()
            + &(1..200)
                .map(|i| format!("{}b:\n", " ".repeat(i * 2)))
                .collect::<String>();
        assert!(parse("t.yaml", &src).is_err());
    }

    #[test]
    fn oversized_file_is_refused() {
        let src = format!("a: \"{}\"\n", "x".repeat(MAX_FILE_BYTES));
        assert_eq!(
            parse("t.yaml", &src).err().map(|d| d.code),
            Some(Code::FileTooLarge)
        );
    }
}
