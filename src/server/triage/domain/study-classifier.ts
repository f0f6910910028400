/**
 * Classifying one study: its slices (in slice order) through the inference worker, the study-level
 * probabilities (the exported model's prediction of the study), the urgency decision, then one transaction recording it all,
 * and the events that tell the worklist and the webhook.
 */
import type { EventBus } from './event-bus.js';
import type { InferenceClient } from './inference-client.js';
import type { ObjectStore } from './object-store.js';
import type { TriageStore } from './store.js';
import { decideUrgency, probabilityRecord } from './urgency.js';
import { worklistItem, type ServedModel } from './worklist.js';

export class StudyClassifier {
  constructor(
    private readonly store: TriageStore,
    private readonly objects: ObjectStore,
    private readonly inference: InferenceClient,
    private readonly model: ServedModel,
    private readonly bus: EventBus,
  ) {}

  /** Classifies `studyUid`; failures are recorded on the study (status 'error') and audited, not thrown. */
  async classify(studyUid: string): Promise<void> {
    const instances = this.store.instancesOf(studyUid);
    if (instances.length === 0) return;
    this.store.markClassifying(studyUid);
    this.#publish('study-updated', studyUid);
    try {
      const { slices: outcomes, study } = await this.inference.classify(instances.map((instance) => this.objects.absolutePath(instance.objectPath)));
      const slices = instances.flatMap((instance, i) => {
        const outcome = outcomes[i];
        return 'probabilities' in outcome ? [{ sopUid: instance.sopUid, row: outcome.probabilities, weight: outcome.weight ?? null }] : [];
      });
      const failures = outcomes.flatMap((outcome, i) => ('error' in outcome ? [`slice ${i}: ${outcome.error}`] : []));
      if (failures.length)
        this.store.audit('classification-failed', 'classifier', `${failures.length} of ${outcomes.length} slices skipped: ${failures.slice(0, 3).join('; ')}`, {
          studyUid,
        });
      const { classes, policy } = this.model;
      const probabilities = probabilityRecord(classes, study);
      const { urgency, flagged } = decideUrgency(policy, probabilities);
      const { newlyFlagged } = this.store.recordClassification({
        studyUid,
        instanceCount: instances.length,
        probabilities,
        slices: slices.map((s) => ({ sopUid: s.sopUid, probabilities: probabilityRecord(classes, s.row), weight: s.weight })),
        urgency,
        flagged,
        model: this.model.name,
        method: this.model.studyScore,
        classifiedAt: new Date().toISOString(),
      });
      this.#publish('study-updated', studyUid);
      if (newlyFlagged) this.#publish('study-flagged', studyUid);
    } catch (error) {
      this.store.recordClassificationError(studyUid, (error as Error).message);
      this.#publish('study-updated', studyUid);
    }
  }

  #publish(type: 'study-updated' | 'study-flagged', studyUid: string): void {
    const study = this.store.study(studyUid);
    if (study) this.bus.publish({ type, item: worklistItem(this.store, study) });
  }
}
