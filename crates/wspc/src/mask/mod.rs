//! Masking (RFC 6455 §5.3): XOR of the payload with a 4-byte key.
//!
//! The key is XORed as a 32-bit word over blocks of 256 bytes, so the compiler emits
//! vector code with the key in one register. On x86-64 CPUs with AVX2 (detected at run
//! time) the same safe loop is compiled for 32-byte lanes (`simd`, the one place that
//! needs `unsafe`: calling code compiled for a CPU feature); elsewhere it runs on the
//! target's baseline lanes (16-byte SSE2 on x86-64).

mod simd;

/// Buffers shorter than this are XORed byte by byte.
const SHORT: usize = 64;

/// Buffers at least this long take the AVX2 loop when the CPU has it (below, the
/// feature check and the call cost more than they save: 100 bytes take 141 instructions
/// that way and 112 in the baseline loop, 1 KiB 162 against 250).
const WIDE: usize = 256;

/// XORs `buf` with `key`, where `buf` starts `offset` bytes into the frame's payload (so a
/// payload can be unmasked piece by piece as it arrives). Masking and unmasking are the
/// same operation.
///
/// ```
/// use wspc::mask::apply_mask;
///
/// // RFC 6455 §5.7: "Hello" masked with 37 fa 21 3d.
/// let mut payload = [0x7f, 0x9f, 0x4d, 0x51, 0x58];
/// apply_mask(&mut payload[..2], [0x37, 0xfa, 0x21, 0x3d], 0);
/// apply_mask(&mut payload[2..], [0x37, 0xfa, 0x21, 0x3d], 2);
/// assert_eq!(&payload, b"Hello");
/// ```
#[inline]
pub fn apply_mask(buf: &mut [u8], key: [u8; 4], offset: usize) {
    if key == [0; 4] {
        return;
    }
    let key = rotate(key, offset);
    if buf.len() < SHORT {
        xor_bytes(buf, key);
    } else {
        apply_mask_bulk(buf, key);
    }
}

/// [`apply_mask`] for 64 bytes and more: kept out of line, so that the short path
/// inlined into the receive loop stays small.
#[inline(never)]
fn apply_mask_bulk(buf: &mut [u8], key: [u8; 4]) {
    if buf.len() < WIDE || !simd::xor_in_place(buf, key) {
        xor_in_place(buf, key);
    }
}

/// Masks `src` into `dst` (same length) in one pass: the copy and the XOR together.
///
/// ```
/// use wspc::mask::mask_into;
///
/// let mut wire = [0u8; 5];
/// mask_into(&mut wire, b"Hello", [0x37, 0xfa, 0x21, 0x3d], 0);
/// assert_eq!(wire, [0x7f, 0x9f, 0x4d, 0x51, 0x58]);
/// ```
#[inline]
pub fn mask_into(dst: &mut [u8], src: &[u8], key: [u8; 4], offset: usize) {
    let n = dst.len().min(src.len());
    let (dst, src) = (&mut dst[..n], &src[..n]);
    let key = rotate(key, offset);
    if n < SHORT {
        for (i, (d, s)) in dst.iter_mut().zip(src).enumerate() {
            *d = *s ^ key[i & 3];
        }
    } else if n < WIDE || !simd::xor_into(dst, src, key) {
        xor_into(dst, src, key);
    }
}

/// The key as seen from `offset` bytes into the payload.
#[inline]
fn rotate(key: [u8; 4], offset: usize) -> [u8; 4] {
    let r = offset & 3;
    [key[r], key[(r + 1) & 3], key[(r + 2) & 3], key[(r + 3) & 3]]
}

/// Byte by byte, the key's phase starting at 0.
#[inline(always)]
fn xor_bytes(buf: &mut [u8], key: [u8; 4]) {
    for (i, b) in buf.iter_mut().enumerate() {
        *b ^= key[i & 3];
    }
}

/// XORs the whole `N`-byte blocks at the front of `buf` with the key as a 32-bit word
/// and returns the rest. `N` is a multiple of 4, so the key's phase is unchanged for
/// the rest.
#[inline(always)]
fn xor_blocks<const N: usize>(buf: &mut [u8], key: [u8; 4]) -> &mut [u8] {
    let k = u32::from_ne_bytes(key);
    let (blocks, rest) = buf.as_chunks_mut::<N>();
    for block in blocks {
        for word in block.as_chunks_mut::<4>().0 {
            *word = (u32::from_ne_bytes(*word) ^ k).to_ne_bytes();
        }
    }
    rest
}

/// The bulk loop: 256-byte blocks, then 16-byte blocks, then bytes. Compiled inline into
/// its callers, so [`simd`] gets an AVX2 copy of it.
#[inline(always)]
fn xor_in_place(buf: &mut [u8], key: [u8; 4]) {
    let rest = xor_blocks::<256>(buf, key);
    let rest = xor_blocks::<16>(rest, key);
    xor_bytes(rest, key);
}

/// Like [`xor_blocks`], from `src` into `dst` (same length); returns the rests.
#[inline(always)]
fn xor_blocks_into<'a, 'b, const N: usize>(
    dst: &'a mut [u8],
    src: &'b [u8],
    key: [u8; 4],
) -> (&'a mut [u8], &'b [u8]) {
    let k = u32::from_ne_bytes(key);
    let (dblocks, drest) = dst.as_chunks_mut::<N>();
    let (sblocks, srest) = src.as_chunks::<N>();
    for (d, s) in dblocks.iter_mut().zip(sblocks) {
        let dwords = d.as_chunks_mut::<4>().0;
        let swords = s.as_chunks::<4>().0;
        for (dw, sw) in dwords.iter_mut().zip(swords) {
            *dw = (u32::from_ne_bytes(*sw) ^ k).to_ne_bytes();
        }
    }
    (drest, srest)
}

/// The bulk copy-and-XOR loop (see [`xor_in_place`]).
#[inline(always)]
fn xor_into(dst: &mut [u8], src: &[u8], key: [u8; 4]) {
    let (dst, src) = xor_blocks_into::<256>(dst, src, key);
    let (dst, src) = xor_blocks_into::<16>(dst, src, key);
    for (i, (d, s)) in dst.iter_mut().zip(src).enumerate() {
        *d = *s ^ key[i & 3];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(buf: &mut [u8], key: [u8; 4], offset: usize) {
        for (i, b) in buf.iter_mut().enumerate() {
            *b ^= key[(offset + i) % 4];
        }
    }

    #[test]
    fn matches_the_byte_at_a_time_definition() {
        let key = [0x12, 0x34, 0x56, 0x78];
        for len in [
            0, 1, 3, 4, 15, 16, 17, 63, 64, 65, 127, 128, 255, 256, 257, 300, 1000, 4099,
        ] {
            for offset in 0..8 {
                let data: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
                let mut fast = data.clone();
                let mut slow = data.clone();
                apply_mask(&mut fast, key, offset);
                naive(&mut slow, key, offset);
                assert_eq!(fast, slow, "len {len} offset {offset}");
                let mut copied = vec![0; len];
                mask_into(&mut copied, &data, key, offset);
                assert_eq!(copied, slow, "mask_into len {len} offset {offset}");
                // The portable loops, whatever the CPU.
                let rotated = rotate(key, offset);
                let mut portable = data.clone();
                xor_in_place(&mut portable, rotated);
                assert_eq!(portable, slow, "portable len {len} offset {offset}");
                let mut portable_into = vec![0; len];
                xor_into(&mut portable_into, &data, rotated);
                assert_eq!(
                    portable_into, slow,
                    "portable into len {len} offset {offset}"
                );
            }
        }
    }

    #[test]
    fn unaligned_slices_are_masked_too() {
        let key = [9, 200, 31, 77];
        let data: Vec<u8> = (0..2048u32).map(|i| (i * 13) as u8).collect();
        for start in 0..8 {
            let mut fast = data.clone();
            let mut slow = data.clone();
            apply_mask(&mut fast[start..], key, start);
            naive(&mut slow[start..], key, start);
            assert_eq!(fast, slow, "start {start}");
        }
    }

    #[test]
    fn piecewise_equals_whole() {
        let key = [1, 2, 3, 250];
        let data: Vec<u8> = (0..300u32).map(|i| i as u8).collect();
        let mut whole = data.clone();
        apply_mask(&mut whole, key, 0);
        let mut pieces = data.clone();
        let mut at = 0;
        for size in [1, 2, 5, 64, 100, 128] {
            let end = (at + size).min(pieces.len());
            apply_mask(&mut pieces[at..end], key, at);
            at = end;
        }
        apply_mask(&mut pieces[at..], key, at);
        assert_eq!(pieces, whole);
    }

    #[test]
    fn zero_key_is_identity() {
        let mut data = *b"payload";
        apply_mask(&mut data, [0; 4], 3);
        assert_eq!(&data, b"payload");
    }
}
