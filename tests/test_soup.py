"""relsearch soup: weight averages of runs from one base, chosen on validation, exported as a delta."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from test_distill import student_dir, teacher_dir, vocab_file  # noqa: F401  (tiny distillation)
from test_training import _config, base_dir, data_dir  # noqa: F401  (shared fixtures)
from typer.testing import CliRunner

from relsearch import RelationEncoder, RelsearchError
from relsearch.cli.app import app
from relsearch.distillation.run import DistillConfig, distill
from relsearch.distillation.trainer import StudentRun
from relsearch.encoding.residual_delta import stored_names
from relsearch.training.loop import Trainer
from relsearch.training.soup import SoupKitchen, average_states, export_soup
from relsearch.training.validation import load_valid_sets

runner = CliRunner()


@pytest.fixture(scope="module")
def runs(tmp_path_factory, base_dir, data_dir):  # noqa: F811
    """Three 1-epoch runs of one recipe with different seeds (their best/ exports)."""
    root = tmp_path_factory.mktemp("runs")
    out = []
    for seed in (3, 4, 5):
        summary = Trainer(_config(base_dir, root / f"s{seed}", data_dir, epochs=1, seed=seed)).run()
        out.append(Path(summary["model"]))
    return out


def _state(model: Path) -> dict[str, torch.Tensor]:
    return RelationEncoder(model, trace=False).model.state_dict()


def test_average_states_is_the_elementwise_mean(runs):
    a, b = _state(runs[0]), _state(runs[1])
    mean = average_states([a, b])
    name = next(n for n in a if a[n].dim() == 2 and not torch.equal(a[n], b[n]))
    assert torch.allclose(mean[name], (a[name] + b[name]) / 2)
    ints = [n for n in a if not a[n].is_floating_point()]
    assert all(torch.equal(mean[n], a[n]) for n in ints)
    # a tensor no run changed stays bit for bit (the float mean of three copies would round it)
    gen = torch.Generator().manual_seed(0)
    frozen = torch.randn(1000, generator=gen)
    assert not torch.equal(torch.stack([frozen] * 3).mean(dim=0), frozen)
    three = average_states([{**s, "frozen": frozen.clone()} for s in (a, b, a)])
    assert torch.equal(three["frozen"], frozen)
    broken = dict(b)
    if ints:
        broken[ints[0]] = broken[ints[0]] + 1
        with pytest.raises(RelsearchError, match="non-float"):
            average_states([a, broken])


def test_uniform_soup_exports_a_delta_that_reloads_to_the_average(tmp_path, runs, data_dir):  # noqa: F811
    kitchen = SoupKitchen(runs[:2], load_valid_sets(data_dir))
    result = kitchen.cook("uniform")
    assert sorted(result.chosen) == sorted(str(p.resolve()) for p in runs[:2])
    info = export_soup(kitchen, result, tmp_path / "soup")
    assert info["check_min_cosine"] >= 0.999

    a, b = _state(runs[0]), _state(runs[1])
    souped = _state(tmp_path / "soup")
    name = next(n for n in a if a[n].dim() == 2 and not torch.equal(a[n], b[n]))
    expected = (a[name] + b[name]) / 2
    spread = (a[name] - b[name]).abs().max()
    assert (souped[name] - expected).abs().max() < 0.05 * spread  # the average, not either run
    meta = json.loads((tmp_path / "soup" / "relsearch_delta.json").read_text())
    assert meta["dtype"] == "residual-int8" and meta["soup"]["method"] == "uniform"
    # frozen tensors (the embeddings) stay out of the delta; the tiny base has no saved pooler,
    # which transformers initialises at random on each load, so it differs between runs
    stored = set(stored_names(load_file(str(tmp_path / "soup" / "delta.safetensors"))))
    trained = set(stored_names(load_file(str(runs[0] / "delta.safetensors"))))
    assert {n for n in stored if not n.startswith("pooler.")} == trained
    assert not meta["base"].endswith("best")  # rebuilt from the root base, not from an ingredient
    card = (tmp_path / "soup" / "README.md").read_text()
    assert "soup of 2 runs" in card and "relsearch:test-eval:begin" in card and "seed 4" in card

    pairs = [("barista", "coffee"), ("king", "queen"), ("dog", "puppy")]
    in_kitchen = kitchen.encoder.encode(pairs)
    reloaded = RelationEncoder(tmp_path / "soup", word_weight=0.0).encode(pairs)
    assert np.sum(in_kitchen * reloaded, axis=1).min() >= 0.999


def test_the_card_names_weight_settings_that_differ_not_export_settings(tmp_path):
    from relsearch.training.soup_card import _differences

    model = tmp_path / "run-s1" / "best"
    model.mkdir(parents=True)
    config = {"seed": 1, "select": "last", "out": "runs/s1", "cache": False, "lr": 2e-5}
    training = {"config": config, "best_epoch": 5}
    (model / "relsearch_delta.json").write_text(json.dumps({"training": training}))
    first = {"seed": 0, "select": "best", "out": "runs/s0", "cache": True, "lr": 2e-5}
    assert _differences(str(model), first) == " (seed 1, kept epoch 5)"


def test_greedy_soup_starts_from_the_best_and_never_lowers_validation(runs, data_dir):  # noqa: F811
    kitchen = SoupKitchen(runs, load_valid_sets(data_dir))
    result = kitchen.cook("greedy")
    means = [i.scores["mean"] for i in result.ingredients]
    assert means == sorted(means, reverse=True)
    assert result.chosen[0] == result.ingredients[0].source
    assert result.scores["mean"] >= means[0]
    assert len(result.steps) == len(runs) - 1
    kept = [s["model"] for s in result.steps if s["kept"]]
    assert result.chosen == [result.ingredients[0].source, *kept]


def test_models_of_another_recipe_are_refused(tmp_path, runs, base_dir, data_dir):  # noqa: F811
    other = Trainer(_config(base_dir, tmp_path / "mask", data_dir, epochs=1, pooling="mask")).run()
    with pytest.raises(RelsearchError, match="pooling"):
        SoupKitchen([runs[0], other["model"]], load_valid_sets(data_dir))
    with pytest.raises(RelsearchError, match="at least two"):
        SoupKitchen([runs[0]], load_valid_sets(data_dir))
    with pytest.raises(RelsearchError, match="twice"):
        SoupKitchen([runs[0], runs[0]], load_valid_sets(data_dir))


def test_cli_soup_json_and_errors(tmp_path, runs, data_dir):  # noqa: F811
    args = ["soup", str(runs[0]), str(runs[1]), "--data", str(data_dir)]
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "s"), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["model"] == str(tmp_path / "s") and 1 <= len(summary["chosen"]) <= 2
    assert "valid analogy" in result.stderr
    again = runner.invoke(app, [*args, "--out", str(tmp_path / "s")])
    assert again.exit_code == 1 and "--overwrite" in again.stderr
    for bad, message in [
        (["--method", "best"], "--method"),
        (["--dtype", "int8"], "--dtype"),
    ]:
        result = runner.invoke(app, [*args, "--out", str(tmp_path / "bad"), *bad])
        assert result.exit_code == 1 and message in result.stderr
    single = runner.invoke(app, ["soup", str(runs[0]), "--data", str(data_dir), "--out", str(tmp_path / "x")])
    assert single.exit_code == 1 and "at least two" in single.stderr


def test_a_soup_of_distilled_students_averages_their_heads_and_keeps_their_hybrid_settings(
    tmp_path,
    teacher_dir,  # noqa: F811
    student_dir,  # noqa: F811
    vocab_file,  # noqa: F811
    data_dir,  # noqa: F811
):
    students = []
    for seed in (1, 2):
        config = DistillConfig(
            out=tmp_path / "runs" / f"s{seed}",
            vocab=vocab_file,
            student=str(student_dir),
            teacher=str(teacher_dir),
            k=4,
            random_pairs=100,
            data=data_dir,
            dtype="float32",
            teacher_dtype="float32",
            train=StudentRun(epochs=1, lr=3e-3, batch_size=16, holdout=20, seed=seed),
        )
        distill(config)
        students.append(tmp_path / "runs" / f"s{seed}" / "best")
    heads = [RelationEncoder(s, trace=False).head for s in students]
    assert not torch.equal(heads[0].weight, heads[1].weight)

    kitchen = SoupKitchen(students, load_valid_sets(data_dir))
    assert all(i.hybrid == (0.5, str(teacher_dir.resolve())) for i in kitchen.ingredients)
    export_soup(kitchen, kitchen.cook("uniform"), tmp_path / "shelf" / "soup")

    soup = RelationEncoder(tmp_path / "shelf" / "soup", trace=False)
    expected = (heads[0].weight + heads[1].weight) / 2
    assert torch.allclose(soup.head.weight, expected, atol=1e-6)  # the average, not the first head
    config = json.loads((tmp_path / "shelf" / "soup" / "config.json").read_text())["relbert_config"]
    assert config["word_difference_weight"] == 0.5
    assert config["word_model"].startswith("..")  # relative to the soup's folder, so both can move
    assert soup.word_model == str(teacher_dir.resolve())
    pairs = [("king", "queen"), ("dog", "puppy")]
    teacher = RelationEncoder(teacher_dir, trace=False)
    np.testing.assert_allclose(soup.encode(pairs)[:, 32:], teacher.encode(pairs)[:, 32:], atol=1e-5)
    prompt = RelationEncoder(tmp_path / "shelf" / "soup", word_weight=0.0, trace=False)
    assert np.sum(prompt.encode(pairs) * kitchen.encoder.encode(pairs), axis=1).min() >= 0.999
    card = (tmp_path / "shelf" / "soup" / "README.md").read_text()
    assert "relation head" in card and "word-difference weight 0.5" in card
