//! The page's files as the bridge serves them: next to each text or wasm file of the site, a
//! `.gz` (zopfli: gzip that `gunzip` reads, as small as gzip gets) and a `.br` (brotli, quality
//! 11). The bridge's static file service sends one of them when the browser accepts it
//! (`Accept-Encoding`), so the bundle crosses the network compressed.

use std::io::Write;
use std::path::Path;

use crate::run::Failure;

/// The files worth compressing: everything the page loads but images.
const EXTENSIONS: [&str; 5] = ["wasm", "js", "css", "html", "ts"];

/// Writes `.gz` and `.br` beside every such file under `dir`; returns the wasm bundle's sizes
/// (raw, gzip, brotli) if there is one.
pub fn site(dir: &Path) -> Result<Option<(u64, u64, u64)>, Failure> {
    let mut bundle = None;
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).map_err(Failure::io("read the site"))? {
            let path = entry.map_err(Failure::io("read the site"))?.path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let wanted = path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| EXTENSIONS.contains(&e));
            if !wanted {
                continue;
            }
            let raw = std::fs::read(&path).map_err(Failure::io("read a site file"))?;
            let gz = gzip(&raw)?;
            let br = brotli(&raw)?;
            std::fs::write(append_ext(&path, "gz"), &gz).map_err(Failure::io("write a .gz"))?;
            std::fs::write(append_ext(&path, "br"), &br).map_err(Failure::io("write a .br"))?;
            if path.extension().is_some_and(|e| e == "wasm") {
                bundle = Some((raw.len() as u64, gz.len() as u64, br.len() as u64));
            }
        }
    }
    Ok(bundle)
}

/// The served gzip bytes of the page's own scripts and styles with its vendored libraries (every
/// precompressed `.js`/`.css` but the wasm package's glue), and of the editor's vendored file.
pub fn page_script_gzip(site: &Path) -> Result<(u64, u64), Failure> {
    let mut total = 0;
    let mut pending = vec![site.to_path_buf()];
    while let Some(dir) = pending.pop() {
        if dir.file_name().is_some_and(|n| n == "pkg") {
            continue;
        }
        for entry in std::fs::read_dir(&dir).map_err(Failure::io("read the site"))? {
            let path = entry.map_err(Failure::io("read the site"))?.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.to_string_lossy().ends_with(".js.gz")
                || path.to_string_lossy().ends_with(".css.gz")
            {
                total += std::fs::metadata(&path)
                    .map_err(Failure::io("read a .gz"))?
                    .len();
            }
        }
    }
    let editor = std::fs::metadata(site.join("vendor/codemirror.js.gz"))
        .map_err(Failure::io("read vendor/codemirror.js.gz"))?
        .len();
    Ok((total, editor))
}

fn append_ext(path: &Path, ext: &str) -> std::path::PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".");
    name.push(ext);
    name.into()
}

/// zopfli's effort: 50 iterations of its block optimisation (its default, 15) and a stream split
/// into as many blocks as it finds worth it (`maximum_block_splits` counts blocks, per megabyte
/// of input: its default stops at 15; 1,000 is no limit in practice, while this port reads 0 as
/// no splitting at all). On the wasm bundle at 26edc2a: 332,125 → 331,307 bytes (−0.8 KB), in
/// 9 s rather than 3 s; more iterations were not worth their time (100: 331,282; 300: 331,332).
const ZOPFLI: zopfli::Options = zopfli::Options {
    iteration_count: std::num::NonZeroU64::new(50).expect("nonzero"),
    iterations_without_improvement: std::num::NonZeroU64::MAX,
    maximum_block_splits: 1_000,
};

fn gzip(raw: &[u8]) -> Result<Vec<u8>, Failure> {
    let mut out = Vec::new();
    zopfli::compress(ZOPFLI, zopfli::Format::Gzip, raw, &mut out)
        .map_err(|e| Failure(format!("zopfli: {e}")))?;
    Ok(out)
}

fn brotli(raw: &[u8]) -> Result<Vec<u8>, Failure> {
    let mut out = Vec::new();
    {
        let mut writer = brotli::CompressorWriter::new(&mut out, 1 << 16, 11, 22);
        writer
            .write_all(raw)
            .map_err(|e| Failure(format!("brotli: {e}")))?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_encodings_decode_to_the_file() {
        let dir = std::env::temp_dir().join(format!("xtask-precompress-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("pkg")).unwrap();
        let text: Vec<u8> = (0..20_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        std::fs::write(dir.join("pkg/x.wasm"), &text).unwrap();
        std::fs::write(dir.join("logo.png"), b"not text").unwrap();
        let (raw, gz, br) = site(&dir).unwrap().unwrap();
        assert_eq!(raw, text.len() as u64);
        assert!(gz < raw && br < raw);
        // A gzip member (tests/tests/bridge_origin.rs inflates one the bridge serves).
        let gz_bytes = std::fs::read(dir.join("pkg/x.wasm.gz")).unwrap();
        assert_eq!(&gz_bytes[..3], &[0x1f, 0x8b, 8]);
        let mut inflated = Vec::new();
        brotli::BrotliDecompress(
            &mut std::fs::read(dir.join("pkg/x.wasm.br")).unwrap().as_slice(),
            &mut inflated,
        )
        .unwrap();
        assert_eq!(inflated, text);
        assert!(!dir.join("logo.png.gz").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
