import { describe, expect, it } from 'vitest';
import { barChart, escapeXml, formatTick, lineChart, niceScale } from '../eval/plot';

interface Element {
  readonly name: string;
  readonly attributes: Record<string, string>;
}

/**
 * Checks XML well-formedness at the level these charts need: one root element, every tag closed in
 * order, attribute values double-quoted, and no raw '<' or unescaped '&' in text or attribute values.
 * Returns the elements in document order and the concatenated character data.
 */
function parseXml(xml: string): { elements: Element[]; text: string } {
  const elements: Element[] = [];
  const stack: string[] = [];
  const textParts: string[] = [];
  const entity = /&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/y;
  const checkEntities = (value: string, where: string): void => {
    for (let index = value.indexOf('&'); index >= 0; index = value.indexOf('&', index + 1)) {
      entity.lastIndex = index;
      if (!entity.test(value)) throw new Error(`Unescaped '&' in ${where}: ${value}`);
    }
  };
  const tag = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>/y;
  let position = 0;
  let rootClosed = false;
  while (position < xml.length) {
    const next = xml.indexOf('<', position);
    const text = xml.slice(position, next < 0 ? xml.length : next);
    if (text.trim() !== '' && (stack.length === 0 || rootClosed))
      throw new Error(`Text outside the root: ${text}`);
    checkEntities(text, 'text');
    textParts.push(text);
    if (next < 0) break;
    tag.lastIndex = next;
    const match = tag.exec(xml);
    if (match === null) throw new Error(`Malformed tag at ${next}: ${xml.slice(next, next + 60)}`);
    const [whole, closing, name = '', attributeText = '', selfClosing] = match;
    if (closing === '/') {
      const open = stack.pop();
      if (open !== name) throw new Error(`Closing </${name}> does not match <${open}>`);
      if (stack.length === 0) rootClosed = true;
    } else {
      if (rootClosed) throw new Error('Second root element');
      const attributes: Record<string, string> = {};
      for (const [, key = '', value = ''] of attributeText.matchAll(/([\w:.-]+)="([^"]*)"/g)) {
        if (key in attributes) throw new Error(`Duplicate attribute ${key} on <${name}>`);
        checkEntities(value, `attribute ${key}`);
        attributes[key] = value;
      }
      elements.push({ name, attributes });
      if (selfClosing !== '/') stack.push(name);
    }
    position = next + whole.length;
  }
  if (stack.length > 0) throw new Error(`Unclosed elements: ${stack.join(', ')}`);
  return { elements, text: textParts.join('') };
}

const count = (elements: Element[], name: string): number =>
  elements.filter((element) => element.name === name).length;

const generator = Array.from(
  { length: 20 },
  (_, step) => [step * 100, 2 * Math.exp(-step / 6) + 0.6] as const,
);
const discriminator = Array.from(
  { length: 20 },
  (_, step) => [step * 100, step === 10 ? Number.NaN : 0.69] as const,
);

describe('lineChart', () => {
  const svg = lineChart({
    title: 'Loss <generator & "discriminator">',
    xLabel: 'Step',
    yLabel: 'Loss (nats)',
    series: [
      { name: 'Generator', points: generator },
      { name: 'Discriminator', points: discriminator },
    ],
  });

  it('is a well-formed standalone SVG', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    const { elements } = parseXml(svg);
    expect(elements[0]?.name).toBe('svg');
    expect(elements[0]?.attributes.viewBox).toBe('0 0 720 420');
    expect(svg).not.toMatch(/NaN|Infinity|undefined/);
  });

  it('escapes the title', () => {
    expect(svg).toContain('Loss &lt;generator &amp; &quot;discriminator&quot;&gt;');
    expect(svg).not.toContain('<generator');
    expect(parseXml(svg).text).toContain('Loss &lt;generator');
  });

  it('breaks lines at non-finite values', () => {
    const { elements, text } = parseXml(svg);
    // One polyline for the generator and two for the discriminator, split at its NaN point.
    expect(count(elements, 'polyline')).toBe(3);
    expect(text).toContain('1 non-finite point not drawn');
  });

  it('draws axes labels, ticks and legend', () => {
    const { text } = parseXml(svg);
    for (const label of [
      'Step',
      'Loss (nats)',
      'Generator',
      'Discriminator',
      '1,000',
      '1,500',
      '0.5',
      '2.5',
    ]) {
      expect(text).toContain(label);
    }
  });

  it('handles a single point', () => {
    const single = lineChart({
      title: 'One',
      xLabel: 'Epoch',
      yLabel: 'Loss',
      series: [{ name: 'G', points: [[3, 0.5]] }],
    });
    const { elements, text } = parseXml(single);
    expect(count(elements, 'polyline')).toBe(0);
    expect(count(elements, 'circle')).toBe(1);
    expect(text).toContain('0.5');
    expect(single).not.toMatch(/NaN|Infinity/);
  });

  it('handles missing data', () => {
    const empty = lineChart({ title: 'None', xLabel: 'x', yLabel: 'y', series: [{ name: 'G', points: [] }] });
    const { elements, text } = parseXml(empty);
    expect(count(elements, 'polyline')).toBe(0);
    expect(text).toContain('No data');
    expect(text).toContain('G (no data)');
    expect(empty).not.toMatch(/NaN|Infinity/);
    const onlyGaps = lineChart({
      title: 'Only gaps',
      xLabel: 'x',
      yLabel: 'y',
      series: [{ name: 'G', points: [[1, Number.NaN]] }],
    });
    expect(parseXml(onlyGaps).text).toContain('No data');
    expect(onlyGaps).not.toMatch(/NaN|Infinity/);
    expect(parseXml(lineChart({ title: 'Nothing', xLabel: 'x', yLabel: 'y', series: [] })).text).toContain(
      'No data',
    );
  });

  it('sorts points by x', () => {
    const svgUnsorted = lineChart({
      title: 't',
      xLabel: 'x',
      yLabel: 'y',
      series: [
        {
          name: 's',
          points: [
            [2, 1],
            [0, 0],
            [1, 2],
          ],
        },
      ],
    });
    const polyline = parseXml(svgUnsorted).elements.find((element) => element.name === 'polyline');
    const xs = (polyline?.attributes.points ?? '').split(' ').map((pair) => Number(pair.split(',')[0]));
    expect(xs).toHaveLength(3);
    expect([...xs].sort((a, b) => a - b)).toEqual(xs);
  });
});

describe('barChart', () => {
  const svg = barChart({
    title: 'Scores by source',
    yLabel: 'Score',
    groups: ['BLEU-2', 'BLEU-4', 'distinct-2 & more'],
    series: [
      { name: 'Test text', values: [0.8, 0.3, 0.4] },
      { name: 'GAN', values: [0.7, null, -0.1] },
      { name: 'Markov', values: [0.6, 0.2] },
    ],
  });

  it('is a well-formed standalone SVG', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(parseXml(svg).elements[0]?.name).toBe('svg');
    expect(svg).not.toMatch(/NaN|Infinity|undefined/);
  });

  it('draws one bar per finite value', () => {
    const { elements, text } = parseXml(svg);
    // 3 series × 3 groups = 9 slots; the null and the slot past the end of "Markov" are missing: 7 bars, 2 "n/a".
    const bars = elements.filter((element) => element.name === 'rect' && element.attributes.class === 'bar');
    expect(bars).toHaveLength(7);
    expect(text.match(/n\/a/g)).toHaveLength(2);
    expect(text).toContain('distinct-2 &amp; more');
    expect(text).toContain('-0.1');
  });

  it('wraps long group labels', () => {
    const wrapped = barChart({
      title: 'Long',
      groups: ['self-BLEU-2 where lower means more diverse', 'short'],
      series: [{ name: 's', values: [0.1, 0.2] }],
      width: 300,
    });
    const { elements } = parseXml(wrapped);
    expect(count(elements, 'tspan')).toBeGreaterThan(3);
  });

  it('rejects an invalid size', () => {
    expect(() => barChart({ title: 't', groups: ['a'], series: [], width: 0 })).toThrow(/width and height/);
    expect(() => lineChart({ title: 't', xLabel: 'x', yLabel: 'y', series: [], height: Number.NaN })).toThrow(
      /width and height/,
    );
  });

  it('rejects more values than groups', () => {
    expect(() => barChart({ title: 't', groups: ['a'], series: [{ name: 's', values: [1, 2] }] })).toThrow(
      /2 values for 1 groups/,
    );
  });

  it('handles no groups', () => {
    const empty = barChart({ title: 'Empty', groups: [], series: [] });
    expect(parseXml(empty).text).toContain('No data');
    expect(empty).not.toMatch(/NaN|Infinity/);
  });
});

describe('axis helpers', () => {
  it('chooses nice ticks', () => {
    expect(niceScale([0, 1], 5).ticks).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    // (0.71 − 0.13) / 5 = 0.116 rounds up to a step of 0.2.
    expect(niceScale([0.13, 0.71], 5).ticks).toEqual([0, 0.2, 0.4, 0.6, 0.8]);
    expect(niceScale([0.13, 0.71], 10).ticks).toEqual([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]);
    expect(niceScale([0, 14_950], 6).ticks).toEqual([0, 2500, 5000, 7500, 10_000, 12_500, 15_000]);
    expect(niceScale([-3, 7], 5).ticks).toEqual([-4, -2, 0, 2, 4, 6, 8]);
  });

  it('pads a flat range', () => {
    const scale = niceScale([5, 5], 5);
    expect(scale.min).toBeLessThan(5);
    expect(scale.max).toBeGreaterThan(5);
    expect(niceScale([], 5).ticks[0]).toBe(0);
  });

  it('formats tick labels', () => {
    expect(formatTick(2500, 2500)).toBe('2,500');
    expect(formatTick(0.30000000000000004, 0.1)).toBe('0.3');
    expect(formatTick(7.5, 2.5)).toBe('7.5');
    expect(formatTick(5, 2.5)).toBe('5.0');
    expect(formatTick(0, 0.1)).toBe('0');
    expect(formatTick(3e-5, 1e-5)).toBe('3e-5');
    expect(formatTick(2.5e8, 5e7)).toBe('2.5e8');
  });

  it('escapes XML text', () => {
    expect(escapeXml(`a<b>&"c"'d'`)).toBe('a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;');
    // C0 controls other than tab and newline, and unpaired surrogates, are not allowed in XML 1.0.
    expect(escapeXml('x\u0000y\u0007z\tw\n')).toBe('xyz\tw\n');
    expect(escapeXml('lone \uD800 surrogate, pair 🙂')).toBe('lone  surrogate, pair 🙂');
  });
});
