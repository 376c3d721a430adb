"""Tests for python -m speechbert.bin.prepare_librispeech and egs/spoken_squad/sqa1/local/librispeech_data.sh
(the importer itself is tested in test/speechbert/corpora/test_librispeech.py, whose corpus writer is used here)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from speechbert.bin.prepare_librispeech import main
from speechbert.io.kaldi_table import read_table
from speechbert.io.sqa_data import load_sqa_set

REPO = Path(__file__).resolve().parents[3]
RECIPE = REPO / "egs" / "spoken_squad" / "sqa1"


def _corpus_module():
    path = REPO / "test" / "speechbert" / "corpora" / "test_librispeech.py"
    spec = importlib.util.spec_from_file_location("librispeech_corpus_fixture", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """dev-clean and test-clean (a copy) of the test corpus."""
    root = tmp_path_factory.mktemp("libri") / "LibriSpeech"
    _corpus_module().write_corpus(root, "dev-clean")
    shutil.copytree(root / "dev-clean", root / "test-clean")
    return root


def _validate(data_dir: Path) -> None:
    res = subprocess.run(["bash", str(REPO / "utils" / "validate_data_dir.sh"), "--no-feats", str(data_dir)],
                         capture_output=True, text=True, env={"LC_ALL": "C", "PATH": "/usr/bin:/bin"})
    assert res.returncode == 0, res.stderr


def test_cli(corpus, tmp_path, capsys):
    data = tmp_path / "data"
    # one string of subsets (as the recipe passes it) or several arguments
    assert main(["--librispeech_root", str(corpus), "--subsets", "dev-clean test-clean", "--data_dir", str(data)]) == 0
    assert sorted(p.name for p in data.iterdir()) == ["librispeech_dev_clean", "librispeech_test_clean"]
    for name in ("librispeech_dev_clean", "librispeech_test_clean"):
        _validate(data / name)
        sqa = load_sqa_set(data / name)
        assert list(sqa.contexts) == ["ls-0019-000198", "ls-0103-001240"] and sqa.questions == []
    assert read_table(data / "librispeech_dev_clean" / "text")["ls-0019-000198-0001"] == "john didn't like red"
    assert main(["--librispeech_root", str(corpus), "--subsets", "dev-clean", "test-clean", "--data_dir",
                 str(tmp_path / "d2"), "--id_prefix", ""]) == 0
    assert list(read_table(tmp_path / "d2" / "librispeech_test_clean" / "utt2spk"))[0] == "0019-000198-0000"


def test_cli_errors(corpus, tmp_path, capsys):
    root = tmp_path / "LibriSpeech"
    shutil.copytree(corpus, root)
    data = tmp_path / "data"
    common = ["--librispeech_root", str(root), "--data_dir", str(data)]
    assert main(common + ["--subsets", "train-clean-100"]) == 1
    assert (f"prepare_librispeech: error: {root.resolve() / 'train-clean-100'}: no such subset directory "
            "(subsets here: dev-clean test-clean)") in capsys.readouterr().err
    (root / "dev-clean" / "103" / "1240" / "103-1240-0001.flac").unlink()
    assert main(common + ["--subsets", "dev-clean"]) == 1
    err = capsys.readouterr().err
    assert ("prepare_librispeech: error: librispeech_dev_clean lost 1 of 5 utterances "
            "(20.0% > 5.0%: missing_audio: 1; ") in err
    assert "103-1240.trans.txt:1: 103-1240-0001 has no 103-1240-0001.flac" in err
    assert (data / "librispeech_dev_clean.prep.log").is_file() and not (data / "librispeech_dev_clean").exists()
    assert main(common + ["--subsets", "dev-clean", "--max_loss_ratio", "0.25"]) == 0
    log = (data / "librispeech_dev_clean" / "prep.log").read_text()
    assert "source utterances lost: 1 (20.00%, limit 25.00%)" in log
    assert not (data / "librispeech_dev_clean.prep.log").exists()
    assert main(common + ["--max_loss_ratio", "2"]) == 1
    assert "--max_loss_ratio must be within [0, 1]" in capsys.readouterr().err
    assert main(common + ["--id_prefix", "a-b"]) == 1
    assert main(["--data_dir", str(data)]) == 2  # --librispeech_root is required


@pytest.mark.skipif(shutil.which("perl") is None, reason="needs perl (utils/validate_data_dir.sh)")
def test_recipe_script(corpus, tmp_path):
    """local/librispeech_data.sh in a copy of the recipe directory (path.sh needs tools/activate_python.sh,
    which a test cannot rely on: a stand-in one puts this interpreter on PATH)."""
    main_root = tmp_path / "main"
    recipe = main_root / "egs" / "spoken_squad" / "sqa1"
    (recipe / "local").mkdir(parents=True)
    (main_root / "tools").mkdir()
    shutil.copy(RECIPE / "local" / "librispeech_data.sh", recipe / "local")
    shutil.copy(RECIPE / "path.sh", recipe / "path.sh")
    os.symlink(REPO / "utils", main_root / "utils")
    os.symlink("../../../utils", recipe / "utils")
    (main_root / "tools" / "activate_python.sh").write_text(
        f'export PATH="{Path(sys.executable).parent}:$PATH"\nexport PYTHONPATH="{REPO}"\n')
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    cmd = ["bash", "local/librispeech_data.sh", "--librispeech_root", str(corpus), "--subsets", "dev-clean test-clean",
           "--python", sys.executable]
    res = subprocess.run(cmd, cwd=recipe, capture_output=True, text=True, env=env)
    assert res.returncode == 0, res.stderr
    assert sorted(p.name for p in (recipe / "data").iterdir()) == ["librispeech_dev_clean", "librispeech_test_clean"]
    assert "Successfully validated data-directory data/librispeech_test_clean" in res.stderr
    res = subprocess.run(cmd[:2], cwd=recipe, capture_output=True, text=True, env=env)
    assert res.returncode == 2 and "--librispeech_root is required" in res.stderr
    res = subprocess.run(cmd[:2] + ["--librispeech_root", str(tmp_path / "none")], cwd=recipe, capture_output=True,
                         text=True, env=env)
    assert res.returncode == 1 and "no such directory" in res.stderr
