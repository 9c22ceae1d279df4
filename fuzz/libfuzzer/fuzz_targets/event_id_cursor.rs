#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| (hubmcp_fuzz::targets::event_id_cursor::TARGET.run)(data));
