//! One sort for the operators' sorts of keys, pairs and triples: each is packed into a `u128`
//! whose unsigned order is the tuple's (or, for keys close together, a `u32` offset), so the
//! bundle holds two instantiations of std's `sort_unstable` (~5 KB of wasm each) instead of one
//! per element type.
//!
//! Invariant: [`pack`] is strictly monotonic in the pair's lexicographic order, and [`unpack`]
//! is its inverse.

/// Sorts the values ascending (the order of `sort_unstable`).
pub(crate) fn sort(values: &mut [u128]) {
    values.sort_unstable();
}

/// A pair as one value of the same order.
pub(crate) fn pack(hi: u64, lo: u64) -> u128 {
    (u128::from(hi) << 64) | u128::from(lo)
}

/// The pair [`pack`] made.
pub(crate) fn unpack(v: u128) -> (u64, u64) {
    ((v >> 64) as u64, v as u64)
}

/// Sorts keys ascending and drops repeats. Keys within 2^32 of the least (always, for the keys
/// of a table's rows in wasm32) sort as `u32` offsets from it (the `u32` sort the bundle has
/// already, and faster than a wide one); others as `u128`.
pub(crate) fn sort_dedup_u64(keys: &mut Vec<u64>) {
    let Some(&least) = keys.iter().min() else {
        return;
    };
    if keys.iter().all(|&k| k - least <= u64::from(u32::MAX)) {
        let mut offsets: Vec<u32> = keys.iter().map(|&k| (k - least) as u32).collect();
        offsets.sort_unstable();
        offsets.dedup();
        keys.clear();
        keys.extend(offsets.iter().map(|&o| least + u64::from(o)));
    } else {
        let mut wide: Vec<u128> = keys.iter().map(|&k| u128::from(k)).collect();
        sort(&mut wide);
        keys.clear();
        keys.extend(wide.iter().map(|&k| k as u64));
        keys.dedup();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn packed_pairs_sort_as_the_pairs(
            mut pairs in proptest::collection::vec((any::<u64>(), any::<u64>()), 0..50),
        ) {
            let mut packed: Vec<u128> = pairs.iter().map(|&(a, b)| pack(a, b)).collect();
            sort(&mut packed);
            pairs.sort_unstable();
            prop_assert_eq!(packed.iter().map(|&v| unpack(v)).collect::<Vec<_>>(), pairs);
        }

        #[test]
        fn keys_sort_and_dedup(
            mut keys in proptest::collection::vec(
                prop_oneof![0u64..20, (1u64 << 40)..(1u64 << 40) + 20, Just(u64::MAX)],
                0..50,
            ),
        ) {
            let mut ours = keys.clone();
            sort_dedup_u64(&mut ours);
            keys.sort_unstable();
            keys.dedup();
            prop_assert_eq!(ours, keys);
        }
    }
}
