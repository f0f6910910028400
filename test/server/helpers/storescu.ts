/** DCMTK's command-line SCUs, as a CT scanner or PACS would talk to the service. */
import { execFile } from 'node:child_process';

export interface DcmtkResult {
  code: number;
  /** stdout and stderr together: the tools report refusals and DIMSE statuses there. */
  output: string;
}

/**
 * storescu (C-STORE SCU, PS3.4 Annex B) sends `files` to 127.0.0.1:`port` as calling AE `aeTitle` in
 * one association; `-v` prints statuses, `-d` (debug) whole responses with their Error Comment.
 */
export function storescu(
  port: number,
  files: string[],
  { aeTitle = 'CT_SCANNER', calledAeTitle = 'FINDSTROKE', debug = false, options = [] as string[] } = {},
): Promise<DcmtkResult> {
  return dcmtk('storescu', [debug ? '-d' : '-v', ...options, '-aet', aeTitle, '-aec', calledAeTitle, '127.0.0.1', String(port), ...files]);
}

/** DCMTK's echoscu: a C-ECHO (Verification, PS3.4 Annex A), as a PACS checks a destination. */
export function echoscu(port: number, aeTitle = 'CT_SCANNER'): Promise<DcmtkResult> {
  return dcmtk('echoscu', ['-v', '-aet', aeTitle, '127.0.0.1', String(port)]);
}

function dcmtk(tool: string, args: string[]): Promise<DcmtkResult> {
  return new Promise((resolve) => {
    execFile(tool, args, { timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}
