/**
 * The API's route modules, one per resource. Each registers its routes under /api/v1 on the app
 * it is given and declares `config.access` on every route; a new resource plugs in by adding
 * one line to API_ROUTES.
 */
import type { FastifyInstance } from 'fastify';
import type { HttpContext } from '../context.js';
import { eventRoutes } from './events.js';
import { exportRoutes } from './export.js';
import { invitationRoutes } from './invitations.js';
import { keyRoutes } from './keys.js';
import { logRoutes } from './log.js';
import { memberRoutes } from './members.js';
import { sessionRoutes } from './session.js';
import { verifyRoutes } from './verify.js';

export type RouteModule = (app: FastifyInstance, ctx: HttpContext) => void;

export const API_ROUTES: readonly RouteModule[] = [
  sessionRoutes,
  eventRoutes,
  verifyRoutes,
  logRoutes,
  exportRoutes,
  keyRoutes,
  memberRoutes,
  invitationRoutes,
];
