"""The ``README.md`` model card of a packed model, generated from its ``meta.yaml`` contents."""

from __future__ import annotations

from typing import Any, Mapping


def model_card(meta: Mapping[str, Any], members: Mapping[str, Mapping[str, Any]]) -> str:
    """Markdown describing the packed model: what it is, how to use it, what it was trained on,
    its validation and test results, the versions that wrote it and the archive's files."""
    model, inputs, aligner = meta["model"], meta["inputs"], meta["aligner"]
    rule = aligner.get("boundary_rule") or {}
    written = meta["written_by"]
    training = meta.get("training") or {}
    lines = [
        "# speechbert spoken question answering model",
        "",
        "An end-to-end SpeechBERT span QA model: it reads a passage as audio words (segments of the "
        "recording found by the packed CTC aligner used as a greedy recogniser) and a question as text, "
        "and answers with the time span of the passage that holds the answer.",
        "",
        "## Use",
        "",
        "```",
        "python -m speechbert.bin.answer --model_pack model.zip --audio passage.wav \\",
        "    --question \"what does mary like\" [--json] [--clip_out answer.wav]",
        "```",
        "",
        "The archive is checked (SHA-256 of every file, format version) before it is used; the layout is "
        "described in speechbert's `doc/model_pack.md`.",
        "",
        "## Inputs",
        "",
        f"- features: `{inputs.get('feats_type')}`, frame shift {inputs.get('frame_shift')} s, global CMVN of "
        "the training set (`cmvn.ark`)",
        f"- audio words: frame pooling {inputs.get('frame_pooling')}, at most {inputs.get('max_word_frames')} "
        "frames per word (0: no limit)",
        f"- windows: {inputs.get('max_seq_len')} tokens, questions up to {inputs.get('max_question_len')} "
        f"WordPieces, window units {inputs.get('window_units')}, stride {inputs.get('window_stride')}",
        f"- aligner: `{aligner.get('feats_type')}` features, boundary rule "
        f"{rule.get('start_rule')} / {rule.get('end_rule')}",
        "",
        "Answers are bounded by the aligner as a recogniser: its word segmentation decides the audio words the "
        "model reads (training used forced alignments of reference text).",
        "",
        "## Training",
        "",
    ]
    for key in sorted(training):
        lines.append(f"- {key}: `{training[key]}`")
    validation = model.get("validation") or {}
    if validation:
        lines += ["", "## Validation (the averaged model)", "", "| metric | value |", "|---|---:|"]
        for key in sorted(validation):
            value = validation[key]
            lines.append(f"| {key} | {value:.4g} |" if isinstance(value, float) else f"| {key} | {value} |")
    results = meta.get("results")
    if results and results.get("rows"):
        lines += ["", f"## Results ({results.get('system')}, from `{results.get('file')}`)", ""]
        for data_set, row in results["rows"].items():
            cols = list(row)
            lines += [f"Data set: {data_set}", "", "| " + " | ".join(cols) + " |",
                      "|" + "---:|" * len(cols), "| " + " | ".join(row[c] for c in cols) + " |", ""]
    lines += ["", "## Versions", "",
              f"- pack format {meta['format_version']}, written by speechbert {written.get('speechbert')} "
              f"(git {written.get('git')}), torch {written.get('torch')}, Python {written.get('python')}",
              "", "## Files", "", "| file | bytes |", "|---|---:|"]
    for name in sorted(members):
        lines.append(f"| `{name}` | {members[name]['bytes']} |")
    lines += ["| `README.md` | (this file) |",
              "| `meta.yaml` | versions, training data, results, SHA-256 of every file |", ""]
    return "\n".join(lines)
