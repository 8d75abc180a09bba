import { describe, expect, it } from 'vitest';
import { defaultSampleRatio, samplerFromEnv } from './tracing.ts';

describe('the trace sampler', () => {
  it('is parent-based with every root kept when nothing is set', () => {
    const { sampler, ratio } = samplerFromEnv({});
    expect(ratio).toBe(defaultSampleRatio);
    expect(ratio).toBe(1);
    expect(sampler.toString()).toMatch(/^ParentBased\{root=TraceIdRatioBased\{1\}/);
  });

  it('keeps the share of roots OTEL_TRACES_SAMPLER_ARG gives, still parent-based', () => {
    const { sampler, ratio } = samplerFromEnv({
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
    });
    expect(ratio).toBe(0.25);
    expect(sampler.toString()).toMatch(/^ParentBased\{root=TraceIdRatioBased\{0.25\}/);
  });

  it('refuses a sampler that would cut traces between services, and a ratio out of range, naming the setting', () => {
    expect(() => samplerFromEnv({ OTEL_TRACES_SAMPLER: 'traceidratio' })).toThrow(/^OTEL_TRACES_SAMPLER: /);
    expect(() => samplerFromEnv({ OTEL_TRACES_SAMPLER: 'always_on' })).toThrow(/^OTEL_TRACES_SAMPLER: /);
    for (const arg of ['1.5', '-0.1', 'half']) {
      expect(() => samplerFromEnv({ OTEL_TRACES_SAMPLER_ARG: arg })).toThrow(/^OTEL_TRACES_SAMPLER_ARG: /);
    }
  });
});
