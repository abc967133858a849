#!/usr/bin/env bash
# Sets up a fresh Linux machine (Debian 12 / Ubuntu) for the workbench:
#   - a Vulkan loader, which Dawn (the `webgpu` npm package) needs to reach any GPU;
#   - where no hardware Vulkan driver is installed, Mesa lavapipe (a CPU Vulkan driver) new enough for
#     Dawn: Mesa >= 24. Debian 12 ships Mesa 22, so we take Mesa 25 from bookworm-backports;
#   - the system tools the notebooks, figure export, the viewer's browser test and MP4 export use
#     (jupyter-nbconvert, chromium, ffmpeg): `npm test` needs all of them to pass with nothing skipped;
#   - the npm packages, from package-lock.json.
# Usage: bash scripts/setup.sh [--no-npm]   (--full is still accepted: it is now the default)
# Runs apt-get as root, or through sudo when it is available; skips what is already installed.
set -euo pipefail
cd "$(dirname "$0")/.."

npm_install=1
for a in "$@"; do
  case "$a" in
    --full) ;; # what --full used to add is always installed now
    --no-npm) npm_install=0 ;;
    *) echo "setup.sh: unknown option $a" >&2; exit 2 ;;
  esac
done

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; else SUDO="__none__"; fi
fi
apt_install() {
  if [ "$SUDO" = "__none__" ]; then
    echo "setup.sh: need root (or sudo) to install: $*" >&2; exit 1
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

hardware_icd() {
  # A Vulkan ICD that is not Mesa's software one means a GPU driver is present (NVIDIA, AMD, Intel).
  local d f
  for d in /usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/share/vulkan/icd.d /usr/local/nvidia/share/vulkan/icd.d; do
    [ -d "$d" ] || continue
    for f in "$d"/*.json; do
      [ -e "$f" ] || continue
      case "$(basename "$f")" in lvp_icd*|gfxstream*|virtio*) ;; nvidia*) return 0 ;; esac
    done
  done
  [ -e /proc/driver/nvidia/version ]
}

mesa_major() {
  dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null | sed -E 's/^([0-9]+:)?([0-9]+).*/\2/' || true
}

if command -v apt-get >/dev/null; then
  . /etc/os-release
  need_update=1
  apt_update() { if [ $need_update = 1 ]; then $SUDO apt-get update -qq; need_update=0; fi; }

  if ! have_pkg libvulkan1; then apt_update; apt_install libvulkan1; fi

  if hardware_icd; then
    echo "setup: hardware Vulkan driver found; not installing lavapipe"
  elif [ "$(mesa_major)" != "" ] && [ "$(mesa_major)" -ge 24 ]; then
    echo "setup: Mesa lavapipe $(mesa_major) already installed"
  else
    if [ "${VERSION_CODENAME:-}" = "bookworm" ]; then
      if ! grep -rqs bookworm-backports /etc/apt/sources.list /etc/apt/sources.list.d/; then
        uris=$(awk '/^URIs:/ && !/security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
        uris=${uris:-http://deb.debian.org/debian}
        printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$uris" \
          | $SUDO tee /etc/apt/sources.list.d/backports.sources >/dev/null
      fi
      need_update=1; apt_update
      DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null
    else
      apt_update; apt_install mesa-vulkan-drivers
    fi
    echo "setup: installed Mesa lavapipe $(mesa_major) (CPU Vulkan; timings on it say nothing about GPUs)"
  fi

  # Notebook runs (jupyter-nbconvert + ipykernel), figure export and the viewer's browser test (chromium),
  # MP4 export (ffmpeg): without them `npm test` fails or skips those suites.
  pkgs=()
  have_pkg jupyter-nbconvert || pkgs+=(jupyter-nbconvert)
  have_pkg python3-ipykernel || pkgs+=(python3-ipykernel)
  have_pkg chromium || pkgs+=(chromium)
  have_pkg fonts-dejavu-core || pkgs+=(fonts-dejavu-core)
  have_pkg ffmpeg || pkgs+=(ffmpeg)
  if [ ${#pkgs[@]} -gt 0 ]; then apt_update; apt_install "${pkgs[@]}"; echo "setup: installed ${pkgs[*]}"; fi
else
  echo "setup: no apt-get; install a Vulkan loader and a Vulkan driver (GPU driver or Mesa lavapipe >= 24) yourself" >&2
fi

if [ $npm_install = 1 ]; then
  # Install scripts are not needed: Dawn, esbuild and zeromq ship prebuilt binaries in their packages.
  # onnxruntime-node (under @huggingface/transformers) bundles its CPU runtime; its install script would only
  # fetch optional CUDA providers from outside the npm registry, which fails offline: skip it.
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error
fi
echo "setup: done"
