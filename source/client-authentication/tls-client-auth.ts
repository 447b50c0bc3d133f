import type {Authenticate, ClientAuthenticationMethod, ClientCredentials, MissingCredential} from './method.js';

/**
RFC 8705 §2: the TLS layer proves the client with the certificate in `clientCertificate` or `tokenRequest.https`, which only token requests use; the form names the client.
*/
function certificateBound(name: string): (credentials: ClientCredentials) => Authenticate | MissingCredential {
	return ({clientId, hasClientCertificate}) => hasClientCertificate
		? async ({form}) => {
			form.set('client_id', clientId);
		}
		: {option: 'clientCertificate', problem: `(or \`tokenRequest.https.certificate\` and \`tokenRequest.https.key\`, or \`tokenRequest.https.pfx\`) is required for ${name} (RFC 8705 §2)`};
}

/**
RFC 8705 §2.1: a certificate from a CA the server trusts.
*/
export const tlsClientAuth = {
	name: 'tls_client_auth',
	credential: 'certificate',
	prepare: certificateBound('tls_client_auth'),
} as const satisfies ClientAuthenticationMethod;

/**
RFC 8705 §2.2: a self-signed certificate registered with the server.
*/
export const selfSignedTlsClientAuth = {
	name: 'self_signed_tls_client_auth',
	credential: 'certificate',
	prepare: certificateBound('self_signed_tls_client_auth'),
} as const satisfies ClientAuthenticationMethod;
