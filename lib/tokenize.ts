/**
 * Word tokenizer that reproduces the tokenizer of spaCy 3.8's `spacy.blank('en')` in plain TypeScript.
 *
 * spaCy cuts text at whitespace into chunks. A chunk that is a tokenizer exception (such as "don't") gets the
 * exception's tokens. Otherwise spaCy strips prefixes and suffixes from both ends in a loop, keeps a
 * remaining URL whole, and cuts the rest at infixes. A final pass merges token runs that spell an exception
 * containing punctuation, such as ":D" split by the infix rules. The rule data lives in ./tokenize-rules,
 * exported from spaCy by bench/tokenizer-agreement/export_rules.py.
 *
 * Positions are UTF-16 offsets, but every step moves by whole code points, as spaCy (which indexes Python
 * strings by code point) does. All work is linear in the input length: each step either consumes the
 * characters it reads or looks at a few characters around it, and each remainder gets one URL check.
 */
import {
  CHAR_RANGES,
  CURRENCY_SUFFIXES,
  HYPHEN_INFIXES,
  PREFIX_LITERALS,
  SUFFIX_LITERALS,
  TOKENIZER_EXCEPTIONS,
  UNIT_SUFFIXES,
} from './tokenize-rules';

// ---------------------------------------------------------------------------------------------------------
// Character classes: one bit per class, in a table for the BMP and sorted segments for astral code points.

const SPACE = 1 << 0;
const ALPHA = 1 << 1;
const ALPHA_LOWER = 1 << 2;
const ALPHA_UPPER = 1 << 3;
const ICON = 1 << 4;
const QUOTE = 1 << 5;
const DOT_SUFFIX_AFTER = 1 << 6;
const WORD = 1 << 7;
const DIGIT = 1 << 8;
/** Letter or number (`\p{L}` or `\p{N}`): the test a token must pass to be kept by tokenizeWords. */
const LETTER_OR_NUMBER = 1 << 9;
/** First UTF-16 unit of a prefix literal. */
const PREFIX_START = 1 << 10;
/** Last UTF-16 unit of a suffix literal, currency symbol or unit. */
const SUFFIX_END = 1 << 11;

const RANGE_FLAGS: ReadonlyArray<readonly [string, number]> = [
  [CHAR_RANGES.space, SPACE],
  [CHAR_RANGES.alpha, ALPHA],
  [CHAR_RANGES.alphaLower, ALPHA_LOWER],
  [CHAR_RANGES.alphaUpper, ALPHA_UPPER],
  [CHAR_RANGES.icon, ICON],
  [CHAR_RANGES.quote, QUOTE],
  [CHAR_RANGES.dotSuffixAfter, DOT_SUFFIX_AFTER],
  [CHAR_RANGES.word, WORD],
  [CHAR_RANGES.digit, DIGIT],
];

const LETTER_OR_NUMBER_PATTERN = /[\p{L}\p{N}]/u;

interface AstralSegment {
  readonly first: number;
  readonly last: number;
  readonly flags: number;
}

function parseRanges(spec: string): Array<[number, number]> {
  return spec.split(' ').map((part): [number, number] => {
    const [first, last] = part.split('-');
    const start = parseInt(first ?? '', 16);
    return [start, last === undefined ? start : parseInt(last, 16)];
  });
}

function buildBmpFlags(): Uint16Array {
  const table = new Uint16Array(0x10000);
  for (const [spec, flag] of RANGE_FLAGS) {
    for (const [first, last] of parseRanges(spec)) {
      for (let cp = first; cp <= Math.min(last, 0xffff); cp++) table[cp] = table[cp]! | flag;
    }
  }
  for (let cp = 0; cp < 0x10000; cp++) {
    if (LETTER_OR_NUMBER_PATTERN.test(String.fromCharCode(cp))) table[cp] = table[cp]! | LETTER_OR_NUMBER;
  }
  for (const literal of PREFIX_LITERALS) {
    const unit = literal.charCodeAt(0);
    table[unit] = table[unit]! | PREFIX_START;
  }
  for (const literal of [...SUFFIX_LITERALS, ...CURRENCY_SUFFIXES, ...UNIT_SUFFIXES]) {
    const unit = literal.charCodeAt(literal.length - 1);
    table[unit] = table[unit]! | SUFFIX_END;
  }
  return table;
}

/** Splits the astral parts of all ranges into disjoint segments, each with the union of its classes. */
function buildAstralSegments(): AstralSegment[] {
  const edges = new Set<number>();
  const ranges: Array<[number, number, number]> = [];
  for (const [spec, flag] of RANGE_FLAGS) {
    for (const [first, last] of parseRanges(spec)) {
      if (last < 0x10000) continue;
      const start = Math.max(first, 0x10000);
      ranges.push([start, last, flag]);
      edges.add(start);
      edges.add(last + 1);
    }
  }
  const sorted = [...edges].sort((a, b) => a - b);
  const segments: AstralSegment[] = [];
  for (let i = 0; i + 1 < sorted.length; i++) {
    const first = sorted[i]!;
    const last = sorted[i + 1]! - 1;
    let flags = 0;
    for (const [start, end, flag] of ranges) if (start <= first && last <= end) flags |= flag;
    if (flags !== 0) segments.push({ first, last, flags });
  }
  return segments;
}

const BMP_FLAGS = buildBmpFlags();
const ASTRAL_SEGMENTS = buildAstralSegments();

/** Returns the class flags of a code point above U+FFFF, without LETTER_OR_NUMBER. */
function astralFlags(cp: number): number {
  let lo = 0;
  let hi = ASTRAL_SEGMENTS.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const segment = ASTRAL_SEGMENTS[mid]!;
    if (cp < segment.first) hi = mid - 1;
    else if (cp > segment.last) lo = mid + 1;
    else return segment.flags;
  }
  return 0;
}

/** Returns the class flags of a code point. Above U+FFFF the LETTER_OR_NUMBER flag is never set. */
function flagsOf(cp: number): number {
  return cp < 0x10000 ? BMP_FLAGS[cp]! : astralFlags(cp);
}

/** Returns the code point that starts at `i`, reading no unit at or past `end`. */
function codePointAt(text: string, i: number, end: number): number {
  const unit = text.charCodeAt(i);
  if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < end) {
    const next = text.charCodeAt(i + 1);
    if (next >= 0xdc00 && next <= 0xdfff) return (unit - 0xd800) * 0x400 + (next - 0xdc00) + 0x10000;
  }
  return unit;
}

/** Returns the code point that ends just before `i`, reading no unit before `start`. */
function codePointBefore(text: string, i: number, start: number): number {
  const unit = text.charCodeAt(i - 1);
  if (unit >= 0xdc00 && unit <= 0xdfff && i - 2 >= start) {
    const previous = text.charCodeAt(i - 2);
    if (previous >= 0xd800 && previous <= 0xdbff) {
      return (previous - 0xd800) * 0x400 + (unit - 0xdc00) + 0x10000;
    }
  }
  return unit;
}

function unitWidth(cp: number): number {
  return cp > 0xffff ? 2 : 1;
}

function isAsciiDigit(unit: number): boolean {
  return unit >= 0x30 && unit <= 0x39;
}

function isAsciiLetter(unit: number): boolean {
  return (unit >= 0x61 && unit <= 0x7a) || (unit >= 0x41 && unit <= 0x5a);
}

/** Returns whether text[start, end) contains a letter or a number, the filter tokenizeWords applies. */
function containsLetterOrNumber(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0xd800 || unit > 0xdfff) {
      if ((BMP_FLAGS[unit]! & LETTER_OR_NUMBER) !== 0) return true;
      continue;
    }
    const cp = codePointAt(text, i, end);
    if (cp > 0xffff) {
      if (LETTER_OR_NUMBER_PATTERN.test(String.fromCodePoint(cp))) return true;
      i++;
    }
  }
  return false;
}

/** Returns whether `token` contains at least one Unicode letter or number (`\p{L}` or `\p{N}`). */
export function hasLetterOrDigit(token: string): boolean {
  return containsLetterOrNumber(token, 0, token.length);
}

// ---------------------------------------------------------------------------------------------------------
// Rule tables.

const EXCEPTIONS = new Map<string, readonly string[]>();
let maxExceptionLength = 0;
for (const tokens of TOKENIZER_EXCEPTIONS) {
  const key = tokens.join('');
  EXCEPTIONS.set(key, tokens);
  maxExceptionLength = Math.max(maxExceptionLength, key.length);
}

function groupBy(literals: readonly string[], unitOf: (literal: string) => number): Map<number, string[]> {
  const groups = new Map<number, string[]>();
  for (const literal of literals) {
    const unit = unitOf(literal);
    const group = groups.get(unit);
    if (group === undefined) groups.set(unit, [literal]);
    else if (!group.includes(literal)) group.push(literal);
  }
  return groups;
}

/** Prefix literals by first UTF-16 unit, each list in spaCy's order because the first match wins. */
const PREFIXES_BY_FIRST_UNIT = groupBy(PREFIX_LITERALS, (literal) => literal.charCodeAt(0));
const lastUnit = (literal: string): number => literal.charCodeAt(literal.length - 1);
const SUFFIXES_BY_LAST_UNIT = groupBy(SUFFIX_LITERALS, lastUnit);
/** Currency symbols and units, which spaCy splits off only right after an ASCII digit. */
const DIGIT_SUFFIXES_BY_LAST_UNIT = groupBy([...CURRENCY_SUFFIXES, ...UNIT_SUFFIXES], lastUnit);

/** Local copy, because the module binding of an import is read through a getter on every access. */
const HYPHENS: readonly string[] = [...HYPHEN_INFIXES];

const DOT = 0x2e;
const PLUS = 0x2b;
const HYPHEN_MINUS = 0x2d;
const DEGREE = 0xb0;
const ELLIPSIS = 0x2026;
const AT = 0x40;
const COLON = 0x3a;

function isException(text: string, start: number, end: number): boolean {
  return end - start <= maxExceptionLength && EXCEPTIONS.has(text.slice(start, end));
}

function dotRunEnd(text: string, start: number, end: number): number {
  let i = start;
  while (i < end && text.charCodeAt(i) === DOT) i++;
  return i;
}

// ---------------------------------------------------------------------------------------------------------
// Affix rules. Each function reads only text[start, end), because spaCy runs its regexes on the sliced
// remainder of the chunk, so lookbehinds never see characters already split off.

/** Returns the length of the prefix spaCy would split off text[start, end), or 0. */
function findPrefix(text: string, start: number, end: number): number {
  const unit = text.charCodeAt(start);
  if (unit === DOT) {
    // `\.\.+`: a run of two or more dots.
    const runEnd = dotRunEnd(text, start, end);
    return runEnd - start >= 2 ? runEnd - start : 0;
  }
  if (unit === PLUS) {
    // `\+(?![0-9])`: a plus sign that does not start a number.
    return start + 1 < end && isAsciiDigit(text.charCodeAt(start + 1)) ? 0 : 1;
  }
  if ((BMP_FLAGS[unit]! & PREFIX_START) !== 0) {
    for (const literal of PREFIXES_BY_FIRST_UNIT.get(unit) ?? []) {
      if (start + literal.length <= end && text.startsWith(literal, start)) return literal.length;
    }
  }
  const cp = codePointAt(text, start, end);
  return (flagsOf(cp) & ICON) !== 0 ? unitWidth(cp) : 0;
}

/**
 * Returns the length of the suffix spaCy would split off text[start, end), or 0. spaCy searches its
 * suffix regex from the left, so of all the rules that match up to the end, the longest match wins.
 */
function findSuffix(text: string, start: number, end: number): number {
  if (end <= start) return 0;
  let best = 0;
  const last = text.charCodeAt(end - 1);
  const lastCp = codePointBefore(text, end, start);
  if ((flagsOf(lastCp) & ICON) !== 0) best = unitWidth(lastCp);
  if ((BMP_FLAGS[last]! & SUFFIX_END) !== 0) {
    for (const literal of SUFFIXES_BY_LAST_UNIT.get(last) ?? []) {
      const from = end - literal.length;
      if (literal.length > best && from >= start && text.startsWith(literal, from)) best = literal.length;
    }
    for (const literal of DIGIT_SUFFIXES_BY_LAST_UNIT.get(last) ?? []) {
      const from = end - literal.length;
      if (
        literal.length > best &&
        from - 1 >= start &&
        isAsciiDigit(text.charCodeAt(from - 1)) &&
        text.startsWith(literal, from)
      ) {
        best = literal.length;
      }
    }
  }
  if (last === DOT) {
    let runStart = end - 1;
    while (runStart > start && text.charCodeAt(runStart - 1) === DOT) runStart--;
    if (end - runStart >= 2) best = Math.max(best, end - runStart);
    if (best === 0 && end - 1 > start && dotEndsSuffix(text, start, end - 1)) best = 1;
  }
  if (last === PLUS && best === 0 && end - 2 >= start && isAsciiDigit(text.charCodeAt(end - 2))) best = 1;
  return best;
}

/** Returns whether the characters before a final '.' at `dot` let spaCy split that '.' off by itself. */
function dotEndsSuffix(text: string, start: number, dot: number): boolean {
  const previous = codePointBefore(text, dot, start);
  const previousFlags = flagsOf(previous);
  if ((previousFlags & DOT_SUFFIX_AFTER) !== 0) return true;
  const beforeStart = dot - unitWidth(previous);
  if (beforeStart <= start) return false;
  const before = codePointBefore(text, beforeStart, start);
  // `(?<=[ALPHA_UPPER][ALPHA_UPPER])\.`, as in "USA."
  if ((previousFlags & ALPHA_UPPER) !== 0 && (flagsOf(before) & ALPHA_UPPER) !== 0) return true;
  // `(?<=°[FfCcKk])\.`, as in "20°C."
  return before === DEGREE && 'FfCcKk'.includes(String.fromCharCode(previous));
}

/**
 * Returns the end of the infix that starts at `at` inside text[start, end), or -1. The checks run in the
 * order of spaCy's English infix alternatives, because at one position the first alternative that matches
 * wins.
 */
function infixEnd(text: string, at: number, start: number, end: number): number {
  const unit = text.charCodeAt(at);
  const hasPrevious = at > start;
  const hasNext = at + 1 < end;

  if (unit === DOT && hasNext && text.charCodeAt(at + 1) === DOT) return dotRunEnd(text, at, end);
  if (unit === ELLIPSIS) return at + 1;
  if (unit >= 0x80) {
    const cp = codePointAt(text, at, end);
    if ((flagsOf(cp) & ICON) !== 0) return at + unitWidth(cp);
  }

  const previous = hasPrevious ? codePointBefore(text, at, start) : -1;
  const next = hasNext ? codePointAt(text, at + 1, end) : -1;
  // `(?<=[0-9])[+\-\*^](?=[0-9-])`: arithmetic between digits, as in "2+2" or "10-20".
  if (
    (unit === PLUS || unit === HYPHEN_MINUS || unit === 0x2a || unit === 0x5e) &&
    isAsciiDigit(previous) &&
    (isAsciiDigit(next) || next === HYPHEN_MINUS)
  ) {
    return at + 1;
  }
  if (previous < 0) return -1;

  const previousFlags = flagsOf(previous);
  if (unit === DOT) {
    // `(?<=[ALPHA_LOWER QUOTES])\.(?=[ALPHA_UPPER QUOTES])`: a missing space after a sentence, as in "end.Next".
    const nextFlags = next < 0 ? 0 : flagsOf(next);
    return (previousFlags & (ALPHA_LOWER | QUOTE)) !== 0 && (nextFlags & (ALPHA_UPPER | QUOTE)) !== 0
      ? at + 1
      : -1;
  }
  if (unit === 0x2c) {
    // `(?<=[ALPHA]),(?=[ALPHA])`
    return (previousFlags & ALPHA) !== 0 && next >= 0 && (flagsOf(next) & ALPHA) !== 0 ? at + 1 : -1;
  }
  if ((previousFlags & ALPHA) === 0 && !isAsciiDigit(previous)) return -1;

  // `(?<=[ALPHA 0-9])(?:-|–|—|--|---|——|~)(?=[ALPHA])`, trying the hyphens in spaCy's order.
  for (const hyphen of HYPHENS) {
    const after = at + hyphen.length;
    if (
      after < end &&
      text.startsWith(hyphen, at) &&
      (flagsOf(codePointAt(text, after, end)) & ALPHA) !== 0
    ) {
      return after;
    }
  }
  // `(?<=[ALPHA 0-9])[:<>=/](?=[ALPHA])`, as in "and/or".
  if ((unit === COLON || unit === 0x3c || unit === 0x3e || unit === 0x3d || unit === 0x2f) && next >= 0) {
    return (flagsOf(next) & ALPHA) !== 0 ? at + 1 : -1;
  }
  return -1;
}

// ---------------------------------------------------------------------------------------------------------
// URLs: a linear-time equivalent of spaCy's URL_MATCH regex, which the tokenizer applies after affixes are
// stripped and which keeps a matching string whole. The regex has the shape
//   ^ (scheme://)? (userinfo@)? (IPv4 | (label.)+ tld) (:port)? ([/?#] anything)? $
// and a chunk has no whitespace, so its `\S` parts match any character. The host cannot contain ':', '/',
// '?', '#' or '@', so once the host start is fixed, the host runs to the next of those characters. The
// possible host starts are the chunk start, the end of a scheme, and the character after an '@'.

const IPV4_FIRST_OCTET = /^(?:[1-9]\p{Nd}?|1\p{Nd}\p{Nd}|2[01]\p{Nd}|22[0-3])$/u;
const IPV4_MIDDLE_OCTET = /^(?:1?\p{Nd}{1,2}|2[0-4]\p{Nd}|25[0-5])$/u;
const IPV4_LAST_OCTET = /^(?:[1-9]\p{Nd}?|1\p{Nd}\p{Nd}|2[0-4]\p{Nd}|25[0-4])$/u;

function endsHost(unit: number): boolean {
  return unit === COLON || unit === 0x2f || unit === 0x3f || unit === 0x23;
}

function startsPath(unit: number): boolean {
  return unit === 0x2f || unit === 0x3f || unit === 0x23;
}

/** Returns whether text[start, end) matches spaCy's URL_MATCH. */
export function isUrl(text: string, start = 0, end = text.length): boolean {
  let hasDot = false;
  for (let i = start; i < end && !hasDot; i++) hasDot = text.charCodeAt(i) === DOT;
  if (!hasDot) return false;
  if (urlFromHost(text, start, end)) return true;
  const afterScheme = schemeEnd(text, start, end);
  if (afterScheme > 0 && urlFromHost(text, afterScheme, end)) return true;
  // A host after userinfo: the last '@' before the host-ending character, with text before it.
  let lastAt = -1;
  for (let i = start; i <= end; i++) {
    const unit = i < end ? text.charCodeAt(i) : -1;
    if (unit === AT) {
      lastAt = i;
    } else if (unit === -1 || endsHost(unit)) {
      if (lastAt > start && hostAndTailMatch(text, lastAt + 1, i, end)) return true;
      lastAt = -1;
    }
  }
  return false;
}

/** Returns the end of a leading `[\w+\-.]{2,}://`, or 0 when there is none. */
function schemeEnd(text: string, start: number, end: number): number {
  let i = start;
  let schemeLength = 0;
  while (i < end) {
    const cp = codePointAt(text, i, end);
    if (cp !== PLUS && cp !== HYPHEN_MINUS && cp !== DOT && (flagsOf(cp) & WORD) === 0) break;
    schemeLength++;
    i += unitWidth(cp);
  }
  if (schemeLength < 2 || i + 3 > end || !text.startsWith('://', i)) return 0;
  return i + 3;
}

function urlFromHost(text: string, hostStart: number, end: number): boolean {
  let hostEnd = hostStart;
  while (hostEnd < end && !endsHost(text.charCodeAt(hostEnd))) hostEnd++;
  return hostAndTailMatch(text, hostStart, hostEnd, end);
}

function hostAndTailMatch(text: string, hostStart: number, hostEnd: number, end: number): boolean {
  if (!isDomainName(text, hostStart, hostEnd) && !isPublicIpv4(text, hostStart, hostEnd, end)) return false;
  if (hostEnd === end) return true;
  const unit = text.charCodeAt(hostEnd);
  if (startsPath(unit)) return true;
  // `:\d{2,5}` then the end or a path.
  let i = hostEnd + 1;
  let digits = 0;
  while (i < end && digits <= 5) {
    const cp = codePointAt(text, i, end);
    if ((flagsOf(cp) & DIGIT) === 0) break;
    digits++;
    i += unitWidth(cp);
  }
  return digits >= 2 && digits <= 5 && (i === end || startsPath(text.charCodeAt(i)));
}

/**
 * Returns whether text[start, end) is a host name as URL_MATCH defines it:
 * `(?:(?:[D][D_-]{0,62})?[D]\.)+[ALPHA_LOWER]{2,63}` with D = `[A-Za-z0-9\u00a1-\uffff]`.
 */
function isDomainName(text: string, start: number, end: number): boolean {
  let lastDot = -1;
  for (let i = end - 1; i >= start; i--) {
    if (text.charCodeAt(i) === DOT) {
      lastDot = i;
      break;
    }
  }
  if (lastDot <= start) return false;
  let tldLength = 0;
  for (let i = lastDot + 1; i < end;) {
    const cp = codePointAt(text, i, end);
    if ((flagsOf(cp) & ALPHA_LOWER) === 0) return false;
    tldLength++;
    i += unitWidth(cp);
  }
  if (tldLength < 2 || tldLength > 63) return false;
  let labelStart = start;
  for (let i = start; i <= lastDot; i++) {
    if (text.charCodeAt(i) !== DOT) continue;
    const length = i - labelStart;
    if (length < 1 || length > 64) return false;
    if (!isHostChar(text.charCodeAt(labelStart)) || !isHostChar(text.charCodeAt(i - 1))) return false;
    for (let j = labelStart + 1; j < i - 1; j++) {
      const unit = text.charCodeAt(j);
      if (!isHostChar(unit) && unit !== 0x5f && unit !== HYPHEN_MINUS) return false;
    }
    labelStart = i + 1;
  }
  return true;
}

/**
 * Returns whether a UTF-16 unit is in `[A-Za-z0-9\u00a1-\uffff]`. A surrogate belongs to a code point above
 * U+FFFF, which the class excludes, so surrogates are rejected.
 */
function isHostChar(unit: number): boolean {
  if (unit >= 0xa1) return unit < 0xd800 || unit > 0xdfff;
  return isAsciiDigit(unit) || isAsciiLetter(unit);
}

/** Returns whether text[start, end) is a dotted quad that the IPv4 branch of URL_MATCH accepts. */
function isPublicIpv4(text: string, start: number, end: number, limit: number): boolean {
  if (end - start > 32 || isPrivateIpv4Prefix(text, start, limit)) return false;
  const octets = text.slice(start, end).split('.');
  if (octets.length !== 4) return false;
  return (
    IPV4_FIRST_OCTET.test(octets[0]!) &&
    IPV4_MIDDLE_OCTET.test(octets[1]!) &&
    IPV4_MIDDLE_OCTET.test(octets[2]!) &&
    IPV4_LAST_OCTET.test(octets[3]!)
  );
}

/**
 * Returns whether the text at `start` begins with an address that URL_MATCH's negative lookaheads exclude:
 * 10/8, 127/8, 169.254/16, 192.168/16 or 172.16/12.
 */
function isPrivateIpv4Prefix(text: string, start: number, limit: number): boolean {
  if (text.startsWith('10', start) && dottedGroupsFollow(text, start + 2, limit, 3)) return true;
  if (text.startsWith('127', start) && dottedGroupsFollow(text, start + 3, limit, 3)) return true;
  if (text.startsWith('169.254', start) || text.startsWith('192.168', start)) {
    if (dottedGroupsFollow(text, start + 7, limit, 2)) return true;
  }
  if (!text.startsWith('172.', start)) return false;
  // `(?:1[6-9]|2\d|3[0-1])`
  const first = text.charCodeAt(start + 4);
  if (start + 5 >= limit) return false;
  const second = codePointAt(text, start + 5, limit);
  const secondOk =
    (first === 0x31 && second >= 0x36 && second <= 0x39) ||
    (first === 0x32 && (flagsOf(second) & DIGIT) !== 0) ||
    (first === 0x33 && (second === 0x30 || second === 0x31));
  return secondOk && dottedGroupsFollow(text, start + 5 + unitWidth(second), limit, 2);
}

/** Returns whether `(?:\.\d{1,3}){count}` matches at `at`, as a lookahead that ignores what follows. */
function dottedGroupsFollow(text: string, at: number, limit: number, count: number): boolean {
  let i = at;
  for (let group = 0; group < count; group++) {
    if (i >= limit || text.charCodeAt(i) !== DOT) return false;
    i++;
    let digits = 0;
    while (i < limit && digits < 3) {
      const cp = codePointAt(text, i, limit);
      if ((flagsOf(cp) & DIGIT) === 0) break;
      digits++;
      i += unitWidth(cp);
    }
    if (digits === 0) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------------------
// Chunk tokenizer. Tokens of one chunk are contiguous, so they are stored as boundaries: token k is
// text[BOUNDS[k], BOUNDS[k + 1]). The buffers are reused across calls, which is safe because tokenization
// is synchronous.

/** Growable list of 32-bit integers, reused across documents to avoid allocating per token. */
class IntList {
  values = new Int32Array(16);
  length = 0;

  push(value: number): void {
    if (this.length === this.values.length) {
      const grown = new Int32Array(this.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] = value;
  }

  /** Empties the list, dropping storage that a very long document grew. */
  reset(): void {
    this.length = 0;
    if (this.values.length > MAX_RETAINED_CAPACITY) this.values = new Int32Array(16);
  }
}

/** Capacity in entries above which a buffer is released after use instead of being kept for reuse. */
const MAX_RETAINED_CAPACITY = 1 << 16;

const BOUNDS = new IntList();
/** Start positions of the suffixes split off so far, rightmost first. */
const SUFFIX_STARTS = new IntList();

/** Pushes the token boundaries of text[start, end), which must be an exception. */
function pushExceptionTokens(text: string, start: number, end: number): void {
  let position = start;
  for (const token of EXCEPTIONS.get(text.slice(start, end)) ?? []) {
    position += token.length;
    BOUNDS.push(position);
  }
}

/**
 * Splits text[start, end), a chunk without whitespace, into tokens, leaving their boundaries in BOUNDS.
 * With `useExceptions` false this is spaCy's tokenization without special cases, which spaCy uses to
 * build the token patterns of exceptions.
 */
function splitChunk(text: string, start: number, end: number, useExceptions: boolean): void {
  BOUNDS.length = 0;
  SUFFIX_STARTS.length = 0;
  BOUNDS.push(start);
  let lo = start;
  let hi = end;
  let lastLength = -1;
  // Set when the loop stops on a remainder that is an exception. When it stops because nothing was split
  // off, its last exception check was on the same remainder, so the remainder is not one.
  let middleIsException = false;
  while (hi > lo && hi - lo !== lastLength) {
    if (useExceptions && isException(text, lo, hi)) {
      middleIsException = true;
      break;
    }
    lastLength = hi - lo;

    const prefixLength = findPrefix(text, lo, hi);
    if (
      prefixLength > 0 &&
      useExceptions &&
      lo + prefixLength < hi &&
      isException(text, lo + prefixLength, hi)
    ) {
      lo += prefixLength;
      BOUNDS.push(lo);
      middleIsException = true;
      break;
    }

    const suffixLength = findSuffix(text, lo + prefixLength, hi);
    // The remainder checked here still carries the prefix, as in spaCy.
    if (
      suffixLength > 0 &&
      useExceptions &&
      hi - suffixLength > lo &&
      isException(text, lo, hi - suffixLength)
    ) {
      hi -= suffixLength;
      SUFFIX_STARTS.push(hi);
      middleIsException = true;
      break;
    }

    if (prefixLength > 0) {
      lo += prefixLength;
      BOUNDS.push(lo);
    }
    if (suffixLength > 0) {
      hi -= suffixLength;
      SUFFIX_STARTS.push(hi);
    }
  }

  if (middleIsException) pushExceptionTokens(text, lo, hi);
  else if (hi > lo) splitMiddle(text, lo, hi);
  // Suffixes were split off from the right, so they are added back in reverse order.
  for (let i = SUFFIX_STARTS.length - 2; i >= 0; i--) BOUNDS.push(SUFFIX_STARTS.values[i]!);
  if (SUFFIX_STARTS.length > 0) BOUNDS.push(end);
}

/** Splits text[start, end), a remainder that is not an exception, at infixes unless it is a URL. */
function splitMiddle(text: string, start: number, end: number): void {
  if (isUrl(text, start, end)) {
    BOUNDS.push(end);
    return;
  }
  let i = start;
  while (i < end) {
    const infixStop = infixEnd(text, i, start, end);
    if (infixStop < 0) {
      i +=
        text.charCodeAt(i) >= 0xd800 && text.charCodeAt(i) <= 0xdbff
          ? unitWidth(codePointAt(text, i, end))
          : 1;
      continue;
    }
    // spaCy ignores an infix at the very start of the string: it stays part of the next token.
    if (i !== start) {
      if (BOUNDS.values[BOUNDS.length - 1] !== i) BOUNDS.push(i);
      BOUNDS.push(infixStop);
    }
    i = infixStop;
  }
  if (BOUNDS.values[BOUNDS.length - 1] !== end) BOUNDS.push(end);
}

/** Returns whether any infix rule matches in `text`, counting a match at its very start. */
function hasInfix(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (infixEnd(text, i, 0, text.length) >= 0) return true;
  return false;
}

// ---------------------------------------------------------------------------------------------------------
// Exception patterns. Some exceptions contain a prefix, suffix or infix, such as ":D". For each of them
// spaCy tokenizes the exception text by the affix rules alone into a pattern (":", "D"). After affix
// splitting, it looks through the whole document for runs of tokens equal to a pattern and replaces each run
// with the exception's tokens, so "hi:D" becomes "hi", ":D". Runs are considered longest first, then
// leftmost first. A run is dropped when its first or last token is already seen, and either way its tokens
// count as seen afterwards. A run that spans a single space between chunks is found and can block others,
// but is never replaced, because its text (with the space) is not an exception. Runs never span a
// whitespace token, which spaCy emits for any whitespace other than one space.

interface PatternNode {
  readonly children: Map<string, PatternNode>;
  /** Whether a pattern ends at this node. */
  terminal: boolean;
}

interface PatternIndex {
  /** Trie of patterns keyed by token text. */
  readonly root: PatternNode;
  /** Length in UTF-16 units of the longest token in any pattern. */
  readonly maxTokenLength: number;
  /** Number of tokens in the longest pattern. */
  readonly maxPatternLength: number;
}

function buildPatterns(): PatternIndex {
  const root: PatternNode = { children: new Map(), terminal: false };
  let maxTokenLength = 0;
  let maxPatternLength = 0;
  for (const [key, exceptionTokens] of EXCEPTIONS) {
    let hasSpace = false;
    for (let i = 0; i < key.length; i++) hasSpace ||= (flagsOf(key.charCodeAt(i)) & SPACE) !== 0;
    // A run containing whitespace never occurs, because chunks are split at whitespace.
    if (hasSpace) continue;
    const hasAffix =
      findPrefix(key, 0, key.length) > 0 || findSuffix(key, 0, key.length) > 0 || hasInfix(key);
    if (!hasAffix) continue;

    splitChunk(key, 0, key.length, false);
    const pattern: string[] = [];
    for (let k = 0; k + 1 < BOUNDS.length; k++) {
      pattern.push(key.slice(BOUNDS.values[k]!, BOUNDS.values[k + 1]!));
    }
    // A one-token pattern that maps to the same single token can neither change nor block anything.
    if (pattern.length === 1 && exceptionTokens.length === 1) continue;
    maxPatternLength = Math.max(maxPatternLength, pattern.length);
    let node = root;
    for (const token of pattern) {
      maxTokenLength = Math.max(maxTokenLength, token.length);
      let child = node.children.get(token);
      if (child === undefined) {
        child = { children: new Map(), terminal: false };
        node.children.set(token, child);
      }
      node = child;
    }
    node.terminal = true;
  }
  return { root, maxTokenLength, maxPatternLength };
}

// Built after the chunk tokenizer above is ready, because the patterns come from running it.
const PATTERNS = buildPatterns();

/** Lookup flags for chunks made only of ASCII letters, which skip the affix rules. */
const PLAIN_EXCEPTION = 1;
const PLAIN_PATTERN_START = 2;

function buildPlainWords(): Map<string, number> {
  const plainWords = new Map<string, number>();
  const isPlain = (word: string): boolean => /^[A-Za-z]+$/.test(word);
  for (const key of EXCEPTIONS.keys()) if (isPlain(key)) plainWords.set(key, PLAIN_EXCEPTION);
  for (const token of PATTERNS.root.children.keys()) {
    if (isPlain(token)) plainWords.set(token, (plainWords.get(token) ?? 0) | PLAIN_PATTERN_START);
  }
  return plainWords;
}

const PLAIN_WORDS = buildPlainWords();
let maxPlainWordLength = 0;
for (const word of PLAIN_WORDS.keys()) maxPlainWordLength = Math.max(maxPlainWordLength, word.length);

/**
 * Collects a document's tokens into an output array, passing them through the exception patterns on the
 * way. Tokens wait in a pending window only while some pattern could still match across them, so in
 * ordinary text most tokens go straight to the output. One instance is reused for every document;
 * tokenization is synchronous, so no two documents share it at once.
 */
class TokenCollector {
  private text = '';
  private out: string[] = [];
  private wordsOnly = true;
  private readonly starts = new IntList();
  private readonly ends = new IntList();
  /** Partial matches that the next token may extend: first token index and trie node of each. */
  private activeFirst: number[] = [];
  private activeNodes: PatternNode[] = [];
  private activeCount = 0;
  /** Start indexes of the pending matches, by match length in tokens, each list in increasing order. */
  private readonly matchFirsts: IntList[] = Array.from(
    { length: PATTERNS.maxPatternLength + 1 },
    () => new IntList(),
  );
  private matchCount = 0;

  /** Starts a new document whose tokens go to `out`, only those with a letter or number if `wordsOnly`. */
  reset(text: string, out: string[], wordsOnly: boolean): void {
    this.text = text;
    this.out = out;
    this.wordsOnly = wordsOnly;
    this.clearPending();
  }

  /**
   * Adds the token text[from, to). `continuesRun` is true when a pattern run may include both this token
   * and the previous one, which is the case inside a chunk and across a single space.
   */
  add(from: number, to: number, continuesRun: boolean): void {
    const key = to - from <= PATTERNS.maxTokenLength ? this.text.slice(from, to) : undefined;
    if (!continuesRun || this.starts.length === 0) {
      if (this.starts.length > 0) this.flush();
      if (key === undefined || !PATTERNS.root.children.has(key)) {
        this.emit(from, to, key);
        return;
      }
    }
    this.addPending(from, to, key);
  }

  /** Adds a token of ASCII letters only, which always passes the letter-or-number filter. */
  addPlainWord(from: number, to: number, word: string, continuesRun: boolean, startsPattern: boolean): void {
    if (!continuesRun || this.starts.length === 0) {
      if (this.starts.length > 0) this.flush();
      if (!startsPattern) {
        this.out.push(word);
        return;
      }
    }
    this.addPending(from, to, word);
  }

  /** Resolves the pending matches and moves every pending token to the output. */
  flush(): void {
    if (this.matchCount === 0) {
      for (let k = 0; k < this.starts.length; k++) this.emit(this.starts.values[k]!, this.ends.values[k]!);
    } else {
      this.emitWithReplacements();
    }
    this.clearPending();
  }

  private clearPending(): void {
    this.starts.reset();
    this.ends.reset();
    this.activeCount = 0;
    if (this.matchCount > 0) {
      for (const list of this.matchFirsts) list.reset();
      this.matchCount = 0;
    }
  }

  private addPending(from: number, to: number, key: string | undefined): void {
    const index = this.starts.length;
    this.starts.push(from);
    this.ends.push(to);
    let nextActiveCount = 0;
    if (key !== undefined) {
      for (let i = 0; i < this.activeCount; i++) {
        nextActiveCount = this.advance(
          this.activeFirst[i]!,
          this.activeNodes[i]!.children.get(key),
          index,
          nextActiveCount,
        );
      }
      nextActiveCount = this.advance(index, PATTERNS.root.children.get(key), index, nextActiveCount);
    }
    this.activeCount = nextActiveCount;
    if (nextActiveCount === 0) this.flush();
  }

  private advance(first: number, node: PatternNode | undefined, index: number, activeCount: number): number {
    if (node === undefined) return activeCount;
    if (node.terminal) {
      this.matchFirsts[index + 1 - first]!.push(first);
      this.matchCount++;
    }
    if (node.children.size === 0) return activeCount;
    // Entries before `activeCount` have been read already, so overwriting them in place is safe.
    this.activeFirst[activeCount] = first;
    this.activeNodes[activeCount] = node;
    return activeCount + 1;
  }

  private emit(from: number, to: number, token?: string): void {
    if (this.wordsOnly && !containsLetterOrNumber(this.text, from, to)) return;
    this.out.push(token ?? this.text.slice(from, to));
  }

  private emitWithReplacements(): void {
    const count = this.starts.length;
    const starts = this.starts.values;
    const ends = this.ends.values;
    // Longest matches first, and leftmost first among equals. A match marks its tokens as seen even when
    // it is dropped, as spaCy does.
    const seenTokens = new Uint8Array(count);
    const acceptedEnd = new Int32Array(count);
    for (let length = this.matchFirsts.length - 1; length > 0; length--) {
      const firsts = this.matchFirsts[length]!;
      for (let i = 0; i < firsts.length; i++) {
        const first = firsts.values[i]!;
        if (seenTokens[first] === 0 && seenTokens[first + length - 1] === 0) {
          acceptedEnd[first] = first + length;
        }
        seenTokens.fill(1, first, first + length);
      }
    }
    for (let k = 0; k < count;) {
      const end = acceptedEnd[k]!;
      let tokens: readonly string[] | undefined;
      if (end > 0) {
        let contiguous = true;
        for (let j = k; j + 1 < end; j++) contiguous &&= ends[j] === starts[j + 1];
        if (contiguous) tokens = EXCEPTIONS.get(this.text.slice(starts[k]!, ends[end - 1]!));
      }
      if (tokens === undefined) {
        this.emit(starts[k]!, ends[k]!);
        k++;
        continue;
      }
      let position = starts[k]!;
      for (const token of tokens) {
        this.emit(position, position + token.length);
        position += token.length;
      }
      k = end;
    }
  }
}

const COLLECTOR = new TokenCollector();

// ---------------------------------------------------------------------------------------------------------
// Public API.

/**
 * Tokenizes `text` into `out`. spaCy also makes a token of any whitespace run other than one space after a
 * chunk. Those tokens are left out here, but they still end pattern runs.
 */
function tokenizeInto(text: string, out: string[], wordsOnly: boolean): void {
  const collector = COLLECTOR;
  collector.reset(text, out, wordsOnly);
  const length = text.length;
  let start = 0;
  while (start < length) {
    const spaceStart = start;
    while (start < length && (BMP_FLAGS[text.charCodeAt(start)]! & SPACE) !== 0) start++;
    if (start >= length) break;
    const continuesRun = start - spaceStart === 1 && spaceStart > 0 && text.charCodeAt(spaceStart) === 0x20;
    let end = start;
    let plain = true;
    for (; end < length; end++) {
      const unit = text.charCodeAt(end);
      if (isAsciiLetter(unit)) continue;
      if ((BMP_FLAGS[unit]! & SPACE) !== 0) break;
      plain = false;
    }
    if (plain) {
      // Fast path: a chunk of ASCII letters has no affixes, infixes or URL, so it is one token unless it
      // is an exception such as "dont".
      const word = text.slice(start, end);
      const flags = end - start <= maxPlainWordLength ? (PLAIN_WORDS.get(word) ?? 0) : 0;
      if ((flags & PLAIN_EXCEPTION) === 0) {
        collector.addPlainWord(start, end, word, continuesRun, (flags & PLAIN_PATTERN_START) !== 0);
        start = end;
        continue;
      }
    }
    splitChunk(text, start, end, true);
    const bounds = BOUNDS.values;
    for (let k = 0; k + 1 < BOUNDS.length; k++) {
      collector.add(bounds[k]!, bounds[k + 1]!, k > 0 || continuesRun);
    }
    start = end;
  }
  collector.flush();
  BOUNDS.reset();
  SUFFIX_STARTS.reset();
}

/**
 * Tokenizes `text` as spaCy 3.8's `spacy.blank('en')` tokenizer does, leaving out whitespace tokens.
 * Punctuation and symbol tokens are kept.
 */
export function tokenize(text: string): string[] {
  const tokens: string[] = [];
  tokenizeInto(text, tokens, false);
  return tokens;
}

/**
 * Tokenizes `text` as spaCy 3.8's `spacy.blank('en')` tokenizer does and keeps only the tokens that contain
 * at least one Unicode letter or number (`\p{L}` or `\p{N}`), in order and with their original casing.
 */
export function tokenizeWords(text: string): string[] {
  const tokens: string[] = [];
  tokenizeInto(text, tokens, true);
  return tokens;
}
