/** The data layer's shared vocabulary: labelled samples and host-side images. No engine, no models. */

/** One labelled image file (or DICOM slice) of a dataset. */
export interface Sample {
  /** Absolute path of the file. */
  path: string;
  /** Class name, e.g. 'haemorrhagicStroke'. */
  label: string;
  /** Patient the image belongs to, when known: splits keep a patient on one side. */
  patientId?: string;
  /** Study (e.g. DICOM StudyInstanceUID), when known. */
  studyId?: string;
  /** Position of the slice in its series, when known. */
  sliceIndex?: number;
}

/** A labelled collection: samples plus the class names in a fixed (sorted) order. */
export interface Dataset {
  /** Where the dataset came from (folder or manifest path), for messages and provenance. */
  source: string;
  classes: string[];
  samples: Sample[];
}

/**
 * An image on the host, channel-first (C x H x W) float32, as transforms pass it along.
 * Values are display intensities in 0..1 for photos and windowed CT, or Hounsfield units before windowing.
 */
export interface HostImage {
  width: number;
  height: number;
  channels: number;
  data: Float32Array;
}

/**
 * An 8-bit image on the host, channel-first like {@link HostImage}: what the loader caches, at a
 * quarter of the memory of float32, before transforms turn it into a {@link HostImage}.
 */
export interface ByteImage {
  width: number;
  height: number;
  channels: number;
  data: Uint8Array;
}
