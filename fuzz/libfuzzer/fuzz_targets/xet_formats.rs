#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| (hubmcp_fuzz::targets::xet_formats::TARGET.run)(data));
