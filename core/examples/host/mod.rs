//! The benchmark examples' host: a clock, a line of output and the command line. Natively and on
//! `wasm32-wasip1` they are std's (`Instant`, `println!`, `std::env::args`); on
//! `wasm32-unknown-unknown`, whose std has no clock and drops its output, they are four tiny
//! functions the runner imports into the module as `bench` (`core/benches/run-chromium.mjs` and
//! `core/benches/run-wasi.mjs` give them, and call the module's exported `main`):
//!
//! - `now() -> f64`: milliseconds from any fixed origin (`performance.now()`);
//! - `print(ptr, len)`: writes the UTF-8 line at `ptr..ptr + len` of the module's memory, and a
//!   newline;
//! - `args_len() -> u32` and `args_byte(i) -> u32`: the program's arguments after its name,
//!   joined by NUL bytes, read a byte at a time (the host never writes the module's memory; a
//!   sole empty argument reads as none).
//!
//! So a benchmark builds for the one wasm32 target a machine may have, and runs in Chromium's V8
//! (as the page) or Node's. A panic is printed through `print` before the module traps.
//!
//! An example uses it as `#[path = "host/mod.rs"] mod host;` (a folder without `main.rs` is no
//! example of its own), then `host::init()` first in `main`, `host::Instant` and `host::outln!`.

#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
pub use std::time::Instant;

#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
pub use imported::Instant;

/// Prints a line, formatted as `println!` does, through the host.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::host::print_line(&format!($($arg)*))
    };
}
pub(crate) use outln;

/// Readies the host: on `wasm32-unknown-unknown`, a panic's message goes out through `print`.
pub fn init() {
    #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
    std::panic::set_hook(Box::new(|info| print_line(&info.to_string())));
}

/// The program's arguments after its name.
pub fn args() -> Vec<String> {
    #[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
    return std::env::args().skip(1).collect();
    #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
    return imported::args();
}

/// Writes `line` and a newline to the standard output (natively and on WASI) or the host's.
pub fn print_line(line: &str) {
    #[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
    println!("{line}");
    #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
    imported::print(line.as_ptr(), line.len());
}

/// The four imports, and the clock over them.
#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
mod imported {
    use std::time::Duration;

    // Safe to call: the host only reads the module's memory, and only the bytes it is given. The
    // one unsafe item of the examples (the crate denies unsafe code; its library forbids it).
    #[allow(unsafe_code)]
    #[link(wasm_import_module = "bench")]
    unsafe extern "C" {
        safe fn now() -> f64;
        pub(super) safe fn print(ptr: *const u8, len: usize);
        safe fn args_len() -> u32;
        safe fn args_byte(index: u32) -> u32;
    }

    /// An instant of the host's clock, as `std::time::Instant` (milliseconds).
    #[derive(Clone, Copy, Debug)]
    pub struct Instant(f64);

    impl Instant {
        pub fn now() -> Self {
            Self(now())
        }

        pub fn elapsed(&self) -> Duration {
            Duration::from_secs_f64((now() - self.0).max(0.0) / 1e3)
        }
    }

    pub fn args() -> Vec<String> {
        let bytes: Vec<u8> = (0..args_len()).map(|i| args_byte(i) as u8).collect();
        match bytes.is_empty() {
            true => Vec::new(),
            false => String::from_utf8_lossy(&bytes)
                .split('\0')
                .map(str::to_owned)
                .collect(),
        }
    }
}
