import type { Channel, ConsumeMessage } from 'amqplib';

interface Entry {
  msg: ConsumeMessage;
  done: boolean;
}

/** The messages of one channel not acked yet, in delivery-tag order. */
interface Window {
  entries: Map<number, Entry>;
  /** Some entry is done and waits for the next flush. */
  dirty: boolean;
}

/**
 * Acks a channel's messages in as few frames as it can, never one it was not asked to: each
 * turn of the event loop, the run of finished messages at the head of the channel's unacked
 * window is acked by one `multiple` ack of the last of them, and finished messages behind an
 * unfinished one are acked one by one (so a slow message never holds the others' prefetch
 * slots). A message that is received and never finished (left for redelivery while stopping)
 * stays at the head: no multiple ack ever covers it.
 *
 * `received` must be called for every message, synchronously as it arrives (in delivery-tag
 * order), before `ack` of any later message.
 */
export class AckBatcher {
  private readonly windows = new Map<Channel, Window>();
  private scheduled = false;

  /** Registers a message as unacked on its channel. */
  received(channel: Channel, msg: ConsumeMessage): void {
    let window = this.windows.get(channel);
    if (!window) {
      window = { entries: new Map(), dirty: false };
      this.windows.set(channel, window);
      // a closed channel's unacked messages go back to the queue: forget them
      channel.once('close', () => this.windows.delete(channel));
    }
    window.entries.set(msg.fields.deliveryTag, { msg, done: false });
  }

  /** Acks the message in this turn's batch (it is finished: its outcome is stored). */
  ack(channel: Channel, msg: ConsumeMessage): void {
    const window = this.windows.get(channel);
    const entry = window?.entries.get(msg.fields.deliveryTag);
    if (!window || !entry) {
      channel.ack(msg); // not registered: ack it on its own
      return;
    }
    entry.done = true;
    window.dirty = true;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Settles the message otherwise now (nack, dead-letter): it leaves the window. */
  forget(channel: Channel, msg: ConsumeMessage): void {
    this.windows.get(channel)?.entries.delete(msg.fields.deliveryTag);
  }

  /** Messages registered and not acked yet, over all channels (tests, metrics). */
  get unacked(): number {
    let n = 0;
    for (const w of this.windows.values()) n += w.entries.size;
    return n;
  }

  /** Sends the acks waiting for this turn now (before closing the channel on stop). */
  flush(): void {
    this.scheduled = false;
    for (const [channel, window] of this.windows) {
      if (!window.dirty) continue;
      window.dirty = false;
      try {
        this.flushWindow(channel, window);
      } catch {
        // the channel is closing: the broker requeues what was not acked
        this.windows.delete(channel);
      }
    }
  }

  private flushWindow(channel: Channel, window: Window): void {
    const { entries } = window;
    let head: Entry | undefined;
    let count = 0;
    for (const [tag, entry] of entries) {
      if (!entry.done) break;
      head = entry;
      count += 1;
      entries.delete(tag);
    }
    if (head) channel.ack(head.msg, count > 1);
    for (const [tag, entry] of entries) {
      if (!entry.done) continue;
      channel.ack(entry.msg);
      entries.delete(tag);
    }
  }
}
