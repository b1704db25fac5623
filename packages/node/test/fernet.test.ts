/**
 * Fernet: the official spec vectors (test/vectors/fernet-*.json, from github.com/fernet/spec),
 * properties, and interoperability with an independent implementation, Python's
 * `cryptography` package. The Python part does not skip: without python3 and `cryptography`
 * it fails and says what to install.
 */
import { spawnSync } from 'node:child_process';
import { createCipheriv, createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  encodeFernetKey,
  FernetKeyError,
  FernetTokenError,
  type FernetTokenErrorCode,
  fernetDecrypt,
  fernetDecryptWithTimestamp,
  fernetEncrypt,
  generateFernetKey,
} from '../src/keys/fernet.js';

interface VectorFile<T> {
  source: string;
  license: string;
  vectors: T[];
}
interface GenerateVector {
  token: string;
  now: string;
  iv: number[];
  src: string;
  secret: string;
}
interface VerifyVector {
  token: string;
  now: string;
  ttl_sec: number;
  src: string;
  secret: string;
}
interface InvalidVector {
  desc: string;
  token: string;
  now: string;
  ttl_sec: number;
  secret: string;
}

function vectors<T>(name: string): T[] {
  const url = new URL(`./vectors/fernet-${name}.json`, import.meta.url);
  const file = JSON.parse(readFileSync(url, 'utf8')) as VectorFile<T>;
  expect(file.source).toContain('github.com/fernet/spec');
  expect(file.vectors.length).toBeGreaterThan(0);
  return file.vectors;
}

const seconds = (iso: string): number => Date.parse(iso) / 1000;

/** Why each invalid vector is refused, by its `desc`. */
const INVALID_REASON: Record<string, FernetTokenErrorCode> = {
  'incorrect mac': 'ERR_FERNET_MAC',
  'too short': 'ERR_FERNET_MALFORMED',
  'invalid base64': 'ERR_FERNET_MALFORMED',
  'payload size not multiple of block size': 'ERR_FERNET_MALFORMED',
  'payload padding error': 'ERR_FERNET_PADDING',
  'far-future TS (unacceptable clock skew)': 'ERR_FERNET_FUTURE',
  'expired TTL': 'ERR_FERNET_EXPIRED',
  'incorrect IV (causes padding error)': 'ERR_FERNET_PADDING',
  'trailing characters after b64 padding': 'ERR_FERNET_MALFORMED',
  'invalid characters in b64': 'ERR_FERNET_MALFORMED',
  'invalid non-urlsafe characters in b64': 'ERR_FERNET_MALFORMED',
};

function refusal(fn: () => unknown): FernetTokenError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(FernetTokenError);
    return error as FernetTokenError;
  }
  throw new Error('the token was accepted');
}

/** A token assembled by hand, with a correct HMAC, from raw parts. */
function handmade(
  key: Buffer,
  parts: { version?: number; ts?: bigint; body: Buffer; pad?: boolean },
): string {
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-128-cbc', key.subarray(16), iv);
  cipher.setAutoPadding(parts.pad ?? true);
  const ct = Buffer.concat([cipher.update(parts.body), cipher.final()]);
  const head = Buffer.alloc(9);
  head[0] = parts.version ?? 0x80;
  head.writeBigUInt64BE(parts.ts ?? 1_000n, 1);
  const signed = Buffer.concat([head, iv, ct]);
  const mac = createHmac('sha256', key.subarray(0, 16)).update(signed).digest();
  const raw = Buffer.concat([signed, mac]);
  return raw.toString('base64url') + '='.repeat((3 - (raw.length % 3)) % 3);
}

describe('fernet spec vectors', () => {
  it.each(vectors<GenerateVector>('generate'))('generate.json: $src at $now', (v) => {
    const token = fernetEncrypt(v.secret, Buffer.from(v.src), {
      now: seconds(v.now),
      iv: Uint8Array.from(v.iv),
    });
    expect(token).toBe(v.token);
  });

  it.each(vectors<VerifyVector>('verify'))('verify.json: $src at $now', (v) => {
    const opts = { ttlSeconds: v.ttl_sec, now: seconds(v.now) };
    expect(fernetDecrypt(v.secret, v.token, opts).toString()).toBe(v.src);
    expect(fernetDecryptWithTimestamp(v.secret, v.token, opts).timestamp).toBe(
      BigInt(seconds(v.now)) - 1n,
    );
  });

  it.each(vectors<InvalidVector>('invalid'))('invalid.json: $desc', (v) => {
    const reason = INVALID_REASON[v.desc];
    expect(reason, `no expected reason for "${v.desc}"`).toBeDefined();
    const error = refusal(() =>
      fernetDecrypt(v.secret, v.token, { ttlSeconds: v.ttl_sec, now: seconds(v.now) }),
    );
    expect(error.code).toBe(reason);
  });
});

describe('fernet tokens', () => {
  it('round-trips any bytes under any key, and the text key form equals the raw one', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ maxLength: 200 }),
        (key, plaintext) => {
          const token = fernetEncrypt(key, plaintext);
          expect(token).toMatch(/^[A-Za-z0-9_-]+={0,2}$/);
          expect(token.length % 4).toBe(0);
          expect(new Uint8Array(fernetDecrypt(key, token))).toEqual(plaintext);
          expect(new Uint8Array(fernetDecrypt(encodeFernetKey(key), token))).toEqual(plaintext);
        },
      ),
    );
  });

  it('refuses every token with any single byte changed', () => {
    const key = generateFernetKey();
    const token = fernetEncrypt(key, Buffer.from('a seed of thirty-two bytes......'));
    const raw = Buffer.from(token, 'base64url');
    const position = fc.nat({ max: raw.length - 1 });
    const delta = fc.integer({ min: 1, max: 255 });
    fc.assert(
      fc.property(position, delta, (at, by) => {
        const altered = Buffer.from(raw);
        altered[at] = (altered[at]! + by) & 0xff;
        const forged = altered.toString('base64url') + '='.repeat((3 - (raw.length % 3)) % 3);
        const error = refusal(() => fernetDecrypt(key, forged));
        expect(['ERR_FERNET_MAC', 'ERR_FERNET_VERSION']).toContain(error.code);
      }),
    );
  });

  it('refuses a token under another key, with ERR_FERNET_MAC', () => {
    const token = fernetEncrypt(generateFernetKey(), Buffer.from('hello'));
    expect(refusal(() => fernetDecrypt(generateFernetKey(), token)).code).toBe('ERR_FERNET_MAC');
  });

  it('checks the HMAC before decrypting: a bad padding behind a bad HMAC reports the HMAC', () => {
    const key = randomBytes(32);
    // A last plaintext byte of 0 is never valid PKCS7 padding.
    const unpadded = handmade(key, { body: Buffer.alloc(16, 0x00), pad: false });
    expect(refusal(() => fernetDecrypt(key, unpadded)).code).toBe('ERR_FERNET_PADDING');
    const raw = Buffer.from(unpadded, 'base64url');
    raw[raw.length - 1]! ^= 1;
    const forged = raw.toString('base64url') + '='.repeat((3 - (raw.length % 3)) % 3);
    expect(refusal(() => fernetDecrypt(key, forged)).code).toBe('ERR_FERNET_MAC');
  });

  it('refuses any version but 0x80, even with a correct HMAC', () => {
    const key = randomBytes(32);
    const token = handmade(key, { version: 0x81, body: Buffer.from('hello') });
    expect(refusal(() => fernetDecrypt(key, token)).code).toBe('ERR_FERNET_VERSION');
  });

  it('stamps seconds as a 64-bit big-endian integer and checks the TTL only when asked', () => {
    const key = generateFernetKey();
    const token = fernetEncrypt(key, Buffer.from('x'), { now: 0x0102_0304_05 });
    expect([...Buffer.from(token, 'base64url').subarray(1, 9)]).toEqual([0, 0, 0, 1, 2, 3, 4, 5]);
    const made = 0x0102_0304_05;
    expect(fernetDecryptWithTimestamp(key, token).timestamp).toBe(BigInt(made));
    expect(fernetDecrypt(key, token, { ttlSeconds: 10, now: made + 10 }).toString()).toBe('x');
    expect(refusal(() => fernetDecrypt(key, token, { ttlSeconds: 10, now: made + 11 })).code).toBe(
      'ERR_FERNET_EXPIRED',
    );
    expect(fernetDecrypt(key, token, { ttlSeconds: 10, now: made - 60 }).toString()).toBe('x');
    expect(refusal(() => fernetDecrypt(key, token, { ttlSeconds: 10, now: made - 61 })).code).toBe(
      'ERR_FERNET_FUTURE',
    );
    // No TTL: age and skew do not matter (a key file made on a machine with a wrong clock opens).
    expect(fernetDecrypt(key, token, { now: made + 1e9 }).toString()).toBe('x');
    expect(fernetDecrypt(key, token, { now: 0 }).toString()).toBe('x');
  });

  it('refuses keys that are not 32 bytes of canonical padded base64url', () => {
    const good = generateFernetKey();
    expect(good).toMatch(/^[A-Za-z0-9_-]{43}=$/);
    const bad = [
      '',
      good.slice(0, -1), // unpadded
      `${Buffer.alloc(31).toString('base64url')}=`,
      Buffer.alloc(33).toString('base64url'),
      'cw/0x689RpI+jtRR7oE8h/eQsKImvJapLeSbXpwF4e4=', // standard alphabet
      'cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e5=', // stray low bits: not canonical
    ];
    for (const key of bad) {
      expect(() => fernetEncrypt(key, Buffer.from('x')), key).toThrow(FernetKeyError);
    }
    expect(() => fernetEncrypt(new Uint8Array(16), Buffer.from('x'))).toThrow(FernetKeyError);
    expect(() => encodeFernetKey(new Uint8Array(31))).toThrow(FernetKeyError);
  });

  it('does not modify the caller’s key bytes', () => {
    const key = randomBytes(32);
    const copy = Buffer.from(key);
    fernetDecrypt(key, fernetEncrypt(key, Buffer.from('x')));
    expect(key).toEqual(copy);
  });
});

// --- interoperability with Python's `cryptography` -------------------------------------------

const PYTHON = process.env['PYTHON'] ?? 'python3';

/** Runs `script` in python3 with JSON on stdin and returns its JSON stdout. */
function python(script: string, input: unknown): unknown {
  const run = spawnSync(PYTHON, ['-c', script], {
    input: JSON.stringify(input),
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (run.error !== undefined || run.status !== 0) {
    throw new Error(
      `python3 with the \`cryptography\` package is needed for the Fernet interoperability ` +
        `test (pip install cryptography; set PYTHON to use another interpreter): ` +
        `${run.error?.message ?? ''}${run.stderr ?? ''}`,
    );
  }
  return JSON.parse(run.stdout) as unknown;
}

const INTEROP_SCRIPT = `
import json, sys, cryptography
from cryptography.fernet import Fernet, InvalidToken
job = json.load(sys.stdin)
out = {"version": cryptography.__version__}

# Tokens made by us: decrypt them, with and without a TTL.
decrypted = []
for item in job["ours"]:
    f = Fernet(item["key"].encode())
    plain = f.decrypt(item["token"].encode()).hex()
    try:
        f.decrypt_at_time(item["token"].encode(), item["ttl"], item["at"])
        in_ttl = True
    except InvalidToken:
        in_ttl = False
    decrypted.append({"hex": plain, "inTtl": in_ttl})
out["decrypted"] = decrypted

# Tokens made by Python for us to decrypt.
key = Fernet.generate_key()
f = Fernet(key)
out["key"] = key.decode()
out["made"] = [
    dict(m, token=f.encrypt_at_time(bytes.fromhex(m["hex"]), m["at"]).decode())
    for m in job["theirs"]
]
out["fresh"] = f.encrypt(b"made just now").decode()
print(json.dumps(out))
`;

interface InteropResult {
  version: string;
  decrypted: { hex: string; inTtl: boolean }[];
  key: string;
  made: { token: string; hex: string; at: number }[];
  fresh: string;
}

describe('interoperability with Python cryptography.fernet', () => {
  const plaintexts = [0, 1, 15, 16, 17, 32, 33, 1000].map((n) => randomBytes(n));
  const ourKey = generateFernetKey();
  const stamped = 1_700_000_000;
  const ours = plaintexts.map((p, i) => ({
    key: ourKey,
    token: fernetEncrypt(ourKey, p, { now: stamped }),
    ttl: 100,
    at: stamped + 95 + i, // 95..102 seconds old: the last two are past the TTL
  }));
  const theirs = plaintexts.map((p, i) => ({ hex: p.toString('hex'), at: 1_600_000_000 + i }));
  // Run once, on first use, inside a test: without Python every test here fails (not skips).
  let cached: InteropResult | undefined;
  const interop = (): InteropResult => {
    if (cached === undefined) {
      cached = python(INTEROP_SCRIPT, { ours, theirs }) as InteropResult;
      console.info(`interop against python cryptography ${cached.version}`);
    }
    return cached;
  };

  it('Python decrypts our tokens, and agrees with us on the TTL', () => {
    const result = interop();
    expect(result.decrypted.map((d) => d.hex)).toEqual(plaintexts.map((p) => p.toString('hex')));
    for (const [i, item] of ours.entries()) {
      let accepted = true;
      try {
        fernetDecrypt(item.key, item.token, { ttlSeconds: item.ttl, now: item.at });
      } catch {
        accepted = false;
      }
      expect(result.decrypted[i]?.inTtl, `token ${i}`).toBe(accepted);
    }
    expect(result.decrypted.filter((d) => !d.inTtl)).toHaveLength(2);
  });

  it('we decrypt tokens Python made, with its key and timestamps', () => {
    const result = interop();
    expect(result.key).toMatch(/^[A-Za-z0-9_-]{43}=$/);
    for (const made of result.made) {
      const { plaintext, timestamp } = fernetDecryptWithTimestamp(result.key, made.token);
      expect(plaintext.toString('hex')).toBe(made.hex);
      expect(timestamp).toBe(BigInt(made.at));
    }
    const now = Math.floor(Date.now() / 1000);
    expect(fernetDecrypt(result.key, result.fresh, { ttlSeconds: 600, now }).toString()).toBe(
      'made just now',
    );
  });

  it('a token Python made under another key is refused', () => {
    const result = interop();
    const made = result.made[0];
    expect(made).toBeDefined();
    expect(refusal(() => fernetDecrypt(ourKey, made!.token)).code).toBe('ERR_FERNET_MAC');
  });
});
