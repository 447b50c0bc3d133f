import type {SharedToken, StoreEvent} from '../../source/stores/shared-token-cache.js';

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
