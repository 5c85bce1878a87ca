//! The masking loops compiled for AVX2, used when the CPU has it (detected at run time).
//!
//! The only `unsafe` of the engine is here: calling a function compiled with
//! `#[target_feature(enable = "avx2")]`, which is sound exactly when the CPU supports
//! AVX2. The functions themselves are the safe loops of the parent module, inlined and
//! compiled for 32-byte lanes. Measured (callgrind, 16 KiB echo): the unmasking went from
//! about 3,900 to about 1,300 instructions per message (docs/performance.md).
#![allow(unsafe_code)]

/// XORs `buf` with `key` (phase 0) if the CPU has AVX2; `false` (nothing done) otherwise.
#[inline]
pub(super) fn xor_in_place(buf: &mut [u8], key: [u8; 4]) -> bool {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: `avx2::xor_in_place` only requires AVX2, and the CPU has it (checked
        // just above). It is safe code otherwise: slices, no pointers.
        unsafe { avx2::xor_in_place(buf, key) };
        return true;
    }
    let _ = (buf, key);
    false
}

/// XORs `src` into `dst` (same length) if the CPU has AVX2; `false` otherwise.
#[inline]
pub(super) fn xor_into(dst: &mut [u8], src: &[u8], key: [u8; 4]) -> bool {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: as in `xor_in_place`: AVX2 is present, the rest is safe code.
        unsafe { avx2::xor_into(dst, src, key) };
        return true;
    }
    let _ = (dst, src, key);
    false
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    #[target_feature(enable = "avx2")]
    pub(super) fn xor_in_place(buf: &mut [u8], key: [u8; 4]) {
        super::super::xor_in_place(buf, key);
    }

    #[target_feature(enable = "avx2")]
    pub(super) fn xor_into(dst: &mut [u8], src: &[u8], key: [u8; 4]) {
        super::super::xor_into(dst, src, key);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn avx2_path_matches_the_definition_when_present() {
        let key = [0xa1, 0x02, 0x7f, 0xee];
        let data: Vec<u8> = (0..5000u32).map(|i| (i * 31 + 7) as u8).collect();
        let expected: Vec<u8> = data
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ key[i & 3])
            .collect();
        let mut buf = data.clone();
        let mut out = vec![0; data.len()];
        let ran = super::xor_in_place(&mut buf, key);
        assert_eq!(ran, super::xor_into(&mut out, &data, key));
        #[cfg(target_arch = "x86_64")]
        assert_eq!(ran, std::arch::is_x86_feature_detected!("avx2"));
        if ran {
            assert_eq!(buf, expected);
            assert_eq!(out, expected);
        } else {
            println!("no AVX2 on this CPU: the portable loops are tested in mask::tests");
        }
    }
}
