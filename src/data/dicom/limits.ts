/**
 * How much work reading one DICOM file may take, checked before the work is done: a small file can
 * declare a huge data set (deflated, PS3.5 A.5) or a huge image (compressed Pixel Data), and reading
 * it would then inflate or allocate gigabytes (a decompression bomb). Such a file is refused instead.
 */
export interface DicomLimits {
  /** Most bytes a Deflated Explicit VR Little Endian data set may inflate to. */
  readonly maxInflatedBytes: number;
  /** Most Rows, and most Columns, of an image whose pixels are decoded. */
  readonly maxImageSide: number;
}

export const DICOM_LIMITS: DicomLimits = {
  // A CT slice data set is a few MB; 64 MiB holds a 4096x4096 16-bit image twice over, and is the service's largest file.
  maxInflatedBytes: 64 * 2 ** 20,
  // CT is 512x512, some reconstructions 1024 or 2048. 4096 leaves room and keeps one decoded frame at 16 Mi pixels
  // (32 MiB of 16-bit samples, 64 MiB of Hounsfield units); 65535x65535, which Rows and Columns allow, would be 16 GiB.
  maxImageSide: 4096,
};
