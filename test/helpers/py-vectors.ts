/** Test vectors made by python3 (hashlib/hmac/cryptography), an implementation independent of the code under test. */
import { execFileSync } from 'node:child_process';

export function python(script: string, input: unknown): string {
  return execFileSync('python3', ['-c', script], { input: JSON.stringify(input), encoding: 'utf8' }).trim();
}

/** A JWT signed by python: HS* with hmac, RS and ES algorithms with the cryptography package. Returns the token and, for asymmetric algs, the PEM public key. */
export function pyJwt(alg: string, claims: Record<string, unknown>, secret = 'jwt-secret', kid?: string): { token: string; publicPem: string; jwk: Record<string, string> } {
  const out = python(
    `
import sys, json, hmac, hashlib, base64
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa, ec, padding, utils
a = json.load(sys.stdin)
alg = a['alg']
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b'=').decode()
hdr = {'alg': alg, 'typ': 'JWT'}
if a['kid']: hdr['kid'] = a['kid']
signing = (b64(json.dumps(hdr).encode()) + '.' + b64(json.dumps(a['claims']).encode())).encode()
h = {'256': hashes.SHA256(), '384': hashes.SHA384(), '512': hashes.SHA512()}[alg[2:]]
pem = ''; jwk = {}
if alg.startswith('HS'):
    sig = hmac.new(a['secret'].encode(), signing, getattr(hashlib, 'sha' + alg[2:])).digest()
elif alg.startswith('RS'):
    k = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    sig = k.sign(signing, padding.PKCS1v15(), h)
    n = k.public_key().public_numbers()
    i2b = lambda i: i.to_bytes((i.bit_length() + 7) // 8, 'big')
    jwk = {'kty': 'RSA', 'n': b64(i2b(n.n)), 'e': b64(i2b(n.e)), 'alg': alg}
    pem = k.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
else:
    curve, size = {'256': (ec.SECP256R1(), 32), '384': (ec.SECP384R1(), 48), '512': (ec.SECP521R1(), 66)}[alg[2:]]
    k = ec.generate_private_key(curve)
    r, s = utils.decode_dss_signature(k.sign(signing, ec.ECDSA(h)))
    sig = r.to_bytes(size, 'big') + s.to_bytes(size, 'big')
    pem = k.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
if a['kid']: jwk['kid'] = a['kid']
print(json.dumps({'token': signing.decode() + '.' + b64(sig), 'publicPem': pem, 'jwk': jwk}))
`,
    { alg, claims, secret, kid: kid ?? '' },
  );
  return JSON.parse(out) as { token: string; publicPem: string; jwk: Record<string, string> };
}

/** The RFC 7616 qop=auth response, computed by python's hashlib. */
export function pyDigestResponse(p: { algorithm: 'MD5' | 'SHA-256'; username: string; realm: string; password: string; method: string; uri: string; nonce: string; nc: string; cnonce: string }): string {
  return python(
    `
import sys, json, hashlib
a = json.load(sys.stdin)
H = lambda s: hashlib.new('md5' if a['algorithm'] == 'MD5' else 'sha256', s.encode()).hexdigest()
ha1 = H(a['username'] + ':' + a['realm'] + ':' + a['password'])
ha2 = H(a['method'] + ':' + a['uri'])
print(H(':'.join([ha1, a['nonce'], a['nc'], a['cnonce'], 'auth', ha2])))
`,
    p,
  );
}

/** An RFC 5849 Authorization header signed by python (hmac + urllib.parse.quote), independent of src/auth/oauth1.ts. */
export function pyOAuth1(p: { method: string; url: string; query?: string; form?: string; consumerKey: string; consumerSecret: string; tokenSecret?: string; signatureMethod: string; timestamp: number; nonce: string }): string {
  return python(
    `
import sys, json, hmac, hashlib, base64
from urllib.parse import quote, parse_qsl
a = json.load(sys.stdin)
e = lambda s: quote(s, safe='~')
o = {'oauth_consumer_key': a['consumerKey'], 'oauth_signature_method': a['signatureMethod'], 'oauth_timestamp': str(a['timestamp']), 'oauth_nonce': a['nonce'], 'oauth_version': '1.0'}
key = e(a['consumerSecret']) + '&' + e(a.get('tokenSecret') or '')
if a['signatureMethod'] == 'PLAINTEXT':
    sig = key
else:
    params = list(o.items()) + parse_qsl(a.get('query') or '', keep_blank_values=True) + parse_qsl(a.get('form') or '', keep_blank_values=True)
    norm = '&'.join(k + '=' + v for k, v in sorted((e(k), e(v)) for k, v in params))
    base = a['method'].upper() + '&' + e(a['url']) + '&' + e(norm)
    sig = base64.b64encode(hmac.new(key.encode(), base.encode(), hashlib.sha1 if a['signatureMethod'] == 'HMAC-SHA1' else hashlib.sha256).digest()).decode()
o['oauth_signature'] = sig
print('OAuth realm="x", ' + ', '.join(k + '="' + e(v) + '"' for k, v in o.items()))
`,
    p,
  );
}
