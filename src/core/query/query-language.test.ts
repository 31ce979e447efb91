import { describe, expect, it } from 'vitest';
import type { Clause, ClauseKey, Filter } from './filter.js';
import { parseFilter } from './normalize.js';
import { parseQuery } from './parse.js';
import { printFilter, printQuery } from './print.js';

const clause = (
  key: ClauseKey,
  values: string[],
  options: { negated?: boolean; metaKey?: string } = {},
): Clause => ({
  key,
  ...(options.metaKey === undefined ? {} : { metaKey: options.metaKey }),
  negated: options.negated ?? false,
  values,
});

interface Case {
  input: string;
  filter: Filter;
  printed: string;
}

const only = (...clauses: Clause[]): Filter => ({ clauses });

const CASES: Case[] = [
  { input: '', filter: only(), printed: '' },
  { input: '  \t\n ', filter: only(), printed: '' },
  // action: exact or glob, lower-cased, every naming style
  {
    input: 'action:job.created',
    filter: only(clause('action', ['job.created'])),
    printed: 'action:job.created',
  },
  {
    input: 'action:REPOSITORY_RUN_CLAIM',
    filter: only(clause('action', ['repository_run_claim'])),
    printed: 'action:repository_run_claim',
  },
  {
    input: 'action:job.* action:Invite.* action:job.*',
    filter: only(clause('action', ['invite.*', 'job.*'])),
    printed: 'action:invite.* action:job.*',
  },
  { input: 'action:job.**', filter: only(clause('action', ['job.*'])), printed: 'action:job.*' },
  {
    input: 'action:repo:push',
    filter: only(clause('action', ['repo:push'])),
    printed: 'action:"repo:push"',
  },
  {
    input: '-action:login',
    filter: only(clause('action', ['login'], { negated: true })),
    printed: '-action:login',
  },
  {
    input: 'action:create -action:delete',
    filter: only(clause('action', ['create']), clause('action', ['delete'], { negated: true })),
    printed: 'action:create -action:delete',
  },
  // category, actor, actor_type, username, email
  {
    input: 'category:Members',
    filter: only(clause('category', ['members'])),
    printed: 'category:members',
  },
  {
    input: 'category:"Auth & tokens"',
    filter: only(clause('category', ['auth & tokens'])),
    printed: 'category:"auth & tokens"',
  },
  { input: 'actor:Alex@', filter: only(clause('actor', ['alex@'])), printed: 'actor:alex@' },
  {
    input: 'actor_type:AGENT actor_type:user',
    filter: only(clause('actor_type', ['agent', 'user'])),
    printed: 'actor_type:agent actor_type:user',
  },
  {
    input: 'username:"Alex Kim"',
    filter: only(clause('username', ['alex kim'])),
    printed: 'username:"alex kim"',
  },
  {
    input: 'email:Alex@Example.com',
    filter: only(clause('email', ['alex@example.com'])),
    printed: 'email:alex@example.com',
  },
  // targets and their aliases; ids keep their case
  {
    input: 'target_type:workspace_build resource_type:Job',
    filter: only(clause('target_type', ['job', 'workspace_build'])),
    printed: 'target_type:job target_type:workspace_build',
  },
  {
    input: 'target_id:u_ABC resource_id:u_abc',
    filter: only(clause('target_id', ['u_ABC', 'u_abc'])),
    printed: 'target_id:u_ABC target_id:u_abc',
  },
  {
    input: 'target_id:"urn:job:1"',
    filter: only(clause('target_id', ['urn:job:1'])),
    printed: 'target_id:"urn:job:1"',
  },
  {
    input: 'target:"Sam@Example.com" resource_target:Sam',
    filter: only(clause('target', ['sam', 'sam@example.com'])),
    printed: 'target:sam target:sam@example.com',
  },
  {
    input: 'target:"say \\"hi\\" \\\\ bye"',
    filter: only(clause('target', ['say "hi" \\ bye'])),
    printed: 'target:"say \\"hi\\" \\\\ bye"',
  },
  // ip: addresses and CIDR ranges, v4 and v6, in canonical form
  {
    input: 'ip:203.0.113.7',
    filter: only(clause('ip', ['203.0.113.7/32'])),
    printed: 'ip:203.0.113.7/32',
  },
  { input: 'ip:10.1.2.3/8', filter: only(clause('ip', ['10.0.0.0/8'])), printed: 'ip:10.0.0.0/8' },
  {
    input: 'ip:"2001:DB8::1/32" -ip:2001:db8:0:0::7',
    filter: only(
      clause('ip', ['2001:db8::/32']),
      clause('ip', ['2001:db8::7/128'], { negated: true }),
    ),
    printed: 'ip:"2001:db8::/32" -ip:"2001:db8::7/128"',
  },
  // outcome, operation (crud)
  {
    input: 'outcome:FAILURE',
    filter: only(clause('outcome', ['failure'])),
    printed: 'outcome:failure',
  },
  {
    input: 'operation:delete crud:Update',
    filter: only(clause('operation', ['delete', 'update'])),
    printed: 'operation:delete operation:update',
  },
  // is:system
  { input: 'is:system', filter: only(clause('system', ['true'])), printed: 'is:system' },
  {
    input: '-IS:System',
    filter: only(clause('system', ['true'], { negated: true })),
    printed: '-is:system',
  },
  // meta.KEY keeps KEY's case; build_reason is meta.build_reason; values are exact
  {
    input: 'build_reason:autostart meta.build_reason:Initiator',
    filter: only(clause('meta', ['Initiator', 'autostart'], { metaKey: 'build_reason' })),
    printed: 'meta.build_reason:Initiator meta.build_reason:autostart',
  },
  {
    input: 'META.BuildId:"A B" meta.count:3 meta.note:""',
    filter: only(
      clause('meta', ['A B'], { metaKey: 'BuildId' }),
      clause('meta', ['3'], { metaKey: 'count' }),
      clause('meta', [''], { metaKey: 'note' }),
    ),
    printed: 'meta.BuildId:"A B" meta.count:3 meta.note:""',
  },
  // bare words: text search, ORed, lower-cased
  { input: 'Deploy', filter: only(clause('text', ['deploy'])), printed: 'deploy' },
  {
    input: 'Deploy -"Alex Kim" "-flag" "a:b"',
    filter: only(
      clause('text', ['-flag', 'a:b', 'deploy']),
      clause('text', ['alex kim'], { negated: true }),
    ),
    printed: '"-flag" "a:b" deploy -"alex kim"',
  },
  { input: '--x', filter: only(clause('text', ['-x'], { negated: true })), printed: '-"-x"' },
  { input: 'Ünïcødé 😀', filter: only(clause('text', ['ünïcødé', '😀'])), printed: 'ünïcødé 😀' },
  // keys are case-insensitive
  {
    input: 'ACTION:Job.Created Actor_Type:User',
    filter: only(clause('action', ['job.created']), clause('actor_type', ['user'])),
    printed: 'action:job.created actor_type:user',
  },
  // time: whole UTC days, or full ISO times with a zone
  {
    input: 'since:2026-05-12',
    filter: { since: '2026-05-12T00:00:00.000Z', clauses: [] },
    printed: 'since:2026-05-12',
  },
  {
    input: 'until:2026-05-12',
    filter: { until: '2026-05-13T00:00:00.000Z', clauses: [] },
    printed: 'until:2026-05-12',
  },
  {
    input: 'date_from:2026-05-01 date_to:2026-05-31 action:job.created',
    filter: {
      since: '2026-05-01T00:00:00.000Z',
      until: '2026-06-01T00:00:00.000Z',
      clauses: [clause('action', ['job.created'])],
    },
    printed: 'since:2026-05-01 until:2026-05-31 action:job.created',
  },
  {
    input: 'since:2026-05-12T09:30:00+02:00 until:2026-05-12T09:30:00.250Z',
    filter: { since: '2026-05-12T07:30:00.000Z', until: '2026-05-12T09:30:00.251Z', clauses: [] },
    printed: 'since:"2026-05-12T07:30:00.000Z" until:"2026-05-12T09:30:00.250Z"',
  },
  {
    input: 'since:2026-05-12t23:59z until:2026-05-12T23:59:59.999-00:30',
    filter: { since: '2026-05-12T23:59:00.000Z', until: '2026-05-13T00:30:00.000Z', clauses: [] },
    printed: 'since:"2026-05-12T23:59:00.000Z" until:"2026-05-13T00:29:59.999Z"',
  },
  {
    input: 'since:2024-02-29 until:2024-02-29',
    filter: { since: '2024-02-29T00:00:00.000Z', until: '2024-03-01T00:00:00.000Z', clauses: [] },
    printed: 'since:2024-02-29 until:2024-02-29',
  },
];

describe('query language', () => {
  it.each(CASES)('$input', ({ input, filter, printed }) => {
    expect(parseFilter(input)).toStrictEqual(filter);
    expect(printFilter(parseFilter(input))).toBe(printed);
    // The printed text is the same question.
    expect(parseFilter(printed)).toStrictEqual(filter);
  });

  it('keeps each term with its position, negation and canonical key', () => {
    expect(parseQuery('crud:delete  -"Alex Kim" build_reason:x')).toStrictEqual({
      terms: [
        { kind: 'field', key: 'operation', value: 'delete', negated: false, position: 0 },
        { kind: 'word', value: 'Alex Kim', negated: true, position: 13 },
        {
          kind: 'field',
          key: 'meta',
          metaKey: 'build_reason',
          value: 'x',
          negated: false,
          position: 25,
        },
      ],
    });
  });

  it('prints terms in canonical spelling and quotes what needs it', () => {
    expect(
      printQuery(parseQuery('resource_id:a -date_from:"2026-05-12" x "" -"-" meta.k:"a b"')),
    ).toBe('target_id:a -since:2026-05-12 x "" -"-" meta.k:"a b"');
  });

  it('freezes the tree and the filter', () => {
    const ast = parseQuery('action:a');
    expect(Object.isFrozen(ast)).toBe(true);
    expect(Object.isFrozen(ast.terms)).toBe(true);
    expect(Object.isFrozen(ast.terms[0])).toBe(true);
    const filter = parseFilter('action:a');
    expect(Object.isFrozen(filter.clauses[0]!.values)).toBe(true);
  });
});
