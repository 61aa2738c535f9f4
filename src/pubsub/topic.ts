/**
 * One topic: its subscribers, and the batches its publishes of this tick are framed into, one per
 * frame variant (src/pubsub/topic-batch.ts): the plain frames, and the compressed ones of each deflate
 * profile that a subscriber negotiated (RFC 7692 section 7.1.1.1, src/pubsub/message-frames.ts).
 */
import type { WebSocket } from '../websocket';
import { TopicBatch } from './topic-batch';

export class Topic {
  readonly subscribers = new Set<WebSocket>();
  /** Made on the first publish that a subscriber takes uncompressed. */
  plain: TopicBatch | null = null;
  /** By deflate profile key; made on the first compressed publish. */
  compressed: Map<string, TopicBatch> | null = null;

  plainBatch(): TopicBatch {
    return (this.plain ??= new TopicBatch(this));
  }

  compressedBatch(profileKey: string): TopicBatch {
    const batches = (this.compressed ??= new Map());
    let batch = batches.get(profileKey);
    if (batch === undefined) {
      batch = new TopicBatch(this);
      batches.set(profileKey, batch);
    }
    return batch;
  }
}
