/*
An API that accepts only DPoP-bound JWT access tokens (RFC 9449 §7) from one issuer, verifying every proof as RFC 9449 §4.3 has it: the signature by the key in its header, `typ`, `htm`, `htu`, `iat` within a minute, `jti` never seen before, `ath` of the token, the key's thumbprint equal to the token's `cnf.jkt`, and with `requireNonce`, this server's current nonce. Every request is recorded with what it carried and how it was answered.
*/
import {createHash, randomBytes} from 'node:crypto';
import {createServer, type IncomingMessage, type ServerResponse} from 'node:http';
import {calculateJwkThumbprint, createRemoteJWKSet, decodeJwt, EmbeddedJWK, jwtVerify, type JWTPayload} from 'jose';
import {close, listen} from '../../fixtures/servers.js';

export type DpopApiRequest = {
	readonly method: string;
	/** With the query. */
	readonly path: string;
	/** `DPoP`, `Bearer`, or undefined without an authorization header. */
	readonly scheme: string | undefined;
	readonly token: string | undefined;
	/** The `DPoP` header as sent. */
	readonly proof: string | undefined;
	/** The proof's claims, decoded whether it verified or not. */
	readonly claims: JWTPayload | undefined;
	/** `ok`, or why the request was rejected. */
	readonly outcome: string;
};

/** What a route answers in place of the API; `undefined`: the API answers. */
export type Route = (request: IncomingMessage, index: number) => {status: number; headers?: Record<string, string | undefined>; body?: string} | undefined;

export type DpopResourceServerOptions = {
	readonly issuer: string;
	readonly audience: string;
	/** Every proof must carry this server's current nonce (RFC 9449 §9). */
	readonly requireNonce?: boolean;
	/** Seconds a proof's `iat` may be off. Default: 60. */
	readonly iatWindow?: number;
};

export type DpopResourceServer = {
	readonly url: string;
	readonly requests: DpopApiRequest[];
	/** Requests the API answered 200. */
	readonly accepted: number;
	/** The nonce proofs must carry, with `requireNonce`. */
	readonly nonce: string;
	/** A new nonce, which the next response brings in `DPoP-Nonce`, whatever its status. Until `retirePreviousNonce()`, the previous one is still accepted, as servers allow for requests in flight. */
	rotateNonce(): void;
	/** From now on only the current nonce is accepted. */
	retirePreviousNonce(): void;
	/** Answer some requests differently (redirects, failures) before the API sees them. */
	route(route: Route | undefined): void;
	close(): Promise<void>;
};

const algorithms = ['ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];

const newNonce = (): string => randomBytes(16).toString('base64url');

function decoded(proof: string | undefined): JWTPayload | undefined {
	try {
		return proof === undefined ? undefined : decodeJwt(proof);
	} catch {
		return undefined;
	}
}

/** What a request carried. */
function sent(request: IncomingMessage): Omit<DpopApiRequest, 'outcome'> {
	const match = /^(?<scheme>\S+) (?<token>\S+)$/v.exec(request.headers.authorization ?? '');
	const proof = request.headersDistinct.dpop?.[0];
	return {
		method: request.method!,
		path: request.url!,
		scheme: match?.groups?.scheme ?? request.headers.authorization,
		token: match?.groups?.token,
		proof,
		claims: decoded(proof),
	};
}

class Rejection extends Error {
	constructor(readonly error: string, readonly reason: string) {
		super(reason);
	}
}

export async function startDpopResourceServer(options: DpopResourceServerOptions): Promise<DpopResourceServer> {
	const {issuer, audience, requireNonce = false, iatWindow = 60} = options;
	const jwks = createRemoteJWKSet(new URL(`${issuer}/jwks`));
	const requests: DpopApiRequest[] = [];
	const seenJtis = new Set<string>();
	let nonce = newNonce();
	let previousNonce: string | undefined;
	let isAnnounce = false;
	let route: Route | undefined;
	let accepted = 0;
	let origin = '';

	async function verify(request: IncomingMessage, token: string, proof: string): Promise<JWTPayload> {
		let access: JWTPayload;
		try {
			({payload: access} = await jwtVerify(token, jwks, {issuer, audience, typ: 'at+jwt'}));
		} catch (error) {
			throw new Rejection('invalid_token', (error as {code?: string}).code ?? 'token');
		}

		const jkt = (access.cnf as {jkt?: unknown} | undefined)?.jkt;
		if (typeof jkt !== 'string') {
			throw new Rejection('invalid_token', 'not DPoP-bound');
		}

		let claims: JWTPayload;
		let jwk: Record<string, unknown>;
		try {
			const verified = await jwtVerify(proof, EmbeddedJWK, {typ: 'dpop+jwt', algorithms});
			claims = verified.payload;
			jwk = verified.protectedHeader.jwk as Record<string, unknown>;
		} catch (error) {
			throw new Rejection('invalid_dpop_proof', `proof: ${(error as {code?: string}).code ?? 'invalid'}`);
		}

		const path = request.url!.split('?', 1)[0];
		const checks: Array<[boolean, string]> = [
			[!('d' in jwk), 'private key in jwk'],
			[claims.htm === request.method, 'htm'],
			[claims.htu === `${origin}${path}`, 'htu'],
			[typeof claims.iat === 'number' && Math.abs(claims.iat - (Date.now() / 1000)) <= iatWindow, 'iat'],
			[typeof claims.jti === 'string' && claims.jti.length > 0, 'jti'],
			[claims.ath === createHash('sha256').update(token).digest('base64url'), 'ath'],
		];
		for (const [isGood, reason] of checks) {
			if (!isGood) {
				throw new Rejection('invalid_dpop_proof', reason);
			}
		}

		if (seenJtis.has(claims.jti!)) {
			throw new Rejection('invalid_dpop_proof', 'replayed');
		}

		seenJtis.add(claims.jti!);
		if (requireNonce && claims.nonce !== nonce && (previousNonce === undefined || claims.nonce !== previousNonce)) {
			throw new Rejection('use_dpop_nonce', claims.nonce === undefined ? 'no nonce' : 'stale nonce');
		}

		if (await calculateJwkThumbprint(jwk) !== jkt) {
			throw new Rejection('invalid_token', 'jkt');
		}

		return access;
	}

	async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
		const base = sent(request);
		const proofs = request.headersDistinct.dpop ?? [];
		const reject = (error: string, reason: string): void => {
			requests.push({...base, outcome: reason});
			response.writeHead(401, {
				'www-authenticate': `DPoP error="${error}", error_description="${reason}", algs="${algorithms.join(' ')}"`,
				...((error === 'use_dpop_nonce' || isAnnounce) && {'dpop-nonce': nonce}),
				'content-type': 'application/json',
			});
			isAnnounce = false;
			response.end(JSON.stringify({ok: false}));
		};

		if (base.scheme?.toLowerCase() !== 'dpop' || base.token === undefined) {
			// RFC 9449 §7.2: a DPoP-bound token presented as a bearer token is refused like no token.
			reject('invalid_token', base.scheme === undefined ? 'missing' : `scheme ${base.scheme}`);
			return;
		}

		if (proofs.length !== 1) {
			reject('invalid_dpop_proof', proofs.length === 0 ? 'no proof' : 'several proofs');
			return;
		}

		let access: JWTPayload;
		try {
			access = await verify(request, base.token, proofs[0]!);
		} catch (error) {
			if (error instanceof Rejection) {
				reject(error.error, error.reason);
				return;
			}

			throw error;
		}

		accepted++;
		requests.push({...base, outcome: 'ok'});
		response.writeHead(200, {'content-type': 'application/json', ...(isAnnounce && {'dpop-nonce': nonce})});
		isAnnounce = false;
		response.end(JSON.stringify({ok: true, sub: access.sub, clientId: access.client_id, path: request.url, jkt: (access.cnf as {jkt: string}).jkt}));
	}

	const server = createServer((request, response) => {
		const chunks: Uint8Array[] = [];
		request.on('data', (chunk: Uint8Array) => {
			chunks.push(chunk);
		});
		request.on('end', () => {
			const routed = route?.(request, requests.length);
			if (routed !== undefined) {
				requests.push({...sent(request), outcome: `routed ${routed.status}`});
				response.writeHead(routed.status, routed.headers);
				response.end(routed.body ?? '');
				return;
			}

			handle(request, response).catch((error: unknown) => {
				response.writeHead(500);
				response.end();
				console.error('DPoP resource server:', error);
			});
		});
	});
	const port = await listen(server);
	origin = `http://127.0.0.1:${port}`;

	return {
		url: origin,
		requests,
		get accepted() {
			return accepted;
		},
		get nonce() {
			return nonce;
		},
		rotateNonce() {
			previousNonce = nonce;
			nonce = newNonce();
			isAnnounce = true;
		},
		retirePreviousNonce() {
			previousNonce = undefined;
		},
		route(next) {
			route = next;
		},
		close: async () => close(server),
	};
}
