"""The stand-in speaks the Hub API: huggingface_hub (the official client) reads and writes
through it exactly the endpoints hubmcp's tools use. A shape the client cannot parse fails
here, so the stand-in cannot drift from the real API unnoticed.

HF_ENDPOINT points at the stand-in (set by run.sh before this module imports the client).
"""

import io
import os
import uuid

import pytest
from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi, hf_hub_download
from huggingface_hub.errors import HfHubHTTPError

ALICE = "hf_standin_alice_write"  # role write, admin of standin-org
BOB = "hf_standin_bob_read"  # role read
CAROL = "hf_standin_carol_finegrained"  # fine-grained, read-only scopes

assert os.environ.get("HF_ENDPOINT", "").startswith("http://127.0.0.1"), "run through run.sh"
api = HfApi(endpoint=os.environ["HF_ENDPOINT"])


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def status_of(excinfo):
    return excinfo.value.response.status_code


# ----------------------------------------------------------------------------- reads


def test_whoami_write_and_read_tokens():
    me = api.whoami(token=ALICE)
    assert me["name"] == "alice"
    assert me["auth"]["accessToken"]["role"] == "write"
    assert api.whoami(token=BOB)["auth"]["accessToken"]["role"] == "read"
    fine = api.whoami(token=CAROL)["auth"]["accessToken"]
    assert fine["role"] == "fineGrained" and fine["fineGrained"]["scoped"]


def test_model_dataset_space_info():
    model = api.model_info("google-bert/bert-base-uncased")
    assert model.id == "google-bert/bert-base-uncased" and len(model.sha) == 40
    assert any(s.rfilename == "config.json" for s in model.siblings)
    dataset = api.dataset_info("stanfordnlp/imdb")
    assert dataset.id == "stanfordnlp/imdb"
    space = api.space_info("black-forest-labs/FLUX.1-Kontext-Dev")
    assert space.sdk == "gradio"


def test_tree_listing_and_file_download():
    paths = {e.path for e in api.list_repo_tree("google-bert/bert-base-uncased", recursive=True)}
    assert "config.json" in paths
    local = hf_hub_download("google-bert/bert-base-uncased", "config.json")
    with open(local, encoding="utf-8") as f:
        assert f.read().lstrip().startswith("{")


def test_papers():
    paper = api.paper_info("2407.21783")
    assert paper.id == "2407.21783" and paper.title
    found = list(api.list_papers(query="llama"))
    assert any(p.id == "2407.21783" for p in found)


def test_listings_collections_daily_papers_runtime_revisions():
    assert "google-bert/bert-base-uncased" in [m.id for m in api.list_models(search="bert", limit=5)]
    assert [d.id for d in api.list_datasets(author="stanfordnlp")] == ["stanfordnlp/imdb"]
    assert len(list(api.list_spaces(limit=3))) == 3
    collection = api.get_collection("standin-org/open-llm-starter-kit-66a1f0c2b3d4e5f60718293a")
    assert collection.title and collection.items
    assert len([p.id for p in api.list_daily_papers()]) >= 2
    assert "README.md" in [e.path for e in api.list_repo_tree("stanfordnlp/imdb", repo_type="dataset")]
    assert api.get_space_runtime("black-forest-labs/FLUX.1-Kontext-Dev").stage == "RUNNING"
    at_tag = api.model_info("google-bert/bert-base-uncased", revision="v1.0")
    assert len(at_tag.sha) == 40
    assert api.file_exists("google-bert/bert-base-uncased", "config.json")
    assert not api.file_exists("google-bert/bert-base-uncased", "absent.json")


def test_private_repo_is_hidden_from_anonymous():
    with pytest.raises(HfHubHTTPError) as e:
        api.model_info("standin-org/private-model")
    assert status_of(e) in (401, 404)
    assert api.model_info("standin-org/private-model", token=ALICE).private


# ----------------------------------------------------------------------------- writes


def test_create_commit_read_back():
    repo_id = f"alice/{unique('shapes')}"
    url = api.create_repo(repo_id, token=ALICE)
    assert url.repo_id == repo_id
    # Taken: 409, and exist_ok accepts it.
    with pytest.raises(HfHubHTTPError) as e:
        api.create_repo(repo_id, token=ALICE)
    assert status_of(e) == 409
    assert api.create_repo(repo_id, token=ALICE, exist_ok=True).repo_id == repo_id

    info = api.upload_file(path_or_fileobj=b"hello stand-in\n", path_in_repo="docs/hello.txt", repo_id=repo_id, token=ALICE)
    assert len(info.oid) == 40 and info.commit_url.endswith(info.oid)
    local = hf_hub_download(repo_id, "docs/hello.txt", token=ALICE)
    with open(local, "rb") as f:
        assert f.read() == b"hello stand-in\n"
    assert set(api.list_repo_files(repo_id, token=ALICE)) == {".gitattributes", "docs/hello.txt"}
    assert api.model_info(repo_id, token=ALICE).sha == info.oid
    assert repo_id in [m.id for m in api.list_models(author="alice", token=ALICE)]

    # Several operations, one commit; the deleted file is gone.
    second = api.create_commit(
        repo_id,
        operations=[
            CommitOperationAdd("data/a.csv", b"x,y\n1,2\n"),
            CommitOperationDelete("docs/hello.txt"),
        ],
        commit_message="two operations",
        token=ALICE,
    )
    files = set(api.list_repo_files(repo_id, token=ALICE))
    assert "data/a.csv" in files and "docs/hello.txt" not in files
    # Optimistic concurrency: the old parent is stale now.
    with pytest.raises(HfHubHTTPError) as e:
        api.create_commit(
            repo_id,
            operations=[CommitOperationAdd("late.txt", b"late")],
            commit_message="stale",
            parent_commit=info.oid,
            token=ALICE,
        )
    assert status_of(e) == 409
    ok = api.create_commit(
        repo_id,
        operations=[CommitOperationAdd("fresh.txt", b"fresh")],
        commit_message="fresh",
        parent_commit=second.oid,
        token=ALICE,
    )
    assert ok.oid != second.oid


def test_pull_request_and_branch():
    repo_id = f"standin-org/{unique('pr')}"
    api.create_repo(repo_id, repo_type="dataset", private=True, token=ALICE)
    pr = api.upload_file(
        path_or_fileobj=b"proposal", path_in_repo="README.md", repo_id=repo_id, repo_type="dataset", create_pr=True, token=ALICE
    )
    assert pr.pr_url and pr.pr_url.endswith("/discussions/1") and pr.pr_num == 1
    refs = api.list_repo_refs(repo_id, repo_type="dataset", include_pull_requests=True, token=ALICE)
    assert [b.name for b in refs.branches] == ["main"]
    assert refs.pull_requests[0].ref == "refs/pr/1"
    # main is untouched; the PR ref has the file.
    assert "README.md" not in api.list_repo_files(repo_id, repo_type="dataset", token=ALICE)
    assert "README.md" in api.list_repo_files(repo_id, repo_type="dataset", revision="refs/pr/1", token=ALICE)

    api.create_branch(repo_id, repo_type="dataset", branch="dev", token=ALICE)
    api.upload_file(path_or_fileobj=b"dev", path_in_repo="dev.txt", repo_id=repo_id, repo_type="dataset", revision="dev", token=ALICE)
    assert "dev.txt" in api.list_repo_files(repo_id, repo_type="dataset", revision="dev", token=ALICE)
    assert "dev.txt" not in api.list_repo_files(repo_id, repo_type="dataset", token=ALICE)
    # Private: invisible to others.
    with pytest.raises(HfHubHTTPError) as e:
        api.dataset_info(repo_id, token=BOB)
    assert status_of(e) == 404


def test_lfs_upload():
    repo_id = f"alice/{unique('lfs')}"
    api.create_repo(repo_id, token=ALICE)
    payload = bytes(range(256)) * 8
    # A binary buffer takes the Git LFS path (batch, upload, verify, lfsFile), not Xet storage.
    api.upload_file(path_or_fileobj=io.BytesIO(payload), path_in_repo="weights.bin", repo_id=repo_id, token=ALICE)
    entry = next(e for e in api.list_repo_tree(repo_id, token=ALICE) if e.path == "weights.bin")
    assert entry.lfs is not None and entry.lfs.size == len(payload)
    with open(hf_hub_download(repo_id, "weights.bin", token=ALICE), "rb") as f:
        assert f.read() == payload


def test_write_scopes_refused():
    with pytest.raises(HfHubHTTPError) as e:
        api.create_repo(f"bob/{unique('nope')}", token=BOB)
    assert status_of(e) == 403 and "read" in e.value.server_message
    with pytest.raises(HfHubHTTPError) as e:
        api.create_repo(f"carol/{unique('nope')}", token=CAROL)
    assert status_of(e) == 403 and "repo.write" in e.value.server_message
    with pytest.raises(HfHubHTTPError) as e:
        api.create_repo(f"google-bert/{unique('nope')}", token=ALICE)
    assert status_of(e) == 403
    with pytest.raises(HfHubHTTPError) as e:
        api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=f"alice/{unique('missing')}", token=ALICE)
    assert status_of(e) == 404


def test_space_create_and_duplicate():
    space_id = f"alice/{unique('space')}"
    api.create_repo(space_id, repo_type="space", space_sdk="gradio", token=ALICE)
    assert api.space_info(space_id, token=ALICE).sdk == "gradio"
    copy_id = f"alice/{unique('dup')}"
    url = api.duplicate_repo(
        "black-forest-labs/FLUX.1-Kontext-Dev", to_id=copy_id, repo_type="space", private=True, token=ALICE
    )
    assert url.repo_id == copy_id
    copy = api.space_info(copy_id, token=ALICE)
    assert copy.private and copy.sdk == "gradio"
    assert "app.py" in api.list_repo_files(copy_id, repo_type="space", token=ALICE)


# ----------------------------------------------------------------------------- buckets


def test_buckets_list_info_tree():
    ids = [b.id for b in api.list_buckets("standin-org")]
    assert "standin-org/training-logs" in ids
    info = api.bucket_info("standin-org/training-logs")
    assert info.total_files == 4 and info.size > 0 and not info.private
    paths = {e.path for e in api.list_bucket_tree("standin-org/training-logs", recursive=True)}
    assert "runs/2026-01-01/metrics.jsonl" in paths
    top = {(e.type, e.path) for e in api.list_bucket_tree("standin-org/training-logs")}
    assert ("directory", "runs") in top and ("file", "README.md") in top
    got = list(api.get_bucket_paths_info("standin-org/training-logs", ["README.md", "absent"]))
    assert [f.path for f in got] == ["README.md"]
    # Private buckets: the owner sees them, others do not.
    mine = [b.id for b in api.list_buckets(token=ALICE)]  # other tests may have added some
    assert "alice/scratch" in mine and all(i.startswith("alice/") for i in mine)
    assert api.list_buckets("alice", token=BOB) == [] or list(api.list_buckets("alice", token=BOB)) == []


def test_bucket_create_and_delete_file():
    bucket_id = f"alice/{unique('bucket')}"
    url = api.create_bucket(bucket_id, private=True, token=ALICE)
    assert url.bucket_id == bucket_id
    assert api.bucket_info(bucket_id, token=ALICE).private
    with pytest.raises(HfHubHTTPError) as e:
        api.create_bucket(f"bob/{unique('bucket')}", token=BOB)
    assert status_of(e) == 403
