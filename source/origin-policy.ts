import process from 'node:process';
import {checkUrl, optionNames} from './checks.js';
import {ConfigurationError, describeValue} from './errors.js';

export type OriginOptions = {
	/**
	The origins (or URLs, whose origin is taken) that may receive the token. A request to any other origin is sent without one and causes no token request.

	@default The first origin that gets a token: the origin of the instance's `prefixUrl`, or without one, of the first request.
	*/
	origins?: ReadonlyArray<string | URL>;
};

export const originOptionNames = optionNames<OriginOptions>()(['origins']);

/**
Each origin as `URL.origin` gives it. A URL without a scheme and host (`localhost:3000` parses with the scheme `localhost:`) has the opaque origin `"null"`, which no request ever has: a mistake.
*/
export function checkOrigins(value: unknown): ReadonlySet<string> | undefined {
	if (value === undefined) {
		return undefined;
	}

	if (!Array.isArray(value)) {
		throw new ConfigurationError('origins', `must be an array of origins, got ${describeValue(value)}`);
	}

	return new Set(value.map(item => {
		const url = checkUrl('origins', item);
		if (url.origin === 'null' || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
			throw new ConfigurationError('origins', `must hold http: or https: origins such as https://api.example.com, got one with the scheme ${url.protocol}`);
		}

		return url.origin;
	}));
}

/**
Which origins get the token, for one set of hooks or one wrapped client, whatever transport.
*/
export type OriginPolicy = {
	/**
	May a request that starts at `origin` carry the token? `preferred` gives the origin the client itself names as its API (got's `prefixUrl`), if any: without an `origins` list, the first one seen becomes the only one.
	*/
	allows(origin: string, preferred?: () => string | undefined): boolean;
	/**
	The allowed origins are known: listed, or the first one seen. `preferred` is no longer asked.
	*/
	readonly isSettled: boolean;
};

export const originWarningCode = 'GOT_OAUTH_ORIGINS';

/**
Fail closed: the token goes to the listed origins, or without a list to the first origin the client names and no other. A request elsewhere goes without it; without a list, the first such request says why, once.
*/
export function createOriginPolicy(origins: ReadonlySet<string> | undefined): OriginPolicy {
	let pinned: string | undefined;
	let hasWarned = false;

	// Only the default is a guess worth a warning: a list is the caller's own decision.
	const warnOnce = (origin: string, allowed: string): void => {
		if (hasWarned) {
			return;
		}

		hasWarned = true;
		process.emitWarning(`got-oauth sent a request to ${origin} without the access token, which goes only to ${allowed}. List every origin that may receive it in the \`origins\` option.`, {code: originWarningCode});
	};

	return {
		get isSettled() {
			return origins !== undefined || pinned !== undefined;
		},
		allows(origin, preferred) {
			if (origins !== undefined) {
				return origins.has(origin);
			}

			pinned ??= preferred?.() ?? origin;
			if (origin === pinned) {
				return true;
			}

			warnOnce(origin, pinned);
			return false;
		},
	};
}
