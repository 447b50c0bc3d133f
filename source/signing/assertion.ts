import {randomUUID} from 'node:crypto';
import {importJWK, SignJWT, type CryptoKey, type JWTPayload} from 'jose';
import type {NormalizedSigningKey} from './signing-key.js';

/**
Seconds an assertion we sign stays valid: long enough for one request, short enough that a leaked one is soon useless.
*/
const assertionLifetime = 60;

export type AssertionSigner = (claims: JWTPayload) => Promise<string>;

/**
RFC 7523 §3 timing and identity claims for a new assertion. JWT times are wall-clock seconds, so `Date.now`, never the monotonic clock used for expiry. A new `jti` each time: servers reject a replayed one.
*/
export function freshClaims(): Required<Pick<JWTPayload, 'jti' | 'iat' | 'exp'>> {
	const now = Math.floor(Date.now() / 1000);
	return {jti: randomUUID(), iat: now, exp: now + assertionLifetime};
}

/**
Signs with an asymmetric private key (private_key_jwt, the JWT bearer grant). The key was parsed and checked against its algorithm when the configuration was read; jose imports it on first use, and again after an import that failed, which is not kept.
*/
export function privateKeySigner({key, alg, header}: NormalizedSigningKey): AssertionSigner {
	let imported: Promise<CryptoKey | Uint8Array> | undefined;
	return async claims => {
		imported ??= importJWK(key.export({format: 'jwk'}), alg).catch((error: unknown) => {
			imported = undefined;
			throw error;
		});
		return new SignJWT(claims).setProtectedHeader({alg, ...header}).sign(await imported);
	};
}

/**
Signs with HS256 over the client secret (client_secret_jwt, RFC 7523 §2.2).
*/
export function clientSecretSigner(clientSecret: string): AssertionSigner {
	const secret = new TextEncoder().encode(clientSecret);
	return async claims => new SignJWT(claims).setProtectedHeader({alg: 'HS256'}).sign(secret);
}
