import {ConfigurationError} from '../errors.js';
import {clientSecretBasic} from './client-secret-basic.js';
import {clientSecretJwt} from './client-secret-jwt.js';
import {clientSecretPost} from './client-secret-post.js';
import {credentialKinds, type Authenticate, type ClientAuthenticationMethod, type ClientCredentials} from './method.js';
import {none} from './none.js';
import {privateKeyJwt} from './private-key-jwt.js';
import {selfSignedTlsClientAuth, tlsClientAuth} from './tls-client-auth.js';

/**
Every client authentication method, one file each. Adding one is adding its file and a line here.
*/
export const clientAuthenticationMethods = [
	clientSecretBasic,
	clientSecretPost,
	clientSecretJwt,
	privateKeyJwt,
	tlsClientAuth,
	selfSignedTlsClientAuth,
	none,
] as const;

export type ClientAuthentication = (typeof clientAuthenticationMethods)[number]['name'];

export const clientAuthenticationNames: readonly ClientAuthentication[] = clientAuthenticationMethods.map(method => method.name);

export const isClientAuthentication = (value: unknown): value is ClientAuthentication => clientAuthenticationNames.includes(value as ClientAuthentication);

/**
A method with the authenticator its credentials made.
*/
export type PreparedAuthentication = {
	readonly method: ClientAuthentication;
	readonly authenticate: Authenticate;
};

const methodsByName = Object.fromEntries(clientAuthenticationMethods.map(method => [method.name, method])) as Record<ClientAuthentication, ClientAuthenticationMethod>;

/**
The named method, ready: a `ConfigurationError` when the credentials lack what it needs.
*/
export function prepareAuthentication(name: ClientAuthentication, credentials: ClientCredentials): PreparedAuthentication {
	const prepared = methodsByName[name].prepare(credentials);
	if (typeof prepared !== 'function') {
		throw new ConfigurationError(prepared.option, prepared.problem);
	}

	return {method: name, authenticate: prepared};
}

/**
Every method the credentials allow, strongest first (an asymmetric key or a certificate before a shared secret); `none` only when nothing else is.
*/
export function allowedAuthentications(credentials: ClientCredentials): [PreparedAuthentication, ...PreparedAuthentication[]] {
	const allowed: PreparedAuthentication[] = [];
	for (const kind of credentialKinds) {
		for (const method of clientAuthenticationMethods) {
			const prepared = method.credential === kind && method.name !== 'none' ? method.prepare(credentials) : undefined;
			if (typeof prepared === 'function') {
				allowed.push({method: method.name, authenticate: prepared});
			}
		}
	}

	const [strongest, ...others] = allowed;
	return strongest === undefined ? [prepareAuthentication('none', credentials)] : [strongest, ...others];
}
