#!/usr/bin/env python3
"""How the files of this directory were made (run once; the output is not reproducible byte
for byte: hf_xet's local CAS stamps its footers with times and nonces).

Three small files are uploaded together by hf_xet 1.8.0 to its local CAS (`local://DIR`), which
packs them into one xorb and one shard, both stored *with* their footers:
  text    300 numbered lines            → an LZ4 chunk
  floats  4000 f32 (1.0 + i·1e-4)       → a byte-grouped (BG4) LZ4 chunk
  random  9000 xorshift bytes           → a raw chunk
The xorb is saved as HASH.xorb, the shard as HASH.shard. tests/hf_xet_sample.rs regenerates the
three inputs and checks that xet_format parses both files to exactly them.
"""
import glob
import os
import shutil
import struct
import sys
import tempfile

import hf_xet

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from xet_vectors import xorshift  # noqa: E402


def inputs():
    text = b"".join(b"line %d of a small text sample\n" % i for i in range(300))
    floats = struct.pack("<4000f", *[1.0 + i * 1e-4 for i in range(4000)])
    return {"text": text, "floats": floats, "random": xorshift(9000, 0x9E3779B97F4A7C15)}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    with tempfile.TemporaryDirectory() as d:
        paths = []
        for name, data in inputs().items():
            paths.append(os.path.join(d, name))
            with open(paths[-1], "wb") as f:
                f.write(data)
        cas = os.path.join(d, "cas")
        os.mkdir(cas)
        hf_xet.upload_files(paths, "local://" + cas, None, None, None, "model")
        [xorb] = [p for p in glob.glob(os.path.join(cas, "xet/xorbs/xorbs/default.*")) if "." not in p[-8:]]
        [shard] = glob.glob(os.path.join(cas, "xet/xorbs/shards/*.mdb"))
        shutil.copy(xorb, os.path.join(here, os.path.basename(xorb)[len("default.") :] + ".xorb"))
        shutil.copy(shard, os.path.join(here, os.path.basename(shard)[: -len(".mdb")] + ".shard"))


if __name__ == "__main__":
    main()
