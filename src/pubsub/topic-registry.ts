/**
 * Topics and their subscribers. Each WebSocketServer has its own registry (wss.publish reaches the
 * connections it accepted); a WebSocket made some other way (a hand-made server calling setSocket)
 * uses the process-wide one. Each connection also keeps the set of its topics, so closing it
 * unsubscribes it in time proportional to its own topics, not to all topics.
 */
import type { WebSocket } from '../websocket';
import type { SendData } from '../protocol/sender';
import { PublishOptions, publishTo } from './publish-batch';
import { Topic } from './topic';
import { writeShare } from './topic-batch';

export class TopicRegistry {
  private readonly topics = new Map<string, Topic>();

  /** Returns false when `ws` was already subscribed. */
  subscribe(ws: WebSocket, topic: string): boolean {
    let entry = this.topics.get(topic);
    if (entry === undefined) {
      entry = new Topic();
      this.topics.set(topic, entry);
    } else if (entry.subscribers.has(ws)) {
      return false;
    }
    entry.subscribers.add(ws);
    (ws._topics ??= new Set()).add(topic);
    return true;
  }

  /** Returns false when `ws` was not subscribed. */
  unsubscribe(ws: WebSocket, topic: string): boolean {
    const entry = this.topics.get(topic);
    if (entry === undefined || !entry.subscribers.delete(ws)) return false;
    // What it took from this topic so far is its; what the topic's batch gets next is not.
    if (ws._shareBatch !== null && ws._shareBatch.topic === entry) writeShare(ws);
    if (entry.subscribers.size === 0) this.topics.delete(topic);
    (ws._topics as Set<string>).delete(topic);
    return true;
  }

  /** Called when the connection closes: its unwritten share is dropped with it. */
  unsubscribeAll(ws: WebSocket): void {
    const topics = ws._topics;
    if (topics === null) return;
    ws._topics = null;
    ws._shareBatch = null;
    for (const topic of topics) {
      const entry = this.topics.get(topic);
      if (entry === undefined) continue;
      entry.subscribers.delete(ws);
      if (entry.subscribers.size === 0) this.topics.delete(topic);
    }
  }

  numSubscribers(topic: string): number {
    return this.topics.get(topic)?.subscribers.size ?? 0;
  }

  /**
   * Frames `data` once and hands it to every subscriber of `topic` but `except` (see publish-batch.ts).
   * Returns whether anyone was subscribed.
   */
  publish(topic: string, data: SendData, options: PublishOptions | undefined, except: WebSocket | null): boolean {
    if (typeof topic !== 'string') throw new TypeError('The topic must be a string');
    return publishTo(this.topics.get(topic), data, options, except);
  }
}

/** The registry of WebSockets that no WebSocketServer made. */
export const processTopics = new TopicRegistry();

export function registryOf(ws: WebSocket): TopicRegistry {
  return ws._topicRegistry ?? processTopics;
}
