#!/usr/bin/env bash
# findstroke's GPU check, one script for the scarce minutes of a GPU machine (see docs/gpu.md): from the repository
# root, with .gpu/ from bench/gpu/prepare.sh beside it, on a machine with a CUDA PyTorch (`python3`), g++ and make.
#   1. unpacks Node and the npm packages, builds the addon against the libtorch inside that PyTorch;
#   2. checks that findstroke sees the GPU and computes on it (a training step's numbers against the CPU's);
#   3. bench:engine on the GPU against PyTorch on the same GPU (ENGINE_DEVICE=cuda);
#   4. a short fine-tune there: `findstroke train --device cuda` on synthetic phantoms, the whole recipe.
# Everything it measures goes to $OUT (or ./gpu-out). GPU_CHECK_DEVICE=cpu runs the same steps on the CPU, to check
# the script itself on a machine without a GPU; PYTHON names another Python. Its stages are bounded to end inside the
# 600 s one device call may take (bench:engine 300 s, the fine-tune 150 s; bench:engine keeps the cells it measured).
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-$PWD/gpu-out}
device=${GPU_CHECK_DEVICE:-cuda}
python=${PYTHON:-python3}
tools=/tmp/findstroke-gpu
mkdir -p "$out" "$tools"
exec > >(tee -a "$out/gpu.log") 2>&1
step() { echo "== $(date +%T) $*"; }
fail() { echo "gpu check failed: $*"; exit 1; }

step "unpacking Node, npm packages, the compiled CLI"
[[ -f .gpu/node.xz ]] || fail ".gpu/ is missing: run bash bench/gpu/prepare.sh where findstroke is set up, and carry .gpu"
for tool in xz g++ make; do command -v $tool >/dev/null || fail "$tool is not installed here"; done
xz -dc .gpu/node.xz >"$tools/node" && chmod +x "$tools/node"
tar -C "$tools" -xJf .gpu/node-headers.tar.xz
tar -xJf .gpu/node_modules.tar.xz
tar -xJf .gpu/dist.tar.xz
export PATH="$tools:$PATH" LD_LIBRARY_PATH="$PWD/.gpu/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
node --version || fail "the carried Node does not run here"
nvidia-smi -L 2>/dev/null
torch=$("$python" -c 'import os, torch; print(os.path.dirname(torch.__file__))') || fail "$python has no PyTorch"
"$python" -c 'import torch; print("PyTorch", torch.__version__, "CUDA", torch.version.cuda, "GPUs", torch.cuda.device_count())'

step "building the addon against $torch"
# NCCL's header, for c10d's NCCL process group, from the pip package beside PyTorch when there is one.
nccl=$("$python" -c 'import os, nvidia.nccl as n; print(os.path.dirname(n.__file__) if n.__file__ else list(n.__path__)[0])' 2>/dev/null) && export NCCL_HOME=$nccl
(cd native && LIBTORCH=$torch node ../node_modules/node-gyp/bin/node-gyp.js configure --nodedir="$tools" --loglevel=error &&
  make -C build -j "$(nproc)" findstroke_torch >/dev/null) || fail "the addon did not build"
cp .gpu/findstroke_jpeg.node native/build/Release/
echo "$torch" >native/build/libtorch
node bin/findstroke.js info | head -1

step "findstroke on $device: a training step there against the CPU"
node --import tsx bench/gpu/check.ts --device "$device" | tee "$out/check.json" || fail "findstroke did not compute on $device"

step "bench:engine on $device"
ENGINE_DEVICE=$device ENGINE_PYTHON=$python ENGINE_ROUNDS=${ENGINE_ROUNDS:-1} timeout 300 node --import tsx bench/engine/run.ts
cp bench/results/engine-cuda.json bench/results/engine.json "$out/" 2>/dev/null

step "a short fine-tune on $device: ResNet-18 from scratch on synthetic phantoms"
rm -rf /tmp/phantoms /tmp/gpu-run
node bin/findstroke.js phantoms /tmp/phantoms --patients 24 --slices 8 --size 160 >/dev/null &&
  timeout 150 node bin/findstroke.js train /tmp/phantoms --arch resnet18 --no-pretrained --device "$device" --freeze-epochs 1 --epochs 2 --out /tmp/gpu-run
cp /tmp/gpu-run/metrics.json "$out/fine-tune-metrics.json" 2>/dev/null
step "done"
