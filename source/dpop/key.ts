import {createPublicKey, randomUUID, webcrypto, type KeyObject} from 'node:crypto';
import {calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK} from 'jose';

/*
A DPoP key (RFC 9449 §4.2): the private key that signs proofs, and everything about it that is the same for every proof, computed once: the public JWK, its thumbprint, the encoded protected header. A proof then costs a payload, a random `jti` and one signature.
*/

/**
The JWS algorithms a DPoP key may sign with, each with its WebCrypto signing parameters. RFC 9449 §4.2 requires an asymmetric algorithm; these are the ones RFC 7518 and RFC 8037 define for the keys `checkSigningKey` accepts.
*/
const signingParameters: Readonly<Record<string, AlgorithmIdentifier | EcdsaParams | RsaPssParams>> = {
	ES256: {name: 'ECDSA', hash: 'SHA-256'},
	ES384: {name: 'ECDSA', hash: 'SHA-384'},
	ES512: {name: 'ECDSA', hash: 'SHA-512'},
	EdDSA: {name: 'Ed25519'},
	Ed25519: {name: 'Ed25519'},
	RS256: {name: 'RSASSA-PKCS1-v1_5'},
	RS384: {name: 'RSASSA-PKCS1-v1_5'},
	RS512: {name: 'RSASSA-PKCS1-v1_5'},
	// RFC 7518 §3.5: the salt is as long as the hash.
	PS256: {name: 'RSA-PSS', saltLength: 32},
	PS384: {name: 'RSA-PSS', saltLength: 48},
	PS512: {name: 'RSA-PSS', saltLength: 64},
};

export const dpopAlgorithms: readonly string[] = Object.keys(signingParameters);

/**
RFC 7638 §3.2: the members a thumbprint covers, which are all a public key needs.
*/
const publicMembers: Readonly<Record<string, readonly string[]>> = {
	EC: ['crv', 'kty', 'x', 'y'],
	OKP: ['crv', 'kty', 'x'],
	RSA: ['e', 'kty', 'n'],
};

/**
The public key of `jwk` (public or private), with its required members only: no private member, no `kid`, `alg` or `use` to tell more than the key.
*/
function publicJwkOf(jwk: Readonly<Record<string, unknown>>): JWK {
	const members = publicMembers[String(jwk.kty)];
	if (members === undefined) {
		throw new TypeError('A DPoP key must be an RSA, EC or OKP key');
	}

	return Object.fromEntries(members.map(name => [name, jwk[name]]));
}

const encode = (text: string): string => Buffer.from(text, 'utf8').toString('base64url');

export type ProofClaims = {
	/**
	RFC 9449 §4.2: the request's method.
	*/
	readonly htm: string;
	/**
	RFC 9449 §4.2: the request's URI without query and fragment.
	*/
	readonly htu: string;
	/**
	RFC 9449 §4.2: base64url SHA-256 of the access token, on resource requests.
	*/
	readonly ath?: string;
	/**
	RFC 9449 §8, §9: the server's latest nonce, when it gave one.
	*/
	readonly nonce?: string;
};

/**
A key that signs DPoP proofs. Its private key stays in a WebCrypto `CryptoKey`, exportable only when a shared store has to carry it to other processes; nothing about the key shows in `util.inspect` or JSON but its algorithm and thumbprint.
*/
export class DpopKey {
	static async #create(privateKey: CryptoKey, jwk: Readonly<Record<string, unknown>>, alg: string): Promise<DpopKey> {
		const publicJwk = publicJwkOf(jwk);
		return new DpopKey(privateKey, publicJwk, alg, await calculateJwkThumbprint(publicJwk, 'sha256'));
	}

	/**
	A new key pair. `isExportable`: the private key may be exported, for a shared store.
	*/
	static async generate(alg: string, isExportable: boolean): Promise<DpopKey> {
		const {privateKey, publicKey} = await generateKeyPair(alg, {extractable: isExportable});
		return DpopKey.#create(privateKey, await exportJWK(publicKey), alg);
	}

	/**
	A key given as a private `KeyObject`, already checked against `alg` (`checkSigningKey`).
	*/
	static async fromKeyObject(key: KeyObject, alg: string, isExportable: boolean): Promise<DpopKey> {
		const privateKey = await importJWK(key.export({format: 'jwk'}), alg, {extractable: isExportable});
		return DpopKey.#create(privateKey as CryptoKey, createPublicKey(key).export({format: 'jwk'}), alg);
	}

	/**
	A key as `toStoredJwk()` wrote it, in another process. Rejects for anything else.
	*/
	static async fromStoredJwk(jwk: Readonly<Record<string, unknown>>): Promise<DpopKey> {
		const {alg} = jwk;
		if (typeof alg !== 'string' || !Object.hasOwn(signingParameters, alg)) {
			throw new TypeError('A stored DPoP key has no supported `alg`');
		}

		const privateKey = await importJWK(jwk as JWK, alg, {extractable: false});
		if ((privateKey as Partial<CryptoKey>).type !== 'private') {
			throw new TypeError('A stored DPoP key is not a private key');
		}

		return DpopKey.#create(privateKey as CryptoKey, jwk, alg);
	}

	readonly #privateKey: CryptoKey;
	readonly #parameters: AlgorithmIdentifier | EcdsaParams | RsaPssParams;
	/**
	The encoded protected header, the same for every proof.
	*/
	readonly #header: string;
	/**
	The JWS algorithm of its proofs.
	*/
	readonly alg: string;
	/**
	The JWK SHA-256 thumbprint of the public key (RFC 7638): what a token bound to this key carries as `cnf.jkt` (RFC 9449 §6.1).
	*/
	readonly jkt: string;

	private constructor(privateKey: CryptoKey, publicJwk: JWK, alg: string, jkt: string) {
		this.alg = alg;
		this.jkt = jkt;
		this.#privateKey = privateKey;
		this.#parameters = signingParameters[alg]!;
		this.#header = encode(JSON.stringify({typ: 'dpop+jwt', alg, jwk: publicJwk}));
	}

	/**
	The private key as a JWK with its `alg`, for a sealed store entry. Rejects unless the key was made exportable.
	*/
	async toStoredJwk(): Promise<Record<string, unknown>> {
		return {...await exportJWK(this.#privateKey), alg: this.alg};
	}

	/**
	A new proof (RFC 9449 §4.2): `typ` dpop+jwt and the public `jwk` in the header; a unique `jti` and the current `iat` with the given claims.
	*/
	async proof({htm, htu, ath, nonce}: ProofClaims): Promise<string> {
		// JSON leaves out the claims that are undefined.
		const claims = {jti: randomUUID(), htm, htu, iat: Math.floor(Date.now() / 1000), ath, nonce};
		const input = `${this.#header}.${encode(JSON.stringify(claims))}`;
		const signature = await webcrypto.subtle.sign(this.#parameters, this.#privateKey, Buffer.from(input, 'utf8'));
		return `${input}.${Buffer.from(signature).toString('base64url')}`;
	}
}
