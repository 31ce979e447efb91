/**
 * Where the viewer goes after sign-in (`/login?next=`): always a path on its own origin, never
 * an address that a browser or a decoder reads as another origin (which would also make
 * history.replaceState throw and leave the page stuck).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { safeNext } from '../../web/src/routes.js';

const ORIGIN = 'https://audit.example.com';

function staysHome(next: string): void {
  const result = safeNext(next);
  expect(result.startsWith('/')).toBe(true);
  expect(new URL(result, ORIGIN).origin).toBe(ORIGIN);
  expect(result).not.toMatch(/^\/[/\\]/);
  expect([...result].some((c) => c === '\\' || c < ' ' || c === '\u007f')).toBe(false);
}

describe('safeNext', () => {
  it('keeps paths on this origin', () => {
    expect(safeNext('/w/acme?q=action%3Ajob.*')).toBe('/w/acme?q=action%3Ajob.*');
    expect(safeNext('/w/acme/history/user/u_1#top')).toBe('/w/acme/history/user/u_1#top');
  });

  it('sends anything that could leave the origin home', () => {
    for (const next of [
      '/\\evil.example',
      '\\\\evil.example',
      '//evil.example',
      '/%2F%2Fevil.example',
      '/%5Cevil.example',
      '/\t/evil.example',
      '/\n/evil.example',
      'https://evil.example/',
      'javascript:alert(1)',
      '%2F%2Fevil.example',
      '/%E0%A4%A',
      '/login?next=/w/acme',
      '',
    ]) {
      expect(safeNext(next), JSON.stringify(next)).toBe('/');
    }
  });

  it('never returns an address off this origin, whatever it is given', () => {
    const piece = fc.constantFrom(
      '/',
      '\\',
      '%2F',
      '%5C',
      '%2f',
      '\t',
      '\n',
      '\u0000',
      '.',
      '..',
      ':',
      '@',
      '?',
      '#',
      'evil.example',
      'w',
      'acme',
      '%',
      '%25',
      'http:',
      '//',
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary' }),
          fc.array(piece, { maxLength: 8 }).map((p) => p.join('')),
        ),
        (next) => staysHome(next),
      ),
      { numRuns: 5000 },
    );
  });
});
