// Prints the include directories, linker flags or preprocessor defines of the libtorch that the addon builds
// against: $LIBTORCH (an unpacked libtorch distribution, e.g. a CUDA build) when set, else Debian's libtorch-dev.
const fs = require('node:fs');
const path = require('node:path');

const root = process.env.LIBTORCH;
const what = process.argv[2];

function debian() {
  const include = ['/usr/include', '/usr/include/torch/csrc/api/include'];
  // c10d's Gloo header needs Gloo's own headers, which Debian ships apart (libgloo-dev).
  const defines = fs.existsSync('/usr/include/gloo/context.h') ? ['FINDSTROKE_GLOO', 'USE_C10D_GLOO'] : [];
  return { include, libs: ['-ltorch', '-ltorch_cpu', '-lc10'], defines };
}

// c10d's process groups the distribution can build: Gloo when its headers are there, NCCL when it is a
// CUDA build that ships c10d's NCCL header and nccl.h is found (in the distribution or $NCCL_HOME).
function collectives(dir, include, cuda) {
  const defines = [];
  // A libtorch from a Python wheel has Gloo compiled in but ships no Gloo headers: the system's (libgloo-dev), on
  // the compiler's default path, serve, as the addon only creates Gloo's device and passes it on.
  const gloo = [path.join(dir, 'include/gloo/context.h'), '/usr/include/gloo/context.h'].some((header) => fs.existsSync(header));
  if (gloo) defines.push('FINDSTROKE_GLOO', 'USE_C10D_GLOO');
  const ncclHeader = path.join(dir, 'include/torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp');
  const ncclInclude = [path.join(dir, 'include'), process.env.NCCL_HOME && path.join(process.env.NCCL_HOME, 'include')].find(
    (d) => d && fs.existsSync(path.join(d, 'nccl.h')),
  );
  if (cuda && defines.length && fs.existsSync(ncclHeader) && ncclInclude) {
    defines.push('FINDSTROKE_NCCL', 'USE_C10D_NCCL');
    include.push(ncclInclude);
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
  if (cuda) libs.push('-ltorch_cuda', '-lc10_cuda');
  libs.push('-Wl,--as-needed');
  return { include, libs, defines: collectives(dir, include, cuda) };
}

const config = root ? custom(root) : debian();
if (what === 'include') console.log(config.include.join(' '));
else if (what === 'libs') console.log(config.libs.join(' '));
else if (what === 'defines') console.log(config.defines.join(' '));
else throw new Error('usage: node libtorch.cjs include|libs|defines');
