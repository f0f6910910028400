// Prints the include directories or linker flags of the libtorch that the addon builds against:
// $LIBTORCH (an unpacked libtorch distribution, e.g. a CUDA build) when set, else Debian's libtorch-dev.
const fs = require('node:fs');
const path = require('node:path');

const root = process.env.LIBTORCH;
const what = process.argv[2];

function debian() {
  const include = ['/usr/include', '/usr/include/torch/csrc/api/include'];
  return { include, libs: ['-ltorch', '-ltorch_cpu', '-lc10'] };
}

function custom(dir) {
  const lib = path.join(dir, 'lib');
  if (!fs.existsSync(path.join(lib, 'libtorch.so'))) {
    throw new Error(`LIBTORCH=${dir} does not hold lib/libtorch.so`);
  }
  const include = [path.join(dir, 'include'), path.join(dir, 'include/torch/csrc/api/include')];
  const libs = [`-L${lib}`, `-Wl,-rpath,${lib}`, '-Wl,--no-as-needed', '-ltorch', '-ltorch_cpu', '-lc10'];
  // A CUDA build registers its kernels only if libtorch_cuda is linked even though nothing names it.
  if (fs.existsSync(path.join(lib, 'libtorch_cuda.so'))) libs.push('-ltorch_cuda', '-lc10_cuda');
  libs.push('-Wl,--as-needed');
  return { include, libs };
}

const config = root ? custom(root) : debian();
if (what === 'include') console.log(config.include.join(' '));
else if (what === 'libs') console.log(config.libs.join(' '));
else throw new Error('usage: node libtorch.cjs include|libs');
