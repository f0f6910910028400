import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as ort from 'onnxruntime-node';
import { manualSeed } from '../../src/torch/index.js';
import { VisionClassifier } from '../../src/models/classifier.js';
import { saveModel } from '../../src/learn/model-file.js';
import { tempFolder } from '../data/helpers/tiny-images.js';

const cli = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const findstroke = (...args: string[]) => promisify(execFile)(process.execPath, ['--import', 'tsx', cli, ...args], { encoding: 'utf8' });

test('findstroke export MODEL --onnx OUT writes a file ONNX Runtime opens; a file that is no model fails naming it', async () => {
  const { root, remove } = await tempFolder();
  manualSeed(0);
  const model = new VisionClassifier({ arch: 'resnet18', numClasses: 2 });
  try {
    const modelPath = join(root, 'model.safetensors');
    const onnxPath = join(root, 'model.onnx');
    saveModel(modelPath, model, { classes: ['normal', 'stroke'], input: { size: 32, resize: 40, windows: [{ center: 40, width: 80 }] } });
    const { stdout } = await findstroke('export', modelPath, '--onnx', onnxPath);
    assert.match(stdout, /input 'image' \[batch, 3, 32, 32\]/);
    const session = await ort.InferenceSession.create(onnxPath);
    assert.deepEqual([session.inputNames, session.outputNames], [['image'], ['logits', 'probabilities']]);
    await session.release();

    const notAModel = join(root, 'notes.safetensors');
    await writeFile(notAModel, 'not a model');
    await assert.rejects(findstroke('export', notAModel, '--onnx', join(root, 'notes.onnx')), (error: Error & { code: number; stderr: string }) => {
      assert.equal(error.code, 1);
      assert.match(error.stderr, new RegExp(`^findstroke: ${notAModel}: `, 'm'));
      return true;
    });
    assert.ok(!existsSync(join(root, 'notes.onnx')));
  } finally {
    model.dispose();
    await remove();
  }
});
