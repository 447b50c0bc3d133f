/*
Server-provided nonces (RFC 9449 §8, §9): the latest one each origin sent, so that the next proof to it carries the nonce and does not cost a round trip to learn it.
*/

/**
RFC 9449 §8.1: `nonce = 1*NQCHAR`, with a bound of our own: a nonce goes into every proof to its origin.
*/
const nonceSyntax = /^[\u{21}\u{23}-\u{5B}\u{5D}-\u{7E}]{1,1024}$/v;

/**
A `DPoP-Nonce` header value as a nonce, or `undefined` for none or one that breaks RFC 9449 §8.1.
*/
export function readNonce(header: unknown): string | undefined {
	return typeof header === 'string' && nonceSyntax.test(header) ? header : undefined;
}

/**
How many origins' nonces are kept: a client talks to a few servers; one that follows links to many must not grow without bound.
*/
const defaultLimit = 100;

/**
The latest nonce of each origin, for the `limit` origins that sent one most recently.
*/
export class NonceCache {
	readonly #nonces = new Map<string, string>();
	readonly #limit: number;

	constructor(limit = defaultLimit) {
		this.#limit = limit;
	}

	get size(): number {
		return this.#nonces.size;
	}

	get(origin: string): string | undefined {
		return this.#nonces.get(origin);
	}

	/**
	Remember `origin`'s nonce from a `DPoP-Nonce` header; a value that is not a nonce changes nothing. Returns whether it was one.
	*/
	learn(origin: string, header: unknown): boolean {
		const nonce = readNonce(header);
		if (nonce === undefined) {
			return false;
		}

		// A Map keeps insertion order: deleting first makes this origin the most recent.
		this.#nonces.delete(origin);
		this.#nonces.set(origin, nonce);
		if (this.#nonces.size > this.#limit) {
			this.#nonces.delete(this.#nonces.keys().next().value!);
		}

		return true;
	}
}
