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
    /// What the guest's CMOS clock read at step 0 (Unix seconds), on a
    /// board that has one: a replay then reads the same time.
    pub clock: Option<u64>,
}

/// The most typed keys a link carries (about 3 characters of the address
/// each, typed together; a new step costs its distance from the last).
pub const MAX_LINK_KEYS: usize = 4096;

/// The most steps a link may ask for: far past what a student runs the
/// page to (full speed passes about 65 M steps a second, so this is hours
/// of running), and a bound on what an untrusted link may ask to replay.
pub const MAX_LINK_STEPS: u64 = 1_000_000_000_000;
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

/// Typed keys as groups `distance.bytes`: the keys typed at one step, in
/// hex, after the distance in steps from the group before (the first from
/// step 0). `ls` typed at 14,100,000 and a newline 100,000 steps later:
/// `14100000.6c73,100000.0a`.
fn encode_keys(keys: &[(u64, u8)]) -> String {
    let mut out = String::new();
    let mut last: Option<u64> = None;
    for &(step, byte) in keys {
        if last != Some(step) {
            if last.is_some() {
                out.push(',');
            }
            let distance = step - last.unwrap_or(0);
            out.push_str(&format!("{distance}."));
            last = Some(step);
        }
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

/// Reads [`encode_keys`]'s groups into `keys`, up to the first that is
/// malformed (the distances after it mean nothing without it), which is
/// said.
fn decode_keys(value: &str, keys: &mut Vec<(u64, u8)>) -> Result<(), String> {
    let mut step = 0u64;
    for group in value.split(',') {
        let shown: String = group.chars().take(24).collect();
        let (distance, bytes) = group
            .split_once('.')
            .filter(|(d, b)| {
                !d.is_empty()
                    && d.bytes().all(|c| c.is_ascii_digit())
                    && !b.is_empty()
                    && b.len() % 2 == 0
                    && b.bytes().all(|c| c.is_ascii_hexdigit())
            })
            .ok_or_else(|| {
                format!("typed keys `{shown}` are not steps.hex: the keys from there are left out")
            })?;
        step = distance
            .parse::<u64>()
            .ok()
            .and_then(|d| step.checked_add(d))
            .filter(|&s| s <= MAX_LINK_STEPS)
            .ok_or_else(|| {
                format!("typed keys `{shown}` are past step {MAX_LINK_STEPS}: the keys from there are left out")
            })?;
        if keys.len() + bytes.len() / 2 > MAX_LINK_KEYS {
            return Err(format!(
                "the link has more than {MAX_LINK_KEYS} typed keys: the keys from `{shown}` on are left out"
            ));
        }
        for pair in bytes.as_bytes().chunks_exact(2) {
            let hex = std::str::from_utf8(pair).unwrap_or("00");
            keys.push((step, u8::from_str_radix(hex, 16).unwrap_or(0)));
        }
    }
    Ok(())
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
            parts.push(format!("k={}", encode_keys(&self.keys)));
        }
        if self.projector {
            parts.push("projector=1".into());
        }
        if let Some(clock) = self.clock {
            parts.push(format!("clock={clock}"));
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
                                    .all(|c| c.is_ascii_alphanumeric() || b"._-/".contains(&c))
                                && !f.contains("..");
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
                "clock" => match value.parse::<u64>() {
                    Ok(n) => link.clock = Some(n),
                    Err(_) => problems.push(format!(
                        "the clock `{}` is not Unix seconds",
                        value.chars().take(20).collect::<String>()
                    )),
                },
                "k" => {
                    if let Err(why) = decode_keys(value, &mut link.keys) {
                        problems.push(why);
                    }
                }
                // The first links' keys: each `step.hex`, steps absolute.
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
            clock: Some(1_796_646_896),
        };
        let fragment = link.encode();
        assert!(fragment.ends_with("&clock=1796646896"), "{fragment}");
        assert!(fragment.contains("k=14100000.6c73,100000.0a"), "{fragment}");
        let (back, problems) = Link::decode(&fragment);
        assert_eq!(back, link);
        assert!(problems.is_empty());
    }

    #[test]
    fn steps_past_a_billion_and_their_keys_round_trip() {
        let link = Link {
            lesson: Some("xv6-idt".into()),
            step: Some(1_234_567_890_123),
            keys: vec![
                (14_000_000, b'l'),
                (14_000_000, b's'),
                (14_000_000, b'\n'),
                (999_999_999, 0),
                (1_000_000_001, 0xff),
                (MAX_LINK_STEPS, b'x'),
            ],
            ..Link::default()
        };
        let (back, problems) = Link::decode(&link.encode());
        assert_eq!(back.keys, link.keys);
        assert_eq!(back.step, None, "past the bound");
        assert_eq!(
            problems,
            [format!(
                "the step `1234567890123` is not a number up to {MAX_LINK_STEPS}"
            )]
        );
        let at = Link {
            step: Some(MAX_LINK_STEPS),
            ..link
        };
        assert_eq!(Link::decode(&at.encode()), (at, vec![]));
        // Old links' keys (absolute steps, one key each) still open.
        let (old, problems) = Link::decode("lesson=xv6-idt&keys=14100000.6c,14100000.73");
        assert_eq!(old.keys, [(14_100_000, b'l'), (14_100_000, b's')]);
        assert!(problems.is_empty());
    }

    #[test]
    fn hostile_keys_are_refused_from_the_first_bad_group_on() {
        let cases = [
            ("k=5.6c,3.zz,1.61", vec![(5, b'l')], "not steps.hex"),
            ("k=5.6c,3.6", vec![(5, b'l')], "not steps.hex"),
            ("k=5.,1.61", vec![], "not steps.hex"),
            ("k=-5.61", vec![], "not steps.hex"),
            ("k=18446744073709551615.61,1.62", vec![], "past step"),
            (
                "k=999999999999.61,999999999999.62",
                vec![(999_999_999_999, b'a')],
                "past step",
            ),
        ];
        for (fragment, keys, why) in cases {
            let (link, problems) = Link::decode(fragment);
            assert_eq!(link.keys, keys, "{fragment}");
            assert!(
                problems.len() == 1 && problems[0].contains(why),
                "{fragment}: {problems:?}"
            );
        }
        let many = format!("k=1.{}", "61".repeat(MAX_LINK_KEYS + 1));
        let (link, problems) = Link::decode(&many);
        assert!(link.keys.is_empty());
        assert!(
            problems[0].contains("more than 4096 typed keys"),
            "{problems:?}"
        );
        let most = format!("k=1.{}", "61".repeat(MAX_LINK_KEYS));
        assert_eq!(Link::decode(&most).0.keys.len(), MAX_LINK_KEYS);
    }

    #[test]
    fn hostile_links_are_refused_piece_by_piece() {
        let (link, problems) = Link::decode(
            "#lesson=<script>&step=99999999999999&bl=zz,a.asm:10&src=%%%&x=1&keys=5.6c,4.zz&panels=IDT,Consle",
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
