/**
 * A throwaway HTTP server on 127.0.0.1 that answers each request as a test scripts it (503 with
 * Retry-After, 429, 400 naming event 2, 201...). It only exercises the client's back-off and
 * error handling; it is not a stand-in for Trailkeep, whose behaviour the acceptance tests
 * check against the real server.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ScriptedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  /** Events of a POST `{ events: [...] }` body (empty otherwise). */
  events: Array<{ id?: string; action?: string; [key: string]: unknown }>;
  at: number;
}

export interface ScriptedResponse {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export type Script = (request: ScriptedRequest, index: number) => ScriptedResponse;

export interface ScriptedServer {
  url: string;
  requests: ScriptedRequest[];
  close(): Promise<void>;
}

/** Acknowledges a batch the way Trailkeep does (201 and one entry per event). */
export function acknowledge(request: ScriptedRequest): ScriptedResponse {
  return {
    status: 201,
    body: {
      events: request.events.map((event, i) => ({
        id: event.id,
        seq: i + 1,
        hash: 'x',
        created: true,
      })),
    },
  };
}

export async function startScriptedServer(script: Script): Promise<ScriptedServer> {
  const requests: ScriptedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let events: ScriptedRequest['events'] = [];
      if (body !== '') {
        const parsed = JSON.parse(body) as { events?: ScriptedRequest['events'] };
        events = parsed.events ?? [];
      }
      const request: ScriptedRequest = {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        headers: req.headers,
        body,
        events,
        at: Date.now(),
      };
      requests.push(request);
      const answer = script(request, requests.length - 1);
      const isProblem = answer.status >= 400;
      res.writeHead(answer.status, {
        'content-type': isProblem ? 'application/problem+json' : 'application/json',
        ...answer.headers,
      });
      res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error === undefined ? resolve() : reject(error)));
      }),
  };
}
