#!/usr/bin/env bash
# Packs into .gpu/ (ignored by git) what bench/gpu/run.sh needs on a GPU machine that has a CUDA PyTorch but no
# Node and no network: Node itself, the npm packages the CLI and the benchmarks load (production ones, tsx, and
# node-gyp to build the addon there), Node's headers, the compiled CLI, and the JPEG addon with the libjpeg it
# was built against (Debian's soname, which other distributions lack). About 45 MB, under the 64 MB a device run
# carries.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/setup.sh --dev >/dev/null # the packages, the JPEG addon and the compiled CLI, up to date
rm -rf .gpu && mkdir -p .gpu/lib
xz -T0 -6 -c "$(readlink -f "$(command -v node)")" >.gpu/node.xz
# Node's headers for node-gyp's --nodedir, without OpenSSL's (53 of their 54 MB; the addon does not use them).
tar -C /usr -cJf .gpu/node-headers.tar.xz --exclude=include/node/openssl include/node
# Every package the production dependencies, tsx and node-gyp need, each folder once (a nested one is inside its parent's).
(npm ls --omit=dev --parseable --all && npm ls tsx node-gyp --parseable --all) 2>/dev/null | grep '/node_modules/' | sed "s#^$PWD/##" | sort -u |
  awk 'NR > 1 && index($0, kept "/") == 1 { next } { kept = $0; print }' >.gpu/packages.txt
# better-sqlite3's SQLite sources and object files are only for building it; its .node stays.
tar --exclude='node_modules/better-sqlite3/deps' --exclude='node_modules/better-sqlite3/src' --exclude='node_modules/better-sqlite3/build/Release/obj*' \
  --exclude='node_modules/better-sqlite3/build/Release/*.a' --exclude='node_modules/better-sqlite3/build/deps' -cJf .gpu/node_modules.tar.xz -T .gpu/packages.txt
tar -cJf .gpu/dist.tar.xz dist
cp native/build/Release/findstroke_jpeg.node .gpu/
cp -L "$(ldd native/build/Release/findstroke_jpeg.node | awk '/libjpeg/ { print $3 }')" .gpu/lib/
du -sh .gpu
