// Known answers for the crypto port's digests: FIPS 180-2 (SHA-256 of "abc"
// and of nothing) and the PBKDF2-HMAC-SHA-256 vectors of RFC 7914 section 11
// and of the widely used "password"/"salt" set (Stack Exchange 107262,
// the crypto port gives them on every host: tests/crypto-port.test.ts).

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

export const SHA256_VECTORS = [
  { data: ascii('abc'), digest: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad' },
  { data: ascii(''), digest: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' },
  {
    data: ascii('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'),
    digest: '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
  },
];

export const PBKDF2_VECTORS = [
  { password: ascii('password'), salt: ascii('salt'), iterations: 1, length: 32, key: '120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b' },
  { password: ascii('password'), salt: ascii('salt'), iterations: 2, length: 32, key: 'ae4d0c95af6b46d32d0adff928f06dd02a303f8ef3c251dfd6e2d85a95474c43' },
  { password: ascii('password'), salt: ascii('salt'), iterations: 4096, length: 32, key: 'c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a' },
  {
    password: ascii('passwordPASSWORDpassword'), salt: ascii('saltSALTsaltSALTsaltSALTsaltSALTsalt'), iterations: 4096, length: 40,
    key: '348c89dbcbd32b2f32d814b8116e84cf2b17347ebc1800181c4e2a1fb8dd53e1c635518c7dac47e9',
  },
  // RFC 7914 section 11: PBKDF2-HMAC-SHA256 (P="passwd", S="salt", c=1, dkLen=64).
  {
    password: ascii('passwd'), salt: ascii('salt'), iterations: 1, length: 64,
    key: '55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783',
  },
];

/** NIST SP 800-38A, F.2.1/F.2.2 CBC-AES128 (the four blocks; decryption gives the plaintext back). */
export const CBC_VECTORS = [
  {
    key: '2b7e151628aed2a6abf7158809cf4f3c',
    iv: '000102030405060708090a0b0c0d0e0f',
    plaintext: '6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710',
    ciphertext: '7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b273bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7',
  },
];
