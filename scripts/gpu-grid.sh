#!/usr/bin/env bash
# Runs an ablation grid on the device machine, in as many calls as its time limit needs, and brings back what a
# commit keeps. Packed first here with
#
#   bash scripts/gpu-pack.sh bench/gae-gpu.ts lib/cli/import-cells.ts bench/discriminator.ts
#
# then, on the device (the `run` tool, carry [".gpu", ".gpu-data"]):
#
#   bash scripts/gpu-grid.sh experiments/table1.json 12 300 --seed 0
#
# Arguments: the grid config, the cells run at once (each its own process on the one GPU), a start budget in
# seconds (no cell starts after it; running cells finish), then `gae ablate` filters other than --method (the script
# passes --method itself: GAE_METHODS=a,b limits it to those methods, e.g. the adversarial arms only). Steps:
#   1. reconstructions carried from an earlier call (.gpu-data/recon-*.tar.xz) are unpacked into the grid, so
#      that every call edits the same avatars; the dataset is synthesised again (deterministic from its config);
#   2. the shared prerequisites (dataset, plain reconstruction), then the WABE reconstruction beside the cells that
#      do not need it, and its cells once it is built;
#   3. finished cells trimmed as for git (`gae import-cells`) into $OUT/<grid>-cells.tar.xz, the reconstructions
#      (their last checkpoint's avatar and eval, no optimiser state) into $OUT/recon-*.tar.xz for the next call.
# $OUT brings back at most 8 files, hence the tars. GAE_HARD_LIMIT (default 540 s) ends the cells still running;
# they stay resumable in /tmp/runs on that machine. A call made while it is still warm (the device tool keeps it
# for a short idle time) finds /tmp/runs there, and those cells resume from their last checkpoint; on a fresh
# machine they start again. Table 1's adversarial cells finished that way (results/table1/README.md).
set -uo pipefail
cfg=$1
k=$2
budget=$3
shift 3
here=$(pwd)
out=${OUT:-/tmp/out}
hard=${GAE_HARD_LIMIT:-540}
runs=${GAE_RUNS:-/tmp/runs}
# shellcheck disable=SC1090
source "${GPU_ENV:-.gpu/env.sh}"
for f in .gpu/app/*.mjs.xz; do [ -f "${f%.xz}" ] || xz -dk "$f"; done
name=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).name)' "$cfg")
grid=$runs/$name
mkdir -p "$grid" "$out"
export UV_THREADPOOL_SIZE=${UV_THREADPOOL_SIZE:-16}
gae() { node "$here/.gpu/app/gae-gpu.mjs" "$@"; }
pos() { [ "$1" -gt 0 ] && echo "$1" || echo 0; }
left() { echo $((hard - SECONDS)); }
log() { echo "[gpu-grid $SECONDS s] $*"; }

for t in .gpu-data/recon-*.tar.xz; do
  [ -f "$t" ] || continue
  tar -xJf "$t" -C "$grid" && log "unpacked $t"
done

# Methods whose cells need the WABE reconstruction (params.reconWabe) run after it; the others at once.
read -r plain wabe < <(node -e '
  const c = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const w = (m) => (m.params ?? {}).reconWabe === true || (c.params ?? {}).reconWabe === true;
  const only = process.env.GAE_METHODS ? new Set(process.env.GAE_METHODS.split(",")) : null;
  const ms = c.methods.filter((m) => !only || only.has(m.name));
  console.log((ms.filter((m) => !w(m)).map((m) => m.name).join(",") || "-") + " " + (ms.filter(w).map((m) => m.name).join(",") || "-"));
' "$cfg")
log "methods: plain [$plain], on the WABE reconstruction [$wabe]"

first=${plain%%,*}
[ "$first" = "-" ] && first=${wabe%%,*}
timeout "$(left)" node "$here/.gpu/app/gae-gpu.mjs" ablate "$cfg" --out-dir "$runs" --prepare --method "$first" "$@" 2>&1 | tee "$out/prepare.log"
if [ "${PIPESTATUS[0]}" -ne 0 ]; then
  log "preparing failed (above); no cell runs"
  exit 1
fi
log "prepared the dataset and the plain reconstruction"
# The dataset is synthesised again on each machine: its digest shows whether two calls scored against the same bytes.
for d in data/synthetic/*/; do
  [ -f "$d/dataset.json" ] && log "dataset $d sha256 $(cd "$d" && find . -type f -not -path "./.cache/*" | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-16)"
done

pids=()
if [ "$wabe" != "-" ]; then
  (
    timeout "$(left)" node "$here/.gpu/app/gae-gpu.mjs" ablate "$cfg" --out-dir "$runs" --prepare --method "$wabe" "$@" >"$out/prepare-wabe.log" 2>&1
    log "WABE reconstruction ready" >>"$out/prepare-wabe.log"
    rest=$((budget - SECONDS))
    [ "$rest" -gt 0 ] && timeout "$(left)" node "$here/.gpu/app/gae-gpu.mjs" ablate "$cfg" --out-dir "$runs" --parallel 3 --start-budget "$rest" --method "$wabe" "$@" >>"$out/prepare-wabe.log" 2>&1
  ) &
  pids+=($!)
fi
if [ "$plain" != "-" ]; then
  timeout "$(left)" node "$here/.gpu/app/gae-gpu.mjs" ablate "$cfg" --out-dir "$runs" --parallel "$k" --start-budget "$(pos $((budget - SECONDS)))" --method "$plain" "$@" 2>&1 |
    grep -E 'finished|failed|budget|cells to run|Error' | tee "$out/ablate.log"
fi
for p in "${pids[@]}"; do wait "$p"; done
grep -E 'finished|failed|budget|cells to run|Error|ready' "$out/prepare-wabe.log" 2>/dev/null
log "cells done: $(find "$grid" -path '*/seed-*/done.json' -not -path '*/edit/*' | wc -l)"

# What comes back: finished cells trimmed for git, and the reconstructions for the next call.
mkdir -p "$runs/import"
node "$here/.gpu/app/import-cells.mjs" "$grid" $runs/import/"$name" --splits test,cross --frames 3 | tail -n 2
tar -cJf "$out/$name-cells.tar.xz" -C $runs/import "$name"
for r in "$grid"/_recon/*; do
  [ -f "$r/done.json" ] || continue
  b=$(basename "$r")
  stage=$runs/stage/$b/_recon/$b
  mkdir -p "$stage/checkpoints"
  latest=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).dir)' "$r/checkpoints/latest.json")
  find "$r" -maxdepth 1 -type f ! -name "run.lock" ! -name ".lock" ! -name "*.tmp*" -exec cp {} "$stage/" \;
  cp "$r/checkpoints/latest.json" "$stage/checkpoints/"
  mkdir -p "$stage/checkpoints/$latest"
  cp "$r/checkpoints/$latest/avatar.ply" "$stage/checkpoints/$latest/"
  [ -f "$out/recon-$b.tar.xz" ] || [ -f ".gpu-data/recon-$b.tar.xz" ] || tar -cJf "$out/recon-$b.tar.xz" -C "$runs/stage/$b" "_recon"
done
ls -la "$out"
log "end"
