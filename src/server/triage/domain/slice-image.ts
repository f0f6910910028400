/** One stored slice as a PNG for the worklist viewer, in the VOI window the API names. */
import { HEAD_CT_WINDOWS, type VoiWindow } from '../../../data/window.js';

// A stored file's extension names its format (describe-instance.ts), so the slice reads as any image file does.
export { displayPng as slicePng } from '../../../data/display-image.js';

/** A window named in the API (`brain`, `subdural`, `stroke`, `bone`) or given as `<center>,<width>` in HU. */
export function parseWindow(text: string | undefined): VoiWindow | string {
  if (text === undefined || text === '') return HEAD_CT_WINDOWS.brain;
  if (text in HEAD_CT_WINDOWS) return HEAD_CT_WINDOWS[text as keyof typeof HEAD_CT_WINDOWS];
  const match = /^(-?\d+(?:\.\d+)?),(\d+(?:\.\d+)?)$/.exec(text);
  // Width at least 1 (PS3.3 C.11.2.1.2.1).
  if (match && Number(match[2]) >= 1) return { center: Number(match[1]), width: Number(match[2]) };
  return `window must be one of ${Object.keys(HEAD_CT_WINDOWS).join(', ')} or <center>,<width> with width >= 1, got ${JSON.stringify(text)}`;
}
