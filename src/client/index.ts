/**
 * `trailkeep/client`: the SDK for sending events to Trailkeep and reading them back, change
 * tracking helpers and Express/Fastify middleware. Loads nothing from the server (no database
 * drivers, no Fastify): see docs/sdk.md.
 */
export { TrailkeepClient } from './client.js';
export type { RecordInput, TrailkeepClientOptions } from './client.js';
export type { RetryOptions } from './backoff.js';
export { AuthError, BufferFullError, TrailkeepClientError, ValidationError } from './errors.js';
export type { ClientErrorCode, Problem, RejectedEvent } from './errors.js';
export type { EventsQuery } from './query.js';
export { defineResource } from './resource.js';
export type { Resource } from './resource.js';
export type { FieldRule, ResourceSchema } from '../core/changes.js';
export type { FetchLike } from './transport.js';
export type {
  AuditFunction,
  AuditInput,
  AuditMiddlewareOptions,
  TrustProxy,
} from './middleware/context.js';
export { trailkeepExpress } from './middleware/express.js';
export { trailkeepFastify } from './middleware/fastify.js';
export type {
  Actor,
  ActorType,
  Change,
  EventContext,
  EventInput,
  Operation,
  Outcome,
  StoredEvent,
  Target,
} from '../core/event.js';
export type { Issue } from '../core/errors.js';
export type { JsonObject, JsonValue } from '../core/json.js';
