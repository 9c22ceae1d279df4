"""The stand-in's Jobs API read by the official client, huggingface_hub (HF_ENDPOINT points at it).

Every call goes through the client's own parsing (JobInfo, ScheduledJobInfo, the SSE log
reader, hf_raise_for_status), so a shape the client cannot read fails here.
"""

from __future__ import annotations

import os
import time

import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError

ALICE = "hf_standin_alice_write"
BOB = "hf_standin_bob_read"
ORG = "standin-org"
SECRET = "s3cr3t-value-for-the-shape-test"


@pytest.fixture(scope="module")
def api() -> HfApi:
    assert os.environ.get("HF_ENDPOINT"), "run through tests/hub-shapes/run.sh"
    return HfApi(endpoint=os.environ["HF_ENDPOINT"], token=ALICE)


def wait_until_done(api: HfApi, job_id: str, namespace: str | None = None):
    for _ in range(500):
        info = api.inspect_job(job_id=job_id, namespace=namespace)
        if info.status.stage in ("COMPLETED", "ERROR", "CANCELED"):
            return info
        time.sleep(0.02)
    raise AssertionError(f"job {job_id} did not finish")


def test_run_inspect_logs_and_list(api: HfApi) -> None:
    job = api.run_job(
        image="python:3.12",
        command=["sh", "-c", "echo one; sleep 0.3; echo two $NAME; echo hidden $TOKEN"],
        env={"NAME": "env-value"},
        secrets={"TOKEN": SECRET},
        flavor="cpu-basic",
        timeout="5m",
        labels={"suite": "shapes"},
    )
    assert job.owner.name == "alice" and job.owner.type == "user"
    assert job.status.stage in ("SCHEDULING", "RUNNING")
    assert job.url.endswith(f"/jobs/alice/{job.id}")
    assert job.secrets == {"TOKEN": None}, "secret values are never returned"
    assert job.created_at is not None

    # Following the logs of a running job streams them until it ends.
    lines = list(api.fetch_job_logs(job_id=job.id, follow=True))
    assert lines == ["one", "two env-value", f"hidden {SECRET}"]

    done = wait_until_done(api, job.id)
    assert done.status.stage == "COMPLETED"
    assert done.finished_at is not None and done.started_at is not None
    assert done.durations is not None
    # Not following: what is there, at once; tail keeps the last lines.
    assert list(api.fetch_job_logs(job_id=job.id)) == lines
    assert list(api.fetch_job_logs(job_id=job.id, tail=1)) == [f"hidden {SECRET}"]

    # list_jobs looks its namespace up with the module-level whoami (the global token), so name it.
    listed = list(api.list_jobs(namespace="alice"))
    assert job.id in [j.id for j in listed]
    only_done = list(api.list_jobs(status="COMPLETED", labels={"suite": "shapes"}, namespace="alice"))
    assert [j.id for j in only_done] == [job.id]
    assert list(api.list_jobs(status="RUNNING", labels={"suite": "shapes"}, namespace="alice")) == []


def test_failing_and_timed_out_jobs_end_in_error(api: HfApi) -> None:
    failing = api.run_job(image="ubuntu", command=["sh", "-c", "echo before; exit 3"])
    info = wait_until_done(api, failing.id)
    assert info.status.stage == "ERROR" and "3" in (info.status.message or "")
    slow = api.run_job(image="ubuntu", command=["sleep", "30"], timeout=1)
    info = wait_until_done(api, slow.id)
    assert info.status.stage == "ERROR" and "timed out" in (info.status.message or "")


def test_cancel_an_org_job(api: HfApi) -> None:
    job = api.run_job(image="ubuntu", command=["sh", "-c", "echo start; sleep 60"], namespace=ORG)
    assert job.owner.name == ORG and job.owner.type == "org"
    api.cancel_job(job_id=job.id, namespace=ORG)
    info = wait_until_done(api, job.id, namespace=ORG)
    assert info.status.stage == "CANCELED"
    assert info.finished_at is not None


def test_uv_jobs_run_their_inline_script(api: HfApi) -> None:
    job = api.run_uv_job("print('hello from uv')\nprint(6 * 7)\n", dependencies=["requests"])
    assert job.docker_image and "uv" in job.docker_image
    assert list(api.fetch_job_logs(job_id=job.id, follow=True))[-2:] == ["hello from uv", "6 * 7"]


def test_errors_have_the_hubs_statuses(api: HfApi) -> None:
    with pytest.raises(HfHubHTTPError) as e:
        api.inspect_job(job_id="000000000000000000000000")
    assert e.value.response.status_code == 404
    bob = HfApi(endpoint=os.environ["HF_ENDPOINT"], token=BOB)
    with pytest.raises(HfHubHTTPError) as e:
        bob.run_job(image="ubuntu", command=["echo", "hi"])
    assert e.value.response.status_code == 403
    assert "write" in str(e.value)
    assert list(bob.list_jobs(namespace="bob")) == [], "a read token may still list its own jobs"
    with pytest.raises(HfHubHTTPError) as e:
        bob.run_job(image="ubuntu", command=["echo", "hi"], namespace=ORG)
    assert e.value.response.status_code == 403
    with pytest.raises(HfHubHTTPError) as e:
        api.run_job(image="ubuntu", command=["echo"], flavor="no-such-flavor")
    assert e.value.response.status_code == 400


def test_hardware(api: HfApi) -> None:
    names = [h.name for h in api.list_jobs_hardware()]
    assert "cpu-basic" in names and "t4-small" in names


def test_scheduled_jobs(api: HfApi) -> None:
    sj = api.create_scheduled_job(
        image="python:3.12",
        command=["python", "-c", "print('tick')"],
        schedule="@hourly",
        secrets={"TOKEN": SECRET},
    )
    assert sj.schedule == "@hourly" and sj.suspend is False
    assert sj.status.next_job_run_at is not None
    assert sj.job_spec.secrets == {"TOKEN": None}
    assert sj.job_spec.docker_image == "python:3.12"
    assert sj.id in [s.id for s in api.list_scheduled_jobs()]

    api.suspend_scheduled_job(scheduled_job_id=sj.id)
    assert api.inspect_scheduled_job(scheduled_job_id=sj.id).suspend is True
    api.resume_scheduled_job(scheduled_job_id=sj.id)
    assert api.inspect_scheduled_job(scheduled_job_id=sj.id).suspend is False

    run = api.trigger_scheduled_job(scheduled_job_id=sj.id)
    assert run.initiator is not None and run.initiator.type == "scheduled-job"
    assert list(api.fetch_job_logs(job_id=run.id, follow=True)) == ["tick"]
    assert api.inspect_scheduled_job(scheduled_job_id=sj.id).status.last_job.id == run.id

    cron = api.create_scheduled_job(image="ubuntu", command=["true"], schedule="0 9 * * 1-5", suspend=True)
    assert cron.suspend is True and cron.status.next_job_run_at is None
    with pytest.raises(HfHubHTTPError) as e:
        api.create_scheduled_job(image="ubuntu", command=["true"], schedule="every tuesday")
    assert e.value.response.status_code == 400

    api.delete_scheduled_job(scheduled_job_id=sj.id)
    api.delete_scheduled_job(scheduled_job_id=cron.id)
    assert sj.id not in [s.id for s in api.list_scheduled_jobs()]
    with pytest.raises(HfHubHTTPError) as e:
        api.inspect_scheduled_job(scheduled_job_id=sj.id)
    assert e.value.response.status_code == 404
