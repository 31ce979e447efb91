/** Sets a key as the newest entry of a Map, forgetting the oldest beyond the limit. */
export function rememberBounded<V>(
  map: Map<string, V>,
  key: string,
  value: V,
  limit: number,
): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > limit) {
    const oldest = map.keys().next();
    if (oldest.done !== true) map.delete(oldest.value);
  }
}
