import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const config = fileURLToPath(new URL('../../native/libtorch.cjs', import.meta.url));

/** Files under `root` with the given contents, as a libtorch distribution or NVIDIA's packages lay them out. */
function lay(root: string, files: Record<string, string>): void {
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), text);
  }
}

/** What libtorch.cjs prints for `what`, with `env` added to a bare environment. */
const ask = (what: string, env: Record<string, string>) =>
  execFileSync(process.execPath, [config, what], { encoding: 'utf8', env: { PATH: process.env.PATH, ...env } })
    .trim()
    .split(/\s+/);

const GLOO = ['FINDSTROKE_GLOO', 'USE_C10D_GLOO'];
const NCCL = [...GLOO, 'FINDSTROKE_NCCL', 'USE_C10D_NCCL'];

test("a CUDA libtorch builds c10d's NCCL process group only where c10d's NCCL header compiles with the headers found", (t) => {
  const root = mkdtempSync(join(tmpdir(), 'findstroke-libtorch-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  // A CUDA wheel: c10d's NCCL header needs nccl.h and CUDA headers that the wheel does not ship (a header with a
  // name of this test's own stands for the CUDA ones, so that a toolkit installed on this machine is not found).
  lay(join(root, 'torch'), {
    'lib/libtorch.so': '',
    'lib/libtorch_cuda.so': '',
    'include/gloo/context.h': '',
    'include/torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp': '#include <nccl.h>\n#include <findstroke_test_cuda.h>\n',
  });
  // NVIDIA's pip packages beside the wheel, and a toolkit elsewhere.
  lay(root, { 'nvidia/nccl/include/nccl.h': '', 'nvidia/cu13/include/findstroke_test_cuda.h': '', 'toolkit/include/findstroke_test_cuda.h': '' });
  lay(root, { 'bare/nccl/include/nccl.h': '' });
  const torch = join(root, 'torch');

  // The CUDA headers from the pip packages beside nccl's, or from a toolkit at $CUDA_HOME.
  const pip = { LIBTORCH: torch, NCCL_HOME: join(root, 'nvidia/nccl') };
  assert.deepEqual(ask('defines', pip), NCCL);
  assert.ok(ask('include', pip).includes(join(root, 'nvidia/cu13/include')));
  const toolkit = { LIBTORCH: torch, NCCL_HOME: join(root, 'bare/nccl'), CUDA_HOME: join(root, 'toolkit') };
  assert.deepEqual(ask('defines', toolkit), NCCL);
  // Without them the header does not compile (the GPU check's build stopped there, with PyTorch 2.14's CUDA wheel and
  // a partial toolkit): Gloo only, and the addon builds.
  assert.deepEqual(ask('defines', { LIBTORCH: torch, NCCL_HOME: join(root, 'bare/nccl') }), GLOO);
  assert.deepEqual(ask('defines', { LIBTORCH: torch, CUDA_HOME: join(root, 'toolkit') }), GLOO);
  assert.ok(ask('libs', pip).includes('-ltorch_cuda'));
});
