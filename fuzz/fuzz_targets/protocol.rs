//! Any bytes as a WebSocket frame: decoding never panics, and what decodes re-encodes to the same
//! frame (postcard is canonical for the messages we send) and decodes again to the same message.
//! The same bytes as a compressed frame's snappy payload: inflated within its bound, or refused.
#![no_main]

use libfuzzer_sys::fuzz_target;
use streamglass_core::Feed;
use streamglass_core::protocol::{decode, encode, inflate};

fuzz_target!(|frame: &[u8]| {
    if let Ok(message) = decode(frame) {
        let again = encode(&message).expect("a decoded message encodes");
        assert_eq!(decode(&again).expect("re-decodes"), message);
    }
    let mut inflated = Vec::new();
    if inflate(0, frame, 1 << 16, &mut inflated).is_ok() {
        assert!(inflated.len() <= 1 << 16);
    }
    let mut feed = Feed::new();
    feed.apply_frame(frame);
    let _ = feed.snapshot();
});
