import { describe, expect, it } from 'vitest';
import { ScoutCodes, ScoutError, abortReason, cancelled, codeName, invalidParams, isScoutError } from './errors.js';

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

  it('takes the number from the name: INVALID_PARAMS is -32602 without being told (it went out as -32603 unless a caller passed it)', () => {
    expect(new ScoutError('INVALID_PARAMS', 'x').toJSON().code).toBe(-32602);
    expect(invalidParams('fs.write', 'content', 'is not valid base64').toJSON()).toEqual({
      code: -32602,
      message: "invalid params for fs.write: 'content' is not valid base64",
      data: { code: 'INVALID_PARAMS', method: 'fs.write' },
    });
    expect(new ScoutError('METHOD_NOT_FOUND', 'x').rpcCode).toBe(-32601);
    expect(new ScoutError('INTERNAL_ERROR', 'x').rpcCode).toBe(-32603);
  });

  it('reads an unknown name or number from the wire as INTERNAL_ERROR, keeping the message', () => {
    const e = ScoutError.fromRpc({ code: -31000, message: 'odd', data: { code: 'NOT_A_CODE', x: 1 } });
    expect(e.code).toBe('INTERNAL_ERROR');
    expect(e.message).toBe('odd');
    expect(codeName(-31000)).toBe('INTERNAL_ERROR');
  });

  it('words cancellation one way, and keeps an abort reason that is already a Scout error', () => {
    expect(cancelled('command on web1', { host: 'web1' }).message).toBe('command on web1 was cancelled');
    const c = new AbortController();
    expect(abortReason(c.signal, 'the transfer').code).toBe('CANCELLED');
    c.abort(new ScoutError('SHUTTING_DOWN', 'scoutd is shutting down'));
    expect(abortReason(c.signal, 'the transfer').code).toBe('SHUTTING_DOWN');
  });
});
