//! Share links: the lesson (and so the kernel), the program (if edited),
//! the breakpoints (by source line), what was typed and when, the point in
//! time and projector mode's panels, in the URL's fragment. A link is untrusted input: it
//! is decoded defensively, bounded, and nothing in it becomes markup.

use osviz_course::Panel;

/// What a link says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Link {
    pub lesson: Option<String>,
    pub source: Option<String>,
    /// Breakpoints as (file, line).
    pub breakpoints: Vec<(String, usize)>,
    pub step: Option<u64>,
    /// The panels projector mode shows, when the instructor chose them.
    pub panels: Option<Vec<Panel>>,
    pub projector: bool,
    /// Keys typed after the lesson's start: (step, byte), in order.
    pub keys: Vec<(u64, u8)>,
}

/// The most typed keys a link carries.
pub const MAX_LINK_KEYS: usize = 512;

/// The most steps a link may ask to replay, so a link cannot freeze the
/// page: xv6 reaches its prompt at 14 M, and the replay takes the block
/// path (about 0.5 s for 100 M steps in the page).
pub const MAX_LINK_STEPS: u64 = 100_000_000;
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
            let list: Vec<String> = self
                .breakpoints
                .iter()
                .map(|(f, l)| format!("{f}:{l}"))
                .collect();
            parts.push(format!("bl={}", list.join(",")));
        }
        if let Some(step) = self.step {
            parts.push(format!("step={step}"));
        }
        if let Some(p) = &self.panels {
            let names: Vec<String> = p.iter().map(|n| n.name().replace(' ', "_")).collect();
            parts.push(format!("panels={}", names.join(",")));
        }
        if !self.keys.is_empty() {
            let list: Vec<String> = self
                .keys
                .iter()
                .map(|(step, b)| format!("{step}.{b:x}"))
                .collect();
            parts.push(format!("keys={}", list.join(",")));
        }
        if self.projector {
            parts.push("projector=1".into());
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
                "bl" => {
                    for b in value.split(',').filter(|b| !b.is_empty()).take(64) {
                        let parsed = b.rsplit_once(':').and_then(|(f, l)| {
                            let ok = f.len() <= 40
                                && f.bytes()
                                    .all(|c| c.is_ascii_alphanumeric() || b"._-".contains(&c));
                            Some((f.to_string(), l.parse::<usize>().ok()?)).filter(|_| ok)
                        });
                        match parsed {
                            Some(bl) => link.breakpoints.push(bl),
                            None => problems.push(format!(
                                "breakpoint `{}` is not file:line",
                                b.chars().take(24).collect::<String>()
                            )),
                        }
                    }
                }
                "step" => match value.parse::<u64>() {
                    Ok(n) if n <= MAX_LINK_STEPS => link.step = Some(n),
                    _ => problems.push(format!(
                        "the step `{}` is not a number up to {MAX_LINK_STEPS}",
                        value.chars().take(20).collect::<String>()
                    )),
                },
                "panels" => {
                    let mut panels = Vec::new();
                    for name in value.split(',').filter(|n| !n.is_empty()).take(16) {
                        let name: String = name.replace('_', " ").chars().take(20).collect();
                        match Panel::from_name(&name) {
                            Ok(p) => panels.push(p),
                            Err(e) => problems.push(format!("{e}, so it is not shown")),
                        }
                    }
                    link.panels = Some(panels);
                }
                "projector" => link.projector = value == "1",
                "keys" => {
                    for k in value
                        .split(',')
                        .filter(|k| !k.is_empty())
                        .take(MAX_LINK_KEYS)
                    {
                        let parsed = k.split_once('.').and_then(|(step, byte)| {
                            let step = step.parse::<u64>().ok().filter(|&s| s <= MAX_LINK_STEPS)?;
                            Some((step, u8::from_str_radix(byte, 16).ok()?))
                        });
                        match parsed {
                            Some(key) if link.keys.last().is_none_or(|l| l.0 <= key.0) => {
                                link.keys.push(key)
                            }
                            _ => {
                                problems.push(format!(
                                    "typed key `{}` is not step.hex in order",
                                    k.chars().take(24).collect::<String>()
                                ));
                                break;
                            }
                        }
                    }
                }
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
            breakpoints: vec![("hello.asm".into(), 12), ("kernel.asm".into(), 300)],
            step: Some(1234),
            panels: Some(vec![Panel::KernelStack, Panel::Idt]),
            projector: true,
            keys: vec![(14_100_000, b'l'), (14_100_000, b's'), (14_200_000, b'\n')],
        };
        let (back, problems) = Link::decode(&link.encode());
        assert_eq!(back, link);
        assert!(problems.is_empty());
    }

    #[test]
    fn hostile_links_are_refused_piece_by_piece() {
        let (link, problems) = Link::decode(
            "#lesson=<script>&step=99999999999&bl=zz,a.asm:10&src=%%%&x=1&keys=5.6c,4.zz&panels=IDT,Consle",
        );
        assert_eq!(link.lesson, None);
        assert_eq!(link.step, None);
        assert_eq!(link.breakpoints, [("a.asm".to_string(), 10)]);
        assert_eq!(link.source, None);
        assert_eq!(link.keys, [(5, b'l')], "keys up to the first bad one");
        assert_eq!(link.panels, Some(vec![Panel::Idt]), "the known panel stays");
        assert!(
            problems
                .contains(&"there is no panel called \"Consle\", so it is not shown".to_string()),
            "{problems:?}"
        );
        assert_eq!(problems.len(), 7, "{problems:?}");
    }
}
