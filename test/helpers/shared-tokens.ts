import type {SharedToken, StoreEvent} from '../../source/stores/shared-token-cache.js';
import type {TokenStore} from '../../source/stores/store.js';

export type SharedTokenTimes = {
	/** Wall-clock milliseconds the token was fetched at. Default: `Date.now()`. */
	now?: number;
	/** Milliseconds. Default: one hour. */
	lifetime?: number;
	/** Milliseconds before expiry the token stops being used. Default: one minute. */
	margin?: number;
	scope?: string;
};

/** A token as a token source hands it to the shared cache: `token-<name>`, with its times computed. */
export function sharedToken(name: number | string, {now = Date.now(), lifetime = 3_600_000, margin = 60_000, scope}: SharedTokenTimes = {}): SharedToken {
	return {
		tokenSet: {accessToken: `token-${name}`, tokenType: 'Bearer', ...(scope !== undefined && {scope})},
		expiresAt: now + lifetime,
		usableUntil: now + lifetime - margin,
	};
}

export type Fetcher = (() => Promise<SharedToken>) & {calls: number};

/** A fetch for `fetchShared()` that counts its calls; by default the n-th call answers `token-<n>`. */
export function fetcher(answer: (call: number) => SharedToken | Promise<SharedToken> = call => sharedToken(call)): Fetcher {
	const fetch = (async () => {
		fetch.calls++;
		return answer(fetch.calls);
	}) as Fetcher;
	fetch.calls = 0;
	return fetch;
}

/** The access token a call resolves with. */
export async function accessTokenOf(pending: Promise<SharedToken | undefined>): Promise<string | undefined> {
	const token = await pending;
	return token?.tokenSet.accessToken;
}

export function recorder(events: StoreEvent[]): (event: StoreEvent) => void {
	return event => {
		events.push(event);
	};
}

/** The store, with every call counted. */
export function counted(store: TokenStore): TokenStore & {calls: string[]} {
	const calls: string[] = [];
	const wrap = <Arguments extends unknown[], Result>(name: string, method: (...arguments_: Arguments) => Promise<Result>) => async (...arguments_: Arguments) => {
		calls.push(name);
		return method(...arguments_);
	};

	return {
		...store,
		calls,
		get: wrap('get', store.get),
		set: wrap('set', store.set),
		deleteIfFingerprint: wrap('deleteIfFingerprint', store.deleteIfFingerprint),
		acquireLock: wrap('acquireLock', store.acquireLock),
		releaseLock: wrap('releaseLock', store.releaseLock),
	};
}
