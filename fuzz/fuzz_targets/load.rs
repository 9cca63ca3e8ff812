//! Any bytes, as a spec file and as a PromQL query inside a valid spec: the loader must
//! never panic, hang or allocate without bound, and every diagnostic must point inside
//! the file and render (`exercise::load`).
#![no_main]

#[path = "../exercise.rs"]
#[allow(dead_code)]
mod exercise;

libfuzzer_sys::fuzz_target!(|data: &[u8]| exercise::load(data));
