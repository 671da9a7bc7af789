//! Share links: the lesson, the program (if edited), the breakpoints and
//! the point in time, in the URL's fragment. A link is untrusted input: it
//! is decoded defensively, bounded, and nothing in it becomes markup.

/// What a link says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Link {
    pub lesson: Option<String>,
    pub source: Option<String>,
    pub breakpoints: Vec<u32>,
    pub step: u64,
}

/// The most steps a link may ask to replay, so a link cannot freeze the page.
pub const MAX_LINK_STEPS: u64 = 5_000_000;
/// The longest program a link may carry.
const MAX_SOURCE: usize = 64 * 1024;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn b64_encode(data: &[u8]) -> String {
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

fn b64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut acc = 0u32;
    let mut bits = 0;
    for c in text.bytes() {
        let v = ALPHABET.iter().position(|&a| a == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
        if out.len() > MAX_SOURCE {
            return None;
        }
    }
    Some(out)
}

impl Link {
    /// The fragment for this link (without the `#`).
    pub fn encode(&self) -> String {
        let mut parts = Vec::new();
        if let Some(l) = &self.lesson {
            parts.push(format!("lesson={}", l));
        }
        if let Some(s) = &self.source {
            parts.push(format!("src={}", b64_encode(s.as_bytes())));
        }
        if !self.breakpoints.is_empty() {
            let list: Vec<String> = self.breakpoints.iter().map(|b| format!("{b:x}")).collect();
            parts.push(format!("bp={}", list.join(",")));
        }
        if self.step > 0 {
            parts.push(format!("step={}", self.step));
        }
        parts.join("&")
    }

    /// Reads a fragment; what is malformed is dropped, with the reasons.
    pub fn decode(fragment: &str) -> (Link, Vec<String>) {
        let mut link = Link::default();
        let mut problems = Vec::new();
        for part in fragment
            .trim_start_matches('#')
            .split('&')
            .filter(|p| !p.is_empty())
            .take(16)
        {
            let (key, value) = part.split_once('=').unwrap_or((part, ""));
            match key {
                "lesson" => {
                    if value.len() <= 40
                        && value
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    {
                        link.lesson = Some(value.to_string());
                    } else {
                        problems.push("the lesson name is not one".to_string());
                    }
                }
                "src" => match b64_decode(value).and_then(|b| String::from_utf8(b).ok()) {
                    Some(s) => link.source = Some(s),
                    None => problems.push("the program in the link is damaged".to_string()),
                },
                "bp" => {
                    for b in value.split(',').take(64) {
                        match u32::from_str_radix(b, 16) {
                            Ok(a) => link.breakpoints.push(a),
                            Err(_) => problems.push(format!(
                                "breakpoint `{}` is not an address",
                                b.chars().take(12).collect::<String>()
                            )),
                        }
                    }
                }
                "step" => match value.parse::<u64>() {
                    Ok(n) if n <= MAX_LINK_STEPS => link.step = n,
                    _ => problems.push(format!("the step must be a number up to {MAX_LINK_STEPS}")),
                },
                _ => problems.push(format!(
                    "unknown part `{}`",
                    key.chars().take(12).collect::<String>()
                )),
            }
        }
        (link, problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_round_trip() {
        let link = Link {
            lesson: Some("demand-paging".into()),
            source: Some("mov eax, 1 ; ünïcode\n".into()),
            breakpoints: vec![0x1000, 0x8010_0000],
            step: 1234,
        };
        let (back, problems) = Link::decode(&link.encode());
        assert_eq!(back, link);
        assert!(problems.is_empty());
    }

    #[test]
    fn hostile_links_are_refused_piece_by_piece() {
        let (link, problems) =
            Link::decode("#lesson=<script>&step=99999999999&bp=zz,10&src=%%%&x=1");
        assert_eq!(link.lesson, None);
        assert_eq!(link.step, 0);
        assert_eq!(link.breakpoints, [0x10]);
        assert_eq!(link.source, None);
        assert_eq!(problems.len(), 5, "{problems:?}");
    }
}
