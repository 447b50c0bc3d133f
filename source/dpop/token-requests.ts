import {parseJsonObject} from '../token-endpoint/token-response.js';
import {readNonce} from './nonces.js';
import type {DpopSettings} from './options.js';

/*
DPoP at the token endpoint (RFC 9449 §5, §8): a new proof for every attempt, and one more attempt when the server asks for a nonce.
*/

export type TokenEndpointResponse = {
	readonly statusCode: number;
	readonly headers: Readonly<Record<string, string | string[] | undefined>>;
	readonly body: string;
};

export type DpopTokenRequests = {
	/**
	The `DPoP` header for one attempt: POST to `endpoint` (RFC 9449 §4.2: without query and fragment), with the endpoint's latest nonce.
	*/
	proof(endpoint: URL): Promise<string>;
	/**
	Remember the nonce a response from `endpoint` brings, whatever its status (RFC 9449 §8.2).
	*/
	learnNonce(response: TokenEndpointResponse, endpoint: URL): void;
	/**
	Whether the response asks for the request again with the nonce it brings: `400` `use_dpop_nonce` with a `DPoP-Nonce` header (RFC 9449 §8).
	*/
	asksForNonce(response: TokenEndpointResponse): boolean;
};

export function dpopTokenRequests({key, nonces}: DpopSettings): DpopTokenRequests {
	return {
		async proof(endpoint) {
			const signer = await key();
			return signer.proof({htm: 'POST', htu: `${endpoint.origin}${endpoint.pathname}`, nonce: nonces.get(endpoint.origin)});
		},
		learnNonce({headers}, endpoint) {
			nonces.learn(endpoint.origin, headers['dpop-nonce']);
		},
		asksForNonce({statusCode, headers, body}) {
			return statusCode === 400 && readNonce(headers['dpop-nonce']) !== undefined && parseJsonObject(body)?.error === 'use_dpop_nonce';
		},
	};
}
