/** Binary search in a list sorted by UID: the index of `uid`, or -1. */
export function indexOfUid(list: ReadonlyArray<{ uid: number }>, uid: number): number {
  let lo = 0;
  let hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const at = list[mid]!.uid;
    if (at === uid) return mid;
    if (at < uid) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
