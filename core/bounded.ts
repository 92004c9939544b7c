/**
 * Collections that keep only their newest members, so a workflow's state (and what it
 * carries across continue-as-new) stays bounded however long it lives. Pure module:
 * workflows import it, and so do worker-side records and caches.
 */

/** Appends `item`, then drops items from the front past `limit`; returns how many were dropped. */
export function pushBounded<T>(items: T[], item: T, limit: number): number {
  items.push(item);
  const dropped = Math.max(0, items.length - limit);
  if (dropped > 0) items.splice(0, dropped);
  return dropped;
}

/** Sets `key` as the newest entry (moving it if present), then forgets the oldest past `limit`. */
export function setNewest<K, V>(map: Map<K, V>, key: K, value: V, limit = Number.POSITIVE_INFINITY): void {
  map.delete(key);
  map.set(key, value);
  evictOldest(map, limit);
}

/** Adds `value` as the newest member (moving it if present), then forgets the oldest past `limit`. */
export function addNewest<T>(set: Set<T>, value: T, limit: number): void {
  set.delete(value);
  set.add(value);
  evictOldest(set, limit);
}

function evictOldest(collection: Map<unknown, unknown> | Set<unknown>, limit: number): void {
  // Maps and Sets iterate in insertion order: the first key is the oldest.
  for (const key of collection.keys()) {
    if (collection.size <= limit) return;
    collection.delete(key);
  }
}
