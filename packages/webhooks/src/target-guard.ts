import { lookup as dnsLookup } from 'node:dns';
import type { LookupAddress, LookupOptions } from 'node:dns';
import ipaddr from 'ipaddr.js';
import { nonPublicReason } from './special-purpose-addresses';

/** Why a webhook target URL is refused; `reason` is shown to the API user. */
export class TargetRefusedError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'TargetRefusedError';
  }
}

export interface TargetPolicy {
  /** Allow loopback, private, link-local… targets (local development and tests only). */
  allowPrivate: boolean;
  /** Allow `http:` URLs (otherwise `https:` only). */
  allowHttp: boolean;
}

/**
 * Whether an address may receive webhooks: only global unicast. Every block of the IANA IPv4
 * and IPv6 special-purpose registries is refused (loopback, private, carrier-grade NAT,
 * link-local hence 169.254.169.254, unique-local hence fd00:ec2::254, IPv4-compatible, mapped
 * and translated forms, 6to4, Teredo, documentation, multicast…): see
 * special-purpose-addresses.ts, which names each one.
 */
export function isPublicAddress(address: string): boolean {
  return nonPublicReason(address) === undefined;
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** Checks a webhook URL's syntax (scheme, no credentials, host present); returns it parsed. */
export function parseTargetUrl(raw: string, policy: Pick<TargetPolicy, 'allowHttp'>): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TargetRefusedError('not a valid absolute URL');
  }
  const schemes = policy.allowHttp ? ['https:', 'http:'] : ['https:'];
  if (!schemes.includes(url.protocol)) {
    throw new TargetRefusedError(
      policy.allowHttp ? 'scheme must be https or http' : 'scheme must be https',
    );
  }
  if (url.username || url.password) throw new TargetRefusedError('URL must not hold credentials');
  if (url.hash) throw new TargetRefusedError('URL must not have a fragment');
  if (!url.hostname) throw new TargetRefusedError('URL has no host');
  return url;
}

function lookupAll(hostname: string): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true }, (err, addresses) =>
      err ? reject(err) : resolve(addresses),
    );
  });
}

/**
 * Resolves the URL's host and refuses it unless every address is public (or the policy
 * allows private targets). IP literals are checked directly (undici never calls a custom
 * lookup for them). Call at create time and before every attempt: DNS can change.
 */
export async function checkTarget(raw: string, policy: TargetPolicy): Promise<URL> {
  const url = parseTargetUrl(raw, policy);
  if (policy.allowPrivate) return url;
  const host = stripBrackets(url.hostname);
  if (ipaddr.isValid(host)) {
    const reason = nonPublicReason(host);
    if (reason) throw new TargetRefusedError(`${host} is not a public address (${reason})`);
    return url;
  }
  let addresses: LookupAddress[];
  try {
    addresses = await lookupAll(host);
  } catch {
    throw new TargetRefusedError(`host ${host} does not resolve`);
  }
  for (const { address } of addresses) {
    const reason = nonPublicReason(address);
    if (reason) {
      throw new TargetRefusedError(
        `${host} resolves to ${address}, not a public address (${reason})`,
      );
    }
  }
  return url;
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `lookup` for net/tls `connect` (undici's `connect.lookup`): resolves, refuses non-public
 * addresses unless allowed, and hands the checked address to the socket, so the address
 * connected to is the address checked (no DNS rebinding between check and connect).
 */
export function guardedLookup(allowPrivate: boolean) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    lookupAll(hostname).then(
      (addresses) => {
        const allowed = allowPrivate
          ? addresses
          : addresses.filter((a) => isPublicAddress(a.address));
        const first = allowed[0];
        if (!first) {
          const err: NodeJS.ErrnoException = new TargetRefusedError(
            `${hostname} resolves to no public address`,
          );
          err.code = 'ERR_RETEN_TARGET_REFUSED';
          callback(err, '');
          return;
        }
        if (options.all) callback(null, allowed);
        else callback(null, first.address, first.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, ''),
    );
  };
}
