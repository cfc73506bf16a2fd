/**
 * The outbound HTTP client against a real server on 127.0.0.1: policy (loopback, metadata,
 * allow/deny lists), redirects, size cap, timeouts and body decoding.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { execFileSync } from 'node:child_process';
import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyAddress, createHttpClient, decodeBody, denyReason, isRetryableHttpError } from '@patchbay/connectors';

let server: Server;
let base = '';
let port = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    switch (url.pathname) {
      case '/json':
        res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"a":1}');
        break;
      case '/redirect':
        res.writeHead(302, { Location: `/redirect-target?auth=${req.headers.authorization ?? 'none'}` }).end();
        break;
      case '/redirect-cross':
        res
          .writeHead(307, {
            Location: `http://localhost:${port}/redirect-target?auth=${req.headers.authorization ?? 'none'}`,
          })
          .end();
        break;
      case '/redirect-target':
        res
          .writeHead(200, { 'Content-Type': 'text/plain' })
          .end(`target ${url.searchParams.get('auth')} now ${req.headers.authorization ?? 'none'}`);
        break;
      case '/loop':
        res.writeHead(302, { Location: '/loop' }).end();
        break;
      case '/big':
        res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
        res.end(Buffer.alloc(64 * 1024, 1));
        break;
      case '/slow':
        setTimeout(() => res.writeHead(200).end('late'), 2000).unref();
        break;
      default:
        res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

describe('policy', () => {
  it.each([
    ['169.254.169.254', 'metadata'],
    ['169.254.10.1', 'link-local'],
    ['fd00:ec2::254', 'metadata'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['127.0.0.1', 'loopback'],
    ['::1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['fe80::1', 'link-local'],
    ['8.8.8.8', 'public'],
    ['2606:4700::1111', 'public'],
  ])('%s is %s', (addr, kind) => expect(classifyAddress(addr)).toBe(kind));
  it.each([
    [{}, '169.254.169.254', undefined, /metadata/],
    [{}, 'metadata.google.internal', undefined, /metadata/],
    [{}, 'localhost', undefined, /loopback/],
    [{}, 'api.example.com', '127.0.0.1', /loopback/],
    [{ allowLoopback: true }, 'localhost', '127.0.0.1', undefined],
    [{}, 'api.example.com', '93.184.216.34', undefined],
    [{ allowHosts: ['*.example.com'] }, 'api.example.com', undefined, undefined],
    [{ allowHosts: ['*.example.com'] }, 'example.org', undefined, /allow list/],
    [{ denyHosts: ['bad.example.com'] }, 'bad.example.com', undefined, /deny list/],
    [{ allowPrivateNetworks: false }, 'intranet', '192.168.1.5', /private/],
    [{ allowLoopback: true }, 'a.example.com', '169.254.169.254', /metadata/],
  ])('policy %j, host %s (address %s)', (policy, host, address, expected) => {
    const reason = denyReason(policy, host, address);
    if (expected) expect(reason).toMatch(expected);
    else expect(reason).toBeUndefined();
  });
  it('a request to loopback is refused by the default policy before connecting', async () => {
    const client = createHttpClient();
    await expect(client.request({ method: 'GET', url: `${base}/json` })).rejects.toMatchObject({
      code: 'HTTP_HOST_DENIED',
    });
    await expect(client.request({ method: 'GET', url: `http://localhost:${port}/json` })).rejects.toMatchObject({
      code: 'HTTP_HOST_DENIED',
    });
    await client.close();
  });
  // The machine's own host name usually resolves to 127.0.0.1 (/etc/hosts): a name no host rule
  // matches, so only the check of the resolved address can refuse it.
  const own = hostname();
  const ownResolvesToLoopback = (() => {
    try {
      return execFileSync('getent', ['hosts', own], { encoding: 'utf8' }).startsWith('127.');
    } catch {
      return false;
    }
  })();
  it.runIf(ownResolvesToLoopback)('a host name that resolves to a loopback address is refused after DNS', async () => {
    const client = createHttpClient();
    const err = await client.request({ method: 'GET', url: `http://${own}:${port}/json` }).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'HTTP_HOST_DENIED',
      details: { reason: expect.stringMatching(/loopback address 127\./) },
    });
    await client.close();
    const allowed = createHttpClient({ policy: { allowLoopback: true } });
    expect((await allowed.request({ method: 'GET', url: `http://${own}:${port}/json` })).statusCode).toBe(200);
    await allowed.close();
  });
});

describe('requests', () => {
  const client = () => createHttpClient({ policy: { allowLoopback: true } });
  it('returns status, lowercase headers and the body', async () => {
    const c = client();
    const res = await c.request({ method: 'GET', url: `${base}/json` });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(decodeBody(res.headers, res.body)).toEqual({ a: 1 });
    await c.close();
  });
  it('follows redirects and drops Authorization when the origin changes', async () => {
    const c = client();
    const same = await c.request({ method: 'GET', url: `${base}/redirect`, headers: { Authorization: 'Bearer x' } });
    expect(same.redirects).toBe(1);
    expect(Buffer.from(same.body).toString()).toBe('target Bearer x now Bearer x');
    const res = await c.request({
      method: 'GET',
      url: `${base}/redirect-cross`,
      headers: { Authorization: 'Bearer x' },
    });
    expect(res.url).toBe(`http://localhost:${port}/redirect-target?auth=Bearer%20x`);
    expect(Buffer.from(res.body).toString()).toBe('target Bearer x now none');
    await c.close();
  });
  it('stops after the redirect limit', async () => {
    const c = client();
    await expect(c.request({ method: 'GET', url: `${base}/loop` })).rejects.toMatchObject({
      code: 'HTTP_TOO_MANY_REDIRECTS',
    });
    const raw = await c.request({ method: 'GET', url: `${base}/loop`, maxRedirects: 0 });
    expect(raw.statusCode).toBe(302);
    await c.close();
  });
  it('caps the response size', async () => {
    const c = createHttpClient({ policy: { allowLoopback: true }, maxResponseBytes: 1024 });
    await expect(c.request({ method: 'GET', url: `${base}/big` })).rejects.toMatchObject({
      code: 'HTTP_RESPONSE_TOO_LARGE',
    });
    await c.close();
  });
  it('times out (retryable)', async () => {
    const c = client();
    const err = await c.request({ method: 'GET', url: `${base}/slow`, timeoutMs: 100 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'HTTP_TIMEOUT' });
    expect(isRetryableHttpError(err)).toBe(true);
    await c.close();
  });
  it('a refused connection is a retryable HTTP_CONNECTION_FAILED', async () => {
    const c = client();
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const freePort = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const err = await c.request({ method: 'GET', url: `http://127.0.0.1:${freePort}/` }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'HTTP_CONNECTION_FAILED' });
    expect(isRetryableHttpError(err)).toBe(true);
    await c.close();
  });
  it('refuses non-HTTP URLs', async () => {
    const c = client();
    await expect(c.request({ method: 'GET', url: 'file:///etc/passwd' })).rejects.toMatchObject({
      code: 'HTTP_INVALID_URL',
    });
    await expect(c.request({ method: 'GET', url: 'not a url' })).rejects.toMatchObject({ code: 'HTTP_INVALID_URL' });
    await c.close();
  });
});

describe('decodeBody', () => {
  it.each([
    [{ 'content-type': 'application/json; charset=utf-8' }, '{"x":[1]}', { x: [1] }],
    [{ 'content-type': 'text/plain' }, '{"x":1}', '{"x":1}'],
    [{}, '[1,2]', [1, 2]],
    [{ 'content-type': 'application/xml' }, '<a/>', '<a/>'],
    [
      { 'content-type': 'image/png' },
      'PNG',
      { '$content-type': 'image/png', $content: Buffer.from('PNG').toString('base64') },
    ],
    [{ 'content-type': 'application/json' }, '', null],
  ])('%j %j', (headers, text, expected) =>
    expect(decodeBody(headers as Record<string, string>, Buffer.from(text))).toEqual(expected),
  );
});
