#!/usr/bin/env bash
# Repair a Kaldi data directory so that it passes utils/validate_data_dir.sh:
#   back up every file to <data>/.backup/, sort each table with LC_ALL=C (keeping the first line
#   of a duplicated key), keep only the utterances present in every per-utterance file, drop a
#   passage (context) that lost any of its sentences together with its remaining sentences and its
#   questions, regenerate spk2utt, and report how many entries were dropped from which file and why.
set -euo pipefail
echo "$0 $*" >&2

utt_extra_files=""   # more per-utterance tables to sort and intersect
help_message="Usage: $0 [--utt_extra_files 'f1 f2'] <data-dir>
  e.g.: $0 data/train"
# shellcheck source=parse_options.sh
. "$(dirname "$0")/parse_options.sh"
if [ $# -ne 1 ]; then
    echo "$help_message" >&2
    exit 1
fi
data=$1
export LC_ALL=C
[ -d "$data" ] || { echo "$0: no such directory $data" >&2; exit 1; }
[ -f "$data/utt2spk" ] || { echo "$0: no such file $data/utt2spk" >&2; exit 1; }

mkdir -p "$data/.backup"
for f in wav.scp text utt2spk spk2utt utt2dur utt2num_frames feats.scp text.asr contexts \
         questions.jsonl oracle.ctm segments $utt_extra_files; do
    [ -f "$data/$f" ] && cp "$data/$f" "$data/.backup/$f"
done

python3 - "$data" "$utt_extra_files" <<'PY'
import json
import os
import sys
import tempfile

data, extra = sys.argv[1], sys.argv[2].split()
per_utt = [f for f in ["utt2spk", "wav.scp", "text", "utt2dur", "utt2num_frames", "feats.scp"] + extra
           if os.path.isfile(os.path.join(data, f))]


def path(f):
    return os.path.join(data, f)


def write(f, lines):
    fd, tmp = tempfile.mkstemp(dir=data, prefix=f".{f}.")
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
        out.writelines(lines)
    os.replace(tmp, path(f))


def ckey(s):
    return s.encode("utf-8")


def read_table(f):
    """First line wins for a duplicated key; empty lines are dropped."""
    table, dups, empty = {}, 0, 0
    with open(path(f), encoding="utf-8", errors="surrogateescape") as fh:
        for line in fh:
            parts = line.split(maxsplit=1)
            if len(parts) < 2 and f != "contexts":
                empty += 1
                continue
            if parts[0] in table:
                dups += 1
                continue
            table[parts[0]] = line if line.endswith("\n") else line + "\n"
    if dups or empty:
        print(f"fix_data_dir.sh: {path(f)}: dropped {dups} duplicate keys and {empty} lines without a value",
              file=sys.stderr)
    return table


tables = {f: read_table(f) for f in per_utt}
keep = set(tables["utt2spk"])
for f in per_utt:
    keep &= set(tables[f])
reasons = {f: len(set(tables[f]) - keep) for f in per_utt}

dropped_contexts = 0
contexts = read_table("contexts") if os.path.isfile(path("contexts")) else None
if contexts is not None:
    new = {}
    for cid, line in contexts.items():
        utts = line.split()[1:]
        if utts and all(u in keep for u in utts):
            new[cid] = line
        else:
            dropped_contexts += 1
            lost = [u for u in utts if u not in keep]
            print(f"fix_data_dir.sh: dropping context {cid}: {len(lost)} of its {len(utts)} utterances are missing",
                  file=sys.stderr)
            keep -= set(utts)
    in_context = {u for line in new.values() for u in line.split()[1:]}
    orphans = keep - in_context
    if orphans:
        print(f"fix_data_dir.sh: dropping {len(orphans)} utterances that belong to no context", file=sys.stderr)
        keep -= orphans
    write("contexts", [new[k] for k in sorted(new, key=ckey)])

for f in per_utt:
    write(f, [tables[f][k] for k in sorted(tables[f], key=ckey) if k in keep])
if os.path.isfile(path("text.asr")):
    t = read_table("text.asr")
    write("text.asr", [t[k] for k in sorted(t, key=ckey) if k in keep])
if os.path.isfile(path("oracle.ctm")):
    with open(path("oracle.ctm"), encoding="utf-8") as fh:
        lines = [ln for ln in fh if ln.split() and ln.split()[0] in keep]
    write("oracle.ctm", lines)

spk2utt = {}
for k in sorted(keep, key=ckey):
    spk2utt.setdefault(tables["utt2spk"][k].split()[1], []).append(k)
write("spk2utt", [f"{s} {' '.join(u)}\n" for s, u in spk2utt.items()])

if os.path.isfile(path("questions.jsonl")) and contexts is not None:
    remaining = {line.split()[0] for line in open(path("contexts"), encoding="utf-8")}
    kept_q, dropped_q = [], 0
    with open(path("questions.jsonl"), encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            if json.loads(line).get("context_id") in remaining:
                kept_q.append(line if line.endswith("\n") else line + "\n")
            else:
                dropped_q += 1
    write("questions.jsonl", kept_q)
    if dropped_q:
        print(f"fix_data_dir.sh: dropped {dropped_q} questions whose context was dropped", file=sys.stderr)

total = len(tables["utt2spk"])
for f, n in reasons.items():
    if n:
        print(f"fix_data_dir.sh: {n} utterances of {path(f)} are missing from another per-utterance file",
              file=sys.stderr)
print(f"fix_data_dir.sh: kept {len(keep)} of {total} utterances ({total - len(keep)} dropped), "
      f"dropped {dropped_contexts} contexts", file=sys.stderr)
if not keep:
    print(f"fix_data_dir.sh: no utterances remained in {data}: not proceeding further", file=sys.stderr)
    sys.exit(1)
PY
echo "$0: old files are kept in $data/.backup" >&2
