import {checkUrl, optionNames} from '../checks.js';
import {ConfigurationError, describeValue} from '../errors.js';

export type OriginOptions = {
	/**
	The origins (or URLs, whose origin is taken) that may receive the token. A request to any other origin is sent without one and causes no token request.

	@default The origin of the instance's `prefixUrl`; without one, the origin of the first request that gets a token.
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
