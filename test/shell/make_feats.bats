#!/usr/bin/env bats
# steps/make_feats.sh: split, parallel jobs, sorted merge, feats_type/frame_shift, failures.

setup() {
    root=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
    work=$(mktemp -d)
    cd "$work"
    ln -s "$root/utils" utils
    ln -s "$root/steps" steps
    mkdir -p data/x conf
    cp "$root/egs/TEMPLATE/sqa1/conf/fbank.yaml" conf/
    export PATH="$root/tools/venv/bin:$PATH" OMP_NUM_THREADS=1
    python - <<'PY'
import numpy as np, soundfile
for i, secs in enumerate([0.5, 0.3, 0.4]):
    t = np.arange(int(secs * 16000)) / 16000
    soundfile.write(f"data/u{i}.wav", (0.3 * np.sin(2 * np.pi * (300 + 200 * i) * t)).astype("float32"),
                    16000, subtype="PCM_16")
PY
    printf 'u0 %s/data/u0.wav\nu1 cat %s/data/u1.wav |\nu2 %s/data/u2.wav\n' "$work" "$work" "$work" > data/x/wav.scp
}

teardown() {
    rm -rf "$work"
}

@test "make_feats.sh writes sorted merged features and their description" {
    run steps/make_feats.sh --nj 2 --feats_config conf/fbank.yaml data/x dump/x
    [ "$status" -eq 0 ]
    [ "$(cut -d' ' -f1 dump/x/feats.scp | tr '\n' ' ')" = "u0 u1 u2 " ]
    [ "$(cat dump/x/utt2num_frames)" = "$(printf 'u0 48\nu1 28\nu2 38')" ]
    [ "$(cat dump/x/feats_type)" = "fbank 80" ]
    [ "$(cat dump/x/frame_shift)" = "0.01" ]
    [ -f dump/x/conf/fbank.yaml ] && [ -f dump/x/feats.1.ark ] && [ -f dump/x/feats.2.ark ]
    grep -q "^u0 $work/dump/x/feats.1.ark:" dump/x/feats.scp
    [ ! -e dump/x/feats.1.scp ] && [ ! -e dump/x/utt2num_frames.1 ] && [ ! -e dump/x/split2 ]
}

@test "make_feats.sh fails naming the log when an utterance is bad" {
    printf 'u3 %s/data/missing.wav\n' "$work" >> data/x/wav.scp
    run steps/make_feats.sh --nj 2 --feats_config conf/fbank.yaml data/x dump/x
    [ "$status" -ne 0 ]
    [[ "$output" == *"see dump/x/log/make_feats.*.log"* ]]
    grep -q "(u3): no such audio file" dump/x/log/make_feats.2.log
    [ ! -e dump/x/feats.scp ]
}

@test "make_feats.sh prints usage on wrong arguments and rejects unknown options" {
    run steps/make_feats.sh data/x
    [ "$status" -eq 1 ]
    [[ "$output" == *"Usage: steps/make_feats.sh"* ]]
    run steps/make_feats.sh --no_such_option 1 data/x dump/x
    [ "$status" -ne 0 ]
    [[ "$output" == *"invalid option --no_such_option"* ]]
}

@test "make_feats.sh removes the hidden temporary files a killed run left" {
    mkdir -p dump/x
    head -c 1000 /dev/zero > dump/x/.feats.1.ark.k2j4h1.tmp
    touch dump/x/.utt2num_frames.q9.tmp dump/x/keep.me
    run steps/make_feats.sh --nj 2 --feats_config conf/fbank.yaml data/x dump/x
    [ "$status" -eq 0 ]
    [ -z "$(find dump/x -maxdepth 1 -name '.*.tmp')" ] && [ -f dump/x/keep.me ]
}

@test "make_feats.sh --ngpu takes 0 or 1 (GPUs per job)" {
    run steps/make_feats.sh --ngpu 2 --feats_config conf/fbank.yaml data/x dump/x
    [ "$status" -eq 1 ]
    [[ "$output" == *"--ngpu must be 0 or 1 (GPUs per job), got '2'"* ]]
    [ ! -e dump/x/feats.scp ]
}
