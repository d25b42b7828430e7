/**
 * The BERT tokenizer (Devlin et al. 2018, as in Google's tokenization.py and Hugging Face's
 * BertTokenizer): basic tokenization, then greedy longest-match-first WordPiece against vocab.txt.
 *
 * Basic tokenization removes NUL, U+FFFD and control characters, turns whitespace into spaces,
 * puts spaces around CJK ideographs, lowercases, and strips accents (NFD, then drops combining
 * marks); TokenizerSettings can turn off the last three steps. Each whitespace-separated token is then split before and
 * after every punctuation character. Special tokens written inside a text, such as "[SEP]", are
 * tokenized like any other text and never become the special token.
 */

export const UNKNOWN_TOKEN = '[UNK]';
export const CLASSIFIER_TOKEN = '[CLS]';
export const SEPARATOR_TOKEN = '[SEP]';
export const PADDING_TOKEN = '[PAD]';
/** Words longer than this many characters become [UNK], as in BERT's reference tokenizer. */
export const MAX_CHARS_PER_WORD = 100;
const CONTINUATION_PREFIX = '##';

/** Pieces of a batch of words and, for each word, the half-open range of its pieces. */
export interface WordPieces {
  /** Vocabulary ids of all pieces, word after word, without [CLS] and [SEP]. */
  ids: number[];
  pieces: string[];
  /** Half-open range `[start, end)` into `ids` of each input word, never empty. */
  wordRanges: Array<[number, number]>;
}

/** Basic tokenization settings, named after the fields of Hugging Face's tokenizer_config.json. */
export interface TokenizerSettings {
  /** Whether text is lowercased (default true). */
  doLowerCase?: boolean;
  /** Whether accents are stripped. Unset or null means the value of `doLowerCase`. */
  stripAccents?: boolean | null;
  /** Whether each CJK ideograph becomes a token of its own (default true). */
  tokenizeChineseChars?: boolean;
}

export class WordPieceTokenizer {
  private readonly ids = new Map<string, number>();
  readonly doLowerCase: boolean;
  readonly stripAccents: boolean;
  readonly tokenizeChineseChars: boolean;
  readonly unknownId: number;
  readonly classifierId: number;
  readonly separatorId: number;
  readonly paddingId: number;

  /** `vocabulary` lists the tokens in id order, as the lines of vocab.txt do. */
  constructor(
    readonly vocabulary: readonly string[],
    settings: TokenizerSettings = {},
  ) {
    this.doLowerCase = settings.doLowerCase ?? true;
    this.stripAccents = settings.stripAccents ?? this.doLowerCase;
    this.tokenizeChineseChars = settings.tokenizeChineseChars ?? true;
    // A repeated token keeps the id of its last line, as Hugging Face's load_vocab does.
    vocabulary.forEach((token, id) => this.ids.set(token, id));
    this.unknownId = this.requireId(UNKNOWN_TOKEN);
    this.classifierId = this.requireId(CLASSIFIER_TOKEN);
    this.separatorId = this.requireId(SEPARATOR_TOKEN);
    this.paddingId = this.ids.get(PADDING_TOKEN) ?? 0;
  }

  /** Builds a tokenizer from the text of vocab.txt: one token per line, the line number is the id. */
  static fromVocabText(text: string, settings: TokenizerSettings = {}): WordPieceTokenizer {
    const lines = text.split(/\r?\n/);
    // A trailing newline leaves one empty last line that is not a token.
    if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    return new WordPieceTokenizer(lines, settings);
  }

  get size(): number {
    return this.vocabulary.length;
  }

  idOf(token: string): number | undefined {
    return this.ids.get(token);
  }

  /** Splits raw text into basic tokens: cleaned, optionally lowercased, split at punctuation. */
  basicTokens(text: string): string[] {
    let cleaned = cleanText(text);
    if (this.tokenizeChineseChars) cleaned = spaceOutIdeographs(cleaned);
    const tokens: string[] = [];
    for (const raw of cleaned.split(' ')) {
      if (raw.length === 0) continue;
      let token = this.doLowerCase ? raw.toLowerCase() : raw;
      if (this.stripAccents) token = removeAccents(token);
      tokens.push(...splitPunctuation(token));
    }
    return tokens;
  }

  /**
   * Splits one basic token into WordPiece tokens, longest vocabulary match first, later pieces
   * with the "##" prefix. Returns [UNK] alone when the token is over MAX_CHARS_PER_WORD code
   * points or any remainder has no match.
   */
  wordPieces(token: string): string[] {
    const chars = Array.from(token);
    if (chars.length > MAX_CHARS_PER_WORD) return [UNKNOWN_TOKEN];
    const pieces: string[] = [];
    let start = 0;
    while (start < chars.length) {
      let end = chars.length;
      let match: string | undefined;
      while (end > start) {
        const candidate = (start > 0 ? CONTINUATION_PREFIX : '') + chars.slice(start, end).join('');
        if (this.ids.has(candidate)) {
          match = candidate;
          break;
        }
        end -= 1;
      }
      if (match === undefined) return [UNKNOWN_TOKEN];
      pieces.push(match);
      start = end;
    }
    return pieces;
  }

  /** Tokenizes raw text into WordPiece tokens, without [CLS] and [SEP]. */
  tokenize(text: string): string[] {
    return this.basicTokens(text).flatMap((token) => this.wordPieces(token));
  }

  /**
   * Tokenizes text that is already split into words, keeping for each word the range of its
   * pieces so that piece vectors can be merged back into word vectors. A word that yields no piece
   * (empty, or only control characters) gets one [UNK] so that every word has a vector.
   */
  tokenizeWords(words: readonly string[]): WordPieces {
    const ids: number[] = [];
    const pieces: string[] = [];
    const wordRanges: Array<[number, number]> = [];
    for (const word of words) {
      const start = pieces.length;
      for (const token of this.basicTokens(word)) pieces.push(...this.wordPieces(token));
      if (pieces.length === start) pieces.push(UNKNOWN_TOKEN);
      for (let i = start; i < pieces.length; i++)
        ids.push(this.ids.get(pieces[i] as string) ?? this.unknownId);
      wordRanges.push([start, pieces.length]);
    }
    return { ids, pieces, wordRanges };
  }

  private requireId(token: string): number {
    const id = this.ids.get(token);
    if (id === undefined) {
      throw new Error(
        `Invalid BERT vocabulary: it has no ${token} token (vocab.txt lists ${this.size} tokens)`,
      );
    }
    return id;
  }
}

const CONTROL = /\p{C}/u;
const WHITESPACE = /[\t\n\r\p{Zs}]/u;
const COMBINING_MARK = /\p{Mn}/gu;
const UNICODE_PUNCTUATION = /\p{P}/u;

/** Drops NUL, U+FFFD and control characters and maps every whitespace character to a space. */
function cleanText(text: string): string {
  let output = '';
  for (const char of text) {
    const code = char.codePointAt(0) as number;
    if (code === 0 || code === 0xfffd) continue;
    if (WHITESPACE.test(char)) {
      output += ' ';
    } else if (!CONTROL.test(char)) {
      output += char;
    }
  }
  return output;
}

/**
 * Tests whether a code point is a CJK Unified Ideograph (the blocks BERT's tokenizer lists). Hangul,
 * Hiragana and Katakana are not in these blocks and are tokenized like letters.
 */
function isIdeograph(code: number): boolean {
  return (
    (code >= 0x4e00 && code <= 0x9fff) ||
    (code >= 0x3400 && code <= 0x4dbf) ||
    (code >= 0x20000 && code <= 0x2a6df) ||
    (code >= 0x2a700 && code <= 0x2b73f) ||
    (code >= 0x2b740 && code <= 0x2b81f) ||
    (code >= 0x2b820 && code <= 0x2ceaf) ||
    (code >= 0xf900 && code <= 0xfaff) ||
    (code >= 0x2f800 && code <= 0x2fa1f)
  );
}

function spaceOutIdeographs(text: string): string {
  let output = '';
  for (const char of text) {
    output += isIdeograph(char.codePointAt(0) as number) ? ` ${char} ` : char;
  }
  return output;
}

function removeAccents(text: string): string {
  return text.normalize('NFD').replace(COMBINING_MARK, '');
}

/** BERT counts every non-alphanumeric ASCII symbol as punctuation, such as "$", "+" and "^". */
function isPunctuation(char: string): boolean {
  const code = char.codePointAt(0) as number;
  if ((code >= 33 && code <= 47) || (code >= 58 && code <= 64) || (code >= 91 && code <= 96)) return true;
  if (code >= 123 && code <= 126) return true;
  return UNICODE_PUNCTUATION.test(char);
}

function splitPunctuation(token: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (const char of token) {
    if (isPunctuation(char)) {
      if (current.length > 0) parts.push(current);
      parts.push(char);
      current = '';
    } else {
      current += char;
    }
  }
  if (current.length > 0) parts.push(current);
  return parts;
}
