import { describe, expect, it } from 'vitest';
import { allocateItems, buildLabelItems } from '../labeling/items';
import {
  describeBasis,
  finalAnswers,
  humanScoresTable,
  scoreAnswers,
  type AnswerRecord,
} from '../labeling/score';

function record(session: string, itemId: number, trueSource: string, answer: string): AnswerRecord {
  return {
    session,
    item_id: itemId,
    true_source: trueSource,
    answer,
    ms_taken: 1000,
    answered_at: '2024-01-01T00:00:00.000Z',
  };
}

/** `count` answers of one kind for distinct items of a session, item ids from `firstId`. */
function many(session: string, firstId: number, count: number, trueSource: string, answer: string) {
  return Array.from({ length: count }, (_, offset) => record(session, firstId + offset, trueSource, answer));
}

describe('finalAnswers', () => {
  it('keeps the last answer per item', () => {
    const final = finalAnswers([
      record('a', 0, 'real', 'fake'),
      record('a', 1, 'gan', 'fake'),
      record('a', 0, 'real', 'real'),
    ]);
    expect(final.map((row) => [row.item_id, row.answer])).toEqual([
      [1, 'fake'],
      [0, 'real'],
    ]);
  });

  it('drops items whose last answer is undo', () => {
    const final = finalAnswers([
      record('a', 0, 'real', 'real'),
      record('a', 1, 'gan', 'fake'),
      record('a', 1, 'gan', 'undo'),
    ]);
    expect(final.map((row) => row.item_id)).toEqual([0]);
  });

  it('counts an answer after undo', () => {
    const final = finalAnswers([
      record('a', 1, 'gan', 'fake'),
      record('a', 1, 'gan', 'undo'),
      record('a', 1, 'gan', 'real'),
    ]);
    expect(final).toHaveLength(1);
    expect(final[0]?.answer).toBe('real');
  });

  it('keeps sessions apart', () => {
    const final = finalAnswers([record('a', 0, 'real', 'real'), record('b', 0, 'real', 'fake')]);
    expect(final.map((row) => [row.session, row.answer])).toEqual([
      ['a', 'real'],
      ['b', 'fake'],
    ]);
  });
});

describe('scoreAnswers', () => {
  // Two people: 10 real texts (8 marked real), 10 GAN texts (3 marked real), 4 Markov texts
  // (1 marked real) and 2 skips.
  const answers = [
    // Markov first, so the generator order cannot come from the order of answers.
    ...many('bob', 8, 1, 'markov', 'real'),
    ...many('alice', 0, 6, 'real', 'real'),
    ...many('alice', 6, 1, 'real', 'fake'),
    ...many('alice', 7, 2, 'gan', 'real'),
    ...many('alice', 9, 3, 'gan', 'fake'),
    ...many('alice', 12, 1, 'markov', 'skip'),
    ...many('bob', 0, 2, 'real', 'real'),
    ...many('bob', 2, 1, 'real', 'fake'),
    ...many('bob', 3, 1, 'gan', 'real'),
    ...many('bob', 4, 4, 'gan', 'fake'),
    ...many('bob', 9, 3, 'markov', 'fake'),
    ...many('bob', 12, 1, 'gan', 'skip'),
  ];
  const scores = scoreAnswers(answers);

  it('counts sessions, judgments and skips', () => {
    expect(scores.sessions).toBe(2);
    expect(scores.judgments).toBe(24);
    expect(scores.skipped).toBe(2);
  });

  it('computes accuracy on real text', () => {
    expect(scores.real?.judgments).toBe(10);
    expect(scores.real?.markedReal).toBe(8);
    expect(scores.real?.markedRealShare?.rate).toBeCloseTo(0.8, 12);
    // Wilson 95% interval for 8 of 10, from Python's statistics.NormalDist quantile.
    expect(scores.real?.markedRealShare?.low).toBeCloseTo(0.49016247153664183, 9);
    expect(scores.real?.markedRealShare?.high).toBeCloseTo(0.9433178485456247, 9);
  });

  it('computes each generator fooling rate', () => {
    expect(scores.generators.map((score) => score.source)).toEqual(['gan', 'markov']);
    const [gan, markov] = scores.generators;
    expect(gan?.judgments).toBe(10);
    expect(gan?.markedReal).toBe(3);
    expect(gan?.skipped).toBe(1);
    expect(gan?.markedRealShare?.low).toBeCloseTo(0.10779126740630102, 9);
    expect(gan?.markedRealShare?.high).toBeCloseTo(0.6032218525388546, 9);
    expect(markov?.judgments).toBe(4);
    expect(markov?.markedReal).toBe(1);
    expect(markov?.skipped).toBe(1);
    expect(markov?.markedRealShare?.low).toBeCloseTo(0.0455872608097006, 9);
    expect(markov?.markedRealShare?.high).toBeCloseTo(0.699358157417598, 9);
  });

  it('computes overall accuracy', () => {
    // Right: 8 real marked real, 7 GAN and 3 Markov marked fake.
    expect(scores.accuracy?.successes).toBe(18);
    expect(scores.accuracy?.trials).toBe(24);
  });

  it('leaves rates undefined without judgments', () => {
    const onlySkips = scoreAnswers([record('a', 0, 'real', 'skip'), record('a', 1, 'gan', 'skip')]);
    expect(onlySkips.sessions).toBe(0);
    expect(onlySkips.real?.markedRealShare).toBeUndefined();
    expect(onlySkips.generators[0]?.markedRealShare).toBeUndefined();
    expect(onlySkips.accuracy).toBeUndefined();
  });

  it('rejects undo rows', () => {
    expect(() => scoreAnswers([record('a', 0, 'real', 'undo')])).toThrow(/Invalid answer "undo"/);
  });

  it('lays out a table with real text first', () => {
    const table = humanScoresTable(scores);
    expect(table.rows.map((row) => row[0])).toEqual(['real text', 'GAN', 'Markov chain']);
    expect(table.rows[0]).toEqual([
      'real text',
      'accuracy on real text',
      '10',
      '8',
      '0',
      '80.0%',
      '49.0% – 94.3%',
    ]);
    expect(table.rows[1]?.[1]).toBe('fooling rate');
    expect(table.rows[1]?.[5]).toBe('30.0%');
    expect(describeBasis(scores)).toContain('24 real-or-fake judgments from 2 sessions');
  });
});

describe('allocateItems', () => {
  it('splits 60 items half real', () => {
    const counts = allocateItems(['real', 'gan', 'markov'], { count: 60, seed: 1, realShare: 0.5 });
    expect([...counts]).toEqual([
      ['real', 30],
      ['gan', 15],
      ['markov', 15],
    ]);
  });

  it('gives the remainder to the first generators', () => {
    const counts = allocateItems(['real', 'gan', 'markov'], { count: 9, seed: 1, realShare: 0.5 });
    expect([...counts]).toEqual([
      ['real', 5],
      ['gan', 2],
      ['markov', 2],
    ]);
    const odd = allocateItems(['real', 'gan', 'markov'], { count: 8, seed: 1, realShare: 0.5 });
    expect([...odd]).toEqual([
      ['real', 4],
      ['gan', 2],
      ['markov', 2],
    ]);
  });

  it('keeps one item per generator', () => {
    const counts = allocateItems(['real', 'gan', 'markov'], { count: 3, seed: 1, realShare: 0.9 });
    expect([...counts]).toEqual([
      ['real', 1],
      ['gan', 1],
      ['markov', 1],
    ]);
  });

  it('rejects impossible mixes', () => {
    expect(() => allocateItems(['real'], { count: 10, seed: 1, realShare: 0.5 })).toThrow(
      /No generated texts/,
    );
    expect(() => allocateItems(['gan'], { count: 10, seed: 1, realShare: 0.5 })).toThrow(/real comments/);
    expect(() => allocateItems(['real', 'gan', 'markov'], { count: 2, seed: 1, realShare: 0.5 })).toThrow(
      /Invalid item count 2/,
    );
    expect(() => allocateItems(['real', 'gan'], { count: 10, seed: 1, realShare: 1 })).toThrow(
      /Invalid real share/,
    );
  });
});

describe('buildLabelItems', () => {
  const sources = [
    { name: 'real', texts: Array.from({ length: 50 }, (_, i) => `real sentence ${i}`) },
    { name: 'gan', texts: Array.from({ length: 30 }, (_, i) => `gan sentence ${i}`) },
    { name: 'markov', texts: Array.from({ length: 30 }, (_, i) => `markov sentence ${i}`) },
  ];

  it('repeats the mix for a seed', () => {
    const first = buildLabelItems(sources, { count: 20, seed: 7, realShare: 0.5 });
    const second = buildLabelItems(sources, { count: 20, seed: 7, realShare: 0.5 });
    expect(second).toEqual(first);
  });

  it('changes the mix with the seed', () => {
    const first = buildLabelItems(sources, { count: 20, seed: 7, realShare: 0.5 });
    const other = buildLabelItems(sources, { count: 20, seed: 8, realShare: 0.5 });
    expect(other.map((item) => item.text)).not.toEqual(first.map((item) => item.text));
  });

  it('numbers items and keeps their sources', () => {
    const items = buildLabelItems(sources, { count: 20, seed: 3, realShare: 0.5 });
    expect(items.map((item) => item.id)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    for (const item of items) expect(item.text.startsWith(`${item.source} sentence`)).toBe(true);
    const bySource = (name: string) => items.filter((item) => item.source === name);
    expect(bySource('real')).toHaveLength(10);
    expect(bySource('gan')).toHaveLength(5);
    expect(bySource('markov')).toHaveLength(5);
    expect(new Set(items.map((item) => item.text)).size).toBe(20);
  });

  it('shuffles the sources together', () => {
    const items = buildLabelItems(sources, { count: 20, seed: 3, realShare: 0.5 });
    const firstHalf = items.slice(0, 10).map((item) => item.source);
    expect(new Set(firstHalf).size).toBeGreaterThan(1);
  });

  it('rejects a source with too few texts', () => {
    const small = [sources[0]!, { name: 'gan', texts: ['gan sentence 0'] }];
    expect(() => buildLabelItems(small, { count: 10, seed: 1, realShare: 0.5 })).toThrow(
      /Source "gan" has 1 texts but the mix needs 5/,
    );
  });
});
