import { DicomError } from './errors.js';
import type { DicomHeader } from './header.js';

/**
 * Returns `image` when its Modality is CT; findstroke's models only know Hounsfield units.
 * @throws {@link DicomError} such as "scan.dcm: modality MR is not CT; findstroke classifies CT only".
 */
export function requireCT<Image extends DicomHeader>(image: Image): Image {
  if (image.modality !== 'CT') {
    throw new DicomError(image.source, `modality ${image.modality} is not CT; findstroke classifies CT only`);
  }
  return image;
}
