"""The packed-model writer: its members, the rewritten paths, meta.yaml, the model card, and its
errors."""

from __future__ import annotations

import hashlib
import json
import zipfile

import pytest
import yaml

from speechbert.errors import ConfigError, DataError
from speechbert.pack import layout as L
from speechbert.pack.model_pack import pack_model, results_rows
from speechbert.tasks.input_pipeline import file_sha256, read_input_settings


def members(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def test_the_archive_holds_the_model_aligner_cmvn_vocab_and_feature_facts(system):
    m = members(system["zip"])
    exp, aligner = system["exp"], system["aligner"]
    assert m["model/model.avg.pt"] == (exp / "model.avg.pt").read_bytes()
    assert m["aligner/aligner.pt"] == (aligner / "aligner.pt").read_bytes()
    assert m["aligner/aligner.yaml"] == (aligner / "aligner.yaml").read_bytes()  # boundary rule inside
    assert m["aligner/cmvn.ark"] == (aligner / "cmvn.ark").read_bytes()
    recorded = read_input_settings(exp)
    assert hashlib.sha256(m["cmvn.ark"]).hexdigest() == recorded.cmvn_sha256
    assert hashlib.sha256(m["bert/vocab.txt"]).hexdigest() == recorded.vocab_sha256
    assert json.loads(m["bert/config.json"])["hidden_size"] == 384
    assert m["features/feats_type"].decode().strip() == "fbank 20"
    assert float(m["features/frame_shift"].decode()) == pytest.approx(0.01)
    assert m["RESULTS.md"] == system["results"].read_bytes()
    assert "model/checkpoint.pt" not in m and not any(n.startswith("model/snapshot") for n in m)


def test_recorded_paths_are_rewritten_into_the_archive_and_checksums_kept(system):
    m = members(system["zip"])
    packed = yaml.safe_load(m["model/inputs.yaml"])
    original = read_input_settings(system["exp"]).as_dict()
    assert (packed["cmvn"], packed["vocab"], packed["train_dump"]) == ("cmvn.ark", "bert/vocab.txt", "features")
    assert original["cmvn"] != packed["cmvn"]
    # every other field, checksums included, is the record of training
    for key in set(original) - {"cmvn", "vocab", "train_dump"}:
        assert packed[key] == original[key], key
    config = yaml.safe_load(m["model/config.yaml"])
    assert (config["bert_dir"], config["cmvn"], config["train_dump"]) == ("bert", "cmvn.ark", "features")
    assert config["init_param"] == [] and config.get("init_model") is None
    trained = yaml.safe_load((system["exp"] / "config.yaml").read_text())
    from speechbert.registry import parse_conf_mapping

    # the encoder's options, written by the trainer (the run was given the older --awe_hidden_size)
    assert config["awe"] == trained["awe"] == "rnn" and "awe_hidden_size" not in config
    assert parse_conf_mapping(config["awe_conf"])["hidden_size"] == parse_conf_mapping(trained["awe_conf"])[
        "hidden_size"] == 64


def test_meta_yaml_records_versions_training_results_and_every_checksum(system):
    import speechbert
    import torch

    m = members(system["zip"])
    meta = yaml.safe_load(m["meta.yaml"])
    assert meta["format"] == L.FORMAT_NAME and meta["format_version"] == L.FORMAT_VERSION == 1
    assert meta["written_by"]["speechbert"] == speechbert.__version__
    assert meta["written_by"]["torch"] == torch.__version__
    git = meta["written_by"]["git"]
    assert git == "unknown" or len(git) == 40
    assert meta["training"]["train_data"] == str(system["root"] / "data" / "train")
    assert meta["paths"]["cmvn"] == {"recorded": str(system["root"] / "dump/train/cmvn.ark"), "archive": "cmvn.ark"}
    assert meta["results"]["rows"]["test"]["FF1 all"] == "44.6 ± 3.6"
    assert meta["results"]["rows"]["dev"]["#Q"] == "600"
    assert meta["inputs"]["feat_dim"] == 20 and meta["inputs"]["max_word_frames"] == 8
    assert meta["aligner"]["boundary_rule"]["start_rule"] == "boundary_end"
    listed = meta["members"]
    assert set(listed) == set(m) - {"meta.yaml"}
    for name, data in m.items():
        if name != "meta.yaml":
            assert listed[name] == {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}, name
    card = m["README.md"].decode()
    assert "--model_pack model.zip" in card and "44.6 ± 3.6" in card and "`fbank 20`" in card


def test_packing_twice_gives_the_same_bytes(system, tmp_path):
    again = pack_model(system["exp"], tmp_path / "again.zip", results=system["results"]).path
    assert file_sha256(again) == file_sha256(system["zip"])
    assert [p.name for p in tmp_path.iterdir()] == ["again.zip"]  # no temporary file left


def test_results_rows_reads_each_data_set_table(tmp_path):
    path = tmp_path / "RESULTS.md"
    path.write_text("## Data set: test\n\n| system | FF1 |\n|---|---:|\n| a | 1 |\n| end-to-end | 2 |\n\n"
                    "## Other\n\n| system | FF1 |\n|---|---:|\n| end-to-end | 9 |\n")
    assert results_rows(path, "end-to-end") == {"test": {"FF1": "2"}}


def test_errors_name_what_is_missing_or_wrong(system, tmp_path):
    with pytest.raises(ConfigError, match="no such experiment directory"):
        pack_model(tmp_path / "none", tmp_path / "m.zip")
    with pytest.raises(ConfigError, match="does not exist"):
        pack_model(system["exp"], tmp_path / "no" / "m.zip")
    with pytest.raises(ConfigError, match="no such aligner directory"):
        pack_model(system["exp"], tmp_path / "m.zip", aligner_dir=tmp_path / "nothing")
    with pytest.raises(ConfigError, match="no such model file"):
        pack_model(system["exp"], tmp_path / "m.zip", model_file="snapshot.ep.9")
    with pytest.raises(ConfigError, match="--results"):
        pack_model(system["exp"], tmp_path / "m.zip", results=tmp_path / "none.md")
    assert not (tmp_path / "m.zip").exists()


def test_a_cmvn_changed_since_training_is_refused(system, tmp_path):
    import shutil

    exp = tmp_path / "exp" / "finetune"
    shutil.copytree(system["exp"], exp)
    cmvn = tmp_path / "cmvn.ark"
    cmvn.write_bytes((system["root"] / "dump/train/cmvn.ark").read_bytes() + b"\0")
    text = (exp / "inputs.yaml").read_text().replace(str(system["root"] / "dump/train/cmvn.ark"), str(cmvn))
    (exp / "inputs.yaml").write_text(text)
    with pytest.raises((ConfigError, DataError), match="changed since the model was trained"):
        pack_model(exp, tmp_path / "m.zip", aligner_dir=system["aligner"])


def test_an_older_config_is_packed_in_the_current_form(tmp_path):
    """A config.yaml with the flat awe_* options of the first version is packed as awe + awe_conf."""
    from speechbert.pack.model_pack import packed_config

    old = {"awe_hidden_size": 64, "awe_layers": 1, "awe_bidirectional": True, "awe_rnn_type": "gru",
           "awe_decoder_hidden_size": 32, "awe_dropout": 0.0, "feat_dim": 20, "frame_pooling": 1,
           "max_word_frames": 8, "bert_layers": 2, "init_model": None, "init_audio_encoder": None,
           "init_param": [], "bert_dir": "x", "train_dump": "y", "cmvn": None}
    out = packed_config(old, None)
    assert not any(k in out for k in old if k.startswith("awe_"))
    assert out["awe"] == "rnn"
    assert out["awe_conf"] == {"hidden_size": 64, "num_layers": 1, "bidirectional": True, "rnn_type": "gru",
                               "decoder_hidden_size": 32, "dropout": 0.0}
