"""``arcnn restore --engine ray`` on a real local two-worker Ray: the local engine's outputs byte for
byte, one line per bad file, resuming with --skip-existing, and an S3 round trip against a real
S3-compatible server (moto) on loopback."""

import contextlib
import io

import numpy as np
import pytest
from PIL import Image

from arcnn.cli import main
from arcnn.models import ConvStack, preset
from arcnn.weights import save_weights

from .conftest import smooth_image

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def ray_cluster():
    """One local Ray with two CPUs for the whole file: the engine joins it rather than starting one."""
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    yield
    ray.shutdown()


def _run(argv):
    out, errs = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(errs):
        code = main(argv)
    return code, out.getvalue(), errs.getvalue()


@pytest.fixture(scope="module")
def job(tmp_path_factory, ray_cluster):
    """Four colour q10 JPEGs and a broken one, restored by the local engine and by Ray (2 workers)."""
    root = tmp_path_factory.mktemp("ray")
    src = root / "in"
    src.mkdir()
    for i in range(4):
        Image.fromarray(smooth_image(48, 64, seed=i, colour=True)).save(src / f"im{i}.jpg", quality=10)
    (src / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    weights = root / "tiny.safetensors"
    save_weights(weights, ConvStack(preset("srcnn", residual=True)))
    model = ["--model", str(weights), "-q"]
    local = _run(["restore", str(src), "-o", f"{root / 'local'}/", *model])
    ray_args = ["restore", str(src), "-o", f"{root / 'ray'}/", *model, "--engine", "ray", "--workers", "2"]
    return {"root": root, "src": src, "model": model, "local": local, "ray": _run(ray_args), "args": ray_args}


def test_folder_matches_the_local_engine_byte_for_byte(job):
    local, out = job["root"] / "local", job["root"] / "ray"
    names = sorted(p.name for p in local.iterdir())
    assert names == [f"im{i}.png" for i in range(4)] == sorted(p.name for p in out.iterdir())
    for name in names:
        assert (out / name).read_bytes() == (local / name).read_bytes()


def test_a_bad_file_costs_one_line_and_exit_1(job):
    code, stdout, stderr = job["ray"]
    assert code == 1 == job["local"][0]
    lines = [ln for ln in stderr.splitlines() if ln.startswith("arcnn: error:")]
    assert len(lines) == 1 and "broken.jpg: read failed:" in lines[0]
    assert stdout.startswith("restored 4, skipped 0, failed 1, ") and "images/s" in stdout


def test_skip_existing_resumes(job):
    out = job["root"] / "ray"
    (out / "im2.png").unlink()
    code, stdout, _ = _run([*job["args"], "--skip-existing"])
    assert code == 1 and stdout.startswith("restored 1, skipped 3, failed 1")
    assert (out / "im2.png").read_bytes() == (job["root"] / "local" / "im2.png").read_bytes()
    code, _, stderr = _run(job["args"])  # without it, existing outputs are refused, never replaced
    assert code == 1 and "exists: --overwrite replaces it" in stderr


@pytest.fixture
def s3(monkeypatch):
    """A real S3-compatible server (moto) on loopback, and a boto3 client for it."""
    boto3 = pytest.importorskip("boto3")
    server_mod = pytest.importorskip("moto.server")
    server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": endpoint}  # fmt: skip
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    yield boto3.client("s3", endpoint_url=f"http://{host}:{port}")
    server.stop()


def test_s3_round_trip_matches_the_local_engine(job, s3):
    s3.create_bucket(Bucket="photos")
    for i in range(4):
        s3.put_object(Bucket="photos", Key=f"in/im{i}.jpg", Body=(job["src"] / f"im{i}.jpg").read_bytes())
    args = ["restore", "s3://photos/in/", "-o", "s3://photos/out/", *job["model"], "--engine", "ray"]
    code, stdout, stderr = _run([*args, "--workers", "2"])
    assert code == 0, stderr
    assert stdout.startswith("restored 4, skipped 0, failed 0")
    for i in range(4):
        body = s3.get_object(Bucket="photos", Key=f"out/im{i}.png")["Body"].read()
        local = (job["root"] / "local" / f"im{i}.png").read_bytes()
        pixels = [np.asarray(Image.open(io.BytesIO(b))) for b in (body, local)]
        assert np.array_equal(*pixels)
        assert body == local
