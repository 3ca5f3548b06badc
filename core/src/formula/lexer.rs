//! Tokens of the formula language, each with its byte position for error messages.

use crate::{Error, Result};

#[derive(Debug, Clone, PartialEq)]
pub enum Token {
    Ident(String),
    Int(i64),
    Long(i64),
    Float(f64),
    Str(String),
    /// A time literal in single quotes (`'2026-01-05T17:00:00Z'`, `'PT1m'`, `'ET'`), read by
    /// `crate::time::literal` when the formula compiles.
    Time(String),
    /// `( ) [ ] , . ? : + - * / % ! = == != < <= > >= && ||`
    Op(&'static str),
}

impl std::fmt::Display for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Token::Ident(s) => f.write_str(s),
            Token::Int(v) => write!(f, "{v}"),
            Token::Long(v) => write!(f, "{v}L"),
            Token::Float(v) => f.write_str(&crate::float_text::display(*v)),
            Token::Str(s) => write!(f, "`{s}`"),
            Token::Time(s) => write!(f, "'{s}'"),
            Token::Op(op) => f.write_str(op),
        }
    }
}

const OPS: &[&str] = &[
    "==", "!=", "<=", ">=", "&&", "||", "(", ")", "[", "]", ",", ".", "?", ":", "+", "-", "*", "/",
    "%", "!", "=", "<", ">",
];

/// Splits `text` into tokens with their byte offsets.
pub fn tokenize(text: &str) -> Result<Vec<(usize, Token)>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        if c.is_ascii_alphabetic() || c == b'_' {
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            out.push((start, Token::Ident(text[start..i].to_owned())));
        } else if c.is_ascii_digit() {
            while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'_') {
                i += 1;
            }
            let mut float = false;
            if i + 1 < bytes.len() && bytes[i] == b'.' && bytes[i + 1].is_ascii_digit() {
                float = true;
                i += 1;
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
            }
            if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
                float = true;
                i += 1;
                if i < bytes.len() && (bytes[i] == b'+' || bytes[i] == b'-') {
                    i += 1;
                }
                let exponent = i;
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
                // Checked here, not left to the float parser: the host's (JavaScript's
                // parseFloat in the page) would read `1e` as 1.
                if i == exponent {
                    return Err(Error::Formula {
                        position: start,
                        message: format!(
                            "bad number {:?}: an exponent needs digits",
                            &text[start..i]
                        ),
                    });
                }
            }
            let digits: String = text[start..i].chars().filter(|&c| c != '_').collect();
            // Java-style suffixes: 10L, 1.5d.
            let mut long = false;
            if i < bytes.len() && matches!(bytes[i], b'L' | b'l' | b'd' | b'D' | b'f' | b'F') {
                float |= matches!(bytes[i], b'd' | b'D' | b'f' | b'F');
                long = !float;
                i += 1;
            }
            let bad = || Error::Formula {
                position: start,
                message: format!("bad number {:?}", &text[start..i]),
            };
            out.push((
                start,
                if float {
                    {
                        crate::text::require("a float literal").map_err(|message| {
                            Error::Formula {
                                position: start,
                                message,
                            }
                        })?;
                        Token::Float(crate::text::parse_f64(&digits).ok_or_else(bad)?)
                    }
                } else if long {
                    Token::Long(digits.parse().map_err(|_| bad())?)
                } else {
                    Token::Int(digits.parse().map_err(|_| bad())?)
                },
            ));
        } else if c == b'\'' {
            let content_start = i + 1;
            let Some(len) = text[content_start..].find('\'') else {
                return Err(Error::Formula {
                    position: start,
                    message: "unterminated time literal (a quote ' without its closing one)".into(),
                });
            };
            out.push((
                start,
                Token::Time(text[content_start..content_start + len].to_owned()),
            ));
            i = content_start + len + 1;
        } else if c == b'`' || c == b'"' {
            let quote = c;
            i += 1;
            let content_start = i;
            while i < bytes.len() && bytes[i] != quote {
                i += 1;
            }
            if i == bytes.len() {
                return Err(Error::Formula {
                    position: start,
                    message: "unterminated string literal".into(),
                });
            }
            out.push((start, Token::Str(text[content_start..i].to_owned())));
            i += 1;
        } else if let Some(op) = OPS.iter().find(|op| text[i..].starts_with(**op)) {
            i += op.len();
            out.push((start, Token::Op(op)));
        } else {
            let ch = text[i..].chars().next().unwrap_or('?');
            return Err(Error::Formula {
                position: start,
                message: format!("unexpected character {ch:?}"),
            });
        }
    }
    Ok(out)
}
