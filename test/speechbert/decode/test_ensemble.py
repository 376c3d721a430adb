"""Ensemble of n-best time spans: the probability / overlap arithmetic on hand-made lists."""

from __future__ import annotations

import math

import pytest

from speechbert.decode.ensemble import (WEIGHT_GRID, choose_weight, combine_question, ensemble_records, softmax,
                                       support, system_candidates, time_iou)
from speechbert.errors import ConfigError, DataError


def rec(qid: str, spans: list[tuple[float, float, float]], source: str = "asr", cid: str = "c1") -> dict:
    nbest = [{"word_span": [k, k], "words": f"w{k}", "start": s, "end": e, "score": sc}
             for k, (s, e, sc) in enumerate(spans)]
    return {"id": qid, "context_id": cid, **nbest[0], "word_source": source, "nbest": nbest}


# e2e prefers A = [1, 2] (0.6 vs 0.4 for B = [5, 6]); the cascade prefers C = [5.0, 6.2] (0.55)
# over D = [1.5, 2.0] (0.45). C overlaps B (IoU 1/1.2), D overlaps A (IoU 0.5).
E2E = rec("q", [(1.0, 2.0, math.log(0.6)), (5.0, 6.0, math.log(0.4))], source="reference")
CASCADE = rec("q", [(5.0, 6.2, math.log(0.55)), (1.5, 2.0, math.log(0.45))])


def test_softmax_and_iou():
    assert softmax([math.log(3), math.log(1)]).tolist() == pytest.approx([0.75, 0.25])
    assert softmax([2.0, 0.0], temperature=2.0).tolist() == pytest.approx([math.e / (math.e + 1), 1 / (math.e + 1)])
    assert time_iou((1, 3), (2, 4)) == pytest.approx(1 / 3)
    assert time_iou((1, 2), (3, 4)) == 0.0
    cands = system_candidates(CASCADE, "cascade", 1.0)
    assert [c.prob for c in cands] == pytest.approx([0.55, 0.45])
    assert support((5.0, 6.0), cands) == pytest.approx(0.55 / 1.2)


def test_weight_one_is_the_e2e_answer_and_weight_zero_the_cascade_answer():
    r1 = combine_question(E2E, CASCADE, 1.0)
    assert (r1["start"], r1["end"], r1["system"]) == (1.0, 2.0, "e2e")
    assert r1["score"] == pytest.approx(0.6)
    assert r1["word_source"] == "reference"
    r0 = combine_question(E2E, CASCADE, 0.0)
    assert (r0["start"], r0["end"], r0["system"]) == (5.0, 6.2, "cascade")
    assert r0["score"] == pytest.approx(0.55)
    assert r0["word_source"] == "asr"


def test_agreement_between_the_systems_changes_the_answer():
    # w = 0.5: A = 0.5*0.6 + 0.5*0.45*0.5 = 0.4125, B = 0.5*0.4 + 0.5*0.55/1.2 = 0.4292,
    # C = 0.5*0.4/1.2 + 0.5*0.55 = 0.4417, D = 0.5*0.6*0.5 + 0.5*0.45 = 0.375: both systems support
    # the region [5, 6], so C beats the end-to-end model's first choice A.
    r = combine_question(E2E, CASCADE, 0.5)
    assert (r["start"], r["end"]) == (5.0, 6.2)
    assert r["score"] == pytest.approx(0.5 * 0.4 / 1.2 + 0.5 * 0.55)
    scores = {(e["start"], e["end"]): e["score"] for e in r["nbest"]}
    assert scores[(1.0, 2.0)] == pytest.approx(0.5 * 0.6 + 0.5 * 0.45 * 0.5)
    assert scores[(5.0, 6.0)] == pytest.approx(0.5 * 0.4 + 0.5 * 0.55 / 1.2)
    assert [e["score"] for e in r["nbest"]] == sorted(scores.values(), reverse=True)
    # with more weight on the end-to-end model its first choice wins again: A = 0.525 > C = 0.377
    r8 = combine_question(E2E, CASCADE, 0.8)
    assert (r8["start"], r8["end"]) == (1.0, 2.0)


def test_identical_spans_are_one_candidate_and_a_missing_system_gives_way():
    cas = rec("q", [(1.0, 2.0, 0.0), (7.0, 8.0, 0.0)])
    r = combine_question(E2E, cas, 0.5)
    assert len(r["nbest"]) == 3  # [1, 2] is shared
    assert r["nbest"][0]["start"] == 1.0 and r["nbest"][0]["score"] == pytest.approx(0.5 * 0.6 + 0.5 * 0.5)
    only = combine_question(None, CASCADE, 0.9)
    assert (only["start"], only["end"]) == (5.0, 6.2) and only["score"] == pytest.approx(0.55)
    assert combine_question(None, None, 0.5) is None
    untimed = rec("q", [(1.0, 2.0, 0.0)])
    untimed["nbest"][0]["start"] = None
    assert combine_question(untimed, None, 0.5) is None


def test_records_of_two_files_and_bad_input():
    e2e = {"q": E2E, "r": rec("r", [(0.0, 1.0, 0.0)])}
    cas = {"q": CASCADE, "s": rec("s", [(3.0, 4.0, 0.0)])}
    out = ensemble_records(e2e, cas, 0.5, nbest=2)
    assert [r["id"] for r in out] == ["q", "r", "s"]
    assert all(len(r["nbest"]) <= 2 for r in out)
    with pytest.raises(ConfigError, match="weight"):
        combine_question(E2E, CASCADE, 1.5)
    with pytest.raises(ConfigError, match="different contexts"):
        ensemble_records({"q": E2E}, {"q": rec("q", [(0, 1, 0)], cid="c2")}, 0.5)


def _dev_question(qid: str, times: list | None) -> dict:
    return {"id": qid, "context_id": "c1", "question": "what", "answers": [{"text": "w0", "char_start": 0}],
            "answer_time_spans": times}


def test_weight_grid() -> None:
    assert WEIGHT_GRID[:3] == (0.0, 0.05, 0.1) and WEIGHT_GRID[-1] == 1.0 and len(WEIGHT_GRID) == 21


def test_weight_on_dev_where_the_end_to_end_model_is_right() -> None:
    # Reference = the e2e top span A = [1, 2]; the cascade's C = [5, 6.2] is wrong. A wins from
    # w = 0.55 on (A = 0.225 + 0.375 w beats C = 0.55 − 0.2167 w above w = 0.549), so every weight
    # >= 0.55 scores FF1 100 and the tie goes to the one closest to 0.5.
    qs = [_dev_question("q", [[1.0, 2.0]])]
    choice = choose_weight({"q": E2E}, {"q": CASCADE}, qs)
    assert choice.weight == 0.55 and choice.dev_ff1 == pytest.approx(100.0)
    grid = dict(choice.grid)
    assert [w for w, _ in choice.grid] == list(WEIGHT_GRID)
    assert grid[1.0] == pytest.approx(100.0) and grid[0.5] == 0.0 and grid[0.0] == 0.0
    assert choice.questions == 1
    # The cascade right instead: weights up to 0.5 answer C; the closest to 0.5 of them is 0.5.
    qs = [_dev_question("q", [[5.0, 6.2]])]
    choice = choose_weight({"q": E2E}, {"q": CASCADE}, qs)
    assert choice.weight == 0.5 and dict(choice.grid)[0.0] == pytest.approx(100.0)
    assert dict(choice.grid)[1.0] == 0.0


def test_weight_ties_and_scoring_rules() -> None:
    same = rec("q", [(1.0, 2.0, 0.0)])
    qs = [_dev_question("q", [[1.0, 2.0]]), _dev_question("r", [[0.0, 1.0]]), _dev_question("u", [None])]
    # Both systems give the same answer: every weight ties; 0.5 wins, and without 0.5 the smaller.
    choice = choose_weight({"q": same}, {"q": same}, qs)
    assert choice.weight == 0.5
    # q scores 100, r (no answer) 0, u (no aligned reference) is left out: mean 50 as in score_sqa.
    assert choice.dev_ff1 == pytest.approx(50.0) and choice.questions == 2
    assert choose_weight({"q": same}, {"q": same}, qs, grid=(0.7, 0.3)).weight == 0.3
    with pytest.raises(ConfigError, match="weight"):
        choose_weight({"q": same}, {"q": same}, qs, grid=(0.5, 1.5))
    with pytest.raises(DataError, match="aligned reference"):
        choose_weight({"q": same}, {"q": same}, [_dev_question("q", [None])])
