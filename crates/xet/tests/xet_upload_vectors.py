#!/usr/bin/env python3
"""What hf_xet uploads for each vector input: xorbs, terms, verification hashes, sha256.

    python xet_upload_vectors.py            print the vectors (the format of xet_upload_vectors.txt)
    python xet_upload_vectors.py --check F  recompute and compare with file F; exit 1 on a mismatch

Each input of xet_vectors.py is uploaded alone by the real client (hf_xet.upload_files) to
its local CAS (`local://DIR`, a directory standing in for the server; a fresh one per file, so
nothing is deduplicated across inputs). The xorbs it wrote (`xet/xorbs/xorbs/default.HASH`,
stored with the footer hf_xet's local CAS adds) and the shard (`xet/xorbs/shards/*.mdb`) are
read back here with a small independent parser. tests/vectors.rs checks that
xet_format::upload::prepare produces the same for the same bytes.

Lines:  NAME file FILE_HASH SHA256_HEX
        NAME xorb XORB_HASH CHUNKS RAW_BYTES SHA256_OF_CHUNK_BYTES
        NAME term XORB_HASH START END RAW_BYTES VERIFICATION_HASH
        NAME shard SHA256_OF_SHARD
SHA256_OF_CHUNK_BYTES is the sha256 of the xorb's chunk section (footer excluded), i.e. of
exactly what hf_xet POSTs to a real CAS. SHA256_OF_SHARD is the sha256 of the shard as
uploaded (header with footer_size 0, file info, CAS info; no lookup tables, no footer). It is
left out for the empty file: hf_xet records an all-zero sha256 for it (its hasher never saw a
byte), where we record the true digest of no bytes.
"""
import glob
import hashlib
import os
import struct
import sys
import tempfile

import hf_xet

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xet_vectors import inputs  # noqa: E402

BOOKEND = b"\xff" * 32
FOOTER_IDENT = b"XETBLOB"


def xet_hex(raw):
    """Xet's string form: each 8-byte word as a little-endian u64 in hex."""
    return "".join("%016x" % int.from_bytes(raw[i : i + 8], "little") for i in range(0, 32, 8))


def chunk_section(xorb):
    """The chunk headers and bodies, up to the footer if any."""
    at = 0
    while at < len(xorb) and not xorb[at:].startswith(FOOTER_IDENT):
        size = int.from_bytes(xorb[at + 1 : at + 4], "little")
        at += 8 + size
    return xorb[:at]


def read_shard(data):
    """(files, xorbs, end) of a shard: files as (hash, terms, verification, sha256 raw); end
    is where the CAS info section's bookend ends (lookup tables and footer follow)."""
    at = 48
    files = []
    while data[at : at + 32] != BOOKEND:
        fhash = data[at : at + 32]
        flags, n = struct.unpack_from("<II", data, at + 32)
        at += 48
        terms = []
        for _ in range(n):
            _, raw, start, end = struct.unpack_from("<IIII", data, at + 32)
            terms.append((data[at : at + 32], start, end, raw))
            at += 48
        ver = []
        if flags & (1 << 31):
            for _ in range(n):
                ver.append(data[at : at + 32])
                at += 48
        sha = None
        if flags & (1 << 30):
            sha = data[at : at + 32]
            at += 48
        files.append((fhash, terms, ver, sha))
    at += 48
    xorbs = {}
    while data[at : at + 32] != BOOKEND:
        xhash = data[at : at + 32]
        _, n, raw, _ = struct.unpack_from("<IIII", data, at + 32)
        xorbs[xhash] = (n, raw)
        at += 48 * (n + 1)
    return files, xorbs, at + 48


def upload(name, data):
    out = []
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "input")
        with open(path, "wb") as f:
            f.write(data)
        cas = os.path.join(d, "cas")
        os.mkdir(cas)
        [info] = hf_xet.upload_files([path], "local://" + cas, None, None, None, "model")
        out.append(f"{name} file {info.hash} {hashlib.sha256(data).hexdigest()}")
        shards = glob.glob(os.path.join(cas, "xet/xorbs/shards/*.mdb"))
        files, xorbs = [], {}
        for s in shards:
            raw = open(s, "rb").read()
            f, x, end = read_shard(raw)
            files += f
            xorbs.update(x)
            if data:
                # As uploaded: no footer, footer_size 0.
                body = raw[:40] + bytes(8) + raw[48:end]
                out.append(f"{name} shard {hashlib.sha256(body).hexdigest()}")
        for xhash, (n, raw) in xorbs.items():
            hexhash = xet_hex(xhash)
            blob = open(os.path.join(cas, f"xet/xorbs/xorbs/default.{hexhash}"), "rb").read()
            digest = hashlib.sha256(chunk_section(blob)).hexdigest()
            out.append(f"{name} xorb {hexhash} {n} {raw} {digest}")
        for fhash, terms, ver, sha in files:
            assert xet_hex(fhash) == info.hash, (name, "shard file hash")
            for (xh, start, end, raw), v in zip(terms, ver):
                out.append(f"{name} term {xet_hex(xh)} {start} {end} {raw} {xet_hex(v)}")
    return out


def vectors():
    lines = []
    for name, data in inputs():
        lines += upload(name, data)
    return lines


def main():
    lines = vectors()
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        want = [l for l in open(sys.argv[2]).read().splitlines() if l and not l.startswith("#")]
        if want != lines:
            for l in sorted(set(want) ^ set(lines)):
                print(("fixture only: " if l in want else "hf_xet only:  ") + l)
            sys.exit(1)
        print(f"{len(lines)} Xet upload vectors agree with hf_xet")
        return
    print("# What hf_xet 1.8.0 (PyPI) uploads for each input of xet_vectors.py, written by")
    print("# crates/xet/tests/xet_upload_vectors.py (see its docstring); checked by tests/vectors.rs.")
    for l in lines:
        print(l)


if __name__ == "__main__":
    main()
