// Prints the include directories, linker flags or preprocessor defines of the libtorch that the addon builds
// against: $LIBTORCH (an unpacked libtorch distribution, e.g. a CUDA build) when set, else Debian's libtorch-dev.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = process.env.LIBTORCH;
const what = process.argv[2];

function debian() {
  const include = ['/usr/include', '/usr/include/torch/csrc/api/include'];
  // c10d's Gloo header needs Gloo's own headers, which Debian ships apart (libgloo-dev).
  const defines = fs.existsSync('/usr/include/gloo/context.h') ? ['FINDSTROKE_GLOO', 'USE_C10D_GLOO'] : [];
  return { include, libs: ['-ltorch', '-ltorch_cpu', '-lc10'], defines: () => defines };
}

// Where c10d's NCCL header finds nccl.h ($NCCL_HOME) and the CUDA headers it includes through ATen's. A wheel ships
// none: when $NCCL_HOME is one of NVIDIA's pip packages, its siblings (they match the wheel's CUDA), and a toolkit's
// (their compiler's crt/ headers) serve. Each folder once.
function ncclIncludes() {
  const nccl = process.env.NCCL_HOME;
  const nvidia = nccl && path.basename(path.dirname(nccl)) === 'nvidia' ? path.dirname(nccl) : undefined;
  const packages = nvidia ? fs.readdirSync(nvidia).map((name) => path.join(nvidia, name, 'include')) : [];
  const toolkits = [process.env.CUDA_HOME && path.join(process.env.CUDA_HOME, 'include'), '/usr/local/cuda/include'];
  return [...new Set([nccl && path.join(nccl, 'include'), ...packages, ...toolkits].filter((d) => d && fs.existsSync(d)))];
}

// Whether `source` compiles with these include directories and defines (syntax only: no object, no link).
function compiles(source, include, defines) {
  const flags = ['-std=c++20', '-fsyntax-only', '-x', 'c++', '-', ...include.map((d) => `-I${d}`), ...defines.map((d) => `-D${d}`)];
  try {
    execFileSync(process.env.CXX || 'c++', flags, { input: source, stdio: ['pipe', 'ignore', 'ignore'] });
    return true;
  } catch {
    return false;
  }
}

// c10d's process groups the distribution can build: Gloo when its headers are there, NCCL when it is a CUDA build
// that ships c10d's NCCL header and that header compiles here (nccl.h in the distribution or $NCCL_HOME, the CUDA
// headers above; a header list would go stale with libtorch's versions, so it is compiled once to ask).
function collectives(dir, include, cuda) {
  const defines = [];
  // A libtorch from a Python wheel has Gloo compiled in but ships no Gloo headers: the system's (libgloo-dev), on
  // the compiler's default path, serve, as the addon only creates Gloo's device and passes it on.
  const gloo = [path.join(dir, 'include/gloo/context.h'), '/usr/include/gloo/context.h'].some((header) => fs.existsSync(header));
  if (gloo) defines.push('FINDSTROKE_GLOO', 'USE_C10D_GLOO');
  const ncclHeader = 'torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp';
  if (cuda && gloo && fs.existsSync(path.join(dir, 'include', ncclHeader)) && compiles(`#include <${ncclHeader}>\n`, include, ['USE_C10D_NCCL'])) {
    defines.push('FINDSTROKE_NCCL', 'USE_C10D_NCCL');
  }
  return defines;
}

function custom(dir) {
  const lib = path.join(dir, 'lib');
  if (!fs.existsSync(path.join(lib, 'libtorch.so'))) {
    throw new Error(`LIBTORCH=${dir} does not hold lib/libtorch.so`);
  }
  const include = [path.join(dir, 'include'), path.join(dir, 'include/torch/csrc/api/include')];
  const libs = [`-L${lib}`, `-Wl,-rpath,${lib}`, '-Wl,--no-as-needed', '-ltorch', '-ltorch_cpu', '-lc10'];
  // A CUDA build registers its kernels only if libtorch_cuda is linked even though nothing names it.
  const cuda = fs.existsSync(path.join(lib, 'libtorch_cuda.so'));
  if (cuda) {
    libs.push('-ltorch_cuda', '-lc10_cuda');
    include.push(...ncclIncludes());
  }
  libs.push('-Wl,--as-needed');
  // Computed only when asked for: the NCCL question compiles a header.
  return { include, libs, defines: () => collectives(dir, include, cuda) };
}

const config = root ? custom(root) : debian();
if (what === 'include') console.log(config.include.join(' '));
else if (what === 'libs') console.log(config.libs.join(' '));
else if (what === 'defines') console.log(config.defines().join(' '));
else throw new Error('usage: node libtorch.cjs include|libs|defines');
