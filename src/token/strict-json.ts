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
 * The same answer as findStrictJsonProblem, for text JSON.parse turned into `value`, cheaper when there is
 * nothing to find. Every member name in the text ends with a quote, optional whitespace and a colon; any
 * other colon that follows a quote is inside a string (after its opening quote, as in ":", or after an
 * escaped quote). So counting colons that follow a quote gives at least as many as the text has member names, and the parsed value holds at
 * most that many (a duplicate collapses into one). When the count equals the parsed value's members and
 * the value nests no deeper than allowed, there is no duplicate and nothing too deep; any other count is
 * settled by the full scan.
 */
export function strictJsonProblemOf(text: string, value: unknown, maxDepth = MAX_JSON_DEPTH): StrictJsonProblem | null {
  const members = countMembers(value, 1, maxDepth);
  if (members >= 0 && members === countColonsAfterQuote(text)) return null;
  return findStrictJsonProblem(text, maxDepth);
}

/** Members of every object in `value`, or -1 when a container sits deeper than maxDepth. */
function countMembers(value: unknown, depth: number, maxDepth: number): number {
  if (typeof value !== 'object' || value === null) return 0;
  if (depth > maxDepth) return -1;
  const items = Array.isArray(value) ? (value as unknown[]) : Object.values(value);
  let count = Array.isArray(value) ? 0 : items.length;
  for (const item of items) {
    if (typeof item !== 'object' || item === null) continue;
    const inner = countMembers(item, depth + 1, maxDepth);
    if (inner < 0) return -1;
    count += inner;
  }
  return count;
}

function countColonsAfterQuote(text: string): number {
  let count = 0;
  for (let at = text.indexOf(':'); at !== -1; at = text.indexOf(':', at + 1)) {
    let before = at - 1;
    while (before >= 0 && isJsonWhitespace(text.charCodeAt(before))) before--;
    if (before >= 0 && text.charCodeAt(before) === QUOTE) count++;
  }
  return count;
}

const isJsonWhitespace = (code: number) => code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;

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
