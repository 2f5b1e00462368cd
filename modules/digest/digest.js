/*
 * SHA-256, PBKDF2-HMAC-SHA-256 and random bytes, native: mbedtls on the
 * ESP32's SHA accelerator, and the hardware RNG (see digest.c).
 */
export function sha256(data) {
	return native("xs_digest_sha256").call(this, data);
}

export function pbkdf2(password, salt, iterations, length) {
	return native("xs_digest_pbkdf2").call(this, password, salt, iterations, length);
}

export function random(length) {
	return native("xs_digest_random").call(this, length);
}
