#!/usr/bin/env bash
# Packs entry points for the GPU machine (the `device` tool) with ../shared/gpu/pack.sh, then shrinks what
# travels: the tool copies the tracked files plus what `carry` names, 64 MiB in all, and the repository alone
# is about 40 MiB. dawn.node is compressed (env.sh unpacks it there), and an avatar given with --avatar is
# placed as .gpu-data/<name>.xz (unpack it there with `xz -dkf`; carrying .gpu-data replaces the folder on
# each call, so unpack in every command that needs it).
#
#   bash scripts/gpu-pack.sh lib/cli/gpu-job.ts bench/avatar.ts [--avatar path/to/avatar.ply]
#   # then: run(command="source .gpu/env.sh && node .gpu/app/gpu-job.mjs …", carry=[".gpu", ".gpu-data"])
#
# .gpu/ and .gpu-data/ must be ignored (.git/info/exclude), as ../shared/gpu/README.md says.
set -euo pipefail
cd "$(dirname "$0")/.."
entries=()
avatar=""
while [ $# -gt 0 ]; do
  case "$1" in
    --avatar) avatar="$2"; shift 2 ;;
    *) entries+=("$1"); shift ;;
  esac
done
[ ${#entries[@]} -gt 0 ] || { echo "usage: gpu-pack.sh <entry.ts>... [--avatar file.ply]" >&2; exit 2; }
for p in /.gpu/ /.gpu-data/; do grep -qxF "$p" .git/info/exclude 2>/dev/null || echo "$p" >> .git/info/exclude; done
rm -rf .gpu/app
for e in "${entries[@]}"; do bash ../shared/gpu/pack.sh "$e" >/dev/null; done
xz -T2 -6 -f .gpu/app/dist/linux-x64/dawn.node
grep -q 'dawn.node.xz' .gpu/env.sh || echo '[ -f .gpu/app/dist/linux-x64/dawn.node ] || xz -dk .gpu/app/dist/linux-x64/dawn.node.xz' >> .gpu/env.sh
if [ -n "$avatar" ]; then
  mkdir -p .gpu-data
  xz -T2 -6 -c "$avatar" > ".gpu-data/$(basename "$avatar").xz"
fi
# What travels: tracked and untracked-not-ignored files as they are on disk, plus the carried folders.
tree=$( { git ls-files -z; git ls-files -z --others --exclude-standard; } | xargs -0 du -cb 2>/dev/null | awk '$2 == "total" {s += $1} END {print s}')
extra=$(du -sb .gpu .gpu-data 2>/dev/null | awk '{s += $1} END {print s}')
total=$(( tree + extra ))
echo "to travel: $(( total / 1048576 )) MiB (working tree $(( tree / 1048576 )), .gpu + .gpu-data $(( extra / 1048576 ))) of 64 MiB"
if [ "$total" -gt $(( 64 * 1048576 )) ]; then
  echo "over the device tool's 64 MiB: most of the working tree is committed results (results/, notebooks/);" >&2
  echo "a GPU job needs only .gpu, .gpu-data, experiments/ and data/ict-facekit/ (see the note in README: GPU runs)" >&2
fi
