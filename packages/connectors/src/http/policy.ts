/**
 * Outbound HTTP policy (design §6): which hosts and addresses actions and connectors may call.
 * Link-local and cloud metadata addresses are always denied unless explicitly allowed by host
 * name in `allowHosts` *and* `allowMetadata`; loopback only when `allowLoopback` is set (tests,
 * demos). Checked on the URL's host and again on every address DNS returns (no rebinding).
 */
import { isIP } from 'node:net';

/** The policy of one client (one environment). */
export interface HttpPolicy {
  /** Host patterns that may be called (`api.example.com`, `*.example.com`); when set, every other host is denied. */
  allowHosts?: string[];
  /** Host patterns that may never be called; wins over `allowHosts`. */
  denyHosts?: string[];
  /** Allow loopback (127.0.0.0/8, ::1, `localhost`). Default false. */
  allowLoopback?: boolean;
  /** Allow private networks (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7). Default true (self-hosted intranets). */
  allowPrivateNetworks?: boolean;
  /** Allow link-local and cloud metadata endpoints (169.254/16, fe80::/10, fd00:ec2::254, metadata.google.internal…). Default false. */
  allowMetadata?: boolean;
  /** Extra rule: return a reason to deny the host/address, or undefined to let the built-in rules decide. */
  check?: (target: { host: string; address?: string }) => string | undefined;
}

const METADATA_HOSTS = new Set([
  'metadata.google.internal',
  'metadata.goog',
  'metadata',
  'instance-data',
  'instance-data.ec2.internal',
]);

function v4ToInt(a: string): number {
  return a.split('.').reduce((n, p) => (n << 8) + Number(p), 0) >>> 0;
}

function inV4(addr: string, cidr: string): boolean {
  const [net, bits] = cidr.split('/');
  const mask = Number(bits) === 0 ? 0 : (~0 << (32 - Number(bits))) >>> 0;
  return (v4ToInt(addr) & mask) === (v4ToInt(net!) & mask);
}

/** Expands an IPv6 address to 8 groups of 16 bits (handles `::` and an embedded IPv4 tail). */
function v6Groups(addr: string): number[] {
  let a = addr.toLowerCase();
  const zone = a.indexOf('%');
  if (zone >= 0) a = a.slice(0, zone);
  const lastColon = a.lastIndexOf(':');
  const last = a.slice(lastColon + 1);
  if (last.includes('.')) {
    const n = v4ToInt(last);
    a = `${a.slice(0, lastColon + 1)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const parts = a.split('::');
  const head = parts[0] ? parts[0].split(':').map((x) => parseInt(x, 16)) : [];
  if (parts.length === 1) return head;
  const rest = parts[1] ? parts[1].split(':').map((x) => parseInt(x, 16)) : [];
  return [...head, ...new Array<number>(Math.max(0, 8 - head.length - rest.length)).fill(0), ...rest];
}

/** Classifies an IP address literal: `loopback`, `link-local`, `metadata`, `private`, `unspecified`, `multicast` or `public`. */
export function classifyAddress(
  address: string,
): 'loopback' | 'link-local' | 'metadata' | 'private' | 'unspecified' | 'multicast' | 'public' {
  const family = isIP(address);
  if (family === 4) {
    if (address === '169.254.169.254' || address === '100.100.100.200' || address === '169.254.170.2')
      return 'metadata';
    if (inV4(address, '127.0.0.0/8')) return 'loopback';
    if (inV4(address, '169.254.0.0/16')) return 'link-local';
    if (inV4(address, '0.0.0.0/8')) return 'unspecified';
    if (inV4(address, '224.0.0.0/4') || inV4(address, '240.0.0.0/4')) return 'multicast';
    if (
      inV4(address, '10.0.0.0/8') ||
      inV4(address, '172.16.0.0/12') ||
      inV4(address, '192.168.0.0/16') ||
      inV4(address, '100.64.0.0/10')
    )
      return 'private';
    return 'public';
  }
  if (family === 6) {
    const g = v6Groups(address);
    if (g.every((x) => x === 0)) return 'unspecified';
    if (g.slice(0, 7).every((x) => x === 0) && g[7] === 1) return 'loopback';
    // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible forms: classify the IPv4 address.
    if (g.slice(0, 5).every((x) => x === 0) && (g[5] === 0xffff || g[5] === 0)) {
      const v4 = `${g[6]! >>> 8}.${g[6]! & 255}.${g[7]! >>> 8}.${g[7]! & 255}`;
      return classifyAddress(v4);
    }
    if (g[0] === 0xfd00 && g[1] === 0x0ec2 && g.slice(2, 7).every((x) => x === 0) && g[7] === 0x254) return 'metadata';
    if ((g[0]! & 0xffc0) === 0xfe80) return 'link-local';
    if ((g[0]! & 0xff00) === 0xff00) return 'multicast';
    if ((g[0]! & 0xfe00) === 0xfc00) return 'private';
    return 'public';
  }
  return 'public';
}

function matchHost(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase().replace(/\.$/, '');
  if (p.startsWith('*.')) return host.endsWith(p.slice(1)) && host.length > p.length - 1;
  return host === p;
}

/** Normalises a URL host: lowercase, no trailing dot, no IPv6 brackets. */
export function normaliseHost(host: string): string {
  return host
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '');
}

/**
 * Why a host (and, after DNS, one of its addresses) is denied by the policy, or undefined when it
 * may be called. Pure; the client calls it before connecting and for every resolved address.
 */
export function denyReason(policy: HttpPolicy, host: string, address?: string): string | undefined {
  const h = normaliseHost(host);
  const custom = policy.check?.({ host: h, ...(address !== undefined ? { address } : {}) });
  if (custom) return custom;
  if (policy.denyHosts?.some((p) => matchHost(p, h))) return `host '${h}' is on the deny list`;
  if (policy.allowHosts && !policy.allowHosts.some((p) => matchHost(p, h)))
    return `host '${h}' is not on the allow list`;
  if (!policy.allowMetadata && METADATA_HOSTS.has(h)) return `host '${h}' is a cloud metadata endpoint`;
  if (!policy.allowLoopback && (h === 'localhost' || h.endsWith('.localhost')))
    return `loopback host '${h}' is not allowed`;
  for (const a of [isIP(h) ? h : undefined, address]) {
    if (a === undefined) continue;
    const kind = classifyAddress(a);
    if ((kind === 'metadata' || kind === 'link-local') && !policy.allowMetadata)
      return `address ${a} is ${kind === 'metadata' ? 'a cloud metadata endpoint' : 'link-local'}`;
    if (kind === 'loopback' && !policy.allowLoopback) return `loopback address ${a} is not allowed`;
    if (kind === 'private' && policy.allowPrivateNetworks === false)
      return `private network address ${a} is not allowed`;
    if (kind === 'unspecified' || kind === 'multicast') return `address ${a} cannot be called`;
  }
  return undefined;
}
