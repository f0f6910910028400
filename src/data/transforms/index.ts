/** Transforms on host images (CHW float32), MONAI-style: one class per operation, composed in order. */
export { Compose, type Transform } from './transform.js';
export { RandomResizedCrop, CenterCrop, type RandomResizedCropOptions } from './crop.js';
export { Resize, fastaiValidationSize } from './resize.js';
export { RandomFlip } from './flip.js';
export { RandomRotate, rotate, type RandomRotateOptions } from './rotate.js';
export { RandomBrightnessContrast, ScaleIntensityRange, type RandomBrightnessContrastOptions, type ScaleIntensityRangeOptions } from './intensity.js';
export { StackWindows, GreyToRgb } from './channels.js';
export { MaskOutsideHead, maskOutsideHeadBytes, outsideHead, HEAD_THRESHOLD } from './mask.js';
export { warpAffine, cropAndResize, type Affine, type Box, type Padding } from './sampler.js';
