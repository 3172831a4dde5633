/**
 * What JSON.parse does not refuse: duplicate member names (it keeps the last, another parser may keep the
 * first, so two readers of one token would see two different claim sets) and unbounded nesting. This scans
 * text that JSON.parse has already accepted, so it only has to tell keys from values and count brackets.
 * Linear in the text, no recursion, one Set per open object.
 */
import { MAX_JSON_DEPTH } from '../config/constants.ts';

export type StrictJsonProblem = 'duplicate member name' | 'nested too deeply';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** True when the character at `at` follows an odd number of backslashes. */
function isEscaped(text: string, at: number): boolean {
  let count = 0;
  for (let j = at - 1; j >= 0 && text.charCodeAt(j) === BACKSLASH; j--) count++;
  return count % 2 === 1;
}
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;

/**
 * null when `text` (valid JSON) has no duplicate member name in any object and nests at most MAX_JSON_DEPTH
 * containers deep. Names are compared after unescaping, so "a" and "\u0061" are the same name.
 */
export function findStrictJsonProblem(text: string, maxDepth = MAX_JSON_DEPTH): StrictJsonProblem | null {
  // One entry per open container: a Set of member names for an object, null for an array.
  const stack: (Set<string> | null)[] = [];
  // True right after '{' or ',' inside an object: the next string is a member name.
  let expectingName = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === QUOTE) {
      // Jump to the closing quote natively: the first quote not preceded by an odd run of backslashes.
      const start = i;
      let end = text.indexOf('"', i + 1);
      while (end !== -1 && isEscaped(text, end)) end = text.indexOf('"', end + 1);
      if (end === -1) return null; // unreachable for text JSON.parse accepted
      i = end;
      if (expectingName) {
        const raw = text.slice(start, end + 1);
        const name = raw.includes('\\') ? (JSON.parse(raw) as string) : raw.slice(1, -1);
        const names = stack.at(-1)!;
        if (names.has(name)) return 'duplicate member name';
        names.add(name);
        expectingName = false;
      }
    } else if (code === OPEN_OBJECT || code === OPEN_ARRAY) {
      if (stack.length >= maxDepth) return 'nested too deeply';
      const isObject = code === OPEN_OBJECT;
      stack.push(isObject ? new Set() : null);
      expectingName = isObject;
    } else if (code === CLOSE_OBJECT || code === CLOSE_ARRAY) {
      stack.pop();
      expectingName = false;
    } else if (code === COMMA) {
      expectingName = stack.at(-1) != null;
    }
  }
  return null;
}
