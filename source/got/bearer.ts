import type {NormalizedOptions} from 'got';

const bearerPrefix = 'Bearer ';

/**
The header value for a token, built once per token rather than once per request.
*/
export function bearerHeader(): (token: string) => string {
	let lastToken = '';
	let header = '';
	return token => {
		if (token !== lastToken) {
			lastToken = token;
			header = bearerPrefix + token;
		}

		return header;
	};
}

/**
The bearer token a request carried, if any.
*/
export function sentToken(options: Pick<NormalizedOptions, 'headers'>): string | undefined {
	const {authorization} = options.headers;
	return typeof authorization === 'string' && authorization.startsWith(bearerPrefix) ? authorization.slice(bearerPrefix.length) : undefined;
}
