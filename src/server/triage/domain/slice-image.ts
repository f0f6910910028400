/** One stored slice as a PNG for the worklist viewer: DICOM CT through a VOI window, photos as they are. */
import sharp from 'sharp';
import { readDicom, requireCT } from '../../../data/dicom/index.js';
import { HEAD_CT_WINDOWS, applyWindowUint8, type VoiWindow } from '../../../data/window.js';
import type { InstanceFormat } from './store.js';

/** A window named in the API (`brain`, `subdural`, `stroke`, `bone`) or given as `<center>,<width>` in HU. */
export function parseWindow(text: string | undefined): VoiWindow | string {
  if (text === undefined || text === '') return HEAD_CT_WINDOWS.brain;
  if (text in HEAD_CT_WINDOWS) return HEAD_CT_WINDOWS[text as keyof typeof HEAD_CT_WINDOWS];
  const match = /^(-?\d+(?:\.\d+)?),(\d+(?:\.\d+)?)$/.exec(text);
  // Width at least 1 (PS3.3 C.11.2.1.2.1).
  if (match && Number(match[2]) >= 1) return { center: Number(match[1]), width: Number(match[2]) };
  return `window must be one of ${Object.keys(HEAD_CT_WINDOWS).join(', ')} or <center>,<width> with width >= 1, got ${JSON.stringify(text)}`;
}

/** The PNG of the slice at `path`. */
export async function slicePng(path: string, format: InstanceFormat, window: VoiWindow): Promise<Buffer> {
  if (format !== 'dicom') return sharp(path).png().toBuffer();
  const image = requireCT(await readDicom(path));
  const grey = applyWindowUint8(image.hu(), window);
  return sharp(grey, { raw: { width: image.columns, height: image.rows, channels: 1 } })
    .png()
    .toBuffer();
}
