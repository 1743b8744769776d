// Counts and lists in the words the user reads, shared by the engine and the renderer: "1 segment",
// "2 segments", "frame 20", "frames 20 and 40". One place, so no message says "1 segments".

/** A count with its noun, plural unless it is one: count(1, 'segment') = "1 segment"; `many` for irregular plurals. */
export function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The noun alone, plural unless `n` is one: noun(2, 'keyframe') = "keyframes". */
export function noun(n: number, one: string, many = `${one}s`): string {
  return n === 1 ? one : many;
}

/** Items joined as a sentence lists them: "20", "20 and 40", "20, 40 and 60". */
export function listed(items: Array<string | number>): string {
  const words = items.map(String);
  return words.length <= 1 ? (words[0] ?? '') : `${words.slice(0, -1).join(', ')} and ${words.at(-1)}`;
}
