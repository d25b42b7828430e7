import { describe, expect, it } from 'vitest';

import { hasLetterOrDigit, isUrl, tokenize, tokenizeWords } from '../lib/tokenize';

interface TokenizerCase {
  readonly name: string;
  readonly text: string;
  /** Expected tokenizeWords output. */
  readonly words: readonly string[];
  /** Expected tokenize output: spaCy's tokens without whitespace tokens. */
  readonly tokens: readonly string[];
}

// Expected outputs were produced by spaCy 3.8.18: [t.text for t in spacy.blank('en')(text) if not t.is_space],
// and for `words` the same list kept to tokens with a Unicode letter or number.
const CASES: readonly TokenizerCase[] = [
  {
    name: 'contractions',
    text: "I don't think we'll make it, y'all.",
    words: ['I', 'do', "n't", 'think', 'we', "'ll", 'make', 'it', "y'", 'all'],
    tokens: ['I', 'do', "n't", 'think', 'we', "'ll", 'make', 'it', ',', "y'", 'all', '.'],
  },
  {
    name: 'contractions without apostrophes',
    text: 'dont worry youre fine im sure',
    words: ['do', 'nt', 'worry', 'you', 're', 'fine', 'i', 'm', 'sure'],
    tokens: ['do', 'nt', 'worry', 'you', 're', 'fine', 'i', 'm', 'sure'],
  },
  {
    name: 'contraction case variants',
    text: "Can't CAN'T can't I'M i'm",
    words: ['Ca', "n't", "CAN'T", 'ca', "n't", "I'M", 'i', "'m"],
    tokens: ['Ca', "n't", "CAN'T", 'ca', "n't", "I'M", 'i', "'m"],
  },
  {
    name: 'curly apostrophes',
    text: 'I’m sure it’s fine, isn’t it?',
    words: ['I', '’m', 'sure', 'it', '’s', 'fine', 'is', 'n’t', 'it'],
    tokens: ['I', '’m', 'sure', 'it', '’s', 'fine', ',', 'is', 'n’t', 'it', '?'],
  },
  {
    name: 'URL with path and query',
    text: 'See https://example.com/docs?page=2#top.',
    words: ['See', 'https://example.com/docs?page=2#top'],
    tokens: ['See', 'https://example.com/docs?page=2#top', '.'],
  },
  {
    name: 'bare domains',
    text: 'Visit www.example.org, or example.co.uk/path!',
    words: ['Visit', 'www.example.org', 'or', 'example.co.uk/path'],
    tokens: ['Visit', 'www.example.org', ',', 'or', 'example.co.uk/path', '!'],
  },
  {
    name: 'email address',
    text: 'Write to jane.doe+news@example.com.',
    words: ['Write', 'to', 'jane.doe+news@example.com'],
    tokens: ['Write', 'to', 'jane.doe+news@example.com', '.'],
  },
  {
    name: 'mentions and hashtags',
    text: '@alice_bob thanks! #GreatDay #2024',
    words: ['@alice_bob', 'thanks', 'GreatDay', '2024'],
    tokens: ['@alice_bob', 'thanks', '!', '#', 'GreatDay', '#', '2024'],
  },
  {
    name: 'hyphens between letters',
    text: 'A well-known, state-of-the-art plan for 3-4 years',
    words: ['A', 'well', 'known', 'state', 'of', 'the', 'art', 'plan', 'for', '3', '4', 'years'],
    tokens: [
      'A',
      'well',
      '-',
      'known',
      ',',
      'state',
      '-',
      'of',
      '-',
      'the',
      '-',
      'art',
      'plan',
      'for',
      '3',
      '-',
      '4',
      'years',
    ],
  },
  {
    name: 'ellipses',
    text: 'Wait...what? Well… maybe....ok',
    words: ['Wait', 'what', 'Well', 'maybe', 'ok'],
    tokens: ['Wait', '...', 'what', '?', 'Well', '…', 'maybe', '....', 'ok'],
  },
  {
    name: 'straight and curly quotes',
    text: '"Hello," she said. \'Fine.\' “Sure” ‘ok’',
    words: ['Hello', 'she', 'said', 'Fine', 'Sure', 'ok'],
    tokens: [
      '"',
      'Hello',
      ',',
      '"',
      'she',
      'said',
      '.',
      "'",
      'Fine',
      '.',
      "'",
      '“',
      'Sure',
      '”',
      '‘',
      'ok',
      '’',
    ],
  },
  {
    name: 'numbers with commas and decimals',
    text: 'It costs $1,299.99 or 1.5 million; 1,000,000 people',
    words: ['It', 'costs', '1,299.99', 'or', '1.5', 'million', '1,000,000', 'people'],
    tokens: ['It', 'costs', '$', '1,299.99', 'or', '1.5', 'million', ';', '1,000,000', 'people'],
  },
  {
    name: 'units, currency and times',
    text: 'Run 10km at 5:30pm for 20% off, 100USD, 3.5kg, €20',
    words: ['Run', '10', 'km', 'at', '5:30pm', 'for', '20', 'off', '100USD', '3.5', 'kg', '20'],
    tokens: [
      'Run',
      '10',
      'km',
      'at',
      '5:30pm',
      'for',
      '20',
      '%',
      'off',
      ',',
      '100USD',
      ',',
      '3.5',
      'kg',
      ',',
      '€',
      '20',
    ],
  },
  {
    name: 'abbreviations',
    text: 'Mr. Smith met Dr. Jones at 3 p.m., e.g. in the U.S.A. today.',
    words: ['Mr.', 'Smith', 'met', 'Dr.', 'Jones', 'at', '3', 'p.m.', 'e.g.', 'in', 'the', 'U.S.A.', 'today'],
    tokens: [
      'Mr.',
      'Smith',
      'met',
      'Dr.',
      'Jones',
      'at',
      '3',
      'p.m.',
      ',',
      'e.g.',
      'in',
      'the',
      'U.S.A.',
      'today',
      '.',
    ],
  },
  {
    name: 'emoji',
    text: 'Great job 👍🏽😀! love❤\ufe0fit 🎉🎉',
    words: ['Great', 'job', 'love', '\ufe0fit'],
    tokens: ['Great', 'job', '👍', '🏽', '😀', '!', 'love', '❤', '\ufe0fit', '🎉', '🎉'],
  },
  {
    name: 'emoticons',
    text: 'hi:D nice :) <3 :-( :P',
    words: ['hi', ':D', 'nice', '<3', ':P'],
    tokens: ['hi', ':D', 'nice', ':)', '<3', ':-(', ':P'],
  },
  {
    name: 'non-Latin scripts',
    text: 'Привет, мир! 你好，世界。 مرحبا بكم',
    words: ['Привет', 'мир', '你好，世界', 'مرحبا', 'بكم'],
    tokens: ['Привет', ',', 'мир', '!', '你好，世界', '。', 'مرحبا', 'بكم'],
  },
  {
    name: 'punctuation only',
    text: '!!! ... ?! -- (*) ;)',
    words: [],
    tokens: ['!', '!', '!', '...', '?', '!', '--', '(', '*', ')', ';)'],
  },
  {
    name: 'missing space after period',
    text: 'It ended.Then it started again',
    words: ['It', 'ended', 'Then', 'it', 'started', 'again'],
    tokens: ['It', 'ended', '.', 'Then', 'it', 'started', 'again'],
  },
  {
    name: 'slashes and arithmetic',
    text: 'and/or 2+2=4 and 10-20',
    words: ['and/or', '2', '2=4', 'and', '10', '20'],
    tokens: ['and/or', '2', '+', '2=4', 'and', '10', '-', '20'],
  },
];

describe('tokenizeWords', () => {
  it.each(CASES)('$name', ({ text, words }) => {
    expect(tokenizeWords(text)).toEqual(words);
  });

  it('returns nothing for an empty string', () => {
    expect(tokenizeWords('')).toEqual([]);
  });

  it('returns nothing for whitespace only', () => {
    expect(tokenizeWords(' \t\n\u00a0\u3000  ')).toEqual([]);
  });

  it('splits on every kind of whitespace that Python counts', () => {
    expect(tokenizeWords('one\ttwo\nthree\u00a0four\u2003five\u3000six')).toEqual([
      'one',
      'two',
      'three',
      'four',
      'five',
      'six',
    ]);
  });

  it('keeps a zero-width space inside the token', () => {
    // U+200B is not whitespace to Python's str.isspace(), so spaCy does not split on it.
    expect(tokenizeWords('a\u200bb c')).toEqual(['a\u200bb', 'c']);
  });
});

describe('tokenize', () => {
  it.each(CASES)('$name', ({ text, tokens }) => {
    expect(tokenize(text)).toEqual(tokens);
  });

  it('merges an emoticon split by infix rules', () => {
    // Affix rules give "hi", ":", "D"; the exception ":D" then rejoins the last two.
    expect(tokenize('hi:D')).toEqual(['hi', ':D']);
  });

  it('does not merge an emoticon across a space', () => {
    expect(tokenize('yes : D')).toEqual(['yes', ':', 'D']);
  });

  it('lets a run across a space block an overlapping merge', () => {
    // spaCy matches "):" across the space first, which takes the ":" that ":)" would need.
    expect(tokenize(') :)+')).toEqual([')', ':', ')', '+']);
  });
});

describe('isUrl', () => {
  it.each([
    ['example.com', true],
    ['https://example.com/a?b=c', true],
    ['jane@example.com', true],
    ['user:pass@example.com', true],
    ['www.example', true],
    ['müller.de', true],
    ['8.8.8.8', true],
    ['1.2.3.4:80', true],
    ['example.com:8080/x', true],
    ['a-b.com', true],
    ['a.b', false],
    ['example.Com', false],
    ['10.0.0.1', false],
    ['192.168.1.1', false],
    ['example.com:808080', false],
    ['http://localhost', false],
    ['e.g.', false],
    ['a-.com', false],
    ['_a.com', false],
  ])('%s is %s', (text, expected) => {
    expect(isUrl(text)).toBe(expected);
  });
});

describe('hasLetterOrDigit', () => {
  it.each([
    ['word', true],
    ['42', true],
    ['²', true],
    ['ж', true],
    ['中', true],
    [':D', true],
    ['<3', true],
    ['...', false],
    ['😀', false],
    ['#', false],
    ['', false],
  ])('%j is %s', (token, expected) => {
    expect(hasLetterOrDigit(token)).toBe(expected);
  });
});

describe('tokenizeWords on 10 MB inputs', () => {
  const size = 10_000_000;
  const repeat = (unit: string): string => unit.repeat(Math.ceil(size / unit.length)).slice(0, size);

  // A tokenizer that re-slices or re-scans the rest of a chunk at every step takes quadratic time on these
  // inputs. They finish in a few seconds here because every step costs constant time.
  it('handles one 10 MB word', () => {
    const words = tokenizeWords(repeat('a'));
    expect(words).toHaveLength(1);
    expect(words[0]).toHaveLength(size);
  });

  it('handles 10 MB of one punctuation mark', () => {
    expect(tokenizeWords(repeat('!'))).toEqual([]);
  });

  it('handles 10 MB of dots', () => {
    expect(tokenizeWords(repeat('.'))).toEqual([]);
  });

  it('handles 10 MB of repeated emoticons', () => {
    expect(tokenizeWords(repeat(':)'))).toEqual([]);
  });

  it('handles 10 MB of hyphenated letters', () => {
    expect(tokenizeWords(repeat('a-'))).toHaveLength(size / 2);
  });

  it('handles 10 MB of URL-like fragments', () => {
    expect(tokenizeWords(repeat('@a.co:'))).toHaveLength(1);
  });
});
