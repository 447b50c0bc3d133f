import {performance} from 'node:perf_hooks';
import {decodeJwt} from 'jose';
import pMemoize from 'p-memoize';
import {TokenError, cleanCause} from './errors.js';
import {type Clock, seconds} from './options.js';
import type {TokenSet} from './token-response.js';

export type TokenSourceOptions = {
	/** Fetch a new token. Called by one caller at a time; its failure reaches every waiter and is never cached. */
	fetchToken: () => Promise<TokenSet>;
	/** Seconds before expiry at which a token stops being used, capped at half its lifetime. Default: 60. */
	expiryMargin?: number;
	/** Lifetime in seconds of a token with no `expires_in` that is not a JWT with `exp`. Default: 300. */
	defaultLifetime?: number;
	/** Milliseconds on a monotonic scale. Default: `performance.now`. */
	clock?: Clock;
};

type CachedToken = {
	readonly accessToken: string;
	/** On the clock's scale: the first instant the token is no longer handed out. */
	readonly usableUntil: number;
};

export type GetTokenOptions = {
	/** Stops this caller's wait; the shared token request goes on for the others. */
	signal?: AbortSignal;
};

const defaultClock: Clock = () => performance.now();

/** Seconds until a JWT's `exp`, read without verifying it: only the server that issued it can, and it does. */
function jwtLifetime(accessToken: string): number | undefined {
	try {
		const {exp} = decodeJwt(accessToken);
		return typeof exp === 'number' ? Math.max(0, exp - (Date.now() / 1000)) : undefined;
	} catch {
		return undefined;
	}
}

async function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
	let onAbort!: () => void;
	const aborted = new Promise<never>((_resolve, reject) => {
		onAbort = () => {
			reject(signal.reason as Error);
		};

		signal.addEventListener('abort', onAbort, {once: true});
	});
	try {
		return await Promise.race([promise, aborted]);
	} finally {
		signal.removeEventListener('abort', onAbort);
	}
}

/**
A cached access token: fetched on first use, reused until it expires less a safety margin, fetched once for all concurrent callers. Transport-free: it knows nothing of got, so it also serves a WebSocket handshake or any other client.
*/
export class TokenSource {
	readonly #fetchToken: () => Promise<TokenSet>;
	readonly #expiryMargin: number;
	readonly #defaultLifetime: number;
	readonly #clock: Clock;
	#cached: CachedToken | undefined;

	// One token request for every caller that finds no valid token; p-memoize forgets it once settled, so a failure is not cached.
	readonly #refresh = pMemoize(async () => this.#fetch(), {cache: false});

	constructor(options: TokenSourceOptions) {
		if (typeof options?.fetchToken !== 'function') {
			throw new TypeError('got-oauth: `fetchToken` must be a function returning a token');
		}

		this.#fetchToken = options.fetchToken;
		this.#expiryMargin = seconds('expiryMargin', options.expiryMargin, 60);
		this.#defaultLifetime = seconds('defaultLifetime', options.defaultLifetime, 300);
		this.#clock = options.clock ?? defaultClock;
	}

	async #fetch(): Promise<string> {
		// Timed from the request, not the response: the server's clock for `expires_in` started before we heard of it.
		const requestedAt = this.#clock();
		let tokenSet: TokenSet;
		try {
			tokenSet = await this.#fetchToken();
		} catch (error) {
			if (error instanceof TokenError) {
				throw error;
			}

			const cause = cleanCause(error);
			throw new TokenError(`Token source failed: ${cause.message}`, {cause});
		}

		if (typeof tokenSet?.accessToken !== 'string' || tokenSet.accessToken.length === 0) {
			throw new TokenError('`fetchToken` resolved without an `accessToken` string');
		}

		const lifetime = tokenSet.expiresIn ?? jwtLifetime(tokenSet.accessToken) ?? this.#defaultLifetime;
		// Half the lifetime at most, so a 60 s token is still used for 30 s instead of never.
		const margin = Math.min(this.#expiryMargin, lifetime / 2);
		this.#cached = {accessToken: tokenSet.accessToken, usableUntil: requestedAt + ((lifetime - margin) * 1000)};
		return tokenSet.accessToken;
	}

	/**
	The cached token if it is still usable, synchronously; `undefined` otherwise. No request is made.
	*/
	peek(): string | undefined {
		const cached = this.#cached;
		return cached !== undefined && this.#clock() < cached.usableUntil ? cached.accessToken : undefined;
	}

	/**
	A usable access token: the cached one, or a new one shared with every concurrent caller.
	*/
	async getToken(options: GetTokenOptions = {}): Promise<string> {
		const cached = this.peek();
		if (cached !== undefined) {
			return cached;
		}

		const {signal} = options;
		if (signal === undefined) {
			return this.#refresh();
		}

		// An aborted caller must not start a token request for nobody.
		signal.throwIfAborted();
		return abortable(this.#refresh(), signal);
	}

	/**
	Forget `accessToken` if it is still the cached one (the API rejected it). A token already replaced is left alone, so many requests failing with the same stale token cause one new token request, not many.
	*/
	invalidate(accessToken: string): boolean {
		if (this.#cached?.accessToken !== accessToken) {
			return false;
		}

		this.#cached = undefined;
		return true;
	}
}
