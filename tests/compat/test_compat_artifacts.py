"""A wandb-style artifact pipeline (dataset job, training job with checkpoints and log_model, evaluation job)
run unchanged but for `import tracktui as wandb`, in a fresh interpreter."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_script

SCRIPT = """
import json, os, sys
import tracktui as wandb

os.chdir(sys.argv[1])
os.makedirs("raw", exist_ok=True)
for i in range(3):
    with open(f"raw/{i}.txt", "w") as f:
        f.write(f"sample {i}\\n")

run = wandb.init(project="compat-art", job_type="dataset")
raw = wandb.Artifact(name="mnist-raw", type="dataset", description="three samples",
                     metadata={"source": "synthetic", "n": 3})
raw.add_dir("raw")
raw.add_reference("s3://my-bucket/mnist/full.tar.gz")
with raw.new_file("README.md") as f:
    f.write("# raw\\n")
run.log_artifact(raw)
raw.wait()
run.finish()

with wandb.init(project="compat-art", job_type="train", config={"lr": 0.1}) as run:
    artifact = run.use_artifact("mnist-raw:latest")
    data_dir = artifact.download()
    n_samples = len([p for p in os.listdir(data_dir) if p.endswith(".txt")])
    for epoch in range(3):
        wandb.log({"loss": 1.0 / (epoch + 1)})
        with open("model.pt", "wb") as f:
            f.write(bytes([epoch]) * 1000)
        ckpt = wandb.Artifact(f"model-{run.id}", type="model", metadata={"epoch": epoch})
        ckpt.add_file("model.pt")
        run.log_artifact(ckpt, aliases=["latest", f"epoch-{epoch}"] + (["best"] if epoch == 1 else []))
    run.log_model(path="model.pt", name="final-model", aliases=["production"])
    train_id = run.id

with wandb.init(project="compat-art", job_type="eval") as run:
    best = run.use_artifact(f"model-{train_id}:best", type="model")
    best_dir = best.download(root="eval-model")
    final_dir = wandb.use_model("final-model:production")

api = wandb.Api()
a = api.artifact(f"me/compat-art/model-{train_id}:best")
train = api.run(train_id)
print(json.dumps({
    "raw": [raw.name, raw.version, raw.aliases, sorted(e.path for e in raw.files())],
    "data_dir": data_dir, "n_samples": n_samples,
    "best": [best.name, best.version, best.aliases, best.metadata],
    "best_bytes": open(os.path.join(best_dir, "model.pt"), "rb").read().hex(),
    "final": open(os.path.join(final_dir, "model.pt"), "rb").read().hex(),
    "api_best": [a.qualified_name, a.logged_by().id == train_id, sorted(r.job_type for r in a.used_by())],
    "train_logged": [x.name.split(":")[1] for x in train.logged_artifacts()],
    "train_used": [x.name for x in train.used_artifacts()],
    "versions": [x.version for x in api.artifacts(type_name="model", name=f"compat-art/model-{train_id}")],
}))
"""


def test_a_wandb_artifact_pipeline_runs_unchanged(store_dir: Path, tmp_path: Path) -> None:
    proc = run_script(SCRIPT, store_dir, str(tmp_path))
    assert "Traceback" not in proc.stderr and "Warning" not in proc.stderr, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["raw"] == ["mnist-raw:v0", "v0", ["latest"],
                          ["0.txt", "1.txt", "2.txt", "README.md", "full.tar.gz"]]
    assert out["data_dir"] == "artifacts/mnist-raw:v0" and out["n_samples"] == 3
    assert (tmp_path / "artifacts" / "mnist-raw:v0" / "README.md").read_text() == "# raw\n"
    assert out["best"][:3] == ["model-" + out["best"][0].split("-", 1)[1].split(":")[0] + ":v1", "v1",
                               ["best", "epoch-1"]]
    assert out["best"][3] == {"epoch": 1}
    assert out["best_bytes"] == (bytes([1]) * 1000).hex() and out["final"] == (bytes([2]) * 1000).hex()
    assert out["api_best"][1:] == [True, ["eval"]] and out["api_best"][0].startswith("compat-art/model-")
    assert out["train_logged"] == ["v0", "v1", "v2", "v0"]  # three checkpoints, then final-model:v0
    assert out["train_used"] == ["mnist-raw:v0"]
    assert out["versions"] == ["v2", "v1", "v0"]
