//! Masking (RFC 6455 §5.3): XOR of the payload with a 4-byte key, applied a block of 64
//! bytes at a time so the compiler emits SIMD lanes, in safe code.

/// Width of the blocks the bulk loop works on.
const BLOCK: usize = 64;

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
    if buf.len() < BLOCK {
        for (i, b) in buf.iter_mut().enumerate() {
            *b ^= key[i & 3];
        }
        return;
    }
    let mut wide = [0u8; BLOCK];
    for (i, b) in wide.iter_mut().enumerate() {
        *b = key[i & 3];
    }
    let (blocks, rest) = buf.as_chunks_mut::<BLOCK>();
    for block in blocks {
        for (b, k) in block.iter_mut().zip(wide.iter()) {
            *b ^= *k;
        }
    }
    // BLOCK is a multiple of 4, so the key phase is unchanged for the tail.
    for (i, b) in rest.iter_mut().enumerate() {
        *b ^= key[i & 3];
    }
}

/// Masks `src` into `dst` (same length) in one pass: the copy and the XOR together.
#[inline]
pub fn mask_into(dst: &mut [u8], src: &[u8], key: [u8; 4], offset: usize) {
    debug_assert_eq!(dst.len(), src.len());
    let key = rotate(key, offset);
    let mut wide = [0u8; BLOCK];
    for (i, b) in wide.iter_mut().enumerate() {
        *b = key[i & 3];
    }
    let (dblocks, drest) = dst.as_chunks_mut::<BLOCK>();
    let (sblocks, srest) = src.as_chunks::<BLOCK>();
    for (d, s) in dblocks.iter_mut().zip(sblocks) {
        for i in 0..BLOCK {
            d[i] = s[i] ^ wide[i];
        }
    }
    for (i, (d, s)) in drest.iter_mut().zip(srest).enumerate() {
        *d = *s ^ key[i & 3];
    }
}

/// The key as seen from `offset` bytes into the payload.
#[inline]
fn rotate(key: [u8; 4], offset: usize) -> [u8; 4] {
    let r = offset & 3;
    [key[r], key[(r + 1) & 3], key[(r + 2) & 3], key[(r + 3) & 3]]
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
        for len in [0, 1, 3, 4, 63, 64, 65, 127, 128, 1000] {
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
            }
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
