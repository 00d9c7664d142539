import { describe, expect, it } from 'vitest';
import { hostInUrl, parseCidr, plainAddress } from '../../../src/domain/addresses.js';
import { addressKey } from '../../../src/services/rate-limit.js';

describe('plainAddress', () => {
  it.each([
    ['an IPv4-mapped address', '::ffff:192.0.2.7', '192.0.2.7'],
    ['the prefix in capitals', '::FFFF:192.0.2.7', '192.0.2.7'],
    ['a plain IPv4 address', '192.0.2.7', '192.0.2.7'],
    ['an IPv6 address', '2001:db8::1', '2001:db8::1'],
    ['loopback IPv6', '::1', '::1'],
    // The gateway's and the rate limiter's copies stripped the prefix before anything with a dot.
    ['a mapped prefix before a non-address with dots', '::ffff:abc.def', '::ffff:abc.def'],
    ['a mapped prefix before an octet out of range', '::ffff:999.0.0.1', '::ffff:999.0.0.1'],
    ['a mapped prefix before three octets', '::ffff:10.0.1', '::ffff:10.0.1'],
    ['the hexadecimal mapped form (no socket reports it)', '::ffff:c000:207', '::ffff:c000:207'],
    ['the prefix alone', '::ffff:', '::ffff:'],
    ['no address (a socket already closed)', '', ''],
  ])('%s: %s is %s', (_what, address, plain) => {
    expect(plainAddress(address)).toBe(plain);
  });

  it('the rate limiter counts a mapped address as its IPv4 address', () => {
    expect(addressKey('::ffff:192.0.2.7')).toBe(addressKey('192.0.2.7'));
  });
});

describe('parseCidr', () => {
  it.each([
    ['10.0.0.0/8', { address: '10.0.0.0', prefix: 8, family: 'ipv4' }],
    [' 192.0.2.0/24 ', { address: '192.0.2.0', prefix: 24, family: 'ipv4' }],
    ['192.0.2.7/32', { address: '192.0.2.7', prefix: 32, family: 'ipv4' }],
    ['fd00::/8', { address: 'fd00::', prefix: 8, family: 'ipv6' }],
    ['2001:DB8::/128', { address: '2001:DB8::', prefix: 128, family: 'ipv6' }],
  ])('reads %s', (cidr, network) => {
    expect(parseCidr(cidr)).toEqual(network);
  });

  it.each([
    ['no prefix', '10.0.0.0'],
    ['an IPv4 prefix over 32', '10.0.0.0/33'],
    ['an IPv6 prefix over 128', 'fd00::/129'],
    ['a host name', 'example.com/24'],
    ['an octet out of range', '10.0.0.256/24'],
    ['an empty prefix', '10.0.0.0/'],
    ['a negative prefix', '10.0.0.0/-1'],
    ['two prefixes', '10.0.0.0/8/8'],
  ])('refuses %s (%s)', (_what, cidr) => {
    expect(parseCidr(cidr)).toBeUndefined();
  });
});

describe('hostInUrl', () => {
  it.each([
    ['127.0.0.1', '127.0.0.1'],
    ['localhost', 'localhost'],
    ['::1', '[::1]'],
    ['fd00::5', '[fd00::5]'],
  ])('writes %s as %s in a URL', (host, written) => {
    expect(hostInUrl(host)).toBe(written);
    expect(new URL(`http://${hostInUrl(host)}:4000/`).port).toBe('4000');
  });
});
