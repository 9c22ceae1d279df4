#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| (hubmcp_fuzz::targets::gradio_schema::TARGET.run)(data));
