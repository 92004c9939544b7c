/**
 * A forward search asked from ever later positions, for scanners that must stay linear on
 * hostile text. Asked from a position at or before its last answer, it gives that answer
 * again without searching; after a miss, every later question misses too. So all the
 * searches of one scan together read the text once, however often they are asked.
 * Pure: the Markdown renderer (worker) and the email edge's HTML reader both use it.
 */
export function forwardSearch(search: (from: number) => number): (from: number) => number {
  let askedFrom = -1;
  let answer = -1;
  return (from) => {
    if (askedFrom >= 0 && from >= askedFrom && (answer < 0 || from <= answer)) return answer;
    askedFrom = from;
    answer = search(from);
    return answer;
  };
}
