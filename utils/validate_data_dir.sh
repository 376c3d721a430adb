#!/usr/bin/env bash
# Check that a Kaldi data directory is well formed (see doc/design.md):
#   every file sorted with LC_ALL=C and free of duplicate keys, keys without whitespace or shell
#   metacharacters, the same utterances in wav.scp/text/utt2spk/utt2dur/feats.scp/utt2num_frames,
#   spk2utt the inverse of utt2spk, speaker ids sorting like their utterances, text valid UTF-8,
#   every utterance in `contexts` present, and questions.jsonl naming only known contexts.
set -euo pipefail

no_feats=false   # do not require feats.scp (checked if present)
no_text=false    # do not require text (checked if present)
no_wav=false     # do not require wav.scp (checked if present)
help_message="Usage: $0 [--no-feats true] [--no-text true] [--no-wav true] <data-dir>
  e.g.: $0 --no-feats true data/train
The --no-xxx options mean the file need not exist; it is still checked when it does.
Flags may also be given without a value (--no-feats)."

# Kaldi spells these as bare flags; accept both "--no-feats" and "--no-feats true".
args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --no-feats|--no_feats|--no-text|--no_text|--no-wav|--no_wav)
            if [ $# -ge 2 ] && { [ "$2" = true ] || [ "$2" = false ]; }; then args+=("$1" "$2"); shift 2
            else args+=("$1" true); shift; fi;;
        *) args+=("$1"); shift;;
    esac
done
set -- "${args[@]}"
# shellcheck source=parse_options.sh
. "$(dirname "$0")/parse_options.sh"

if [ $# -ne 1 ]; then
    echo "$help_message" >&2
    exit 1
fi
data=$1
export LC_ALL=C
fail() { echo "$0: $*" >&2; exit 1; }
[ -d "$data" ] || fail "no such directory $data"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# check_table <file>: trailing newline, valid keys, sorted, unique.
check_table() {
    local f=$1
    [ -s "$f" ] || fail "$f is empty"
    [ -z "$(tail -c 1 "$f")" ] || fail "$f: the last line has no trailing newline"
    awk -v f="$f" '
        NF == 0 { printf("%s:%d: empty line\n", f, NR); bad = 1; exit }
        $1 ~ /[\047"`$&|;<>()\\*?!{}\[\]#~]/ { printf("%s:%d: key %s contains a shell metacharacter\n", f, NR, $1); bad = 1; exit }
        NR > 1 && $1 == prev { printf("%s:%d: duplicate key %s\n", f, NR, $1); bad = 1; exit }
        NR > 1 && $1 < prev { printf("%s:%d: key %s is out of order (sort with LC_ALL=C, or run utils/fix_data_dir.sh)\n", f, NR, $1); bad = 1; exit }
        { prev = $1 }
        END { exit bad }' "$f" >&2 || exit 1
}

# same_keys <a> <b>: both files list the same first fields.
same_keys() {
    cut -d' ' -f1 "$1" > "$tmp/a"
    cut -d' ' -f1 "$2" > "$tmp/b"
    if ! cmp -s "$tmp/a" "$tmp/b"; then
        echo "$0: $1 and $2 list different utterances ($(wc -l < "$tmp/a") vs $(wc -l < "$tmp/b") lines); first differences:" >&2
        diff "$tmp/a" "$tmp/b" | head -n 6 >&2 || true
        echo "$0: run utils/fix_data_dir.sh $data to keep only the common ones" >&2
        exit 1
    fi
}

[ -f "$data/utt2spk" ] || fail "no such file $data/utt2spk"
check_table "$data/utt2spk"
awk -v f="$data/utt2spk" 'NF != 2 { printf("%s:%d: expected 2 fields, found %d\n", f, NR, NF); exit 1 }' "$data/utt2spk" >&2
sort -k2 -C "$data/utt2spk" || \
    fail "$data/utt2spk is not also sorted by speaker: make speaker ids prefixes of utterance ids"

[ -f "$data/spk2utt" ] || fail "no such file $data/spk2utt (make it with utils/utt2spk_to_spk2utt.pl $data/utt2spk)"
check_table "$data/spk2utt"
"$(dirname "$0")/utt2spk_to_spk2utt.pl" "$data/utt2spk" > "$tmp/spk2utt"
cmp -s "$tmp/spk2utt" "$data/spk2utt" || fail "$data/spk2utt is not the inverse of $data/utt2spk"

for f in wav.scp text feats.scp utt2dur utt2num_frames text.asr; do
    case "$f" in
        wav.scp) [ "$no_wav" = true ] && [ ! -f "$data/$f" ] && continue;;
        text) [ "$no_text" = true ] && [ ! -f "$data/$f" ] && continue;;
        feats.scp) [ "$no_feats" = true ] && [ ! -f "$data/$f" ] && continue;;
        *) [ -f "$data/$f" ] || continue;;
    esac
    [ -f "$data/$f" ] || fail "no such file $data/$f (if this is by design, use --no-${f%%.*} true)"
    check_table "$data/$f"
    if [ "$f" = text.asr ]; then continue; fi   # ASR may have produced nothing for some utterances
    same_keys "$data/utt2spk" "$data/$f"
done

if [ -f "$data/text" ]; then
    if ! iconv -f UTF-8 -t UTF-8 "$data/text" > /dev/null 2>&1; then
        line=$(python3 -c 'import sys
for i, l in enumerate(open(sys.argv[1], "rb"), 1):
    try: l.decode("utf-8")
    except UnicodeDecodeError: print(i); break' "$data/text")
        fail "$data/text:$line: not valid UTF-8"
    fi
    bad=$(grep -n -P '[\x00-\x08\x0b-\x1f\x7f]' "$data/text" | head -n 1 | cut -d: -f1 || true)
    [ -z "$bad" ] || fail "$data/text:$bad: contains non-printable characters"
fi

if [ -f "$data/contexts" ]; then
    check_table "$data/contexts"
    awk -v f="$data/contexts" '
        FILENAME == ARGV[1] { utt[$1] = 1; next }
        { for (i = 2; i <= NF; i++) if (!($i in utt)) { printf("%s:%d: context %s lists unknown utterance %s\n", f, FNR, $1, $i); exit 1 }
          if (NF < 2) { printf("%s:%d: context %s lists no utterances\n", f, FNR, $1); exit 1 } }' \
        "$data/utt2spk" "$data/contexts" >&2
fi

if [ -f "$data/questions.jsonl" ]; then
    [ -f "$data/contexts" ] || fail "$data/questions.jsonl exists but $data/contexts does not"
    python3 - "$data/questions.jsonl" "$data/contexts" <<'PY' >&2
import json, sys
qpath, cpath = sys.argv[1], sys.argv[2]
contexts = {line.split()[0] for line in open(cpath, encoding="utf-8") if line.strip()}
seen = set()
for i, line in enumerate(open(qpath, encoding="utf-8"), 1):
    try:
        q = json.loads(line)
    except json.JSONDecodeError as e:
        sys.exit(f"{qpath}:{i}: not valid JSON ({e.msg})")
    for field in ("id", "context_id", "question", "answers"):
        if field not in q:
            sys.exit(f"{qpath}:{i}: missing field {field!r}")
    if q["id"] in seen:
        sys.exit(f"{qpath}:{i}: duplicate question id {q['id']}")
    seen.add(q["id"])
    if q["context_id"] not in contexts:
        sys.exit(f"{qpath}:{i}: question {q['id']} names unknown context {q['context_id']}")
PY
fi

nspk=$(wc -l < "$data/spk2utt")
[ "$nspk" -gt 1 ] || echo "$0: warning: $data has a single speaker" >&2
echo "$0: successfully validated data directory $data ($(wc -l < "$data/utt2spk") utterances, $nspk speakers)" >&2
