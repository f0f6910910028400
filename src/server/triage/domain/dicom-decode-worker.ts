/**
 * A DICOM decode worker thread (see dicom-decoders.ts): reads each file it is sent, one at a time, with
 * its first frame decoded to prove the pixels usable, and answers with its header or why it is refused.
 */
import { parentPort } from 'node:worker_threads';
import { DicomError, readDicom } from '../../../data/dicom/index.js';
import type { DecodeReply, DecodeRequest } from './dicom-decoders.js';

const port = parentPort!;
port.on('message', (request: DecodeRequest) => {
  void read(request).then((reply) => port.postMessage(reply));
});

async function read(request: DecodeRequest): Promise<DecodeReply> {
  try {
    const { hu, ...header } = await readDicom(request);
    return { header };
  } catch (error) {
    return error instanceof DicomError ? { reason: error.reason } : { error: (error as Error).message };
  }
}
