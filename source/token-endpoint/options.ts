import type {OptionsInit} from 'got';
import {checkSeconds, isPlainObject, optionNames} from '../checks.js';
import {ConfigurationError, describeValue} from '../errors.js';
import {checkClientCertificate, type ClientCertificate, type ClientCertificateSettings} from './client-certificate.js';
import {checkIssuer, checkTokenEndpoint} from './url-policy.js';

/**
The got options a token request accepts. Everything else (redirects, hooks, `prefixUrl`, response handling) is got-oauth's own: a redirect or a hook could carry the client's credentials somewhere the configuration never named.
*/
export const tokenRequestOptionNames = ['timeout', 'retry', 'https', 'agent', 'headers', 'dnsLookup', 'localAddress'] as const;

/**
Got options for the requests to the authorization server: the token endpoint and, with `issuer`, its metadata. They never reach API requests, and API options never reach the authorization server.
*/
export type TokenRequestOptions = Pick<OptionsInit, (typeof tokenRequestOptionNames)[number]>;

export type TokenEndpointOptions = {
	/**
	The token endpoint. `https:`, or `http:` on loopback (`127.0.0.0/8`, `::1`, `localhost`); anything else needs `allowInsecureRequests`. Required unless `issuer` is given.

	@see https://www.rfc-editor.org/rfc/rfc6749#section-3.2
	*/
	tokenEndpoint?: string | URL;

	/**
	The authorization server's issuer identifier. Without `tokenEndpoint`, the first token request reads its metadata for the token endpoint and the client authentication method; with both, nothing is fetched and the issuer joins the audience of client assertions.

	@see https://www.rfc-editor.org/rfc/rfc8414#section-3
	*/
	issuer?: string;

	/**
	Allow `http:` for a `tokenEndpoint`, an `issuer` or an endpoint its metadata names, off loopback. Credentials then cross the network in clear text.

	@default false
	@see https://www.rfc-editor.org/rfc/rfc6749#section-3.2
	*/
	allowInsecureRequests?: boolean;

	/**
	Got options for the token endpoint's requests (and metadata requests): `timeout`, `retry`, `https` (a client certificate for mutual TLS goes here, or in `clientCertificate` when it is renewed while the process runs), `agent`, `headers`, `dnsLookup`, `localAddress`. Any other is a `ConfigurationError`.

	@default {timeout: {request: 10000}, retry: {limit: 2, backoffLimit: 5000}}
	*/
	tokenRequest?: TokenRequestOptions;

	/**
	The longest getting a token may take, in seconds: the metadata request, every token request attempt and the waits between them. A caller waits no longer than this for a token (nor longer than its own `signal` or `timeout.request`).

	@default 20
	*/
	tokenTimeout?: number;

	/**
	The client certificate for mutual TLS at the token endpoint (`tls_client_auth`, `self_signed_tls_client_auth`, and certificate-bound tokens), when it is renewed while the process runs: `certificate` and `key` as PEM, or as functions called for every token request attempt, such as `pemFromFile(path)`. Each attempt presents what they return then, on a new connection when it changed. A certificate that does not change can go in `tokenRequest.https` instead; not both.

	@see https://www.rfc-editor.org/rfc/rfc8705#section-2
	*/
	clientCertificate?: ClientCertificate;
};

export const tokenEndpointOptionNames = optionNames<TokenEndpointOptions>()(['tokenEndpoint', 'issuer', 'allowInsecureRequests', 'tokenRequest', 'tokenTimeout', 'clientCertificate']);

/**
Where the token endpoint is: configured, or named by the issuer's metadata.
*/
type TokenEndpointLocation =
	| {readonly kind: 'configured'; readonly tokenEndpoint: URL; readonly issuer: string | undefined}
	| {readonly kind: 'discovered'; readonly issuer: string};

type TokenEndpointSettings = {
	readonly location: TokenEndpointLocation;
	readonly isInsecureAllowed: boolean;
	readonly tokenRequest: TokenRequestOptions;
	/**
	Seconds.
	*/
	readonly tokenTimeout: number;
	/**
	`clientCertificate` is given, or `tokenRequest.https` holds a client certificate and its key: RFC 8705's endpoint aliases apply.
	*/
	readonly hasClientCertificate: boolean;
	readonly clientCertificate: ClientCertificateSettings | undefined;
};

/**
The got options that give a client certificate, which `clientCertificate` gives in their place.
*/
const certificateOptions = ['certificate', 'key', 'pfx', 'passphrase'] as const;

function checkTokenRequest(value: unknown): TokenRequestOptions {
	if (value === undefined) {
		return {};
	}

	if (!isPlainObject(value)) {
		throw new ConfigurationError('tokenRequest', `must be an object of got options, got ${describeValue(value)}`);
	}

	const unknown = Object.keys(value).find(name => !(tokenRequestOptionNames as readonly string[]).includes(name));
	if (unknown !== undefined) {
		throw new ConfigurationError(`tokenRequest.${unknown}`, `is not accepted: token requests take only ${tokenRequestOptionNames.join(', ')}; got-oauth alone decides where the client's credentials go`);
	}

	return value;
}

export function checkTokenEndpointOptions(options: TokenEndpointOptions): TokenEndpointSettings {
	const {allowInsecureRequests = false} = options;
	if (typeof allowInsecureRequests !== 'boolean') {
		throw new ConfigurationError('allowInsecureRequests', `must be a boolean, got ${describeValue(allowInsecureRequests)}`);
	}

	const tokenRequest = checkTokenRequest(options.tokenRequest);
	const https = tokenRequest.https ?? {};
	const clientCertificate = options.clientCertificate === undefined ? undefined : checkClientCertificate(options.clientCertificate);
	const inHttps = certificateOptions.find(name => https[name] !== undefined);
	if (clientCertificate !== undefined && inHttps !== undefined) {
		throw new ConfigurationError('clientCertificate', `and \`tokenRequest.https.${inHttps}\` both give the client certificate; give one`);
	}

	const hasClientCertificate = clientCertificate !== undefined || (https.certificate !== undefined && https.key !== undefined) || https.pfx !== undefined;
	const issuer = options.issuer === undefined ? undefined : checkIssuer(options.issuer, allowInsecureRequests);
	const tokenTimeout = checkSeconds('tokenTimeout', options.tokenTimeout, 20);
	const settings = {isInsecureAllowed: allowInsecureRequests, tokenRequest, tokenTimeout, hasClientCertificate, clientCertificate};
	if (options.tokenEndpoint !== undefined) {
		return {...settings, location: {kind: 'configured', tokenEndpoint: checkTokenEndpoint(options.tokenEndpoint, allowInsecureRequests), issuer}};
	}

	if (issuer === undefined) {
		throw new ConfigurationError('tokenEndpoint', 'must be a URL or a string, or `issuer` given for discovery (RFC 8414)');
	}

	return {...settings, location: {kind: 'discovered', issuer}};
}
