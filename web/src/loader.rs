//! Fetching the xv6 build the page serves (`xv6/kernel`, `xv6/fs.img`,
//! `xv6/sources.json`, and `xv6/bootblock.o` for the boot lesson, copied
//! into the page by Trunk from scripts/xv6's output). The bytes stay in the
//! browser.

use crate::action::{BuildFiles, HypervisorFiles};
use std::collections::BTreeMap;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

fn js_error(what: &str, e: wasm_bindgen::JsValue) -> String {
    format!(
        "{what}: {}",
        e.as_string().unwrap_or_else(|| format!("{e:?}"))
    )
}

/// Starts fetching `url` now (the request goes out at once).
fn request(url: &str) -> JsFuture {
    JsFuture::from(crate::clock::fetch(url))
}

/// How [`not_served`] begins.
const NOT_SERVED: &str = "this page was built without xv6";

/// Why the page has no xv6 when the server has no `url` (`answer`: HTTP
/// 404, or a web page in its place): it was built without one
/// (scripts/serve found no xv6 source and could not clone it), and how to
/// get xv6.
pub fn not_served(url: &str, answer: &str) -> String {
    format!(
        "{NOT_SERVED} ({url}: {answer}). To get it, serve the page with an xv6-public tree: \
         XV6_SRC=/path/to/xv6-public make serve; or open your own xv6 build (kernel and fs.img) \
         with \"Open your own xv6\" in the lesson panel"
    )
}

/// Whether a notice says the page has no xv6 (the lesson panel then offers
/// to open one).
pub fn says_not_served(notice: &str) -> bool {
    notice.contains(NOT_SERVED)
}

/// The bytes a started request answers with, or why not (the HTTP status
/// names a missing file; a missing one says how to get xv6).
async fn bytes_of(url: &str, request: JsFuture) -> Result<Vec<u8>, String> {
    let response = request.await.map_err(|e| js_error(url, e))?;
    let response: web_sys::Response = response.dyn_into().map_err(|e| js_error(url, e))?;
    if response.status() == 404 {
        return Err(not_served(url, "HTTP 404"));
    }
    if !response.ok() {
        return Err(format!("{url}: HTTP {}", response.status()));
    }
    let buffer = JsFuture::from(response.array_buffer().map_err(|e| js_error(url, e))?)
        .await
        .map_err(|e| js_error(url, e))?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// The xv6 build the page serves, fetched (the three files at once).
pub async fn served_xv6() -> Result<BuildFiles, String> {
    let urls = [
        "xv6/kernel",
        "xv6/fs.img",
        "xv6/sources.json",
        "xv6/bootblock.o",
        "vmm/vmm",
        "vmm/sources.json",
    ];
    let [k, d, s, b, v, vs] = urls.map(request);
    let kernel = bytes_of(urls[0], k).await?;
    // A server that answers every missing file with the page itself.
    if kernel.starts_with(b"<") {
        return Err(not_served(urls[0], "the server answered with a web page"));
    }
    let disk = bytes_of(urls[1], d).await?;
    let sources = bytes_of(urls[2], s).await?;
    let sources: BTreeMap<String, String> =
        serde_json::from_slice(&sources).map_err(|e| format!("{}: {e}", urls[2]))?;
    // The boot block is optional: without it every lesson but the boot's
    // runs (that one then says what is missing).
    let boot_block = bytes_of(urls[3], b)
        .await
        .ok()
        .filter(|b| b.starts_with(b"\x7fELF"));
    // So is the hypervisor: without it the virtualization lessons say
    // what is missing.
    let hypervisor = match bytes_of(urls[4], v).await {
        Ok(elf) if elf.starts_with(b"\x7fELF") => {
            let sources = bytes_of(urls[5], vs)
                .await
                .ok()
                .and_then(|s| serde_json::from_slice(&s).ok())
                .unwrap_or_default();
            Some(HypervisorFiles { elf, sources })
        }
        _ => None,
    };
    Ok(BuildFiles {
        origin: "the xv6 this page serves".into(),
        kernel,
        disk,
        sources,
        clock_start: host_clock(),
        boot_block,
        hypervisor,
    })
}

/// The host's clock, in Unix seconds: where the guest's CMOS clock starts.
fn host_clock() -> u64 {
    (js_sys::Date::now() / 1000.0) as u64
}

/// The bytes of a file the student picked or dropped.
async fn file_bytes(file: &web_sys::File) -> Result<Vec<u8>, String> {
    let buffer = JsFuture::from(file.array_buffer())
        .await
        .map_err(|e| js_error(&file.name(), e))?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// Which of the files is which: the kernel (named `kernel`, else the
/// first ELF), the disk (`fs.img`, else the first `.img`), and the sources;
/// `clock_start` is when they arrived (Unix seconds), where the guest's
/// clock starts.
pub fn sort_files(files: Vec<(String, Vec<u8>)>, clock_start: u64) -> Result<BuildFiles, String> {
    let is_source = |n: &str| [".c", ".h", ".S"].iter().any(|e| n.ends_with(e));
    let mut kernel = None;
    let mut disk = None;
    let mut boot_block = None;
    let mut sources = BTreeMap::new();
    let mut others = Vec::new();
    for (name, bytes) in files {
        if is_source(&name) {
            sources.insert(name, String::from_utf8_lossy(&bytes).into_owned());
        } else if name == "bootblock.o" {
            boot_block = Some(bytes);
        } else if name == "kernel" {
            kernel = Some((name, bytes));
        } else if name == "fs.img" || (name.ends_with(".img") && disk.is_none()) {
            disk = Some((name, bytes));
        } else {
            others.push((name, bytes));
        }
    }
    let kernel = kernel
        .or_else(|| {
            let k = others.iter().position(|(_, b)| b.starts_with(b"\x7fELF"))?;
            Some(others.swap_remove(k))
        })
        .or_else(|| others.pop())
        .ok_or(
            "no kernel among the files: choose xv6's kernel (the ELF file `kernel`) and its fs.img",
        )?;
    let disk = disk.ok_or_else(|| {
        format!(
            "no disk image among the files: choose fs.img with {} (xv6 cannot start its shell without one)",
            kernel.0
        )
    })?;
    let origin = format!(
        "your build ({} and {}{})",
        kernel.0,
        disk.0,
        match sources.len() {
            0 => ", no sources".to_string(),
            n => format!(", {n} source files"),
        }
    );
    Ok(BuildFiles {
        origin,
        kernel: kernel.1,
        disk: disk.1,
        sources,
        clock_start,
        boot_block,
        // The served hypervisor runs a student's build too: the session
        // keeps the one it has (see `read_build`).
        hypervisor: None,
    })
}

/// Reads the files the student chose (a kernel ELF, an fs.img and any of
/// its sources) into a build. They stay in the browser.
pub async fn open_files(files: Vec<web_sys::File>) -> Result<BuildFiles, String> {
    let mut read = Vec::new();
    for f in files {
        read.push((f.name(), file_bytes(&f).await?));
    }
    sort_files(read, host_clock())
}

#[cfg(test)]
mod tests {
    use super::{not_served, says_not_served, sort_files};

    #[test]
    fn a_page_without_xv6_says_how_to_get_it() {
        let why = not_served("xv6/kernel", "HTTP 404");
        assert!(why.contains("xv6/kernel: HTTP 404"), "{why}");
        assert!(
            why.contains("XV6_SRC=/path/to/xv6-public make serve"),
            "{why}"
        );
        assert!(why.contains("Open your own xv6"), "{why}");
        assert!(says_not_served(&format!("xv6 could not be loaded: {why}")));
        assert!(!says_not_served(
            "xv6 could not be loaded: xv6/kernel: HTTP 500"
        ));
    }

    fn build_file(name: &str) -> Vec<u8> {
        let dir = osviz_xv6::build::default_build().unwrap_or_else(|e| panic!("{e}"));
        std::fs::read(dir.join(name)).unwrap()
    }

    /// Why the files are no build: sorting them, then reading the kernel
    /// as the session does.
    fn why(files: Vec<(&str, Vec<u8>)>) -> String {
        let files = files.into_iter().map(|(n, b)| (n.to_string(), b)).collect();
        match sort_files(files, 0) {
            Err(why) => why,
            Ok(f) => osviz_xv6::Xv6Build::new(&f.origin, f.kernel, f.disk, f.sources)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default(),
        }
    }

    #[test]
    fn bad_files_are_named_with_what_is_wrong() {
        let disk = build_file("fs.img");
        let png = b"\x89PNG\r\n\x1a\n....".to_vec();
        assert!(why(vec![("kernel", png), ("fs.img", disk.clone())]).contains("not an ELF"));
        let host = std::fs::read("/bin/true").unwrap();
        let w = why(vec![("kernel", host), ("fs.img", disk.clone())]);
        assert!(w.contains("not a 32-bit x86 (i386) ELF"), "{w}");
        // A user program is an i386 ELF but no kernel: no multiboot header.
        let ls = build_file("src/_ls");
        let w = why(vec![("kernel", ls), ("fs.img", disk.clone())]);
        assert!(w.contains("no multiboot header"), "{w}");
        let w = why(vec![("kernel", build_file("kernel"))]);
        assert!(w.contains("no disk image"), "{w}");
        assert!(why(vec![]).contains("no kernel"));
    }

    #[test]
    fn a_good_build_is_sorted_by_name_and_content() {
        let files = vec![
            ("proc.c".to_string(), b"int x;".to_vec()),
            ("fs.img".to_string(), build_file("fs.img")),
            ("my-kernel".to_string(), build_file("kernel")),
        ];
        let build = sort_files(files, 1_796_646_896).unwrap();
        assert_eq!(build.sources.keys().collect::<Vec<_>>(), ["proc.c"]);
        assert_eq!(build.clock_start, 1_796_646_896);
        assert!(
            build
                .origin
                .contains("my-kernel and fs.img, 1 source files"),
            "{}",
            build.origin
        );
    }
}
