//! The page built into the binary (`build.rs` embeds it): served at `/` when `serve` is given no
//! `--www`, so the binary alone is the tool.
//!
//! Each file is kept as `cargo xtask site` wrote it and precompressed it; a request gets the
//! brotli form if it accepts `br`, else the gzip form if it accepts `gzip`, else the raw bytes,
//! with the content type `--www`'s file service would give (mime_guess), an ETag (per encoding:
//! each is its own representation), and the same
//! security headers (`server::with_static_headers`, applied by the caller).
//!
//! Invariant: only the embedded paths are ever answered; any other path is a 404, whatever
//! it holds (no filesystem is read).

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// One file of the embedded site.
pub struct EmbeddedFile {
    /// The URL path, from `/` (`/index.html`, `/pkg/streamglass_wasm_bg.wasm`).
    pub path: &'static str,
    /// The entity tags of the raw, gzip and brotli forms (each a hash of the bytes it serves;
    /// empty for a form the file lacks).
    pub etags: [&'static str; 3],
    pub raw: &'static [u8],
    pub gzip: Option<&'static [u8]>,
    pub brotli: Option<&'static [u8]>,
}

include!(concat!(env!("OUT_DIR"), "/site.rs"));

/// Whether this binary holds a page (it does not when built with `STREAMGLASS_EMBED_SITE=none`).
pub fn has_page() -> bool {
    !FILES.is_empty()
}

/// The embedded file at a URL path (`/` and `…/` name their `index.html`).
pub fn file(url_path: &str) -> Option<&'static EmbeddedFile> {
    let decoded = percent_encoding::percent_decode_str(url_path)
        .decode_utf8()
        .ok()?;
    let path = if decoded.ends_with('/') {
        format!("{decoded}index.html")
    } else {
        decoded.into_owned()
    };
    FILES
        .binary_search_by(|f| f.path.cmp(path.as_str()))
        .ok()
        .map(|i| &FILES[i])
}

/// Answers a GET or HEAD of an embedded file.
pub async fn serve(request: Request) -> Response {
    let (method, headers) = (request.method().clone(), request.headers().clone());
    if method != Method::GET && method != Method::HEAD {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, "GET, HEAD")],
            "method not allowed\n",
        )
            .into_response();
    }
    let Some(file) = file(request.uri().path()) else {
        return (StatusCode::NOT_FOUND, "not found\n").into_response();
    };
    // Each encoding is its own representation, with its own tag.
    let (bytes, encoding, etag) = match (file.brotli, file.gzip) {
        (Some(br), _) if accepts(&headers, "br") => (br, Some("br"), file.etags[2]),
        (_, Some(gz)) if accepts(&headers, "gzip") => (gz, Some("gzip"), file.etags[1]),
        _ => (file.raw, None, file.etags[0]),
    };
    let mut response = if matches_etag(&headers, etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let length = bytes.len();
        let body = if method == Method::HEAD {
            Body::empty()
        } else {
            Body::from(bytes)
        };
        let mut response = body.into_response();
        let headers = response.headers_mut();
        let mime = mime_guess::from_path(file.path).first_or_octet_stream();
        if let Ok(value) = HeaderValue::from_str(mime.as_ref()) {
            headers.insert(header::CONTENT_TYPE, value);
        }
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
        if let Some(encoding) = encoding {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
        }
        response
    };
    response
        .headers_mut()
        .insert(header::ETAG, HeaderValue::from_static(etag));
    response
}

/// Whether `Accept-Encoding` takes `coding` (listed, or `*`, with a weight above zero).
fn accepts(headers: &HeaderMap, coding: &str) -> bool {
    let mut star = false;
    for value in headers.get_all(header::ACCEPT_ENCODING) {
        let Ok(value) = value.to_str() else { continue };
        for item in value.split(',') {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or("").trim();
            let zero = parts.any(|p| {
                let p = p.trim();
                p.strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            if name.eq_ignore_ascii_case(coding) {
                return !zero;
            }
            if name == "*" {
                star = !zero;
            }
        }
    }
    star
}

/// Whether `If-None-Match` names `etag` (or is `*`).
fn matches_etag(headers: &HeaderMap, etag: &str) -> bool {
    headers.get_all(header::IF_NONE_MATCH).iter().any(|value| {
        value.to_str().is_ok_and(|v| {
            v.split(',').any(|tag| {
                let tag = tag.trim();
                tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag
            })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(name: header::HeaderName, value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(name, HeaderValue::from_static(value));
        headers
    }

    #[test]
    fn accept_encoding_is_read_with_its_weights() {
        let h = with(header::ACCEPT_ENCODING, "gzip, deflate, br;q=0.9");
        assert!(accepts(&h, "br") && accepts(&h, "gzip"));
        let h = with(header::ACCEPT_ENCODING, "gzip;q=1.0, br;q=0");
        assert!(!accepts(&h, "br") && accepts(&h, "gzip"));
        let h = with(header::ACCEPT_ENCODING, "*;q=0.5, gzip;q=0");
        assert!(accepts(&h, "br") && !accepts(&h, "gzip"));
        assert!(!accepts(&HeaderMap::new(), "gzip"));
    }

    #[test]
    fn etags_match_strong_weak_and_star() {
        let etag = "\"00ff\"";
        assert!(matches_etag(&with(header::IF_NONE_MATCH, "\"00ff\""), etag));
        assert!(matches_etag(
            &with(header::IF_NONE_MATCH, "\"x\", W/\"00ff\""),
            etag
        ));
        assert!(matches_etag(&with(header::IF_NONE_MATCH, "*"), etag));
        assert!(!matches_etag(
            &with(header::IF_NONE_MATCH, "\"00fe\""),
            etag
        ));
    }

    /// The embedded files are sorted (lookups search them), their compressed forms hold the same
    /// bytes, and each form has its own entity tag.
    #[test]
    fn embedded_files_are_sorted_and_their_encodings_agree() {
        if !has_page() {
            streamglass_tests::skip_or_fail(
                "embedded page",
                "this build embeds no page (STREAMGLASS_EMBED_SITE=none)",
            );
            return;
        }
        assert!(FILES.windows(2).all(|w| w[0].path < w[1].path));
        let mut compressed = 0;
        for f in FILES {
            assert!(f.path.starts_with('/'), "{}", f.path);
            assert!(f.etags[0].starts_with('"') && f.etags[0].ends_with('"'));
            if let Some(gz) = f.gzip {
                let mut raw = Vec::new();
                std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(gz), &mut raw)
                    .expect("gzip");
                assert!(raw == f.raw, "{}: gzip", f.path);
                assert_ne!(f.etags[1], f.etags[0], "{}", f.path);
                compressed += 1;
            }
            if let Some(br) = f.brotli {
                let mut raw = Vec::new();
                brotli::BrotliDecompress(&mut &br[..], &mut raw).expect("brotli");
                assert!(raw == f.raw, "{}: brotli", f.path);
                assert!(!f.etags[2].is_empty() && f.etags[2] != f.etags[1]);
            }
        }
        assert!(compressed > 0, "no file has a gzip form");
        assert!(file("/").is_some_and(|f| f.path == "/index.html"));
        assert!(file("/pkg/streamglass_wasm_bg.wasm").is_some());
        assert!(file("/nope.html").is_none());
        assert!(file("/../Cargo.toml").is_none());
    }
}
