"""Bucket files through Xet storage, with the real clients: huggingface_hub uploads with hf_xet
(chunking, xorbs, shards against the stand-in's CAS, then the bucket batch) and downloads
with hf_xet (reconstruction, signed xorb ranges). The stand-in parses and re-hashes every
xorb and shard with crates/xet, so a passing upload is hf_xet agreeing with our format code,
and a passing download is hf_xet reading what our format code stored.

HF_ENDPOINT points at the stand-in (set by run.sh).
"""

import json
import os
import random
import urllib.request
import uuid

import hf_xet
import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import BucketBatchError

ALICE = "hf_standin_alice_write"
BOB = "hf_standin_bob_read"
api = HfApi(endpoint=os.environ["HF_ENDPOINT"])


def new_bucket():
    bucket_id = f"alice/{'xet-' + uuid.uuid4().hex[:8]}"
    api.create_bucket(bucket_id, private=True, token=ALICE)
    return bucket_id


def xet_hash_of(tmp_path, data):
    p = tmp_path / f"h-{uuid.uuid4().hex}"
    p.write_bytes(data)
    return hf_xet.hash_files([str(p)])[0].hash


def test_upload_list_and_download_through_xet(tmp_path):
    bucket_id = new_bucket()
    small = b"hello from hf_xet\n"
    big = random.Random(7).randbytes(700_000)  # several chunks
    src = tmp_path / "big.bin"
    src.write_bytes(big)
    api.batch_bucket_files(bucket_id, add=[(small, "notes/hello.txt"), (str(src), "data/big.bin")], token=ALICE)

    files = {e.path: e for e in api.list_bucket_tree(bucket_id, recursive=True, token=ALICE) if e.type == "file"}
    assert set(files) == {"notes/hello.txt", "data/big.bin"}
    assert files["data/big.bin"].size == len(big)
    # The hash the stand-in registered is the one hf_xet computes locally.
    assert files["notes/hello.txt"].xet_hash == xet_hash_of(tmp_path, small)
    assert files["data/big.bin"].xet_hash == xet_hash_of(tmp_path, big)

    out = tmp_path / "out"
    api.download_bucket_files(
        bucket_id, [("notes/hello.txt", out / "hello.txt"), ("data/big.bin", out / "big.bin")], token=ALICE
    )
    assert (out / "hello.txt").read_bytes() == small
    assert (out / "big.bin").read_bytes() == big

    # hf_xet asked the v2 routes (streamed shard upload, multi-range reconstruction) and the
    # stand-in answered them: no fallback to v1 for these files.
    with urllib.request.urlopen(f"{os.environ['HF_ENDPOINT']}/__standin/requests", timeout=10) as r:
        log = json.load(r)
    log = log.get("requests", log) if isinstance(log, dict) else log
    paths = [(r["method"], r["path"]) for r in log]
    big_hash = files["data/big.bin"].xet_hash
    assert ("GET", f"/xet-cas/v2/reconstructions/{big_hash}") in paths
    assert ("GET", f"/xet-cas/v1/reconstructions/{big_hash}") not in paths
    assert ("POST", "/xet-cas/v2/shards") in paths


def test_fixture_bucket_files_download_through_xet(tmp_path):
    # Files the stand-in holds from the start are stored through crates/xet: hf_xet reads them.
    out = tmp_path / "readme.md"
    api.download_bucket_files("standin-org/training-logs", [("README.md", out)])
    assert out.read_bytes().startswith(b"# Training logs")


def test_read_only_token_cannot_upload():
    # The write-token request is refused; hf_xet reports it as a connection error naming the 403.
    with pytest.raises(Exception) as e:
        api.batch_bucket_files("standin-org/training-logs", add=[(b"x", "x.txt")], token=BOB)
    assert "403" in str(e.value) and "xet-write-token" in str(e.value)


@pytest.mark.parametrize("xet_hash", ["ab" * 32, "not-a-xet-hash"])
def test_unknown_or_corrupted_xet_hash_is_refused(xet_hash):
    # As on the Hub: the failed operation is listed in `failed` of a 422 (all failed), which
    # huggingface_hub raises as a BucketBatchError naming the path.
    bucket_id = new_bucket()
    with pytest.raises(BucketBatchError) as e:
        api.batch_bucket_files(bucket_id, copy=[("bucket", bucket_id, xet_hash, "ghost.txt")], token=ALICE)
    assert e.value.response.status_code == 422
    assert [f["path"] for f in e.value.failures] == ["ghost.txt"]
    assert "xetHash" in str(e.value)
    assert [f for f in api.list_bucket_tree(bucket_id, recursive=True, token=ALICE)] == []


def test_a_failed_operation_does_not_stop_the_others():
    bucket_id = new_bucket()
    api.batch_bucket_files(bucket_id, add=[(b"kept\n", "kept.txt")], token=ALICE)
    kept = next(iter(api.get_bucket_paths_info(bucket_id, ["kept.txt"], token=ALICE)))
    copies = [("bucket", bucket_id, kept.xet_hash, "copy.txt"), ("bucket", bucket_id, "cd" * 32, "ghost.txt")]
    with pytest.raises(BucketBatchError) as e:
        api.batch_bucket_files(bucket_id, copy=copies, token=ALICE)
    assert e.value.response.status_code == 200
    assert [f["path"] for f in e.value.failures] == ["ghost.txt"]
    paths = {f.path for f in api.list_bucket_tree(bucket_id, recursive=True, token=ALICE)}
    assert paths == {"kept.txt", "copy.txt"}

V1_ROUND_TRIP = """
import os, sys
from huggingface_hub import HfApi
api = HfApi(endpoint=os.environ["HF_ENDPOINT"])
bucket_id, src, dst = sys.argv[1:4]
api.batch_bucket_files(bucket_id, add=[(src, "v1.bin")], token="%s")
api.download_bucket_files(bucket_id, [("v1.bin", dst)], token="%s")
""" % (ALICE, ALICE)


def test_v1_routes_and_direct_xorb_upload_through_xet(tmp_path):
    # hf_xet reads its protocol versions at start-up, hence a child process: pinned to the v1
    # shard and reconstruction routes (what hubmcp's own client speaks) and to the plain xorb
    # upload without the grant request, it round-trips through the stand-in as well.
    import subprocess
    import sys

    bucket_id = new_bucket()
    data = random.Random(11).randbytes(900_000)
    src, dst = tmp_path / "src.bin", tmp_path / "dst.bin"
    src.write_bytes(data)
    env = dict(
        os.environ,
        HF_XET_CLIENT_RECONSTRUCTION_API_VERSION="1",
        HF_XET_CLIENT_SHARD_API_VERSION="1",
        HF_XET_CLIENT_LEGACY_DIRECT_XORB_UPLOAD="true",
    )
    subprocess.run([sys.executable, "-c", V1_ROUND_TRIP, bucket_id, str(src), str(dst)], env=env, check=True)
    assert dst.read_bytes() == data

    file_hash = xet_hash_of(tmp_path, data)
    with urllib.request.urlopen(f"{os.environ['HF_ENDPOINT']}/__standin/requests", timeout=10) as r:
        log = json.load(r)
    log = log.get("requests", log) if isinstance(log, dict) else log
    paths = [(r["method"], r["path"]) for r in log]
    assert ("GET", f"/xet-cas/v1/reconstructions/{file_hash}") in paths
    assert ("GET", f"/xet-cas/v2/reconstructions/{file_hash}") not in paths
    assert ("POST", "/xet-cas/v1/shards") in paths
