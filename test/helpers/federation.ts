/*
A workload platform and an identity provider that trusts it, on loopback: the "cluster" signs service account tokens with a key only it holds, and the token endpoint accepts them as credentials after verifying them against the cluster's JWKS, as Microsoft Entra ID, Google's STS and a SPIFFE-aware server do.
*/
import {mkdtempSync, renameSync, rmSync, writeFileSync} from 'node:fs';
import http from 'node:http';
import {tmpdir} from 'node:os';
import path from 'node:path';
import type {ExecutionContext} from 'ava';
import {createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify, SignJWT, type JWTPayload} from 'jose';
import {serveOnLoopback} from './local-servers.js';

export type Cluster = {
	/** The cluster's OIDC issuer URL, as its service account tokens carry it in `iss`. */
	readonly issuer: string;
	/** What the identity provider is configured to trust. */
	readonly jwks: ReturnType<typeof createLocalJWKSet>;
	/** A token for `sub` and `aud`, issued at `now` (seconds; default the wall clock) and valid `lifetime` seconds (default 3600, as a projected token). */
	mint(claims: {sub: string; aud: string | string[]}, options?: {now?: number; lifetime?: number}): Promise<string>;
};

export async function createCluster(issuer: string): Promise<Cluster> {
	const {privateKey, publicKey} = await generateKeyPair('ES256');
	const jwk = {...await exportJWK(publicKey), kid: 'cluster-1', alg: 'ES256'};
	return {
		issuer,
		jwks: createLocalJWKSet({keys: [jwk]}),
		async mint({sub, aud}, {now = Math.floor(Date.now() / 1000), lifetime = 3600} = {}) {
			return new SignJWT({'kubernetes.io': {namespace: sub.split(':', 3)[2]}})
				.setProtectedHeader({alg: 'ES256', kid: 'cluster-1'})
				.setIssuer(issuer)
				.setSubject(sub)
				.setAudience(aud)
				.setIssuedAt(now)
				.setExpirationTime(now + lifetime)
				.sign(privateKey);
		},
	};
}

/** Verify a token the cluster signed: signature, `iss`, `aud`, and time as the identity provider sees it. */
export async function verifyClusterToken(cluster: Cluster, token: string, audience: string, now = new Date()): Promise<JWTPayload> {
	const {payload} = await jwtVerify(token, cluster.jwks, {issuer: cluster.issuer, audience, currentDate: now, algorithms: ['ES256']});
	return payload;
}

export type TokenRequest = {
	readonly path: string;
	readonly form: Record<string, string>;
	readonly headers: http.IncomingHttpHeaders;
	/** The socket's order of arrival: a new number is a new connection. */
	readonly connection: number;
	/** What the identity provider decided. */
	readonly outcome: string;
};

/** Checks one token request: resolves with the subject it proves, or rejects with an RFC 6749 §5.2 error code and description. */
export type Check = (form: Record<string, string>, headers: http.IncomingHttpHeaders) => Promise<string>;

export class Refusal extends Error {
	constructor(readonly code: string, description: string) {
		super(description);
	}
}

export type IdentityProvider = {
	readonly origin: string;
	url(path: string): string;
	readonly requests: TokenRequest[];
	/** The next `count` token requests are processed, then answered 503, as a server whose response is lost. */
	failNext(count: number): void;
	/** Runs when a token request arrives, before it is checked. */
	onRequest(listener: (() => void) | undefined): void;
};

/**
A token endpoint at `tokenPath` that runs `check` on every request and issues `at-1`, `at-2`, … valid `expiresIn` seconds; and `GET /api`, which answers with the bearer token it got.
*/
export async function startIdentityProvider(t: ExecutionContext, tokenPath: string, check: Check, {expiresIn = 3600, answer = {}}: {expiresIn?: number; answer?: Record<string, unknown>} = {}): Promise<IdentityProvider> {
	const requests: TokenRequest[] = [];
	const sockets = new Map<unknown, number>();
	let failures = 0;
	let listener: (() => void) | undefined;
	let issued = 0;

	async function handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
		const chunks: Uint8Array[] = [];
		for await (const chunk of request) {
			chunks.push(chunk as Uint8Array);
		}

		const send = (status: number, body: unknown) => {
			response.writeHead(status, {'content-type': 'application/json'});
			response.end(JSON.stringify(body));
		};

		if (request.method === 'GET' && request.url === '/api') {
			send(200, {authorization: request.headers.authorization});
			return;
		}

		if (!sockets.has(request.socket)) {
			sockets.set(request.socket, sockets.size + 1);
		}

		listener?.();
		const form = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString()));
		const record = (outcome: string) => {
			requests.push({path: request.url ?? '', form, headers: request.headers, connection: sockets.get(request.socket)!, outcome});
		};

		if (request.url !== tokenPath) {
			record('not found');
			send(404, {error: 'not_found'});
			return;
		}

		try {
			const subject = await check(form, request.headers);
			record(`issued to ${subject}`);
			if (failures > 0) {
				failures--;
				send(503, {error: 'temporarily_unavailable'});
				return;
			}

			send(200, {access_token: `at-${++issued}`, token_type: 'Bearer', expires_in: expiresIn, ...answer});
		} catch (error) {
			const {code, message} = error instanceof Refusal ? error : new Refusal('invalid_client', (error as Error).message);
			record(`${code}: ${message}`);
			send(code === 'invalid_client' ? 401 : 400, {error: code, error_description: message});
		}
	}

	const server = http.createServer((request, response) => {
		void handle(request, response);
	});

	const origin = `http://127.0.0.1:${await serveOnLoopback(server, t)}`;
	return {
		origin,
		url: (pathname: string) => new URL(pathname, origin).href,
		requests,
		failNext(count) {
			failures = count;
		},
		onRequest(next) {
			listener = next;
		},
	};
}

/** Throw a refusal unless `actual` is `expected`. */
export function expect(name: string, actual: string | undefined, expected: string | undefined, code = 'invalid_request'): void {
	if (actual !== expected) {
		throw new Refusal(code, `${name} is ${actual ?? 'missing'}, not ${expected}`);
	}
}

/** A directory for a test's token and certificate files, removed after the test. `write` replaces a file in one step, as the kubelet and cert-manager's volumes do (a rename), so a reader sees the old content or the new, never half. */
export function fileDirectory(t: ExecutionContext): {file(name: string): string; write(name: string, content: string): string} {
	const directory = mkdtempSync(path.join(tmpdir(), 'got-oauth-files-'));
	t.teardown(() => {
		rmSync(directory, {recursive: true, force: true});
	});
	const file = (name: string) => path.join(directory, name);
	return {
		file,
		write(name, content) {
			writeFileSync(`${file(name)}.new`, content);
			renameSync(`${file(name)}.new`, file(name));
			return file(name);
		},
	};
}
