/**
The members of `RequestInit` that `new Request()` itself takes.
*/
const requestInitKeys = new Set(['method', 'headers', 'body', 'mode', 'credentials', 'cache', 'redirect', 'referrer', 'referrerPolicy', 'integrity', 'keepalive', 'signal', 'window', 'duplex', 'priority']);

/**
What of a caller's `init` the inner fetch still needs once the request has been built from it: extensions only fetch understands (undici's `dispatcher`, a framework's own keys). The rest must not reach fetch again: its `headers` would replace the token, and a stream `body` would be read twice.
*/
export function fetchOnlyInit(init: RequestInit | undefined): RequestInit | undefined {
	if (init === undefined) {
		return undefined;
	}

	let extensions: Record<string, unknown> | undefined;
	for (const [key, value] of Object.entries(init)) {
		if (requestInitKeys.has(key)) {
			continue;
		}

		extensions ??= {};
		extensions[key] = value;
	}

	return extensions;
}
