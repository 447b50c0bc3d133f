import {
	createCipheriv,
	createDecipheriv,
	createHmac,
	createSecretKey,
	hkdfSync,
	KeyObject,
	randomBytes,
} from 'node:crypto';
import {isPlainObject} from '../checks.js';

/*
A token at rest: AES-256-GCM, so that read access to the store reveals no token, and a value that was changed, cut, moved to another key or written with another key opens as nothing.

A value is four base64url fields joined by dots:

	<version>.<fingerprint>.<iv>.<ciphertext and tag>

- version: `1`.
- fingerprint: HMAC-SHA256 of the access token under the fingerprint key, first 22 characters (132 bits). Lets a store delete "the entry holding this token" without decrypting, and without letting someone who reads the store confirm a guessed token.
- iv: 12 random bytes.
- ciphertext and tag: the entry as JSON, then GCM's 16-byte tag. The additional authenticated data is `<version>.<fingerprint>.<key>`, so the value is bound to the key it was written under and to its fingerprint.
*/

/** Everything a process needs to use a token another process fetched. Times are wall-clock epoch milliseconds: they are compared across machines. */
export type StoredToken = {
	readonly accessToken: string;
	readonly tokenType: string;
	readonly scope?: string;
	/** When the token expires, as the process that fetched it computed. */
	readonly expiresAt: number;
	/** After this no process uses the token: `expiresAt` less the expiry margin. */
	readonly usableUntil: number;
	/** For a DPoP-bound token (RFC 9449): the private JWK its proofs are signed with, with its `alg`. */
	readonly dpopKey?: Readonly<Record<string, unknown>>;
};

/** Keys derived from one secret. `keyId` is not secret: it names the key in store keys, so processes holding different secrets (during a rotation) keep apart. */
export type StoreKeys = {
	readonly encryptionKey: KeyObject;
	readonly fingerprintKey: KeyObject;
	/** 16 hex characters. */
	readonly keyId: string;
};

/** A client secret, an explicit key, or a private key: what the store keys are derived from. */
export type KeyMaterial = string | Uint8Array | KeyObject;

const version = '1';
const ivLength = 12;
const tagLength = 16;
const fingerprintLength = 22;
const salt = 'got-oauth token store';
const info = {
	encryption: 'got-oauth token store v1 encryption',
	fingerprint: 'got-oauth token store v1 fingerprint',
	keyId: 'got-oauth token store v1 key id',
	credential: 'got-oauth token store v1 credential',
} as const;

/** Stored values are a few hundred bytes; anything far bigger is not ours and is not worth decrypting. */
const maxValueLength = 65_536;

function materialBytes(material: KeyMaterial): Uint8Array {
	if (material instanceof KeyObject) {
		// A private key's PKCS#8 DER is stable for the same key, whatever form it was given in.
		return material.type === 'secret' ? material.export() : material.export({type: 'pkcs8', format: 'der'});
	}

	return typeof material === 'string' ? Buffer.from(material, 'utf8') : material;
}

/**
Derive the store keys with HKDF-SHA256 (RFC 5869). One input gives the same keys in every process. The input must be secret and hard to guess: read access to the store allows testing guesses of it offline.
*/
export function deriveStoreKeys(material: KeyMaterial): StoreKeys {
	const ikm = materialBytes(material);
	const derive = (purpose: string, length: number) => Buffer.from(hkdfSync('sha256', ikm, salt, purpose, length));
	return {
		encryptionKey: createSecretKey(derive(info.encryption, 32)),
		fingerprintKey: createSecretKey(derive(info.fingerprint, 32)),
		keyId: derive(info.keyId, 8).toString('hex'),
	};
}

/**
An encryption key of 32 bytes derived from the client's own secret (its client secret or private key), for a client given none: every process holding that secret derives the same key, and a store reader who lacks it cannot open the entries.
*/
export function keyFromCredential(credential: string | KeyObject): Uint8Array {
	return Buffer.from(hkdfSync('sha256', materialBytes(credential), salt, info.credential, 32));
}

/** The fingerprint of an access token, as stored in the second field of a value. */
export function tokenFingerprint(keys: StoreKeys, accessToken: string): string {
	return createHmac('sha256', keys.fingerprintKey).update(accessToken).digest('base64url').slice(0, fingerprintLength);
}

/**
The fingerprint field of a stored value, without opening it: what a store compares in `deleteIfFingerprint`. `undefined` for a value that has none.
*/
export function valueFingerprint(value: unknown): string | undefined {
	if (typeof value !== 'string') {
		return undefined;
	}

	const fields = value.split('.', 3);
	return fields.length === 3 ? fields[1] : undefined;
}

const additionalData = (fingerprint: string, key: string): Uint8Array => Buffer.from(`${version}.${fingerprint}.${key}`, 'utf8');

/**
Encrypt `entry` for the store key `key`.
*/
export function sealEntry(keys: StoreKeys, key: string, entry: StoredToken): string {
	const fingerprint = tokenFingerprint(keys, entry.accessToken);
	const iv = randomBytes(ivLength);
	const cipher = createCipheriv('aes-256-gcm', keys.encryptionKey, iv, {authTagLength: tagLength});
	cipher.setAAD(additionalData(fingerprint, key));
	const sealed = Buffer.concat([cipher.update(JSON.stringify(entry), 'utf8'), cipher.final(), cipher.getAuthTag()]);
	return `${version}.${fingerprint}.${iv.toString('base64url')}.${sealed.toString('base64url')}`;
}

const base64urlSyntax = /^[\w\-]+$/v;

/** Strict base64url: a field that decodes to the same bytes but is written differently is a changed value. */
function decodeField(field: string): Uint8Array | undefined {
	if (!base64urlSyntax.test(field)) {
		return undefined;
	}

	const bytes = Buffer.from(field, 'base64url');
	return bytes.toString('base64url') === field ? bytes : undefined;
}

const isTime = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
const printableAscii = /^[\u{20}-\u{7E}]+$/v;

function toStoredToken(json: unknown): StoredToken | undefined {
	if (!isPlainObject(json)) {
		return undefined;
	}

	const {accessToken, tokenType, scope, expiresAt, usableUntil, dpopKey} = json;
	if (typeof accessToken !== 'string' || typeof tokenType !== 'string' || !printableAscii.test(accessToken)
		|| (scope !== undefined && typeof scope !== 'string')
		|| !isTime(expiresAt) || !isTime(usableUntil) || usableUntil > expiresAt
		|| (dpopKey !== undefined && !isPlainObject(dpopKey))) {
		return undefined;
	}

	return {
		accessToken,
		tokenType,
		...(scope !== undefined && {scope}),
		expiresAt,
		usableUntil,
		...(dpopKey !== undefined && {dpopKey}),
	};
}

function decrypt(keys: StoreKeys, aad: Uint8Array, iv: Uint8Array, sealed: Uint8Array): string | undefined {
	try {
		const decipher = createDecipheriv('aes-256-gcm', keys.encryptionKey, iv, {authTagLength: tagLength});
		decipher.setAAD(aad);
		decipher.setAuthTag(sealed.subarray(-tagLength));
		return Buffer.concat([decipher.update(sealed.subarray(0, -tagLength)), decipher.final()]).toString('utf8');
	} catch {
		return undefined;
	}
}

function parseJson(text: string): unknown {
	try {
		return JSON.parse(text);
	} catch {
		return undefined;
	}
}

/**
Decrypt a value read from the store key `key`. `undefined` for anything that is not a whole, unchanged value written under this key with these keys: never throws.
*/
export function openEntry(keys: StoreKeys, key: string, value: unknown): StoredToken | undefined {
	if (typeof value !== 'string' || value.length > maxValueLength) {
		return undefined;
	}

	const fields = value.split('.');
	if (fields.length !== 4 || fields[0] !== version) {
		return undefined;
	}

	const [, fingerprint, ivField, sealedField] = fields as [string, string, string, string];
	const iv = decodeField(ivField);
	const sealed = decodeField(sealedField);
	if (sealed === undefined || fingerprint.length !== fingerprintLength || iv?.length !== ivLength || sealed.length <= tagLength) {
		return undefined;
	}

	const plaintext = decrypt(keys, additionalData(fingerprint, key), iv, sealed);
	const entry = plaintext === undefined ? undefined : toStoredToken(parseJson(plaintext));
	// Authenticated, so only a writer holding the keys could get this wrong; a value must still name the token it holds.
	return entry !== undefined && tokenFingerprint(keys, entry.accessToken) === fingerprint ? entry : undefined;
}
