/*
 * ECDSA P-256 verification and streamed SHA-256 for the firmware updater,
 * native over mbedtls (see ota-verify.c).
 */
export function verifyP256(publicKey, message, signature) {
	return native("xs_otaverify_p256").call(this, publicKey, message, signature);
}

export class Sha256Stream extends Native("xs_sha256stream_destructor") {
	constructor() { super(); native("xs_sha256stream_constructor").call(this); }
	update(data) { return native("xs_sha256stream_update").call(this, data); }
	digest() { return native("xs_sha256stream_digest").call(this); }
}
