import type { Command } from 'commander';
import { ONNX_METADATA_KEY, exportOnnx } from '../../inference/onnx-export.js';

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('export a model to another format: ONNX (slice models and linear study models), for ONNX Runtime, onnxruntime-web or TensorRT')
    .argument('<model>', 'model file written by train (model.safetensors)')
    .requiredOption('--onnx <file>', 'the ONNX file to write (opset 13; preprocessing, classes and study pooling in its metadata)')
    .action(async (modelPath: string, o: { onnx: string }) => {
      const metadata = await exportOnnx(modelPath, o.onnx);
      const { input, classes, studyPooling } = metadata;
      console.log(`${o.onnx}: input '${input.name}' [${input.shape.join(', ')}] RGB in 0..1; outputs per slice: logits, probabilities (${classes.join(', ')})`);
      console.log(`  study: ${studyPooling.text}; preprocessing in metadata_props '${ONNX_METADATA_KEY}'`);
    });
}
