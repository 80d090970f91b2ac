import ipaddr from 'ipaddr.js';

/** One block of an IANA special-purpose address registry. */
interface SpecialBlock {
  cidr: string;
  name: string;
  rfc: string;
}

/**
 * The IANA IPv4 Special-Purpose Address Registry
 * (https://www.iana.org/assignments/iana-ipv4-special-registry), every entry, plus multicast
 * (which has its own registry). A webhook target in any of them is refused, even the few
 * marked globally reachable (anycast service addresses, AS112 sinks, AMT relays): none of them
 * runs a webhook receiver, and a rule without exceptions cannot be talked around.
 */
export const IPV4_SPECIAL_BLOCKS: readonly SpecialBlock[] = [
  { cidr: '0.0.0.0/8', name: '"This network"', rfc: 'RFC 791' },
  { cidr: '0.0.0.0/32', name: '"This host on this network"', rfc: 'RFC 1122' },
  { cidr: '10.0.0.0/8', name: 'Private-Use', rfc: 'RFC 1918' },
  { cidr: '100.64.0.0/10', name: 'Shared Address Space (carrier-grade NAT)', rfc: 'RFC 6598' },
  { cidr: '127.0.0.0/8', name: 'Loopback', rfc: 'RFC 1122' },
  { cidr: '169.254.0.0/16', name: 'Link Local (cloud metadata services)', rfc: 'RFC 3927' },
  { cidr: '172.16.0.0/12', name: 'Private-Use', rfc: 'RFC 1918' },
  { cidr: '192.0.0.0/24', name: 'IETF Protocol Assignments', rfc: 'RFC 6890' },
  { cidr: '192.0.0.0/29', name: 'IPv4 Service Continuity Prefix', rfc: 'RFC 7335' },
  { cidr: '192.0.0.8/32', name: 'IPv4 dummy address', rfc: 'RFC 7600' },
  { cidr: '192.0.0.9/32', name: 'Port Control Protocol Anycast', rfc: 'RFC 7723' },
  { cidr: '192.0.0.10/32', name: 'Traversal Using Relays around NAT Anycast', rfc: 'RFC 8155' },
  { cidr: '192.0.0.170/32', name: 'NAT64/DNS64 Discovery', rfc: 'RFC 8880' },
  { cidr: '192.0.0.171/32', name: 'NAT64/DNS64 Discovery', rfc: 'RFC 8880' },
  { cidr: '192.0.2.0/24', name: 'Documentation (TEST-NET-1)', rfc: 'RFC 5737' },
  { cidr: '192.31.196.0/24', name: 'AS112-v4', rfc: 'RFC 7535' },
  { cidr: '192.52.193.0/24', name: 'AMT', rfc: 'RFC 7450' },
  { cidr: '192.88.99.0/24', name: 'Deprecated (6to4 Relay Anycast)', rfc: 'RFC 7526' },
  { cidr: '192.88.99.2/32', name: '6a44-relay anycast address', rfc: 'RFC 6751' },
  { cidr: '192.168.0.0/16', name: 'Private-Use', rfc: 'RFC 1918' },
  { cidr: '192.175.48.0/24', name: 'Direct Delegation AS112 Service', rfc: 'RFC 7534' },
  { cidr: '198.18.0.0/15', name: 'Benchmarking', rfc: 'RFC 2544' },
  { cidr: '198.51.100.0/24', name: 'Documentation (TEST-NET-2)', rfc: 'RFC 5737' },
  { cidr: '203.0.113.0/24', name: 'Documentation (TEST-NET-3)', rfc: 'RFC 5737' },
  { cidr: '224.0.0.0/4', name: 'Multicast', rfc: 'RFC 5771' },
  { cidr: '240.0.0.0/4', name: 'Reserved', rfc: 'RFC 1112' },
  { cidr: '255.255.255.255/32', name: 'Limited Broadcast', rfc: 'RFC 919' },
];

/**
 * The IANA IPv6 Special-Purpose Address Registry
 * (https://www.iana.org/assignments/iana-ipv6-special-registry), every entry, plus the blocks
 * of the IPv6 address space registry that hold no global unicast (IPv4-compatible, site-local,
 * multicast). Refused for the reason given above for IPv4. Only 2000::/3 is global unicast
 * (`GLOBAL_UNICAST`): any other address is refused even if it is in no block below.
 */
export const IPV6_SPECIAL_BLOCKS: readonly SpecialBlock[] = [
  { cidr: '::1/128', name: 'Loopback Address', rfc: 'RFC 4291' },
  { cidr: '::/128', name: 'Unspecified Address', rfc: 'RFC 4291' },
  // deprecated: ::a.b.c.d reaches the IPv4 host a.b.c.d on some stacks ([::127.0.0.1])
  { cidr: '::/96', name: 'IPv4-Compatible IPv6 Address (deprecated)', rfc: 'RFC 4291' },
  { cidr: '::ffff:0:0/96', name: 'IPv4-mapped Address', rfc: 'RFC 4291' },
  { cidr: '::ffff:0:0:0/96', name: 'IPv4-translated Address', rfc: 'RFC 6145' },
  // 64:ff9b::/96 (IPv4-IPv6 Translation, RFC 6052) is not here: see NAT64_WELL_KNOWN
  { cidr: '64:ff9b:1::/48', name: 'IPv4-IPv6 Translation (local use)', rfc: 'RFC 8215' },
  { cidr: '100::/64', name: 'Discard-Only Address Block', rfc: 'RFC 6666' },
  { cidr: '100:0:0:1::/64', name: 'Dummy IPv6 Prefix', rfc: 'RFC 9780' },
  { cidr: '2001::/23', name: 'IETF Protocol Assignments', rfc: 'RFC 2928' },
  { cidr: '2001::/32', name: 'TEREDO', rfc: 'RFC 4380' },
  { cidr: '2001:1::1/128', name: 'Port Control Protocol Anycast', rfc: 'RFC 7723' },
  { cidr: '2001:1::2/128', name: 'Traversal Using Relays around NAT Anycast', rfc: 'RFC 8155' },
  { cidr: '2001:1::3/128', name: 'DNS-SD Service Registration Protocol Anycast', rfc: 'RFC 9665' },
  { cidr: '2001:2::/48', name: 'Benchmarking', rfc: 'RFC 5180' },
  { cidr: '2001:3::/32', name: 'AMT', rfc: 'RFC 7450' },
  { cidr: '2001:4:112::/48', name: 'AS112-v6', rfc: 'RFC 7535' },
  { cidr: '2001:10::/28', name: 'Deprecated (previously ORCHID)', rfc: 'RFC 4843' },
  { cidr: '2001:20::/28', name: 'ORCHIDv2', rfc: 'RFC 7343' },
  { cidr: '2001:30::/28', name: 'Drone Remote ID Protocol Entity Tags (DETs)', rfc: 'RFC 9374' },
  { cidr: '2001:db8::/32', name: 'Documentation', rfc: 'RFC 3849' },
  // 6to4 embeds an IPv4 address that a relay forwards to, private ones included
  { cidr: '2002::/16', name: '6to4', rfc: 'RFC 3056' },
  { cidr: '2620:4f:8000::/48', name: 'Direct Delegation AS112 Service', rfc: 'RFC 7534' },
  { cidr: '3fff::/20', name: 'Documentation', rfc: 'RFC 9637' },
  { cidr: '5f00::/16', name: 'Segment Routing (SRv6) SIDs', rfc: 'RFC 9602' },
  { cidr: 'fc00::/7', name: 'Unique-Local', rfc: 'RFC 4193' },
  { cidr: 'fe80::/10', name: 'Link-Local Unicast', rfc: 'RFC 4291' },
  { cidr: 'fec0::/10', name: 'Site-Local (deprecated)', rfc: 'RFC 3879' },
  { cidr: 'ff00::/8', name: 'Multicast', rfc: 'RFC 4291' },
];

/**
 * 64:ff9b::/96, the NAT64 well-known prefix (RFC 6052): 64:ff9b::a.b.c.d is translated to the
 * IPv4 address a.b.c.d, and DNS64 answers with such addresses for IPv4-only hosts on an
 * IPv6-only network. So it is judged by the IPv4 address it carries, not refused outright.
 */
const NAT64_WELL_KNOWN = ipaddr.IPv6.parseCIDR('64:ff9b::/96');
const GLOBAL_UNICAST = ipaddr.IPv6.parseCIDR('2000::/3');

type Parsed<T> = { block: SpecialBlock; range: [T, number] };

const v4Blocks: Parsed<ipaddr.IPv4>[] = IPV4_SPECIAL_BLOCKS.map((block) => ({
  block,
  range: ipaddr.IPv4.parseCIDR(block.cidr),
}));
const v6Blocks: Parsed<ipaddr.IPv6>[] = IPV6_SPECIAL_BLOCKS.map((block) => ({
  block,
  range: ipaddr.IPv6.parseCIDR(block.cidr),
}));

/**
 * The address parsed. IPv6 text goes through the WHATWG URL parser first: ipaddr.js 2.5 reads
 * `::a.b.c.d` (IPv4-compatible, as getaddrinfo prints it) as `::ffff:a.b.c.d` (IPv4-mapped),
 * while the URL parser writes it in hex (`::7f00:1`), which ipaddr.js reads right.
 */
function parseAddress(address: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  let text = address;
  if (address.includes(':')) {
    try {
      text = new URL(`http://[${address}]/`).hostname.slice(1, -1);
    } catch {
      return undefined;
    }
  }
  return ipaddr.isValid(text) ? ipaddr.parse(text) : undefined;
}

/** The most specific block holding the address, named; undefined when none does. */
function reasonIn<T extends ipaddr.IPv4 | ipaddr.IPv6>(
  address: T,
  blocks: Parsed<T>[],
): string | undefined {
  let best: Parsed<T> | undefined;
  for (const entry of blocks) {
    if (address.match(entry.range) && (!best || entry.range[1] > best.range[1])) best = entry;
  }
  return best && `${best.block.name}, ${best.block.cidr}, ${best.block.rfc}`;
}

/**
 * Why an IP address may not receive webhooks (the special-purpose block it is in, named), or
 * undefined for a global unicast address. A string that is not an IP address has a reason too.
 */
export function nonPublicReason(address: string): string | undefined {
  const parsed = parseAddress(address);
  if (!parsed) return 'not an IP address';
  if (parsed.kind() === 'ipv4') return reasonIn(parsed as ipaddr.IPv4, v4Blocks);
  const v6 = parsed as ipaddr.IPv6;
  if (v6.match(NAT64_WELL_KNOWN)) {
    const embedded = ipaddr.IPv4.parse(v6.toByteArray().slice(12).join('.'));
    const reason = reasonIn(embedded, v4Blocks);
    return reason && `NAT64 of ${embedded.toString()}: ${reason}`;
  }
  const reason = reasonIn(v6, v6Blocks);
  if (reason) return reason;
  if (!v6.match(GLOBAL_UNICAST)) return 'outside 2000::/3, the global unicast space';
  return undefined;
}
