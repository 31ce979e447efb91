import { describe, expect, it } from 'vitest';
import { filterFromParams, filterFromRequest, NON_FILTER_PARAMS } from './params.js';
import { combineFilters, parseFilter } from './normalize.js';
import { MATCH_ALL } from './filter.js';

describe('filterFromParams', () => {
  it('reads every key and alias, ORs repeated parameters and ANDs different ones', () => {
    expect(
      filterFromParams({
        action: ['job.created', 'Job.Deleted'],
        crud: 'DELETE',
        resource_type: 'Job',
        target_type: 'run',
        'meta.BuildId': 'b 1',
        build_reason: 'autostart',
        is: 'system',
        date_from: '2026-05-01',
        until: '2026-05-31',
        ip: '10.1.2.3/8',
        Actor: 'alex',
      }),
    ).toStrictEqual(
      parseFilter(
        'action:job.created action:job.deleted operation:delete target_type:job target_type:run ' +
          'meta.BuildId:"b 1" build_reason:autostart is:system since:2026-05-01 until:2026-05-31 ' +
          'ip:10.0.0.0/8 actor:alex',
      ),
    );
  });

  it('takes values literally: no quoting, no negation', () => {
    expect(filterFromParams({ target: '-"x y"' })).toStrictEqual({
      clauses: [{ key: 'target', negated: false, values: ['-"x y"'] }],
    });
  });

  it('skips the route parameters and undefined values', () => {
    const routeParams = Object.fromEntries(NON_FILTER_PARAMS.map((name) => [name, 'x']));
    expect(filterFromParams({ ...routeParams, action: undefined })).toStrictEqual(MATCH_ALL);
  });

  it('refuses unknown parameters, naming them and the known ones', () => {
    expect(() => filterFromParams({ actions: 'job.created' })).toThrow(
      /^Unknown parameter "actions" in parameter "actions" \(value "job\.created"\); filter parameters: action, .*; other parameters: q, cursor, limit, format, type, as_of$/,
    );
  });

  it('names the parameter and value of a bad value', () => {
    expect(() => filterFromParams({ ip: ['10.0.0.0/8', 'nope'] })).toThrow(
      'Invalid IP address or CIDR range "nope" in parameter "ip" (value "nope"); write an address (203.0.113.7, 2001:db8::1) or a range (10.0.0.0/8, 2001:db8::/32)',
    );
    expect(() => filterFromParams({ actor: '' })).toThrow(
      'Empty value for "actor" in parameter "actor" (value "")',
    );
    expect(() => filterFromParams({ since: '2026-05-01', date_from: '2026-05-02' })).toThrow(
      '"since" is given twice in parameter "date_from" (value "2026-05-02"); a time range has one start',
    );
  });
});

describe('combineFilters', () => {
  it('ANDs different keys and takes the time range from either side', () => {
    expect(
      combineFilters(
        parseFilter('action:a since:2026-05-01'),
        parseFilter('actor:b until:2026-05-02'),
      ),
    ).toStrictEqual(parseFilter('action:a actor:b since:2026-05-01 until:2026-05-02'));
  });

  it('merges negated clauses and keeps the narrower of nested plain ones', () => {
    expect(
      combineFilters(parseFilter('-action:a action:x action:y'), parseFilter('-action:b action:x')),
    ).toStrictEqual(parseFilter('-action:a -action:b action:x'));
    expect(combineFilters(parseFilter('is:system'), parseFilter('is:system'))).toStrictEqual(
      parseFilter('is:system'),
    );
  });

  it('refuses what one query cannot say', () => {
    expect(() => combineFilters(parseFilter('action:a'), parseFilter('action:b'))).toThrow(
      'Both queries ask for "action" with different values (a / b); the values of one key are ORed, so write them in one query',
    );
    expect(() =>
      combineFilters(parseFilter('since:2026-05-01'), parseFilter('since:2026-05-02')),
    ).toThrow('"since" is given twice (once in each query); a time range has one start');
    expect(() =>
      combineFilters(parseFilter('since:2026-05-03'), parseFilter('until:2026-05-02')),
    ).toThrow(
      'Empty time range: since 2026-05-03T00:00:00.000Z is not before until 2026-05-03T00:00:00.000Z (exclusive)',
    );
  });
});

describe('filterFromRequest', () => {
  it('ANDs q with the plain parameters', () => {
    expect(
      filterFromRequest({ q: 'action:job.* -is:system', actor: 'alex', cursor: 'c', limit: '50' }),
    ).toStrictEqual(parseFilter('action:job.* -is:system actor:alex'));
    expect(filterFromRequest({})).toStrictEqual(MATCH_ALL);
  });

  it('reports q errors with positions in q and refuses a repeated q', () => {
    expect(() => filterFromRequest({ q: 'action:a foo:b' })).toThrow(
      /^Unknown key "foo" at position 9 \(term "foo:b"\)/,
    );
    expect(() => filterFromRequest({ q: ['a', 'b'] })).toThrow(
      'Parameter "q" is given more than once in parameter "q" (value "b"); send one q',
    );
  });
});
