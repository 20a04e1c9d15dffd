import { describe, expect, it } from 'vitest';
import { formatBilledTime } from './billed-time.ts';

describe('formatBilledTime', () => {
  it('says billed time as people do, leaving out the zero parts', () => {
    expect(formatBilledTime(1260)).toBe('21 min');
    expect(formatBilledTime(450)).toBe('7 min 30 s');
    expect(formatBilledTime(45)).toBe('45 s');
    expect(formatBilledTime(0)).toBe('0 s');
    expect(formatBilledTime(3600)).toBe('1 h');
    expect(formatBilledTime(7500)).toBe('2 h 5 min');
    expect(formatBilledTime(3661)).toBe('1 h 1 min 1 s');
    expect(formatBilledTime(3605)).toBe('1 h 5 s');
  });

  it('takes whole seconds, never below zero', () => {
    expect(formatBilledTime(59.6)).toBe('1 min');
    expect(formatBilledTime(-5)).toBe('0 s');
  });
});
