/** The benchmark's senders: a CT scanner (DCMTK storescu, C-STORE) and a DICOMweb client (STOW-RS over fetch). */
import { execFile } from 'node:child_process';

/** Sends a series with one storescu process (one association), as a modality does at the end of a scan. */
export function sendWithStorescu(port: number, files: string[], aeTitle: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('storescu', ['-aet', aeTitle, '-aec', 'FINDSTROKE', '127.0.0.1', String(port), ...files], { timeout: 120_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`storescu failed (${error.message}): ${stdout}${stderr}`));
      else resolve();
    });
  });
}

/** Sends a series in one STOW-RS request (PS3.18 10.5): multipart/related of application/dicom parts. */
export async function sendWithStow(baseUrl: string, files: Uint8Array[]): Promise<void> {
  const boundary = `bench-${Math.random().toString(36).slice(2)}`;
  const body = Buffer.concat([
    ...files.flatMap((file) => [Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`), Buffer.from(file), Buffer.from('\r\n')]),
    Buffer.from(`--${boundary}--\r\n`),
  ]);
  const response = await fetch(`${baseUrl}/dicomweb/studies`, {
    method: 'POST',
    headers: { 'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}` },
    body,
  });
  if (response.status !== 200) throw new Error(`STOW-RS answered ${response.status}: ${await response.text()}`);
}
