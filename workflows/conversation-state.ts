import type { IncomingMessage } from '../core/conversation.ts';

/** A message waiting for its turn. */
export interface QueuedMessage {
  message: IncomingMessage;
  turn: number;
}

/** The newest `limit` message ids and the turn each landed in: dedupe that survives continue-as-new. */
export class RecentMessageIds {
  private readonly turns = new Map<string, number>();
  private readonly limit: number;

  constructor(entries: Iterable<[string, number]>, limit: number) {
    this.limit = limit;
    for (const [id, turn] of entries) this.add(id, turn);
  }

  turnOf(id: string): number | undefined {
    return this.turns.get(id);
  }

  add(id: string, turn: number): void {
    this.turns.delete(id);
    this.turns.set(id, turn);
    // A Map iterates in insertion order: the first key is the oldest.
    while (this.turns.size > this.limit) this.turns.delete(this.turns.keys().next().value!);
  }

  entries(): [string, number][] {
    return [...this.turns];
  }
}

/** A set that forgets its oldest members past `limit`. */
export class BoundedSet {
  private readonly members = new Set<string>();
  private readonly limit: number;

  constructor(values: Iterable<string>, limit: number) {
    this.limit = limit;
    for (const value of values) this.add(value);
  }

  has(value: string): boolean {
    return this.members.has(value);
  }

  add(value: string): void {
    this.members.delete(value);
    this.members.add(value);
    while (this.members.size > this.limit) this.members.delete(this.members.values().next().value!);
  }

  values(): string[] {
    return [...this.members];
  }
}
