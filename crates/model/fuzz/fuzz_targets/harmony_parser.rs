//! The harmony output parser on any token sequence: see `gpt_oss_model_fuzz::check` for the invariants and the
//! crate documentation for how the input bytes become token ids.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    gpt_oss_model_fuzz::check(&gpt_oss_model_fuzz::decode(data));
});
