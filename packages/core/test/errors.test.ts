import { describe, expect, it } from 'vitest';
import { ExitCode, PatchbayError, exitCodeFor, forbidden, isPatchbayError } from '@patchbay/core';

describe('PatchbayError', () => {
  it('carries a stable code, a kind and a category', () => {
    const e = forbidden('BIND_NOT_SHARED', 'no share', { connection: 'c1' });
    expect(e).toBeInstanceOf(PatchbayError);
    expect(e.code).toBe('BIND_NOT_SHARED');
    expect(e.kind).toBe('user');
    expect(exitCodeFor(e.category)).toBe(ExitCode.PermissionDenied);
    expect(e.toJSON()).toEqual({ code: 'BIND_NOT_SHARED', message: 'no share', details: { connection: 'c1' } });
    expect(isPatchbayError(e)).toBe(true);
    expect(isPatchbayError(new Error('x'))).toBe(false);
  });
});
