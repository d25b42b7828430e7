import { describe, expect, it } from 'vitest';
import { ZodError } from 'zod';
import { defaultPreset, ganConfigSchema, resolveGanConfig, studyPreset } from '../ml/config';

describe('GAN presets', () => {
  it('both presets pass the schema', () => {
    expect(ganConfigSchema.parse(defaultPreset)).toEqual(defaultPreset);
    expect(ganConfigSchema.parse(studyPreset)).toEqual(studyPreset);
  });

  it('default fixes the study faults', () => {
    expect(defaultPreset.objective).toBe('standard');
    expect(defaultPreset.recurrence).toBe('time');
    expect(defaultPreset.noise).toBe('normal');
    expect(defaultPreset.seqLen).toBeGreaterThanOrEqual(32);
    expect(defaultPreset.seqLen).toBeLessThanOrEqual(48);
    expect(defaultPreset.maxStepsPerEpoch).not.toBeNull();
  });

  it('study keeps the published settings', () => {
    expect(studyPreset).toMatchObject({
      seqLen: 1200,
      hiddenSize: 20,
      layers: 2,
      batchSize: 500,
      learningRate: 0.0005,
      momentum: 0.9,
      clipNorm: 100,
      epochs: 10,
      dropout: 0.5,
      objective: 'study',
    });
  });
});

describe('resolveGanConfig', () => {
  it('applies overrides', () => {
    expect(resolveGanConfig('default', { seqLen: 32 }).seqLen).toBe(32);
    expect(resolveGanConfig('study', { seqLen: 40 }).batchSize).toBe(500);
  });

  it('names the invalid field', () => {
    expect(() => resolveGanConfig('default', { dropout: 1 })).toThrow(ZodError);
    expect(() => resolveGanConfig('default', { dropout: 1 })).toThrow(/dropout/);
    expect(() => resolveGanConfig('default', { batchSize: 0 })).toThrow(/batchSize/);
  });

  it('rejects unknown fields', () => {
    expect(() => resolveGanConfig('default', { inputSize: 12 } as never)).toThrow(/inputSize/);
  });
});
