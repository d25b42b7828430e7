import { describe, expect, it } from 'vitest';
import { formatProgress, formatRunning } from '../cli/watch';
import type { PipelineStatus } from '../workflows/pipeline';

const stages: PipelineStatus['stages'] = [
  { name: 'markov', status: 'done' },
  { name: 'train scalar', status: 'running' },
  { name: 'train word2vec', status: 'running' },
  { name: 'train bert', status: 'running' },
];

describe('progress lines', () => {
  it('formats steps with a share', () => {
    expect(formatProgress('train bert', { phase: 'epoch 1/2', done: 31, total: 62, unit: 'steps' })).toBe(
      'train bert: epoch 1/2 31/62 steps (50%)',
    );
  });

  it('shows branches by their heartbeats', () => {
    const progress = new Map([
      ['train word2vec', { phase: 'epoch 2/2', done: 150, total: 300, unit: 'steps' }],
    ]);
    expect(formatRunning(stages, progress)).toBe(
      'train word2vec: epoch 2/2 150/300 steps (50%) | waiting: train scalar, train bert',
    );
  });

  it('lists queued stages without heartbeats', () => {
    expect(formatRunning(stages, new Map())).toBe('waiting: train scalar, train word2vec, train bert');
  });
});
