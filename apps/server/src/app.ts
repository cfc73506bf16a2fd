/**
 * The Patchbay HTTP API (issue 8): a Fastify 5 application over a {@link Platform}.
 *
 * - Every route under `/api/v1` needs a bearer token (API token or client-credentials access
 *   token), the OpenAPI document included, except `GET /api/v1/health`, `POST /api/v1/oauth/token`
 *   (authenticated by the client credentials) and the signed callback URLs
 *   `/api/v1/hooks/{keyId}/invoke` (authenticated by their signature).
 * - Errors are `{code, message, details}` with the codes of the CLI; the HTTP status follows the
 *   error category (`httpStatusFor` in @patchbay/core): 400 invalid, 401 unauthenticated, 403
 *   permission, 404 not found, 409 conflict / not ready, 500 secret / internal.
 * - Request and response schemas are declared on every route; the OpenAPI 3 document is
 *   generated from them by @fastify/swagger.
 */
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { httpStatusFor, isPatchbayError, type Principal } from '@patchbay/core';
import type { ExecutionService, Platform } from '@patchbay/platform';
import { registerRoutes } from './routes.js';
import { registerHooks } from './hooks.js';
import { registerOperations } from './operations.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    /** false: the route needs no bearer token. */
    auth?: boolean;
  }
}

/** Options of {@link buildApp}. */
export interface BuildAppOptions {
  platform: Platform;
  /** Fastify logger (default off; `patchbay serve --log` turns request logging on). */
  logger?: boolean;
  /** Largest request body in bytes (default 64 MiB: solution packages are uploaded as base64). */
  bodyLimit?: number;
  /**
   * Queued durable execution (issue 9, docs/operations.md): callback-URL runs of flows that do I/O
   * and manual runs go through its queue, cancel reaches queued runs. Absent: runs run in-process.
   */
  execution?: ExecutionService;
}

const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'REQUEST_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'REQUEST_MEDIA_TYPE_UNSUPPORTED',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'REQUEST_BODY_EMPTY',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'REQUEST_INVALID',
};

/** The wire shape of every error. */
export const errorSchema = {
  $id: 'Error',
  type: 'object',
  description:
    'Every error: a stable code (the same as the CLI), a message, and details naming the object concerned. Never holds a secret.',
  properties: {
    code: { type: 'string' },
    message: { type: 'string' },
    details: { type: 'object', additionalProperties: true },
  },
  required: ['code', 'message', 'details'],
} as const;

function sendError(
  reply: FastifyReply,
  status: number,
  body: { code: string; message: string; details: Record<string, unknown> },
): FastifyReply {
  if (status === 401) reply.header('www-authenticate', 'Bearer');
  return reply.status(status).send(body);
}

/** Builds the Fastify application (not listening yet). */
export async function buildApp(o: BuildAppOptions): Promise<FastifyInstance> {
  const { platform } = o;
  const app = Fastify({
    logger: o.logger ?? false,
    bodyLimit: o.bodyLimit ?? 64 * 1024 * 1024,
    return503OnClosing: true,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
  });
  app.decorateRequest('principal', null);
  app.addSchema(errorSchema);
  // application/x-www-form-urlencoded for the OAuth token endpoint (RFC 6749 §4.4.2).
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });
  // Raw bodies of other types for callback URLs (text, XML, …): kept as text.
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Patchbay API',
        version: '1.0.0',
        description:
          'The Power Platform connection model, self-hosted: environments, principals, connectors, connections, connection references, solutions, flows and runs. See docs/api.md.',
      },
      components: {
        securitySchemes: {
          bearer: {
            type: 'http',
            scheme: 'bearer',
            description: 'API token (pbt_…) or client-credentials access token',
          },
        },
      },
      security: [{ bearer: [] }],
    },
    refResolver: {
      buildLocalReference: (json, _base, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
    },
  });

  app.setErrorHandler(
    (
      err: Error & { statusCode?: number; code?: string; validation?: unknown; validationContext?: string },
      req,
      reply,
    ) => {
      if (isPatchbayError(err))
        return sendError(reply, httpStatusFor(err.category), {
          code: err.code,
          message: err.message,
          details: err.details,
        });
      if (err.validation) {
        return sendError(reply, 400, {
          code: 'REQUEST_INVALID',
          message:
            `${err.validationContext ?? 'request'} ${err.message.replace(/^(body|querystring|params|headers)\/?/, '')}`.trim(),
          details: { in: err.validationContext ?? 'request', validation: err.validation },
        });
      }
      if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
        return sendError(reply, err.statusCode, {
          code: FASTIFY_CODES[err.code ?? ''] ?? 'REQUEST_INVALID',
          message: err.message,
          details: {},
        });
      }
      req.log.error(err);
      return sendError(reply, 500, { code: 'INTERNAL', message: 'internal error (see the server log)', details: {} });
    },
  );
  app.setNotFoundHandler((req, reply) =>
    sendError(reply, 404, {
      code: 'ROUTE_NOT_FOUND',
      message: `no route ${req.method} ${req.url.split('?')[0]}`,
      details: { method: req.method },
    }),
  );

  // Callback style (no promise per request on the routes that need no token, e.g. callback URLs).
  app.addHook('onRequest', (req: FastifyRequest, _reply, done) => {
    if (req.routeOptions.config.auth === false || !req.routeOptions.url) return done();
    const h = req.headers.authorization;
    const token = h && /^bearer\s+/i.test(h) ? h.replace(/^bearer\s+/i, '').trim() : undefined;
    platform.auth.authenticate(token).then((p) => {
      req.principal = p;
      done();
    }, done);
  });

  app.get(
    '/api/v1/health',
    {
      config: { auth: false },
      schema: {
        tags: ['health'],
        summary: 'liveness and store kind (no token needed)',
        security: [],
        response: { 200: { type: 'object', properties: { status: { type: 'string' }, store: { type: 'string' } } } },
      },
    },
    async () => ({
      status: 'ok',
      store: platform.store.kind,
    }),
  );
  // The OpenAPI document needs a token too: nothing but health answers without one (issue 8).
  app.get('/api/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  registerHooks(app, platform);
  registerRoutes(app, platform, o.execution);
  registerOperations(app, platform, o.execution);
  return app;
}
