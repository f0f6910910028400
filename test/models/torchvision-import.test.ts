import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor, noGrad } from '../../src/torch/index.js';
import { ResNet } from '../../src/models/resnet.js';
import { loadTorchvisionWeights } from '../../src/models/weights/torchvision.js';
import { readTorchCheckpoint } from '../../src/torch/io/pth.js';

const PYTHON = '/usr/bin/python3';
let skip: string | false = false;
try {
  execFileSync(PYTHON, ['-c', 'import torch, torchvision'], { stdio: 'ignore' });
} catch {
  skip = "skipped: needs Debian's PyTorch (apt-get install python3-torch python3-torchvision; bash scripts/setup.sh --dev)";
}

// Saves a randomly initialised torchvision model's state dict and its eval-mode output on a fixed input.
const SCRIPT = `
import sys, torch, torchvision
arch, out = sys.argv[1], sys.argv[2]
torch.manual_seed(0)
model = getattr(torchvision.models, arch)(num_classes=10).eval()
with torch.no_grad():
    for m in model.modules():  # non-trivial running statistics, so that eval-mode batch norm is tested
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1); m.running_var.uniform_(0.5, 1.5)
    x = torch.rand(2, 3, 64, 64)
    y = model(x)
torch.save(model.state_dict(), out + '/weights.pth')
torch.save({'input': x, 'output': y}, out + '/io.pth')
`;

for (const arch of ['resnet18', 'resnet50'] as const) {
  test(`a torchvision ${arch} state dict made by PyTorch gives the same outputs (within 1e-4)`, { skip }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'findstroke-tv-'));
    writeFileSync(join(dir, 'make.py'), SCRIPT);
    execFileSync(PYTHON, [join(dir, 'make.py'), arch, dir]);
    const model = new ResNet(arch, { numClasses: 10 });
    loadTorchvisionWeights(model, join(dir, 'weights.pth'));
    const io = readTorchCheckpoint(join(dir, 'io.pth'));
    const got = noGrad(() => model.eval().forward(Tensor.fromHost(io.get('input')!))).floats();
    const expected = io.get('output')!.data as Float32Array;
    const worst = got.reduce((m, v, i) => Math.max(m, Math.abs(v - expected[i])), 0);
    assert.ok(worst <= 1e-4, `max abs difference ${worst}`);
    // A body-only model takes the same file, ignoring fc.
    loadTorchvisionWeights(new ResNet(arch, { numClasses: 0 }), join(dir, 'weights.pth'));
    assert.throws(
      () => loadTorchvisionWeights(new ResNet(arch === 'resnet18' ? 'resnet50' : 'resnet18', { numClasses: 10 }), join(dir, 'weights.pth')),
      /not a torchvision resnet\d+ state dict: .*(missing|shape mismatch)/,
    );
  });
}
