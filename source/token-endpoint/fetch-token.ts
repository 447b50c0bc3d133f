import type {BeforeRequestHook} from 'got';
import type {NormalizedConfig} from '../configuration/normalize.js';
import {publishDpopNonceRetry, traceTokenRequest, tokenRequestMessage, type TokenRequestMessage} from '../diagnostics/channels.js';
import {dpopTokenRequests} from '../dpop/token-requests.js';
import {checkTokenType} from '../dpop/token-type.js';
import {TokenError} from '../errors.js';
import {installRequestFunction} from '../got-request/request-function.js';
import {withCommonParameters} from '../grants/common-parameters.js';
import type {TokenEndpointCall} from '../grants/grant.js';
import type {TokenSet} from '../token-source/token-source.js';
import type {ResolvedClientCertificate} from './client-certificate.js';
import {authorizationServerClient, cappedRequest, startDeadline, type Deadline} from './client.js';
import {createDiscovery, type ResolvedEndpoint} from './discovery.js';
import {parseTokenEndpointResponse} from './token-response.js';

/**
Form parameters in order; a name may repeat (RFC 8707 `resource`).
*/
export type FormEntries = Array<[name: string, value: string]>;

/**
Form parameters as a caller writes them; an array is sent as one parameter per value.
*/
export type FormParameters = Record<string, string | readonly string[]>;

/**
Where a token request goes, and whom it is for: the audience of an assertion.
*/
export type TokenEndpointTarget = {
	readonly tokenEndpoint: URL;
	/**
	The authorization server's issuer identifier, when configured or discovered.
	*/
	readonly issuer: string | undefined;
};

/**
The form and headers of one attempt, as the client authentication method adds to them.
*/
export type RequestParts = {
	readonly form: URLSearchParams;
	readonly headers: Record<string, string>;
};

type BuildAttempt = () => Promise<{form: URLSearchParams; headers: Record<string, string>; clientCertificate: ResolvedClientCertificate | undefined}>;

/**
Where a token request carries the builder of its attempts: got keeps `context` across retries.
*/
const attemptKey = 'gotOAuthBuildAttempt';

/**
Builds one attempt's form and headers before each attempt, got's retries included: a client assertion or a signed grant assertion is single-use (the server records its `jti`), and one the platform signs is rotated, so each attempt gets a new one. So does a client certificate read from a function: got reads `https` after this hook, and Node.js keys its pooled connections and TLS sessions by certificate and key, so a renewed certificate goes out on a new connection, never on one made with the old.
*/
const buildAttempt: BeforeRequestHook = async options => {
	// Every request of a token client carries one; got's types cannot know it.
	const build = options.context[attemptKey] as BuildAttempt;
	let attempt: Awaited<ReturnType<BuildAttempt>>;
	try {
		attempt = await build();
	} catch (error) {
		// got passes a `RequestError` through as it is, then reads its `options` to decide on a retry: one made without them (a callback's result refused) would fail there with a TypeError in its place.
		throw error instanceof TokenError ? error.forRequest(options) : error;
	}

	const {form, headers, clientCertificate} = attempt;
	if (clientCertificate !== undefined) {
		// got copies `https` for each request: this reaches no other.
		options.https.certificate = clientCertificate.certificate;
		options.https.key = clientCertificate.key;
		options.https.passphrase = clientCertificate.passphrase;
	}

	const body = form.toString();
	const {authorization, ...otherHeaders} = headers;
	for (const [name, value] of Object.entries(otherHeaders)) {
		options.headers[name] = value;
	}

	// The client's credentials go into the request Node sends, never into got's options: got publishes those on `got:request:start` and keeps them on its errors.
	if (authorization !== undefined) {
		installRequestFunction(options, options.url!.origin, {header: authorization, read: () => ''});
	}

	options.body = body;
	options.headers['content-length'] = String(Buffer.byteLength(body));
};

/**
Form parameters that name things rather than prove them; every other value a token request carries is a credential.
*/
const publicParameters = new Set(['grant_type', 'client_id', 'scope', 'audience', 'resource', 'client_assertion_type', 'subject_token_type', 'actor_token_type', 'requested_token_type']);

/**
What an attempt sent that proves who the client is, in every form a server might echo it: an error must never repeat it.
*/
function sentSecrets(form: URLSearchParams, headers: Record<string, string>): string[] {
	// Each value as read and as sent, form-encoded: a server may echo the body as it arrived.
	const secrets = [...form].filter(([name]) => !publicParameters.has(name)).flatMap(([, value]) => [value, new URLSearchParams({v: value}).toString().slice(2)]);
	const {authorization, dpop} = headers;
	if (dpop !== undefined) {
		secrets.push(dpop);
	}

	if (authorization !== undefined) {
		const [, credentials = ''] = authorization.split(' ', 2);
		secrets.push(authorization, credentials, Buffer.from(credentials, 'base64').toString());
	}

	// Too short to tell from ordinary text.
	return secrets.filter(secret => secret.length >= 4);
}

/**
The token endpoint as one function: find it (configured, or from the issuer's metadata), ask it for a token with the configured grant and client authentication, and read the answer.
*/
export function createFetchToken(config: NormalizedConfig): () => Promise<TokenSet> {
	const client = authorizationServerClient(config.tokenRequest, {isReplaySafe: config.grant.isReplaySafe}, {method: 'POST', hooks: {beforeRequest: [buildAttempt]}});
	const {endpoint: plan} = config;
	const resolveEndpoint: (deadline: Deadline) => Promise<ResolvedEndpoint> = plan.kind === 'configured'
		? async () => ({...plan.target, authentication: plan.authentication})
		: createDiscovery(plan.discovery);
	const grant = config.grant.create();
	const labels = {clientId: config.clientId, grantType: config.grant.type};
	const dpop = config.dpop === undefined ? undefined : dpopTokenRequests(config.dpop);
	const endpointOf = ({tokenEndpoint}: ResolvedEndpoint): string => `${tokenEndpoint.origin}${tokenEndpoint.pathname}`;

	// `answered` learns the status of the last answer; a `trace` (when someone subscribes), the attempts too.
	const callAt = (resolved: ResolvedEndpoint, deadline: Deadline, answered: {statusCode?: number}, trace: TokenRequestMessage | undefined): TokenEndpointCall => ({
		async post(grantParameters) {
			const endpoint = endpointOf(resolved);
			const secrets = new Set(config.credentials.clientSecret === undefined ? [] : [config.credentials.clientSecret]);
			const build: BuildAttempt = async () => {
				if (trace !== undefined) {
					trace.attempts++;
				}

				const clientCertificate = await config.clientCertificate?.resolve();
				const form = new URLSearchParams(withCommonParameters(await grantParameters(resolved), config.parameters));
				const headers: Record<string, string> = {'content-type': 'application/x-www-form-urlencoded'};
				await resolved.authentication.authenticate({form, headers}, resolved);
				if (dpop !== undefined) {
					// A new proof for every attempt, got's retries included (RFC 9449 §4.3).
					headers.dpop = await dpop.proof(resolved.tokenEndpoint);
				}

				for (const secret of sentSecrets(form, headers)) {
					secrets.add(secret);
				}

				return {form, headers, clientCertificate};
			};

			const send = async () => {
				const response = await cappedRequest(client, resolved.tokenEndpoint, {context: {[attemptKey]: build}}, `Token request to ${endpoint} for client "${config.clientId}"`, deadline);
				dpop?.learnNonce(response, resolved.tokenEndpoint);
				return response;
			};

			let response = await send();
			// RFC 9449 §8: once more, with the nonce the server asked for. It processed nothing, so even a rotating refresh token is unspent.
			if (dpop?.asksForNonce(response) === true) {
				publishDpopNonceRetry(labels, 'authorization-server', resolved.tokenEndpoint);
				response = await send();
			}

			answered.statusCode = response.statusCode;
			if (trace !== undefined) {
				trace.statusCode = response.statusCode;
			}

			return parseTokenEndpointResponse(response.statusCode, response.body, {endpoint, clientId: config.clientId, secrets});
		},
	});

	const fetchFrom = async (resolved: ResolvedEndpoint, deadline: Deadline, trace?: TokenRequestMessage): Promise<TokenSet> => {
		const answered: {statusCode?: number} = {};
		const tokenSet = await grant.requestToken(callAt(resolved, deadline, answered, trace));
		return checkTokenType(tokenSet, config.dpop, {endpoint: endpointOf(resolved), statusCode: answered.statusCode});
	};

	return async () => {
		const deadline = startDeadline(config.tokenTimeout);
		const resolved = await resolveEndpoint(deadline);
		// Traced around the grant, so that an answer the grant refuses (no `access_token`, a wrong `token_type`) is a failure too.
		const trace = tokenRequestMessage(labels, resolved.tokenEndpoint);
		return trace === undefined ? fetchFrom(resolved, deadline) : traceTokenRequest(trace, async () => fetchFrom(resolved, deadline, trace));
	};
}
