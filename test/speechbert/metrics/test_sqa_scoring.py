"""Per-question SQA scoring, aggregation and the ASR-error / WER splits on a hand-made passage."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from speechbert.errors import ConfigError, DataError
from speechbert.io.kaldi_table import read_table
from speechbert.io.sqa_data import load_sqa_set
from speechbert.metrics.bootstrap import mean_intervals
from speechbert.metrics.sqa_scoring import (align_passage, parse_wer_edges, passage_asr_table, read_predictions,
                                            score_sqa, wer_bucket, wer_bucket_names)

# Hand-computed predictions (reference spans are in conftest: word k at [0.5k, 0.5k + 0.4]).
PREDICTIONS = [
    {"id": "q1", "start": 0.5, "end": 0.9, "words": "cat"},              # exact
    {"id": "q2", "start": 2.0, "end": 2.9, "words": "the mat"},          # ref [1.5, 2.9] "on the mat"
    # q3: no prediction
    {"id": "q4", "start": 2.5, "end": 2.5, "words": "mat"},              # zero-length span: FF1 0, EM 1
    {"id": "q5", "start": 0.0, "end": 0.4, "words": "the"},              # disjoint
    {"id": "q6", "start": 4.5, "end": 5.4, "words": ["sunny", "day"]},   # equals the 2nd reference
    {"id": "q7", "start": 0.0, "end": 0.9, "words": "the cat"},          # unaligned refs: text only
    {"id": "q8", "start": 1.5, "end": 2.0},                              # no words; ref [1.5, 2.9]
]
FF1 = {"q1": 1.0, "q2": 1.8 / 2.3, "q3": 0.0, "q4": 0.0, "q5": 0.0, "q6": 1.0, "q8": 1.0 / 1.9}
AOS = {"q1": 1.0, "q2": 0.9 / 1.4, "q3": 0.0, "q4": 0.0, "q5": 0.0, "q6": 1.0, "q8": 0.5 / 1.4}
EM = {"q1": 1, "q2": 0, "q3": 0, "q4": 1, "q5": 0, "q6": 1, "q7": 1, "q8": 0}
F1 = {"q1": 1, "q2": 2 / 3, "q3": 0, "q4": 1, "q5": 0, "q6": 1, "q7": 1, "q8": 0}


def _mean(table: dict, ids: list[str]) -> float:
    ids = [i for i in ids if i in table]
    return 100.0 * sum(table[i] for i in ids) / len(ids)


CTX = {f"q{k}": "test-0000-0000" for k in range(1, 8)} | {"q8": "test-0000-0001"}


def _write_predictions(path: Path, preds: list[dict]) -> Path:
    ctx = CTX
    path.write_text("".join(json.dumps({"context_id": ctx[p["id"]], **p}) + "\n" for p in preds), encoding="utf-8")
    return path


def _score(data_dir: Path, tmp_path: Path, **kw):
    sqa = load_sqa_set(data_dir, require_utt2dur=False)
    path = _write_predictions(tmp_path / "p.jsonl", PREDICTIONS)
    preds = read_predictions(path, {q["id"]: q for q in sqa.questions})
    return score_sqa(sqa, preds, asr_text=read_table(data_dir / "text.asr"), **kw)


def test_passage_alignment_marks_errors_and_insertions() -> None:
    refs = [["the", "cat", "sat", "on", "the", "mat"], ["it", "was", "a", "sunny", "day", "in", "paris"]]
    hyps = [["the", "cat", "sat", "in", "mat", "today"], ["it", "was", "sunny", "day", "in", "the", "paris"]]
    asr = align_passage(refs, hyps)
    assert asr.errors == 5 and asr.ref_words == 13
    assert asr.wer == pytest.approx(100 * 5 / 13)
    assert asr.error.nonzero()[0].tolist() == [3, 4, 8]
    # "today" (end of utterance 1) lands before word 6; "the" before word 12.
    assert asr.ins_before.nonzero()[0].tolist() == [6, 12]
    assert not asr.span_has_error(0, 2)
    assert asr.span_has_error(2, 3)
    assert asr.span_has_error(9, 12)       # insertion strictly inside
    assert not asr.span_has_error(12, 12)  # insertion just before the span
    assert not asr.span_has_error(5, 5)    # insertion just after the span
    assert asr.span_has_error(5, 6)        # the cross-utterance insertion is inside
    # A missing ASR utterance is all deletions.
    missing = align_passage(refs, [hyps[0], None])
    assert missing.errors == 3 + 7 and missing.error[6:].all()


def test_overall_scores_are_the_hand_computed_means(data_dir: Path, tmp_path: Path) -> None:
    result, scores = _score(data_dir, tmp_path)
    o = result["overall"]
    ids = [f"q{k}" for k in range(1, 9)]
    assert o["ff1"] == pytest.approx(_mean(FF1, ids))
    assert o["aos"] == pytest.approx(_mean(AOS, ids))
    assert o["aos"] == pytest.approx(300 / 7)
    assert o["em"] == pytest.approx(50.0)
    assert o["f1"] == pytest.approx(_mean(F1, ids))
    assert (o["questions"], o["scored_time"], o["scored_text"], o["missing_predictions"]) == (8, 7, 8, 1)
    c = result["counts"]
    assert c["null_time_references"] == 2
    assert c["questions_without_time_reference"] == 1
    assert c["predictions_without_words"] == 1
    assert c["predictions"] == 7 and c["missing_predictions"] == 1
    # Pooled frames: overlap 270, predicted 310, reference 680 (see doc/scoring.md example).
    p = result["ff1_pooled"]
    assert (p["overlap_frames"], p["predicted_frames"], p["reference_frames"]) == (270, 310, 680)
    assert p["ff1_pooled"] == pytest.approx(100 * 540 / 990)
    assert result["wer"]["errors"] == 5 and result["wer"]["ref_words"] == 19
    by_id = {s.id: s for s in scores}
    assert by_id["q7"].ff1 is None and by_id["q7"].em == 1.0
    assert not by_id["q3"].has_prediction


@pytest.mark.parametrize("rule,with_error", [
    ("any", ["q2", "q3", "q6"]),
    ("first", ["q2", "q3", "q6"]),
    ("all", ["q2", "q3"]),   # q6's second reference "sunny day" is clean
])
def test_split_by_asr_error(data_dir: Path, tmp_path: Path, rule: str, with_error: list[str]) -> None:
    result, scores = _score(data_dir, tmp_path, error_rule=rule)
    assert sorted(s.id for s in scores if s.asr_error) == with_error
    no_error = [s.id for s in scores if not s.asr_error]
    w, n = result["by_asr_error"]["with_asr_error"], result["by_asr_error"]["no_asr_error"]
    assert (w["questions"], n["questions"]) == (len(with_error), 8 - len(with_error))
    assert w["ff1"] == pytest.approx(_mean(FF1, with_error))
    assert n["ff1"] == pytest.approx(_mean(FF1, no_error))
    assert w["em"] == pytest.approx(_mean(EM, with_error))
    assert n["f1"] == pytest.approx(_mean(F1, no_error))
    assert w["missing_predictions"] == 1  # q3


def test_split_without_word_spans_uses_char_offsets(toy: SimpleNamespace, tmp_path: Path) -> None:
    qs = toy.make_questions()
    for q in qs:
        del q["answer_word_spans"]
    d = toy.write_data_dir(tmp_path / "d", qs)
    result, scores = _score(d, tmp_path)
    assert sorted(s.id for s in scores if s.asr_error) == ["q2", "q3", "q6"]


def test_wer_buckets(data_dir: Path, tmp_path: Path) -> None:
    result, _ = _score(data_dir, tmp_path)
    buckets = {b["bucket"]: b for b in result["by_passage_wer"]}
    assert list(buckets) == ["0", "(0,10]", "(10,20]", "(20,40]", ">40"]
    assert (buckets["0"]["questions"], buckets["0"]["passages"]) == (1, 1)       # passage B
    assert (buckets["(20,40]"]["questions"], buckets["(20,40]"]["passages"]) == (7, 1)  # passage A, 38.5 %
    assert buckets["0"]["ff1"] == pytest.approx(100 / 1.9)
    assert buckets[">40"]["questions"] == 0 and buckets[">40"]["ff1"] is None
    result, _ = _score(data_dir, tmp_path, wer_edges=parse_wer_edges("10,38"))
    assert [(b["bucket"], b["questions"]) for b in result["by_passage_wer"]] == [
        ("[0,10]", 1), ("(10,38]", 0), (">38", 7)]


def test_bucket_helpers() -> None:
    assert wer_bucket_names((0, 10)) == ["0", "(0,10]", ">10"]
    assert [wer_bucket(x, (0, 10)) for x in (0.0, 0.01, 10.0, 10.5)] == [0, 1, 1, 2]
    for bad in ("10,5", "-1,3", "a,b", ""):
        with pytest.raises(ConfigError):
            parse_wer_edges(bad)


def test_no_asr_text_no_splits(data_dir: Path, tmp_path: Path) -> None:
    sqa = load_sqa_set(data_dir, require_utt2dur=False)
    path = _write_predictions(tmp_path / "p.jsonl", PREDICTIONS[:1])
    preds = read_predictions(path, {q["id"]: q for q in sqa.questions})
    result, _ = score_sqa(sqa, preds)
    assert result["wer"] is None and result["by_asr_error"] is None and result["by_passage_wer"] is None
    assert result["overall"]["missing_predictions"] == 7


def test_asr_table_counts_missing_utterances(toy: SimpleNamespace, data_dir: Path) -> None:
    sqa = load_sqa_set(data_dir, require_utt2dur=False)
    asr = read_table(data_dir / "text.asr")
    del asr[f"{toy.CTX_B}-000"]
    table, stats = passage_asr_table(sqa, asr)
    assert stats.missing == 1 and stats.errors == 5 + 6
    assert table[toy.CTX_B].wer == 100.0 and table[toy.CTX_A].errors == 5


def test_prediction_errors_name_file_and_line(toy: SimpleNamespace, tmp_path: Path) -> None:
    qs = {q["id"]: q for q in toy.make_questions()}
    p = tmp_path / "p.jsonl"
    cases = [
        ('{"id": "q1", "start": 0, "end": 1}\n{"id": "nope", "start": 0, "end": 1}\n', "p.jsonl:2", "nope"),
        ('{"id": "q1", "start": 0, "end": 1}\n{not json\n', "p.jsonl:2", "invalid JSON"),
        ('{"id": "q1", "start": "x", "end": 1}\n', "p.jsonl:1", "'start'"),
        ('{"id": "q1", "start": 0, "end": 1}\n{"id": "q1", "start": 0, "end": 1}\n', "p.jsonl:2", "duplicate"),
        (f'{{"id": "q1", "context_id": "{toy.CTX_B}", "start": 0, "end": 1}}\n', "p.jsonl:1", "does not match"),
        ('{"id": "q1", "words": 3}\n', "p.jsonl:1", "'words'"),
        ('\n', "p.jsonl:1", "empty line"),
    ]
    for text, where, what in cases:
        p.write_text(text, encoding="utf-8")
        with pytest.raises(DataError) as e:
            read_predictions(p, qs)
        assert where in str(e.value) and what in str(e.value)


def test_word_span_outside_passage_is_an_error(toy: SimpleNamespace, tmp_path: Path) -> None:
    qs = toy.make_questions()
    qs[0]["answer_word_spans"] = [[1, 40]]
    d = toy.write_data_dir(tmp_path / "d", qs)
    with pytest.raises(DataError, match="outside its passage"):
        _score(d, tmp_path)


def _groups(result: dict) -> dict[str, dict]:
    out = {"overall": result["overall"], **result["by_asr_error"]}
    out.update({f"wer {b['bucket']}": b for b in result["by_passage_wer"]})
    return out


def test_every_group_has_bootstrap_intervals_of_its_own_questions(data_dir: Path, tmp_path: Path) -> None:
    result, scores = _score(data_dir, tmp_path, bootstrap_samples=500, bootstrap_seed=4)
    assert result["bootstrap"] == {"samples": 500, "seed": 4, "level": 0.95, "method": "percentile",
                                   "resampled": "questions"}
    members = {"overall": scores, "no_asr_error": [s for s in scores if s.asr_error is False],
               "with_asr_error": [s for s in scores if s.asr_error]}
    for name, group in _groups(result).items():
        for m in ("ff1", "aos", "em", "f1"):
            assert f"{m}_ci" in group and f"{m}_ci_half" in group, (name, m)
            if group[m] is None:  # the empty bucket
                assert group[f"{m}_ci"] is None and group[f"{m}_ci_half"] is None
                continue
            low, high = group[f"{m}_ci"]
            assert low <= group[m] <= high
            assert group[f"{m}_ci_half"] == pytest.approx((high - low) / 2)
        if name in members:  # the interval is the bootstrap of exactly that group's questions
            values = [[None if getattr(s, m) is None else 100 * getattr(s, m) for m in ("ff1", "aos", "em", "f1")]
                      for s in members[name]]
            expect = mean_intervals(values, 500, 4)
            assert group["ff1_ci"] == pytest.approx([expect[0].low, expect[0].high])
            assert group["f1_ci"] == pytest.approx([expect[3].low, expect[3].high])
    # 8 questions scoring 0 or 100 on EM: a wide interval, inside [0, 100].
    lo, hi = result["overall"]["em_ci"]
    assert 0.0 <= lo < 30.0 and 70.0 < hi <= 100.0
    # The one-question bucket: zero width.
    assert result["by_passage_wer"][0]["ff1_ci_half"] == 0.0
    again, _ = _score(data_dir, tmp_path, bootstrap_samples=500, bootstrap_seed=4)
    assert again == result


def test_no_bootstrap_leaves_the_intervals_null_and_the_means_unchanged(data_dir: Path, tmp_path: Path) -> None:
    with_ci, scores = _score(data_dir, tmp_path, bootstrap_samples=200)
    plain, _ = _score(data_dir, tmp_path, bootstrap_samples=0)
    assert plain["bootstrap"] is None
    assert plain["overall"]["ff1_ci"] is None and plain["by_asr_error"]["with_asr_error"]["em_ci_half"] is None
    for key in ("questions", "scored_time", "scored_text", "missing_predictions", "ff1", "aos", "em", "f1",
                "ff1_pooled"):
        assert plain["overall"][key] == with_ci["overall"][key]
    with pytest.raises(ConfigError, match="bootstrap_samples"):
        _score(data_dir, tmp_path, bootstrap_samples=-1)
    rec = {s.id: s.as_dict() for s in scores}
    assert rec["q8"]["wer_bucket"] == "0" and rec["q1"]["wer_bucket"] == "(20,40]"
    assert rec["q2"]["asr_error"] is True and rec["q7"]["ff1"] is None


def test_reversed_or_negative_spans_are_errors_not_zero_scores(data_dir: Path, tmp_path: Path) -> None:
    """A reversed span used to score FF1 0 but full text credit, silently."""
    from speechbert.errors import DataError

    sqa = load_sqa_set(data_dir, require_utt2dur=False)
    by_id = {q["id"]: q for q in sqa.questions}
    for bad, why in (({"start": 2.9, "end": 2.5}, "start 2.9 is after end 2.5"),
                     ({"start": -0.5, "end": 2.5}, "negative start time -0.5"),
                     ({"start": 1.0, "end": 2.5, "word_span": [3, 1]}, "must have 0 <= first <= last")):
        path = _write_predictions(tmp_path / "bad.jsonl", [{"id": "q4", "words": "mat", **bad}])
        with pytest.raises(DataError, match=why):
            read_predictions(path, by_id)
