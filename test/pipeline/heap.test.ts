import { describe, expect, it } from 'vitest';
import { HEAP_GROWING_PERCENT, heapPolicyFlag } from '../../src/pipeline/heap.ts';

describe('the heap policy', () => {
  it('lets the heap grow a fifth past what survived the last full collection', () => {
    expect(heapPolicyFlag([], undefined)).toBe(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
    expect(heapPolicyFlag(['--import', 'tsx'], '--max-old-space-size=512')).toBe('--heap-growing-percent=20');
  });

  it("leaves an operator's own choice alone, however it is spelled and wherever it is given", () => {
    expect(heapPolicyFlag(['--heap-growing-percent=50'], undefined)).toBeNull();
    expect(heapPolicyFlag([], '--max-old-space-size=512 --heap_growing_percent=5')).toBeNull();
    expect(heapPolicyFlag([], '--heap-growing-percent')).toBeNull();
    expect(heapPolicyFlag(['--heap-growing-percentage=5'], undefined)).not.toBeNull();
  });
});
