import { describe, expect, it } from 'vitest';
import { TrailkeepError } from '../../core/errors.js';
import { describeTarget, poolSettings } from './driver.js';

describe('pool settings in the database URL', () => {
  it('takes Trailkeep settings out of the URL and leaves the driver its own', () => {
    const { url, options } = poolSettings(
      'postgres://app:pw@db.internal:6432/audit?pool_size=20&sslmode=require&statement_timeout_ms=15000',
    );
    expect(url).toBe('postgres://app:pw@db.internal:6432/audit?sslmode=require');
    expect(options).toEqual({ poolSize: 20, statementTimeoutMs: 15000 });
  });

  it('lets explicit options win over the URL', () => {
    expect(poolSettings('postgres://h/db?pool_size=20', { poolSize: 3 }).options).toEqual({
      poolSize: 3,
    });
  });

  it('refuses a setting that is not a positive whole number, naming it', () => {
    expect(() => poolSettings('postgres://h/db?pool_size=lots')).toThrow(TrailkeepError);
    expect(() => poolSettings('postgres://h/db?pool_size=0')).toThrow(/pool_size=0/);
  });

  it('names host and port for messages, never the password', () => {
    expect(describeTarget('postgres://app:secret@db.internal:6432/audit')).toBe('db.internal:6432');
    expect(describeTarget('postgres://db.internal/audit')).toBe('db.internal:5432');
  });
});
