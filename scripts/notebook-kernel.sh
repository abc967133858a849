#!/bin/sh
# The gae-tslab Jupyter kernel (registered by `npm run notebooks:kernel`): tslab, started in the repository root.
# tslab compiles each cell and every imported .ts file with rootDir = its working directory, so notebooks import
# lib/ as './lib/<module>/index.js' from wherever they live. Usage (by Jupyter): notebook-kernel.sh <connection file>
set -eu
[ $# -eq 1 ] || { echo "usage: $0 <jupyter connection file>" >&2; exit 2; }
case "$1" in /*) conn="$1" ;; *) conn="$(pwd)/$1" ;; esac
cd "$(dirname "$0")/.."
[ -x node_modules/.bin/tslab ] || { echo "gae-tslab: $(pwd)/node_modules/.bin/tslab not found: run npm ci (or bash scripts/setup.sh)" >&2; exit 1; }
# GAE_NODE: the node that registered the kernel (kernel.json env), for front ends started without node on PATH.
exec "${GAE_NODE:-node}" scripts/tslab-kernel.cjs kernel --config-path "$conn"
