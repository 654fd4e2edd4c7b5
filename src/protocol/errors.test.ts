import { describe, expect, it } from 'vitest';
import { ScoutCodes, ScoutError, codeName, isScoutError } from './errors.js';

describe('the error table', () => {
  it('gives every Scout code a distinct number in the JSON-RPC server range', () => {
    const nums = Object.values(ScoutCodes);
    expect(new Set(nums).size).toBe(nums.length);
    for (const n of nums) expect(n >= -32099 && n <= -32000).toBe(true);
  });

  it('round-trips an error through its wire form', () => {
    const e = new ScoutError('HOST_KEY_MISMATCH', 'host key for web1 changed', { host: 'web1' });
    const wire = JSON.parse(JSON.stringify(e.toJSON()));
    expect(wire).toEqual({ code: -32006, message: 'host key for web1 changed', data: { code: 'HOST_KEY_MISMATCH', host: 'web1' } });
    const back = ScoutError.fromRpc(wire);
    expect(isScoutError(back, 'HOST_KEY_MISMATCH')).toBe(true);
    expect(back.details).toEqual({ host: 'web1' });
  });

  it('names standard codes', () => {
    expect(codeName(-32602)).toBe('INVALID_PARAMS');
    expect(codeName(-32001)).toBe('UNKNOWN_HOST');
  });
});
