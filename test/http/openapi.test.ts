/**
 * The OpenAPI document is generated from the routes' schemas; an independent validator
 * (@seriousme/openapi-schema-validator) must accept it, and it must describe every route.
 */
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { call, startServer, type Server } from './support.js';

let server: Server;
let doc: { openapi: string; paths: Record<string, Record<string, Record<string, unknown>>> };

beforeAll(async () => {
  server = await startServer();
  const answer = await call(server, 'GET', '/openapi.json');
  expect(answer.status).toBe(200);
  doc = answer.body as typeof doc;
});

afterAll(async () => {
  await server.close();
});

test('an independent validator accepts the document as OpenAPI 3.1', async () => {
  const validator = new Validator();
  const result = await validator.validate(structuredClone(doc));
  expect(result.errors ?? []).toEqual([]);
  expect(result.valid).toBe(true);
  expect(validator.version).toBe('3.1');
});

test('it describes the agreed routes, each with responses and a problem default', () => {
  const expected = [
    'POST /api/v1/session',
    'GET /api/v1/session',
    'DELETE /api/v1/session',
    'GET /api/v1/workspaces',
    'POST /api/v1/workspaces/{ws}/events',
    'GET /api/v1/workspaces/{ws}/events',
    'GET /api/v1/workspaces/{ws}/events/{id}',
    'GET /api/v1/workspaces/{ws}/facets',
    'GET /api/v1/workspaces/{ws}/verify',
    'GET /api/v1/workspaces/{ws}/checkpoint',
    'GET /api/v1/workspaces/{ws}/log/vkeys',
    'GET /api/v1/workspaces/{ws}/log/checkpoint',
    'GET /api/v1/workspaces/{ws}/log/tile/{path}',
    'GET /api/v1/workspaces/{ws}/log/consistency',
    'GET /api/v1/workspaces/{ws}/events/{id}/proof',
    'GET /api/v1/workspaces/{ws}/settings/log',
    'PUT /api/v1/workspaces/{ws}/settings/log',
    'GET /api/v1/workspaces/{ws}/keys',
    'POST /api/v1/workspaces/{ws}/keys',
    'DELETE /api/v1/workspaces/{ws}/keys/{id}',
    'GET /api/v1/workspaces/{ws}/members',
    'POST /api/v1/workspaces/{ws}/members',
    'PATCH /api/v1/workspaces/{ws}/members/{user_id}',
    'GET /api/v1/workspaces/{ws}/invitations',
    'DELETE /api/v1/workspaces/{ws}/invitations/{id}',
    'GET /api/v1/invitations',
    'POST /api/v1/invitations/{id}/accept',
    'POST /api/v1/invitations/accept',
    'GET /healthz',
    'GET /openapi.json',
  ];
  const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
  );
  expect(documented).toEqual(expect.arrayContaining(expected));
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const responses = op['responses'] as Record<string, unknown>;
      expect(Object.keys(responses).length, `${method} ${path}`).toBeGreaterThan(1);
      expect(responses['default'], `${method} ${path}`).toBeDefined();
    }
  }
});

test('plain filter parameters and the ingest body are documented', () => {
  const page = doc.paths['/api/v1/workspaces/{ws}/events']!['get']!;
  const names = (page['parameters'] as Array<{ name: string }>).map((p) => p.name);
  expect(names).toEqual(
    expect.arrayContaining(['q', 'limit', 'cursor', 'count', 'action', 'actor', 'since', 'crud']),
  );
  const ingest = doc.paths['/api/v1/workspaces/{ws}/events']!['post']!;
  expect(JSON.stringify(ingest['requestBody'])).toContain('#/components/schemas/EventBatch');
});
