import {
  IPV4_SPECIAL_BLOCKS,
  IPV6_SPECIAL_BLOCKS,
  nonPublicReason,
} from './special-purpose-addresses';
import { checkTarget, isPublicAddress } from './target-guard';

const strict = { allowPrivate: false, allowHttp: false };

// One address per registry block, written out by hand from the IANA registries (not derived
// from the table under test), with the block name the refusal must give.
const IPV4: [string, string][] = [
  ['0.1.2.3', '"This network"'],
  ['0.0.0.0', '"This host on this network"'],
  ['10.200.0.1', 'Private-Use, 10.0.0.0/8'],
  ['100.127.255.254', 'Shared Address Space'],
  ['127.8.9.10', 'Loopback'],
  ['169.254.169.254', 'Link Local'],
  ['172.31.255.255', 'Private-Use, 172.16.0.0/12'],
  ['192.0.0.200', 'IETF Protocol Assignments'],
  ['192.0.0.5', 'IPv4 Service Continuity Prefix'],
  ['192.0.0.8', 'IPv4 dummy address'],
  ['192.0.0.9', 'Port Control Protocol Anycast'],
  ['192.0.0.10', 'Traversal Using Relays around NAT Anycast'],
  ['192.0.0.170', 'NAT64/DNS64 Discovery'],
  ['192.0.0.171', 'NAT64/DNS64 Discovery'],
  ['192.0.2.77', 'TEST-NET-1'],
  ['192.31.196.1', 'AS112-v4'],
  ['192.52.193.1', 'AMT'],
  ['192.88.99.1', '6to4 Relay Anycast'],
  ['192.88.99.2', '6a44-relay anycast address'],
  ['192.168.100.1', 'Private-Use, 192.168.0.0/16'],
  ['192.175.48.6', 'Direct Delegation AS112 Service'],
  ['198.19.255.1', 'Benchmarking'],
  ['198.51.100.9', 'TEST-NET-2'],
  ['203.0.113.9', 'TEST-NET-3'],
  ['239.255.255.250', 'Multicast'],
  ['250.1.2.3', 'Reserved'],
  ['255.255.255.255', 'Limited Broadcast'],
];

const IPV6: [string, string][] = [
  ['::1', 'Loopback Address'],
  ['::', 'Unspecified Address'],
  ['::127.0.0.1', 'IPv4-Compatible IPv6 Address'],
  ['::a00:1', 'IPv4-Compatible IPv6 Address'],
  ['::8.8.8.8', 'IPv4-Compatible IPv6 Address'],
  ['::ffff:127.0.0.1', 'IPv4-mapped Address'],
  ['::ffff:8.8.8.8', 'IPv4-mapped Address'],
  ['::ffff:0:10.0.0.1', 'IPv4-translated Address'],
  ['64:ff9b::127.0.0.1', 'NAT64 of 127.0.0.1: Loopback'],
  ['64:ff9b::a9fe:a9fe', 'NAT64 of 169.254.169.254: Link Local'],
  ['64:ff9b:1::1', 'IPv4-IPv6 Translation (local use)'],
  ['100::1', 'Discard-Only Address Block'],
  ['100:0:0:1::1', 'Dummy IPv6 Prefix'],
  ['2001:1ff::1', 'IETF Protocol Assignments'],
  ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'TEREDO'],
  ['2001:1::1', 'Port Control Protocol Anycast'],
  ['2001:1::2', 'Traversal Using Relays around NAT Anycast'],
  ['2001:1::3', 'DNS-SD Service Registration Protocol Anycast'],
  ['2001:2::1', 'Benchmarking'],
  ['2001:3::1', 'AMT'],
  ['2001:4:112::1', 'AS112-v6'],
  ['2001:10::1', 'previously ORCHID'],
  ['2001:20::1', 'ORCHIDv2'],
  ['2001:30::1', 'Drone Remote ID Protocol Entity Tags'],
  ['2001:db8::1', 'Documentation, 2001:db8::/32'],
  ['2002:c0a8:101::1', '6to4'],
  ['2620:4f:8000::1', 'Direct Delegation AS112 Service'],
  ['3fff:fff::1', 'Documentation, 3fff::/20'],
  ['5f00::1', 'Segment Routing (SRv6) SIDs'],
  ['fd00:ec2::254', 'Unique-Local'],
  ['fc00::1', 'Unique-Local'],
  ['fe80::1', 'Link-Local Unicast'],
  ['febf::1', 'Link-Local Unicast'],
  ['fec0::1', 'Site-Local (deprecated)'],
  ['ff02::1', 'Multicast'],
  ['4000::1', 'outside 2000::/3'],
  ['1::1', 'outside 2000::/3'],
];

describe('the special-purpose address registries', () => {
  it.each(IPV4)('refuses %s (%s)', (address, name) => {
    expect(isPublicAddress(address)).toBe(false);
    expect(nonPublicReason(address)).toContain(name);
  });

  it.each(IPV6)('refuses %s (%s)', (address, name) => {
    expect(isPublicAddress(address)).toBe(false);
    expect(nonPublicReason(address)).toContain(name);
  });

  it('has an address above for every block of the tables (no block is untested)', () => {
    const named = (list: [string, string][], blocks: readonly { name: string; cidr: string }[]) =>
      blocks.filter(
        (block) => !list.some(([address]) => nonPublicReason(address)?.includes(block.cidr)),
      );
    expect(named(IPV4, IPV4_SPECIAL_BLOCKS)).toEqual([]);
    expect(named(IPV6, IPV6_SPECIAL_BLOCKS)).toEqual([]);
  });

  it.each([
    '8.8.8.8',
    '93.184.216.34',
    '100.128.0.1', // just past 100.64.0.0/10
    '172.32.0.1', // just past 172.16.0.0/12
    '192.0.3.1',
    '198.20.0.1', // just past 198.18.0.0/15
    '223.255.255.254',
    '2606:4700:4700::1111',
    '2001:200::1', // just past 2001::/23 (APNIC)
    '2a00:1450:4001::1',
    '2003::1', // just past 2002::/16
    '64:ff9b::808:808', // NAT64 of 8.8.8.8, as DNS64 answers for an IPv4-only host
  ])('accepts the global unicast address %s', (address) => {
    expect(nonPublicReason(address)).toBeUndefined();
    expect(isPublicAddress(address)).toBe(true);
  });

  it.each([
    ['https://[::127.0.0.1]/hook', 'IPv4-Compatible IPv6 Address'],
    ['https://[::a00:1]/hook', 'IPv4-Compatible IPv6 Address'],
    ['https://[64:ff9b::7f00:1]/hook', 'NAT64 of 127.0.0.1'],
    ['https://[2002:7f00:1::]/hook', '6to4'],
    ['https://[2001::1]/hook', 'TEREDO'],
    ['https://[fec0::1]/hook', 'Site-Local'],
    ['https://192.0.0.170/hook', 'NAT64/DNS64 Discovery'],
  ])('checkTarget refuses %s naming the block', async (url, name) => {
    await expect(checkTarget(url, strict)).rejects.toThrow(name);
  });
});
