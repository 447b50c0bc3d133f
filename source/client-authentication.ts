import {clientSecretSigner, freshClaims, privateKeySigner, type AssertionSigner} from './assertion.js';
import type {ClientAuthentication, NormalizedConfig} from './options.js';

/** RFC 7523 §2.2. */
export const clientAssertionType = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Where a token request goes, and whom it is for: a client assertion's audience. */
export type TokenEndpointTarget = {
	readonly tokenEndpoint: URL;
	readonly issuer: string | undefined;
};

/** The form fields and headers of a token request that are not the grant's, but the client's. */
export type RequestParts = {
	readonly form: URLSearchParams;
	readonly headers: Record<string, string>;
};

/**
Authenticates one token request attempt by adding to its form and headers. Called again for every retry, so an assertion is never sent twice. A client certificate (tls_client_auth) is not added here: it is in `tokenRequest.https`, which only token requests use.
*/
export type Authenticate = (parts: RequestParts, target: TokenEndpointTarget) => Promise<void>;

/** The `application/x-www-form-urlencoded` encoding that RFC 6749 §2.3.1 applies before Basic's base64. */
export const formUrlEncode = (value: string): string => new URLSearchParams([['', value]]).toString().slice(1);

export function basicCredentials(clientId: string, clientSecret: string): string {
	return 'Basic ' + Buffer.from(`${formUrlEncode(clientId)}:${formUrlEncode(clientSecret)}`).toString('base64');
}

function jwtAuthentication(clientId: string, sign: AssertionSigner): Authenticate {
	return async ({form}, {tokenEndpoint, issuer}) => {
		// RFC 7523 §3: iss and sub are the client; aud names the server, by its token endpoint and, where known, its issuer identifier.
		const assertion = await sign({
			iss: clientId,
			sub: clientId,
			aud: issuer === undefined ? tokenEndpoint.href : [tokenEndpoint.href, issuer],
			...freshClaims(),
		});
		// Optional in RFC 7523 §3.1, but Microsoft Entra ID requires it.
		form.set('client_id', clientId);
		form.set('client_assertion_type', clientAssertionType);
		form.set('client_assertion', assertion);
	};
}

export function clientAuthenticator(method: ClientAuthentication, config: Pick<NormalizedConfig, 'clientId' | 'clientSecret' | 'privateKey'>): Authenticate {
	const {clientId} = config;
	switch (method) {
		case 'client_secret_basic': {
			const authorization = basicCredentials(clientId, config.clientSecret!);
			return async ({headers}) => {
				headers.authorization = authorization;
			};
		}

		case 'client_secret_post': {
			return async ({form}) => {
				form.set('client_id', clientId);
				form.set('client_secret', config.clientSecret!);
			};
		}

		case 'client_secret_jwt': {
			return jwtAuthentication(clientId, clientSecretSigner(config.clientSecret!));
		}

		case 'private_key_jwt': {
			return jwtAuthentication(clientId, privateKeySigner(config.privateKey!));
		}

		// RFC 6749 §2.3 and RFC 8705 §2 identify the client by client_id; the TLS layer carries any proof.
		case 'none':
		case 'tls_client_auth':
		case 'self_signed_tls_client_auth': {
			return async ({form}) => {
				form.set('client_id', clientId);
			};
		}
	}
}
