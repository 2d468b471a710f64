/** Finding commands by what was typed: names, aliases, and the closest one to a typo. */
import type { Command, CommandTable } from './command.js';

/** The lookups over a list of commands. */
export function commandTable(all: readonly Command[]): CommandTable {
  const byName: ReadonlyMap<string, Command> = new Map(
    all.flatMap((command) => [command.name, ...command.aliases].map((n) => [n, command])),
  );
  const words = [...byName.keys()].sort();
  return {
    all,
    find: (word) => byName.get((word.startsWith('/') ? word.slice(1) : word).toLowerCase()),
    suggest: (typed) => closestWord(words, typed),
  };
}

/**
 * The word of `words` (sorted, without `/`) closest to `typed`, or undefined when nothing
 * is close: a word that starts with it, else the smallest edit distance (a swap of two
 * neighbours counts once) within 1 for words up to 4 letters and 2 beyond.
 */
function closestWord(words: readonly string[], typed: string): string | undefined {
  const word = (typed.startsWith('/') ? typed.slice(1) : typed).toLowerCase().slice(0, 32);
  if (word === '') return undefined;
  const prefixed = words.find((candidate) => candidate.startsWith(word));
  if (prefixed) return prefixed;
  const limit = word.length <= 4 ? 1 : 2;
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of words) {
    const distance = editDistance(word, candidate);
    if (distance < bestDistance && distance < word.length) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array(rows * cols).fill(0);
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(
        d[(i - 1) * cols + j]! + 1,
        d[i * cols + j - 1]! + 1,
        d[(i - 1) * cols + j - 1]! + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        value = Math.min(value, d[(i - 2) * cols + j - 2]! + 1);
      }
      d[i * cols + j] = value;
    }
  }
  return d[rows * cols - 1]!;
}
