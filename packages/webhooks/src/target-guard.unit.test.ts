import {
  TargetRefusedError,
  checkTarget,
  guardedLookup,
  isPublicAddress,
  parseTargetUrl,
} from './target-guard';

const strict = { allowPrivate: false, allowHttp: false };

describe('isPublicAddress', () => {
  it.each([
    '127.0.0.1',
    '10.1.2.3',
    '172.16.0.1',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    'fe80::1',
    'fd00:ec2::254',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
  ])('refuses %s', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each(['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111'])('accepts %s', (address) => {
    expect(isPublicAddress(address)).toBe(true);
  });
});

describe('checkTarget', () => {
  it.each([
    ['not a url', /valid absolute URL/],
    ['ftp://example.com/x', /scheme must be https/],
    ['http://example.com/x', /scheme must be https/],
    ['https://user:pw@example.com/x', /credentials/],
    ['https://example.com/x#frag', /fragment/],
  ])('refuses %s', async (url, reason) => {
    await expect(checkTarget(url, strict)).rejects.toThrow(reason);
  });

  it.each([
    'https://127.0.0.1/hook',
    'https://[::1]/hook',
    'https://169.254.169.254/latest/meta-data',
    'https://10.0.0.5:8443/hook',
    'https://localhost/hook',
  ])('refuses the private target %s', async (url) => {
    await expect(checkTarget(url, strict)).rejects.toBeInstanceOf(TargetRefusedError);
  });

  it('allows private targets and http only when the policy says so', async () => {
    await expect(
      checkTarget('http://127.0.0.1:9/hook', { allowPrivate: true, allowHttp: true }),
    ).resolves.toBeInstanceOf(URL);
    expect(() => parseTargetUrl('http://example.com', { allowHttp: false })).toThrow(/https/);
  });

  it('accepts a public IP literal without resolving anything', async () => {
    await expect(checkTarget('https://93.184.216.34/hook', strict)).resolves.toBeInstanceOf(URL);
  });
});

describe('guardedLookup', () => {
  it('fails the connection when the host resolves only to private addresses', async () => {
    const lookup = guardedLookup(false);
    const err = await new Promise<NodeJS.ErrnoException | null>((resolve) =>
      lookup('localhost', {}, (e) => resolve(e)),
    );
    expect(err?.code).toBe('ERR_RETEN_TARGET_REFUSED');
  });

  it('hands over the resolved addresses when private targets are allowed', async () => {
    const lookup = guardedLookup(true);
    const addresses = await new Promise<unknown>((resolve, reject) =>
      lookup('localhost', { all: true }, (e, a) => (e ? reject(e) : resolve(a))),
    );
    expect(Array.isArray(addresses) && addresses.length > 0).toBe(true);
  });
});
