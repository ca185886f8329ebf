// The median of the bench's samples (rounds, processes, timings): the middle one, or the mean of
// the two middle ones.
export function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
