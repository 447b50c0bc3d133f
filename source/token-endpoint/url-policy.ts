import {checkUrl, isNonEmptyString} from '../checks.js';
import {ConfigurationError, describeValue} from '../errors.js';

/*
Where client credentials may travel: the configured token endpoint and issuer, and the endpoints an issuer's metadata names.
*/

/**
127.0.0.0/8, ::1 and localhost: traffic that never leaves the machine.
*/
function isLoopback(url: URL): boolean {
	return url.hostname === 'localhost' || url.hostname === '[::1]' || /^127(?:\.\d{1,3}){3}$/v.test(url.hostname);
}

/**
`https:` only, but `http:` on loopback or when the configuration says so. What is wrong with `url`, or `undefined`.
*/
export function insecureProblem(url: URL, isInsecureAllowed: boolean): string | undefined {
	if (url.protocol !== 'https:' && url.protocol !== 'http:') {
		return `must be an http: or https: URL, got ${url.protocol}`;
	}

	return !isInsecureAllowed && url.protocol === 'http:' && !isLoopback(url)
		? 'must be an https: URL: http: is allowed only on loopback, or with `allowInsecureRequests: true` (RFC 6749 §3.2 requires TLS)'
		: undefined;
}

/**
The token endpoint as configured: RFC 6749 §3.2 forbids a fragment.
*/
export function checkTokenEndpoint(value: unknown, isInsecureAllowed: boolean): URL {
	const url = checkUrl('tokenEndpoint', value);
	const problem = insecureProblem(url, isInsecureAllowed);
	if (problem !== undefined) {
		throw new ConfigurationError('tokenEndpoint', problem);
	}

	if (url.hash !== '' || String(value).includes('#')) {
		throw new ConfigurationError('tokenEndpoint', 'must have no fragment (RFC 6749 §3.2)');
	}

	return url;
}

/**
The issuer identifier as configured. RFC 8414 §3.3 compares it as a string, so it is kept as given: a URL object would add a trailing slash.
*/
export function checkIssuer(value: unknown, isInsecureAllowed: boolean): string {
	if (!isNonEmptyString(value)) {
		throw new ConfigurationError('issuer', `must be a string, got ${describeValue(value)}`);
	}

	const url = checkUrl('issuer', value);
	const problem = insecureProblem(url, isInsecureAllowed);
	if (problem !== undefined) {
		throw new ConfigurationError('issuer', problem);
	}

	if (url.search !== '' || url.hash !== '' || value.includes('?') || value.includes('#')) {
		throw new ConfigurationError('issuer', 'must have no query or fragment (RFC 8414 §2)');
	}

	return value;
}
