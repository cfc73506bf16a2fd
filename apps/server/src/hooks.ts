/**
 * Routes that take no bearer token: the signed callback URLs of Request triggers (the hot path:
 * no database read, see HttpTriggerService) and the OAuth 2.0 client-credentials token endpoint.
 */
import type { FastifyInstance } from 'fastify';
import { PatchbayError } from '@patchbay/core';
import type { Platform } from '@patchbay/platform';

/** Registers `/api/v1/hooks/{keyId}/invoke` and `POST /api/v1/oauth/token`. */
export function registerHooks(app: FastifyInstance, platform: Platform): void {
  const triggers = platform.triggers;
  app.route({
    method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
    url: '/api/v1/hooks/:keyId/invoke',
    config: { auth: false },
    schema: {
      tags: ['flows'],
      summary:
        "a Request trigger's callback URL (listCallbackUrl): starts a run; answers with the flow's Response, or 202 with the run id",
      security: [],
      params: { type: 'object', properties: { keyId: { type: 'string' } }, required: ['keyId'] },
      querystring: {
        type: 'object',
        properties: {
          sig: { type: 'string', description: 'signature of the URL (part of the URL returned by listCallbackUrl)' },
        },
        additionalProperties: { type: 'string' },
      },
      response: {
        202: {
          description: 'the flow has no Response action: the run id',
          type: 'object',
          properties: { runId: { type: 'string' }, status: { type: 'string' } },
        },
        '4xx': { $ref: 'Error#' },
      },
    },
    handler: async (req, reply) => {
      const q = req.query as Record<string, string>;
      let queries: Record<string, string> | undefined;
      for (const k in q) {
        if (k === 'sig') continue;
        (queries ??= {})[k] = q[k]!;
      }
      const answer = await triggers.invoke({
        keyId: (req.params as { keyId: string }).keyId,
        sig: q.sig,
        method: req.method,
        body: req.body,
        headers: req.headers as Record<string, string>,
        ...(queries ? { queries } : {}),
      });
      reply.code(answer.statusCode).headers(answer.headers);
      if (answer.statusCode === 202) return answer.body;
      const body = answer.body;
      if (body === null || body === undefined) return reply.send('');
      if (typeof body === 'string') return reply.send(body);
      if (!reply.hasHeader('content-type')) reply.type('application/json; charset=utf-8');
      return reply.send(JSON.stringify(body));
    },
  });

  app.post(
    '/api/v1/oauth/token',
    {
      config: { auth: false },
      schema: {
        tags: ['auth'],
        summary:
          'client credentials grant (RFC 6749 §4.4): a service principal exchanges its client id and secret for a short-lived access token',
        security: [],
        body: {
          type: 'object',
          properties: {
            grant_type: { type: 'string' },
            client_id: { type: 'string' },
            client_secret: { type: 'string' },
            scope: { type: 'string' },
          },
          required: ['grant_type'],
        },
        response: {
          200: {
            type: 'object',
            properties: {
              access_token: { type: 'string' },
              token_type: { type: 'string' },
              expires_in: { type: 'integer' },
            },
          },
          '4xx': { $ref: 'Error#' },
        },
      },
    },
    async (req, reply) => {
      const b = req.body as { grant_type: string; client_id?: string; client_secret?: string };
      if (b.grant_type !== 'client_credentials') {
        throw new PatchbayError({
          code: 'UNSUPPORTED_GRANT_TYPE',
          message: `grant_type must be client_credentials (got ${b.grant_type})`,
          category: 'invalid',
          details: { field: 'grant_type' },
        });
      }
      let clientId = b.client_id;
      let clientSecret = b.client_secret;
      const h = req.headers.authorization;
      if (h && /^basic\s+/i.test(h)) {
        const text = Buffer.from(h.replace(/^basic\s+/i, ''), 'base64').toString('utf8');
        const i = text.indexOf(':');
        if (i > 0) {
          clientId = decodeURIComponent(text.slice(0, i));
          clientSecret = decodeURIComponent(text.slice(i + 1));
        }
      }
      if (!clientId || !clientSecret) {
        throw new PatchbayError({
          code: 'INVALID_CLIENT',
          message: 'client_id and client_secret are required (form fields or HTTP Basic)',
          category: 'unauthenticated',
          details: {},
        });
      }
      const r = await platform.auth.exchangeClientCredentials({ clientId, clientSecret });
      reply.header('cache-control', 'no-store');
      return { access_token: r.accessToken, token_type: 'Bearer', expires_in: r.expiresIn };
    },
  );
}
