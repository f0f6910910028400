/**
 * The triage service's HTTP contract, shared by the server (src/server/triage) and the worklist app
 * (src/web/worklist). All routes except GET / and static assets need `Authorization: Bearer <token>`
 * (or `?token=` for EventSource and <img> URLs) when the service runs with a token.
 *
 * GET  /api/worklist                      -> WorklistItem[] (most urgent first, then oldest arrival)
 * GET  /api/studies/:studyUid             -> StudyDetail
 * GET  /api/studies/:studyUid/slices/:index/image?window=brain|subdural|stroke|bone|<center>,<width>
 *                                         -> PNG of one slice (index in slice order), windowed
 * GET  /api/studies/:studyUid/slices/:index/heatmap -> PNG Grad-CAM overlay of that slice (brain window)
 * GET  /api/events                        -> text/event-stream of ServiceEvent (JSON in `data:`)
 * POST /api/studies/:studyUid/review      <- ReviewRequest -> Review
 * POST /api/upload (multipart/form-data: files)       -> UploadResult   (PNG/JPEG/DICOM)
 * POST /dicomweb/studies (multipart/related; type="application/dicom") -> STOW-RS response (PS3.18 10.5)
 * DICOM C-STORE SCP on --dicom-port, accepting only configured calling AE titles.
 *
 * Every refusal is a 4xx (5xx for a fault of the service) with an {@link ErrorBody} saying why. Per
 * instance, STOW-RS answers in its own terms (PS3.18 10.5.3: 200/202/409, reasons in Warning headers)
 * and POST /api/upload lists refused files in its {@link UploadResult} (422 when none was stored).
 */

export type StudyStatus = 'received' | 'classifying' | 'done' | 'error';

export interface WorklistItem {
  studyInstanceUid: string;
  patientId: string;
  status: StudyStatus;
  /** The class that sets the study's urgency (model class names, e.g. 'haemorrhagicStroke'), null until classified. */
  urgency: string | null;
  /** True when some abnormal class passed its threshold: needs urgent review. */
  flagged: boolean;
  /** Study-level probability per class (aggregated over slices), {} until classified. */
  probabilities: Record<string, number>;
  /** ISO times. */
  receivedAt: string;
  flaggedAt: string | null;
  classifiedAt: string | null;
  /** Seconds from the last slice received to the classification. */
  timeToFlagSeconds: number | null;
  slices: number;
  error: string | null;
  /** Why slices may be missing (the transfer was cut off, some instances could not be stored), null when nothing says so. */
  incomplete: string | null;
  review: Review | null;
}

export interface SliceInfo {
  index: number;
  sopInstanceUid: string;
  /** Per-class probability of this slice. */
  probabilities: Record<string, number>;
  /**
   * The slice's weight in the study's probabilities, when the model gives each slice one (a study
   * model: attention weights, summing to 1 over the study); null for a slice model, whose study
   * probability takes each class's top slices.
   */
  weight: number | null;
}

export interface StudyDetail extends WorklistItem {
  classes: string[];
  thresholds: Record<string, number>;
  slicesInfo: SliceInfo[];
  modelName: string;
  /** How the study-level probabilities were computed from the slices, in words; null for a classification recorded before this was. */
  studyScore: string | null;
}

export interface ReviewRequest {
  decision: 'confirm' | 'correct';
  /** With 'correct': the class the radiologist says the study shows. */
  label?: string;
  reviewer: string;
  comment?: string;
}

export interface Review extends ReviewRequest {
  /** The label that training may use: the model's urgency when confirmed, `label` when corrected. */
  finalLabel: string;
  reviewedAt: string;
}

export interface UploadResult {
  stored: { file: string; studyInstanceUid: string; sopInstanceUid: string }[];
  rejected: { file: string; reason: string }[];
}

/** The body of a refusal: 400 bad request, 401 token missing or refused, 403 foreign page or host, 404, 409, 413 too large, 415. */
export interface ErrorBody {
  error: string;
}

export type ServiceEvent =
  { type: 'study-received'; item: WorklistItem } | { type: 'study-updated'; item: WorklistItem } | { type: 'study-flagged'; item: WorklistItem };
