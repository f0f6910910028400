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
# The production dependencies, tsx and node-gyp with everything they need, found as Node finds a package (the
# nearest node_modules up from the one that needs it); each folder once (a nested one travels in its parent's).
node -e '
const fs = require("node:fs"), path = require("node:path");
const found = new Set();
function find(name, from) {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, "node_modules", name);
    if (fs.existsSync(path.join(candidate, "package.json"))) return candidate;
    if (dir === path.dirname(dir)) return undefined;
  }
}
function visit(dir) {
  if (!dir || found.has(dir)) return;
  found.add(dir);
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
  for (const name of Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies })) visit(find(name, dir));
}
const roots = Object.keys(JSON.parse(fs.readFileSync("package.json", "utf8")).dependencies).concat("tsx", "node-gyp");
for (const name of roots) visit(find(name, process.cwd()));
console.log([...found].map((d) => path.relative(process.cwd(), d)).sort().join("\n"));
' | awk 'NR > 1 && index($0, kept "/") == 1 { next } { kept = $0; print }' >.gpu/packages.txt
# better-sqlite3's SQLite sources and object files are only for building it; its .node stays.
tar --exclude='node_modules/better-sqlite3/deps' --exclude='node_modules/better-sqlite3/src' --exclude='node_modules/better-sqlite3/build/Release/obj*' \
  --exclude='node_modules/better-sqlite3/build/Release/*.a' --exclude='node_modules/better-sqlite3/build/deps' -cJf .gpu/node_modules.tar.xz -T .gpu/packages.txt
tar -cJf .gpu/dist.tar.xz dist
cp native/build/Release/findstroke_jpeg.node .gpu/
cp -L "$(ldd native/build/Release/findstroke_jpeg.node | awk '/libjpeg/ { print $3 }')" .gpu/lib/
du -sh .gpu
