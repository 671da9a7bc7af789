//! Splitting a source line into tokens, each with its column.

use crate::error::{Error, Pos};

/// One token of a source line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tok {
    /// A name: a label, mnemonic, register, directive or keyword. Local
    /// labels keep their leading dot; `$` and `$$` are names too.
    Ident(String),
    Number(i64),
    /// A quoted string (single, double or back quotes), without its quotes.
    Str(Vec<u8>),
    /// Punctuation: one of `, : [ ] ( ) + - * / % ~ | & ^ << >>`.
    Punct(&'static str),
}

/// A token and where it starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    pub tok: Tok,
    pub pos: Pos,
}

const PUNCTS: [&str; 17] = [
    "<<", ">>", "//", ",", ":", "[", "]", "(", ")", "+", "-", "*", "/", "%", "~", "|", "&",
];

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || matches!(c, '_' | '.' | '$' | '?' | '@')
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '$' | '?' | '@' | '#' | '~')
}

/// Parses a NASM number: decimal, `0x1F`, `1Fh`, `0b101`, `101b`, `0o17`,
/// `17q`, with `_` separators.
fn parse_number(text: &str) -> Option<i64> {
    let t: String = text.chars().filter(|&c| c != '_').collect();
    let lower = t.to_ascii_lowercase();
    let (digits, radix) = if let Some(rest) = lower.strip_prefix("0x") {
        (rest.to_string(), 16)
    } else if let Some(rest) = lower.strip_prefix("0b") {
        (rest.to_string(), 2)
    } else if let Some(rest) = lower
        .strip_prefix("0o")
        .or_else(|| lower.strip_prefix("0q"))
    {
        (rest.to_string(), 8)
    } else if let Some(rest) = lower.strip_prefix("0d") {
        (rest.to_string(), 10)
    } else if let Some(rest) = lower.strip_suffix('h') {
        (rest.to_string(), 16)
    } else if let Some(rest) = lower.strip_suffix('b') {
        (rest.to_string(), 2)
    } else if let Some(rest) = lower.strip_suffix('q').or_else(|| lower.strip_suffix('o')) {
        (rest.to_string(), 8)
    } else if let Some(rest) = lower.strip_suffix('d') {
        (rest.to_string(), 10)
    } else {
        (lower, 10)
    };
    if digits.is_empty() {
        return None;
    }
    u64::from_str_radix(&digits, radix).ok().map(|v| v as i64)
}

/// Splits one line (without its newline) into tokens, stopping at a comment.
pub fn tokenize(line: &str, file: usize, line_no: usize) -> Result<Vec<Token>, Error> {
    let mut tokens = Vec::new();
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    let pos = |i: usize| Pos {
        file,
        line: line_no,
        column: i + 1,
    };
    while i < chars.len() {
        let c = chars[i];
        if c == ';' {
            break;
        }
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        if c == '\'' || c == '"' || c == '`' {
            let quote = c;
            i += 1;
            let mut bytes = Vec::new();
            while i < chars.len() && chars[i] != quote {
                let mut ch = chars[i];
                if quote == '`' && ch == '\\' && i + 1 < chars.len() {
                    i += 1;
                    ch = match chars[i] {
                        'n' => '\n',
                        't' => '\t',
                        'r' => '\r',
                        '0' => '\0',
                        other => other,
                    };
                }
                let mut buf = [0u8; 4];
                bytes.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                i += 1;
            }
            if i >= chars.len() {
                return Err(Error::new(
                    pos(start),
                    "unterminated string: expected a closing quote",
                ));
            }
            i += 1;
            tokens.push(Token {
                tok: Tok::Str(bytes),
                pos: pos(start),
            });
            continue;
        }
        if c.is_ascii_digit() {
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let text: String = chars[start..i].iter().collect();
            let value = parse_number(&text)
                .ok_or_else(|| Error::new(pos(start), format!("`{text}` is not a number")))?;
            tokens.push(Token {
                tok: Tok::Number(value),
                pos: pos(start),
            });
            continue;
        }
        if is_ident_start(c) {
            i += 1;
            while i < chars.len() && is_ident_char(chars[i]) {
                i += 1;
            }
            let text: String = chars[start..i].iter().collect();
            tokens.push(Token {
                tok: Tok::Ident(text),
                pos: pos(start),
            });
            continue;
        }
        let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
        match PUNCTS.iter().find(|p| rest.starts_with(*p)) {
            Some(p) => {
                i += p.len();
                tokens.push(Token {
                    tok: Tok::Punct(p),
                    pos: pos(start),
                });
            }
            None if c == '^' => {
                i += 1;
                tokens.push(Token {
                    tok: Tok::Punct("^"),
                    pos: pos(start),
                });
            }
            None => {
                return Err(Error::new(
                    pos(start),
                    format!("unexpected character `{c}`"),
                ));
            }
        }
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_every_nasm_radix() {
        for (text, value) in [
            ("42", 42),
            ("0x2A", 42),
            ("2Ah", 42),
            ("0b101010", 42),
            ("101010b", 42),
            ("52q", 42),
            ("0o52", 42),
            ("1_000", 1000),
        ] {
            assert_eq!(parse_number(text), Some(value), "{text}");
        }
        assert_eq!(parse_number("0x"), None);
        assert_eq!(parse_number("12z"), None);
    }

    #[test]
    fn a_line_becomes_tokens_with_columns() {
        let t = tokenize("loop: mov eax, [ebx+4] ; comment", 0, 1).unwrap();
        let kinds: Vec<Tok> = t.iter().map(|t| t.tok.clone()).collect();
        assert_eq!(
            kinds,
            [
                Tok::Ident("loop".into()),
                Tok::Punct(":"),
                Tok::Ident("mov".into()),
                Tok::Ident("eax".into()),
                Tok::Punct(","),
                Tok::Punct("["),
                Tok::Ident("ebx".into()),
                Tok::Punct("+"),
                Tok::Number(4),
                Tok::Punct("]"),
            ]
        );
        assert_eq!(t[2].pos.column, 7);
    }

    #[test]
    fn strings_and_errors() {
        let t = tokenize("db 'hi', `a\\n`", 0, 3).unwrap();
        assert_eq!(t[1].tok, Tok::Str(b"hi".to_vec()));
        assert_eq!(t[3].tok, Tok::Str(b"a\n".to_vec()));
        let e = tokenize("db 'oops", 0, 3).unwrap_err();
        assert_eq!((e.pos.line, e.pos.column), (3, 4));
        assert!(tokenize("mov eax, {", 0, 1).is_err());
    }
}
