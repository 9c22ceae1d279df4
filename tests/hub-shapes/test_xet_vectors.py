"""The Xet file-hash vectors crates/xet is tested with, recomputed here by the real hf_xet.

crates/xet/tests/vectors.rs checks our chunking and hashing against the committed fixture;
this re-derives the fixture with hf_xet on every run, so the fixture cannot drift from the
reference implementation unnoticed.
"""
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_fixture_matches_hf_xet():
    script = ROOT / "crates/xet/tests/xet_vectors.py"
    fixture = ROOT / "crates/xet/tests/xet_vectors.txt"
    r = subprocess.run([sys.executable, str(script), "--check", str(fixture)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "agree with hf_xet" in r.stdout


def test_upload_fixture_matches_hf_xet():
    """What hf_xet uploads (xorbs, shard, terms; via its local CAS) is what the fixture says."""
    script = ROOT / "crates/xet/tests/xet_upload_vectors.py"
    fixture = ROOT / "crates/xet/tests/xet_upload_vectors.txt"
    r = subprocess.run([sys.executable, str(script), "--check", str(fixture)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "agree with hf_xet" in r.stdout
