//! Our chunking and hashing against the real client: `xet_vectors.txt` holds file hashes that
//! hf_xet 1.8.0 computed for inputs this test regenerates (same generator as
//! `xet_vectors.py`, which the hub-shapes stage re-runs against hf_xet in check mode).

use xet_format::chunking::chunk_ends;
use xet_format::hash::{chunk_hash, file_hash};

fn xorshift(n: usize, mut x: u64) -> Vec<u8> {
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// `n` bytes: sha256("xet vector {i}") for i = 0, 1, 2, … concatenated.
fn sha256_counter(n: usize) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let mut out = Vec::with_capacity(n + 32);
    let mut i = 0u64;
    while out.len() < n {
        out.extend_from_slice(&Sha256::digest(format!("xet vector {i}").as_bytes()));
        i += 1;
    }
    out.truncate(n);
    out
}

fn input(name: &str) -> Vec<u8> {
    let (kind, n) = name.rsplit_once('-').unwrap();
    let n: usize = n.parse().unwrap();
    match kind {
        "random" => xorshift(n, 0x9E37_79B9_7F4A_7C15),
        "zeros" => vec![0; n],
        "text" => b"The quick brown fox jumps over the lazy dog. ".repeat(20_000),
        "repeated" => xorshift(200_000, 7).repeat(3),
        "floats" => (0..n / 4).flat_map(|i| ((1.0 + i as f64 * 1e-4) as f32).to_le_bytes()).collect(),
        "tiled" => xorshift(3_000_000, 0x9E37_79B9_7F4A_7C15).repeat(3),
        "counter" => sha256_counter(n),
        _ => panic!("unknown vector {name}"),
    }
}

pub fn xet_file_hash(data: &[u8]) -> String {
    let mut start = 0;
    let chunks: Vec<_> = chunk_ends(data)
        .into_iter()
        .map(|end| {
            let c = &data[start..end];
            start = end;
            (chunk_hash(c), c.len() as u64)
        })
        .collect();
    file_hash(&chunks).hex()
}

#[test]
fn file_hashes_match_hf_xet() {
    let fixture = include_str!("xet_vectors.txt");
    let mut n = 0;
    for line in fixture.lines().filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let mut f = line.split(' ');
        let (name, size, want) = (f.next().unwrap(), f.next().unwrap(), f.next().unwrap());
        let data = input(name);
        assert_eq!(data.len().to_string(), size, "{name}: generator differs from the fixture's");
        assert_eq!(xet_file_hash(&data), want, "{name}: file hash differs from hf_xet's");
        n += 1;
    }
    assert!(n >= 14, "the fixture lost vectors");
}

fn sha256_hex(data: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

/// What `upload::prepare` makes of an input, in the line format of `xet_upload_vectors.txt`.
fn upload_lines(name: &str, data: &[u8]) -> Vec<String> {
    let p = xet_format::upload::prepare(data);
    let hex: String = p.sha256.iter().map(|b| format!("{b:02x}")).collect();
    let mut lines = vec![format!("{name} file {} {hex}", p.file_hash.hex())];
    if !data.is_empty() {
        lines.push(format!("{name} shard {}", sha256_hex(&xet_format::shard::serialize(&p.shard))));
    }
    // In the shard's order (hash order), as the fixture lists them.
    let mut xorbs: Vec<_> = p.xorbs.iter().zip(&p.shard.xorbs).collect();
    xorbs.sort_by_key(|(x, _)| x.hash.hex());
    for (x, info) in xorbs {
        assert_eq!(x.hash, info.xorb);
        lines.push(format!(
            "{name} xorb {} {} {} {}",
            x.hash.hex(),
            info.chunks.len(),
            info.unpacked_bytes,
            sha256_hex(&x.bytes)
        ));
    }
    let file = &p.shard.files[0];
    for (t, v) in file.terms.iter().zip(&file.verification) {
        lines.push(format!(
            "{name} term {} {} {} {} {}",
            t.xorb.hex(),
            t.chunk_start,
            t.chunk_end,
            t.unpacked_bytes,
            v.hex()
        ));
    }
    lines
}

/// `prepare` uploads what hf_xet uploads: the same xorbs (hash, chunk count, raw size and the
/// exact bytes POSTed), the same shard bytes, the same terms and verification hashes, the same
/// sha256.
#[test]
fn prepared_uploads_match_hf_xet() {
    let fixture = include_str!("xet_upload_vectors.txt");
    let want: Vec<&str> = fixture.lines().filter(|l| !l.is_empty() && !l.starts_with('#')).collect();
    let mut names: Vec<&str> = want.iter().map(|l| l.split(' ').next().unwrap()).collect();
    names.dedup();
    assert!(names.len() >= 14, "the fixture lost inputs");
    let mut got = Vec::new();
    for name in names {
        got.extend(upload_lines(name, &input(name)));
    }
    let want: Vec<String> = want.iter().map(|l| l.to_string()).collect();
    for (w, g) in want.iter().zip(&got) {
        assert_eq!(w, g, "differs from what hf_xet uploads");
    }
    assert_eq!(want.len(), got.len());
}
