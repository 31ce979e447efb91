/**
 * The witness's HTTP face: `POST /add-checkpoint` as c2sp.org/tlog-witness specifies it, plus
 * `GET /healthz`. A 409 carries the witness's size as text/x.tlog.size (the spec's one body the
 * log must parse); every other refusal is RFC 9457 problem JSON with a registry code, whose
 * status is the one the spec names.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { TrailkeepError } from '../core/errors.js';
import { formatWitnessSize } from '../core/tlog/witness.js';
import { problemErrorHandler, sendProblem } from '../http/problem.js';
import type { Witness } from './witness.js';

/** A checkpoint with 100 signatures and 63 proof lines is ~20 KiB; leave room, refuse floods. */
export const WITNESS_BODY_LIMIT = 256 * 1024;

export function witnessApp(witness: Witness): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: WITNESS_BODY_LIMIT });
  // The spec's bodies are plain text whatever the client labels them: read every type as bytes.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => {
    done(null, body);
  });
  app.setErrorHandler(problemErrorHandler);
  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      reply,
      new TrailkeepError('not_found', `no route ${request.method} ${request.url}`),
    ),
  );

  app.get('/healthz', () => ({ status: 'ok', witness: witness.name }));

  app.post('/add-checkpoint', async (request, reply) => {
    const raw = request.body;
    if (!Buffer.isBuffer(raw) || raw.length === 0) {
      throw new TrailkeepError('bad_request', 'the add-checkpoint body is empty');
    }
    let body: string;
    try {
      body = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(raw);
    } catch {
      throw new TrailkeepError('invalid_utf8', 'the add-checkpoint body is not valid UTF-8');
    }
    const answer = witness.addCheckpoint(body);
    if (answer.status === 409) {
      return reply.code(409).type('text/x.tlog.size').send(formatWitnessSize(answer.size));
    }
    return reply.code(200).type('text/plain; charset=utf-8').send(answer.body);
  });
  return app;
}
