import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));

/**
 * The layers of src/, each with the layers it may import; a layer is the most specific folder listed.
 * Lower layers never import higher ones: data knows no model, the learner no HTTP, the engine no
 * training policy, the triage domain neither its HTTP nor its DICOM face.
 */
const MAY_IMPORT: Record<string, readonly string[]> = {
  util: [],
  torch: ['util'],
  models: ['torch', 'util'],
  data: ['util'],
  learn: ['data', 'models', 'torch', 'util'],
  interpret: ['data', 'learn', 'models', 'torch', 'util'],
  workflows: ['data', 'interpret', 'learn', 'models', 'torch', 'util'],
  // An exported model whatever its kind: what prediction's users (the triage service) see.
  inference: ['data', 'interpret', 'learn', 'models', 'torch', 'util'],
  clean: ['data', 'learn', 'util'],
  'server/cleaner': ['clean', 'util'],
  // api.ts: the service's contract, shared by its domain, its faces and the worklist app.
  'server/triage/api.ts': [],
  'server/triage/domain': ['server/triage/api.ts', 'inference', 'data', 'learn', 'util'],
  'server/triage/http': ['server/triage/api.ts', 'server/triage/domain', 'util'],
  'server/triage/dimse': ['server/triage/domain', 'data', 'util'],
  'server/triage/service.ts': ['server/triage/domain', 'server/triage/http', 'server/triage/dimse', 'util'],
  cli: ['clean', 'data', 'inference', 'interpret', 'learn', 'models', 'server/cleaner', 'server/triage/service.ts', 'torch', 'util', 'workflows'],
  'index.ts': ['data', 'inference', 'interpret', 'learn', 'models', 'torch', 'workflows'],
};

function layerOf(path: string): string {
  const matches = Object.keys(MAY_IMPORT).filter((layer) => path === layer || path.startsWith(`${layer}/`));
  assert.ok(matches.length > 0, `src/${path} belongs to no layer of this test: add its folder to MAY_IMPORT`);
  return matches.sort((a, b) => b.length - a.length)[0];
}

function sourceFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

test('each layer of src/ imports only the layers below it; src/util only Node', () => {
  const violations: string[] = [];
  for (const file of sourceFiles(SRC)) {
    const from = relative(SRC, file);
    const layer = layerOf(from);
    for (const [, specifier] of readFileSync(file, 'utf8').matchAll(/\bfrom '([^']+)'/g)) {
      if (!specifier.startsWith('.')) {
        if (layer === 'util' && !specifier.startsWith('node:')) violations.push(`src/${from} imports the package ${specifier}`);
        continue;
      }
      const target = layerOf(relative(SRC, normalize(join(dirname(file), specifier.replace(/\.js$/, '.ts')))));
      if (target !== layer && !MAY_IMPORT[layer].includes(target)) violations.push(`src/${from} (${layer}) imports ${specifier} (${target})`);
    }
  }
  assert.deepEqual(violations, []);
});

test("only the model module tells a slice model from a study model: no other file of src/ branches on the model's kind", () => {
  const modelModule = ['learn/model-file.ts', 'inference/exported-model.ts'];
  const branches = sourceFiles(SRC).flatMap((file) => {
    const from = relative(SRC, file);
    if (modelModule.includes(from)) return [];
    const text = readFileSync(file, 'utf8');
    // Also a scorer asked whether it predicts studies, and a study model's slice scorer built outside the kind table.
    // Outside src/models, which defines the classes (its ONNX writer writes each class's graph), testing a model's class is testing its kind.
    const classTests = from.startsWith('models/') ? [] : [/instanceof (StudySliceScorer|StudyClassifier)\b/];
    return [/STUDY_MODEL_FORMAT/, /\.kind\s*[!=]==\s*'(slice|study)'/, /modelFileFormat\(/, /'predictStudy' in\b/, /new StudySliceScorer\(/, ...classTests]
      .filter((pattern) => pattern.test(text))
      .map((pattern) => `src/${from}: ${pattern}`);
  });
  assert.deepEqual(branches, []);
});
