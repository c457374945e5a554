"""relsearch train: SemEval parsing, InfoNCE, cached layers, resume, export, CLI errors."""

from __future__ import annotations

import itertools
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from tiny_models import build_tiny_model
from typer.testing import CliRunner

from relsearch import RelationEncoder, RelsearchError
from relsearch.cli.app import app
from relsearch.encoding.cpu_features import cpu_features
from relsearch.encoding.residual_delta import stored_names
from relsearch.templates import TEMPLATES
from relsearch.training.layer_split import LayerSplit
from relsearch.training.loop import TrainConfig, Trainer, learning_rate, training_dtype
from relsearch.training.loss import info_nce
from relsearch.training.prompt_bank import PromptBank
from relsearch.training.semeval import default_data_dir, load_subcategories, load_training_data
from relsearch.training.validation import VALID_SETS

RELBERT = {"aggregation_mode": "average_no_mask", "template": TEMPLATES["a"]}
WORDS = "barista coffee baker bread brewer beer king queen man woman paris france tokyo japan dog puppy"
VOCAB = [*WORDS.split(), "cat", "kitten", "relation", "encyclopedia", "café", "crème", "naïve", "résumé"]
LISTING = [("1", "a", "CLASS", "Kinds"), ("1", "b", "CLASS", "Members"), ("2", "a", "PART", "Pieces")]
LISTING += [("2", "b", "PART", "Stuff")]


def _pairs(seed: int, n: int) -> list[tuple[str, str]]:
    rng = np.random.default_rng(seed)
    return [(VOCAB[i], VOCAB[j]) for i, j in rng.integers(0, len(VOCAB), size=(n, 2))]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SemEval-like folder (4 relations in 2 parents) and six tiny analogy validation splits."""
    root = tmp_path_factory.mktemp("shared") / "data"
    gold = root / "semeval2012_task2" / "SemEval-2012-Gold-Ratings"
    for sub in ("Training", "Testing"):
        (gold / sub).mkdir(parents=True)
    (gold / "subcategories-list.txt").write_text("\n".join(", ".join(row) for row in LISTING) + "\n")
    for k, (num, letter, _, _) in enumerate(LISTING):
        pairs = list(dict.fromkeys(_pairs(k, 30)))[:14]
        scores = [50.0 - 6 * i for i in range(len(pairs))]  # 9 positive, a zero, 4 negative
        lines = ["#", "#   Score  = Most - Least", "#"]
        lines += [f'{s:5.1f} "{h}:{t}"' for s, (h, t) in zip(scores, pairs, strict=True)]
        folder = "Training" if k % 2 else "Testing"
        (gold / folder / f"GoldRatings-{num}{letter}.txt").write_text("\n".join(lines) + "\n")
    for k, name in enumerate(VALID_SETS.values()):
        (root / "analogy_questions" / name).mkdir(parents=True)
        rows = []
        for q in range(3):
            pairs = _pairs(100 + 10 * k + q, 4)
            rows.append(json.dumps({"stem": pairs[0], "choice": pairs[1:], "answer": q % 3}))
        (root / "analogy_questions" / name / "valid.jsonl").write_text("\n".join(rows) + "\n")
    return root


@pytest.fixture(scope="module")
def base_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("base") / "model", relbert_config=RELBERT)


def _config(base: Path, out: Path, data: Path, **kw: object) -> TrainConfig:
    settings = dict(epochs=2, lr=1e-3, negatives=12, train_layers=1, warmup=2, dtype="float32", seed=3)
    settings.update(kw)
    return TrainConfig(base=str(base), out=out, data=data, **settings)  # type: ignore[arg-type]


# -- data ---------------------------------------------------------------------------------------------
def test_semeval_relations_from_a_synthetic_folder(data_dir):
    data = load_training_data(data_dir, seed=0)
    names = [r.name for r in data.relations]
    assert names == ["1a", "1b", "2a", "2b", "1", "2"]
    by_name = {r.name: r for r in data.relations}
    subs = {s.id: s for s in load_subcategories(data_dir)}
    for rid in ("1a", "1b", "2a", "2b"):
        rel = by_name[rid]
        positives = {p for p, s in subs[rid].ratings if s > 0}
        assert len(positives) == 9 and (len(rel.train_positives), len(rel.valid_positives)) == (7, 2)
        assert set(rel.train_positives) | set(rel.valid_positives) == positives
        own = positives
        assert not own & set(rel.negatives) and not own & set(rel.valid_negatives)
        held_out = {p for r in data.relations[:4] for p in r.valid_positives}
        below = {p for p, s in subs[rid].ratings if s < 0} - own
        assert below - held_out <= set(rel.negatives) and below <= set(rel.valid_negatives)
        assert not held_out & set(rel.negatives)  # never train on held-out pairs
    parent = by_name["1"]
    assert set(parent.train_positives) == set(by_name["1a"].train_positives) | set(
        by_name["1b"].train_positives
    )
    assert set(parent.negatives) <= set(by_name["2a"].train_positives) | set(by_name["2b"].train_positives)
    assert load_training_data(data_dir, seed=0).fingerprint() == data.fingerprint()
    assert load_training_data(data_dir, seed=1).fingerprint() != data.fingerprint()


def test_missing_or_broken_data_raises(tmp_path, data_dir):
    with pytest.raises(RelsearchError, match="no SemEval-2012 gold ratings"):
        load_training_data(tmp_path)
    broken = tmp_path / "copy"
    shutil.copytree(data_dir, broken)
    gold = broken / "semeval2012_task2" / "SemEval-2012-Gold-Ratings" / "Testing" / "GoldRatings-1a.txt"
    gold.write_text(gold.read_text() + "oops\n")
    with pytest.raises(RelsearchError, match=r"GoldRatings-1a\.txt:.*weapon:spear"):
        load_training_data(broken)


@pytest.mark.skipif(not (default_data_dir() / "semeval2012_task2").is_dir(), reason="shared data not present")
def test_real_semeval_data():
    data = load_training_data(default_data_dir(), seed=0)
    summary = data.summary()
    assert (summary["subcategories"], summary["parents"], summary["relations"]) == (79, 10, 89)
    assert (summary["train_positives"], summary["valid_positives"]) == (632, 158)
    children = [r for r in data.relations if not r.is_parent]
    assert all((len(r.train_positives), len(r.valid_positives)) == (8, 2) for r in children)
    assert ("weapon", "spear") in children[0].train_positives + children[0].valid_positives
    assert min(len(r.negatives) for r in data.relations) > 400


# -- loss -------------------------------------------------------------------------------------------------
def test_info_nce_matches_the_formula():
    gen = torch.Generator().manual_seed(0)
    pos, neg = torch.randn(3, 5, generator=gen), torch.randn(4, 5, generator=gen)
    t = 0.05
    p, n = torch.nn.functional.normalize(pos, dim=1), torch.nn.functional.normalize(neg, dim=1)
    terms = []
    for i in range(3):
        for j in range(3):
            if i != j:
                num = torch.exp(p[i] @ p[j] / t)
                terms.append(-torch.log(num / (num + torch.exp(p[i] @ n.T / t).sum())))
    assert torch.allclose(info_nce(pos, neg, t), torch.stack(terms).mean(), rtol=1e-5)
    anchored = torch.stack([terms[0], terms[1]]).mean()  # anchor 0 only: pairs (0,1), (0,2)
    assert torch.allclose(info_nce(pos, neg, t, n_anchors=1), anchored, rtol=1e-5)
    same = torch.ones(2, 5)
    assert info_nce(same, -same, t) < 1e-6  # positives identical, negatives opposite


def test_bank_objective_has_no_common_drift_shortcut():
    """--negative-bank: moving every current vector in one direction must not lower the loss.

    With current partners (the first --negative-bank version) it does: positives align with
    each other and leave the stale negatives behind, which collapsed a real run."""
    gen = torch.Generator().manual_seed(1)
    bank_pos, bank_neg = torch.randn(6, 64, generator=gen), torch.randn(40, 64, generator=gen)
    bank_pos = bank_pos + 2 * torch.randn(1, 64, generator=gen)  # one relation: a shared component
    drift = 50 * torch.randn(1, 64, generator=gen)
    before = info_nce(bank_pos, bank_neg, partners=bank_pos)
    after = info_nce(bank_pos + drift, bank_neg, partners=bank_pos)
    assert after > before
    assert info_nce(bank_pos + drift, bank_neg) < 0.1 * before  # the shortcut the partners close


# -- cached bottom layers ------------------------------------------------------------------------------------
def _tiny_mpnet(path: Path) -> Path:
    from transformers import MPNetConfig, MPNetModel

    build_tiny_model(path, relbert_config=RELBERT)  # for the tokenizer
    vocab = json.loads((path / "config.json").read_text())["vocab_size"]
    torch.manual_seed(0)
    config = MPNetConfig(
        vocab_size=vocab, hidden_size=32, num_hidden_layers=3, num_attention_heads=2, intermediate_size=64,
        max_position_embeddings=80, pad_token_id=1, bos_token_id=0, eos_token_id=2,
    )  # fmt: skip
    MPNetModel(config, add_pooling_layer=False).save_pretrained(path)
    return path


@pytest.mark.parametrize("kind", ["roberta", "bert", "mpnet"])
def test_cached_layers_equal_the_full_forward(tmp_path, kind):
    if kind == "mpnet":
        path = _tiny_mpnet(tmp_path / kind)
    else:
        path = build_tiny_model(tmp_path / kind, kind=kind, layers=3, relbert_config=RELBERT)
    enc = RelationEncoder(path)
    assert type(enc.model).__name__.lower().startswith(kind)
    pairs = [*_pairs(7, 9), ("café", "crème brûlée naïve résumé")]
    want = enc.encode(pairs)
    for k in (1, 2):
        split = LayerSplit(enc.model, k)
        bank = PromptBank(enc, split, pairs, batch_size=4)
        bank.build_cache()
        assert bank.states is not None and split.cacheable
        got = bank.unit_vectors(list(range(len(pairs))))
        assert np.sum(got * want, axis=1).min() > 0.9999
        with bank.evaluating():  # the training path (with autograd) gives the same vectors
            raw = bank.vectors(list(range(len(pairs)))[::-1], grad=True).flip(0)
        assert raw.requires_grad
        raw = torch.nn.functional.normalize(raw, dim=1).detach().numpy()
        assert np.sum(raw * want, axis=1).min() > 0.9999
    everything = LayerSplit(enc.model, 0)
    assert not everything.cacheable and everything.k == 3
    assert any(n.startswith("embeddings.") for n in everything.trainable_names())


def test_loss_goes_down(base_dir, data_dir):
    enc = RelationEncoder(base_dir)
    split = LayerSplit(enc.model, 1)
    params = split.freeze()
    assert params and all(n.startswith("encoder.layer.1.") for n in params)
    rel = load_training_data(data_dir).relations[0]
    bank = PromptBank(enc, split, [*rel.train_positives, *rel.negatives])
    bank.build_cache()
    opt = torch.optim.AdamW(list(params.values()), lr=2e-2, weight_decay=0.0)
    idx = bank.indices([*rel.train_positives, *rel.negatives])
    losses = []
    with bank.evaluating():
        for _ in range(6):
            vecs = bank.vectors(idx, grad=True)
            loss = info_nce(vecs[: len(rel.train_positives)], vecs[len(rel.train_positives) :])
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0] and losses == sorted(losses, reverse=True), losses


# -- the loop: checkpoints, resume, export -------------------------------------------------------------------
class Crash(Exception):
    pass


def _crash_after(epoch: int):
    def hook(record):
        if record["epoch"] == epoch:
            raise Crash

    return hook


def test_resume_continues_and_matches_an_uninterrupted_run(tmp_path, base_dir, data_dir):
    """With --negative-bank, the hardest case: the bank is rebuilt on resume."""
    whole = Trainer(_config(base_dir, tmp_path / "whole", data_dir, negative_bank=True)).run()
    assert [r["epoch"] for r in whole["history"]] == [0, 1, 2]

    out = tmp_path / "resumed"
    with pytest.raises(Crash):
        Trainer(_config(base_dir, out, data_dir, negative_bank=True), on_epoch=_crash_after(1)).run()
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["epoch-001"]
    assert [json.loads(line)["epoch"] for line in (out / "train_log.jsonl").open()] == [0, 1]

    seen = []
    config = _config(base_dir, out, data_dir, negative_bank=True)
    trainer = Trainer(config, on_epoch=lambda r: seen.append(r["epoch"]))
    assert trainer.checkpoint is not None and trainer.checkpoint.epoch == 1
    resumed = trainer.run()
    assert seen == [2]  # continued, not restarted
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["epoch-002"]
    a = load_file(str(tmp_path / "whole" / "checkpoints" / "epoch-002" / "weights.safetensors"))
    b = load_file(str(out / "checkpoints" / "epoch-002" / "weights.safetensors"))
    assert a.keys() == b.keys() and all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)
    assert resumed["history"][-1]["train_loss"] == pytest.approx(whole["history"][-1]["train_loss"], rel=1e-5)
    assert whole["history"][2]["train_loss"] < whole["history"][1]["train_loss"]

    with pytest.raises(RelsearchError, match=r"different run.*lr"):
        Trainer(_config(base_dir, out, data_dir, lr=5e-4, negative_bank=True))
    with pytest.raises(RelsearchError, match=r"different run.*negative_bank"):
        Trainer(_config(base_dir, out, data_dir))
    fresh = Trainer(_config(base_dir, out, data_dir, lr=5e-4, epochs=1), resume=False)
    assert fresh.checkpoint is None and not (out / "checkpoints").exists()


def test_exported_delta_loads_and_matches(tmp_path, base_dir, data_dir):
    out = tmp_path / "run"
    trainer = Trainer(_config(base_dir, out, data_dir, epochs=1))
    summary = trainer.run()
    best = out / "best"
    assert summary["best_epoch"] == 1 and summary["model"] == str(best)
    meta = json.loads((best / "relsearch_delta.json").read_text())
    assert meta["base"] == str(base_dir.resolve()) and meta["weights"] == "delta.safetensors"
    assert meta["training"]["best_epoch"] == 1 and meta["training"]["config"]["lr"] == 1e-3
    assert (best / "delta.safetensors").stat().st_mode & 0o044 == 0o044  # shipped files are readable
    delta = load_file(str(best / "delta.safetensors"))
    assert meta["dtype"] == "residual-int8" and stored_names(delta) == sorted(trainer.params)
    matrices = [k for k in trainer.params if trainer.params[k].dim() == 2]
    assert matrices and all(delta[k + ".q"].dtype == torch.int8 for k in matrices)
    assert json.loads((best / "config.json").read_text())["relbert_config"]["template"] == TEMPLATES["a"]
    card = (best / "README.md").read_text()
    assert "relsearch:test-eval:begin" in card and "| **1** |" in card and str(base_dir) in card

    pairs = [*trainer.bank.pairs[:20]]
    trained = trainer.bank.unit_vectors(trainer.bank.indices(pairs), bf16=False)
    reloaded = RelationEncoder(best).encode(pairs)
    assert np.sum(trained * reloaded, axis=1).min() >= 0.999
    untrained = RelationEncoder(base_dir).encode(pairs)
    export_error = np.abs(trained - reloaded).max()
    assert np.abs(trained - untrained).max() > 20 * export_error  # training changed the vectors
    assert summary["export"]["check_min_cosine"] >= 0.999

    full = Trainer(_config(base_dir, tmp_path / "full", data_dir, epochs=1, full_export=True)).run()
    assert (Path(full["model"]) / "model.safetensors").exists()
    assert not (Path(full["model"]) / "relsearch_delta.json").exists()
    again = RelationEncoder(full["model"]).encode(pairs)
    assert np.sum(trained * again, axis=1).min() >= 0.999  # same seed, same run


# -- CLI ---------------------------------------------------------------------------------------------------
runner = CliRunner()


def test_cli_train_json_and_errors(tmp_path, base_dir, data_dir):
    args = ["train", "--base", str(base_dir), "--data", str(data_dir), "--epochs", "1", "--lr", "1e-3"]
    args += ["--negatives", "8", "--train-layers", "1", "--dtype", "float32"]
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "o"), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["best_epoch"] == 1 and summary["cached_bottom"] is True
    assert "epoch 1/1" in result.stderr and "valid analogy u2" in result.stderr
    again = runner.invoke(app, [*args, "--out", str(tmp_path / "o")])
    assert again.exit_code == 0 and "resuming" in again.stderr and "best epoch 1" in again.stdout

    for bad, message in [
        (["--data", str(tmp_path / "nowhere")], "no SemEval-2012 gold ratings"),
        (["--base", "pypi:no-such-model"], "unknown base model"),
        (["--base", str(tmp_path / "missing-model")], "does not exist"),
        (["--negatives", "0"], "--negatives must be at least 1"),
    ]:
        result = runner.invoke(app, [*args, "--out", str(tmp_path / "bad"), *bad])
        assert result.exit_code == 1, (bad, result.output)
        assert message in result.stderr and "Traceback" not in result.output
    assert not os.path.exists(tmp_path / "bad" / "checkpoints")
    for bad, message in [
        (["--pooling", "max"], "unknown pooling 'max'"),
        (["--dtype", "float16"], "unknown dtype 'float16'"),
        (["--template", "no placeholders"], "lacks <subj> and <obj>"),
    ]:
        result = runner.invoke(app, [*args, "--out", str(tmp_path / "bad2"), *bad])
        assert result.exit_code == 1, (bad, result.output)
        assert message in result.stderr and "Traceback" not in result.output


# -- the options of the v2 recipe: pooling, template, all layers, bf16 autocast, int8 residual export ------
SHORT = "I discovered: <subj> is the <mask> of <obj>"


@pytest.mark.parametrize(
    ("pooling", "template", "layers", "dtype"),
    [
        ("mask", SHORT, 2, "float32"),
        ("average", "d", 0, "float32"),
        pytest.param(
            "mask",
            "a",
            2,
            "bfloat16",
            marks=pytest.mark.skipif(not cpu_features().bf16, reason="CPU without bf16 units"),
        ),
    ],
)
def test_options_train_and_export_reloads(tmp_path, base_dir, data_dir, pooling, template, layers, dtype):
    cfg = _config(base_dir, tmp_path / "run", data_dir, epochs=2, train_layers=layers, dtype=dtype)
    cfg.pooling, cfg.template = pooling, template
    trainer = Trainer(cfg)
    assert trainer.encoder.aggregation == pooling and trainer.bank.bf16 == (dtype == "bfloat16")
    assert trainer.split.embeddings_frozen == (layers > 0)
    summary = trainer.run()
    history = summary["history"]
    assert history[2]["train_loss"] < history[1]["train_loss"]
    assert history[2]["valid_loss"] < history[0]["valid_loss"]  # held-out loss below the untrained model's
    assert set(history[1]["analogy"]) == set(VALID_SETS)
    best = Path(summary["model"])
    config = json.loads((best / "config.json").read_text())["relbert_config"]
    assert config["aggregation_mode"] == pooling and config["template"] == TEMPLATES.get(template, template)
    assert summary["export"]["check_min_cosine"] >= 0.9999  # reloaded vs in-training, at export time
    if summary["best_epoch"] == 2:  # the exported weights are the current ones
        pairs = trainer.bank.pairs[:24]
        trained = trainer.bank.unit_vectors(trainer.bank.indices(pairs), bf16=False)
        reloaded = RelationEncoder(best).encode(pairs)
        assert np.sum(trained * reloaded, axis=1).min() >= 0.9999
    card = (best / "README.md").read_text()
    assert f"`{pooling}`" in card and "ConceptNet" in card


def test_all_layers_frozen_embeddings(base_dir):
    enc = RelationEncoder(base_dir)
    n = len(enc.model.encoder.layer)
    everything = LayerSplit(enc.model, 0).trainable_names()
    layers_only = LayerSplit(enc.model, n).trainable_names()
    assert any(name.startswith("embeddings.") for name in everything)
    assert layers_only and not any(name.startswith("embeddings.") for name in layers_only)
    assert all(name.startswith("encoder.layer.") for name in layers_only)
    assert {name for name in everything if name.startswith("encoder.layer.")} == set(layers_only)


def test_auto_training_dtype_follows_the_cpu():
    assert training_dtype("auto") == ("bfloat16" if cpu_features().bf16 else "float32")
    assert training_dtype("float32") == "float32"


def test_linear_schedule_warms_up_then_decays_to_zero(tmp_path, base_dir, data_dir):
    cfg = _config(base_dir, tmp_path / "run", data_dir, schedule="linear", warmup=2, lr=1e-3)
    rates = [learning_rate(cfg, step, 10) for step in range(10)]
    assert rates[:2] == pytest.approx([5e-4, 1e-3]) and rates[2] == pytest.approx(1e-3)
    assert all(a > b for a, b in itertools.pairwise(rates[2:])) and 0 < rates[-1] < 2e-4
    constant = _config(base_dir, tmp_path / "run", data_dir, warmup=2, lr=1e-3)
    assert [learning_rate(constant, step, 10) for step in range(2, 10)] == [1e-3] * 8
    with pytest.raises(RelsearchError, match="unknown schedule 'cosine'"):
        _config(base_dir, tmp_path / "x", data_dir, schedule="cosine").check()

    summary = Trainer(cfg).run()
    steps = summary["history"][-1]["steps"]
    assert summary["history"][-1]["lr"] == pytest.approx(learning_rate(cfg, steps - 1, steps))
    assert summary["history"][-1]["lr"] < summary["history"][1]["lr"]
    assert "linear decay to 0" in (Path(summary["model"]) / "README.md").read_text()
    # the decay depends on the run's length: a longer --epochs is a different run, not an extension
    with pytest.raises(RelsearchError, match=r"different run.*epochs"):
        Trainer(_config(base_dir, tmp_path / "run", data_dir, schedule="linear", warmup=2, lr=1e-3, epochs=3))
    with pytest.raises(RelsearchError, match=r"different run.*schedule"):
        Trainer(_config(base_dir, tmp_path / "run", data_dir, warmup=2, lr=1e-3))


def test_select_last_exports_the_last_epoch_also_after_the_run(tmp_path, base_dir, data_dir):
    out = tmp_path / "run"
    first = Trainer(_config(base_dir, out, data_dir, epochs=3)).run()
    assert first["best_epoch"] < 3  # the tiny splits tie: the earliest epoch is "best"
    trainer = Trainer(_config(base_dir, out, data_dir, epochs=3, select="last"))
    before = RelationEncoder(out / "best").encode(trainer.bank.pairs[:16])
    last = trainer.run()  # nothing left to train: exports the checkpointed last epoch
    assert [r["epoch"] for r in last["history"]] == [0, 1, 2, 3] and last["best_epoch"] == 3
    assert json.loads((out / "best" / "relsearch_delta.json").read_text())["training"]["best_epoch"] == 3
    assert "the last epoch (`--select last`)" in (out / "best" / "README.md").read_text()
    pairs = trainer.bank.pairs[:16]
    reference = RelationEncoder(base_dir)
    weights = load_file(str(out / "checkpoints" / "epoch-003" / "weights.safetensors"))
    reference.model.load_state_dict(weights, strict=False)
    exported = RelationEncoder(out / "best").encode(pairs)
    np.testing.assert_allclose(exported, reference.encode(pairs), atol=2e-3)
    assert not np.allclose(exported, before, atol=2e-3)  # best/ was replaced
    again = Trainer(_config(base_dir, out, data_dir, epochs=3, select="last")).run()
    assert again["export"] == last["export"]  # already exported: not written again
    with pytest.raises(RelsearchError, match="unknown selection 'worst'"):
        _config(base_dir, out, data_dir, select="worst").check()
