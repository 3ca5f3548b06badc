//! The global allocator of the wasm build: std's own allocator (dlmalloc), asking the host for
//! memory in steps that grow with the heap instead of for just what each request lacks.
//!
//! Every `memory.grow` costs V8 about 0.4 ms whatever its size: 20,000 grows of 32 KiB took
//! 8.5 s under Node where one grow of 640 MiB took 0.4 s, and the first million records of a
//! session paid 1.5 s of it (a table's chunks are allocated as records arrive). Growing by an
//! eighth of the memory (at least [`MIN_STEP_PAGES`]) makes that a few dozen grows, at the cost
//! of at most an eighth of the memory (plus a step) reserved before it is used. The memory of a
//! wasm instance never shrinks either way.

/// The smallest step: 4 MiB.
#[cfg(any(test, target_arch = "wasm32"))]
pub const MIN_STEP_PAGES: usize = 64;

/// How many 64 KiB pages to grow a memory of `current` pages by when `needed` more are wanted:
/// at least `needed`, and at least an eighth of the memory or [`MIN_STEP_PAGES`].
#[cfg(any(test, target_arch = "wasm32"))]
pub fn step_pages(current: usize, needed: usize) -> usize {
    needed.max(current / 8).max(MIN_STEP_PAGES)
}

// A global allocator cannot be written without `unsafe`: this module is the only place it is
// allowed, each use with its safety argument.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[allow(unsafe_code)]
mod global {
    use core::alloc::{GlobalAlloc, Layout};
    use core::arch::wasm32::memory_grow;
    use core::cell::UnsafeCell;
    use core::ptr;

    use dlmalloc::{Allocator, Dlmalloc};

    const PAGE: usize = 64 * 1024;

    /// The system side of dlmalloc: memory from `memory.grow`, in [`super::step_pages`] steps.
    struct Grow;

    // SAFETY: `alloc` returns a fresh region of linear memory from `memory.grow` (never handed
    // out before, page-aligned, zeroed by the host), of exactly the size it reports; nothing is
    // ever given back (`free` and `free_part` refuse, as std's wasm allocator does).
    unsafe impl Allocator for Grow {
        fn alloc(&self, size: usize) -> (*mut u8, usize, u32) {
            let needed = size.div_ceil(PAGE);
            let current = core::arch::wasm32::memory_size(0);
            for pages in [super::step_pages(current, needed), needed] {
                let previous = memory_grow(0, pages);
                if previous != usize::MAX {
                    let (base, size) = (previous * PAGE, pages * PAGE);
                    // A region ending at the very top of the 4 GiB address space would end at
                    // address 0: leave its last bytes out, as std's wasm allocator does.
                    if base.wrapping_add(size) == 0 {
                        return (base as *mut u8, size - 16, 0);
                    }
                    return (base as *mut u8, size, 0);
                }
            }
            (ptr::null_mut(), 0, 0)
        }

        fn remap(&self, _: *mut u8, _: usize, _: usize, _: bool) -> *mut u8 {
            ptr::null_mut()
        }

        fn free_part(&self, _: *mut u8, _: usize, _: usize) -> bool {
            false
        }

        fn free(&self, _: *mut u8, _: usize) -> bool {
            false
        }

        fn can_release_part(&self, _: u32) -> bool {
            false
        }

        fn allocates_zeros(&self) -> bool {
            true
        }

        fn page_size(&self) -> usize {
            PAGE
        }
    }

    struct Heap(UnsafeCell<Dlmalloc<Grow>>);

    // SAFETY: without the `atomics` target feature a wasm instance runs one thread, so the heap
    // is never used from two at once; dlmalloc never allocates from inside itself.
    unsafe impl Sync for Heap {}

    // SAFETY: each call forwards to dlmalloc with the layout's size and alignment, as std's
    // wasm allocator does; the `UnsafeCell` is only borrowed for the call (see `Sync` above).
    unsafe impl GlobalAlloc for Heap {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            unsafe { (*self.0.get()).malloc(layout.size(), layout.align()) }
        }

        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            unsafe { (*self.0.get()).calloc(layout.size(), layout.align()) }
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            unsafe { (*self.0.get()).free(ptr, layout.size(), layout.align()) }
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            unsafe { (*self.0.get()).realloc(ptr, layout.size(), layout.align(), new_size) }
        }
    }

    #[global_allocator]
    static HEAP: Heap = Heap(UnsafeCell::new(Dlmalloc::new_with_allocator(Grow)));
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// A step covers what is needed, is never below the minimum, and wastes at most an
        /// eighth of the memory beyond it (or the minimum step).
        #[test]
        fn a_step_covers_the_need_and_wastes_little(current in 0usize..65_536, needed in 1usize..65_536) {
            let step = step_pages(current, needed);
            prop_assert!(step >= needed && step >= MIN_STEP_PAGES);
            prop_assert!(step == needed || step <= (current / 8).max(MIN_STEP_PAGES));
        }
    }

    #[test]
    fn a_growing_heap_grows_in_few_steps() {
        // From 1 MiB to 1 GiB, asking for 32 KiB at a time.
        let (mut pages, mut grows) = (16usize, 0);
        while pages < 16_384 {
            pages += step_pages(pages, 1);
            grows += 1;
        }
        assert!(grows < 70, "{grows} grows");
    }
}
